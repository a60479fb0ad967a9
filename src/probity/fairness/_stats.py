"""Bootstrap counts, two-proportion and permutation tests, multiple-testing corrections.

Bootstrap on counts: resampling ``n`` rows with replacement and then counting confusion cells
per group gives cell counts distributed exactly as ``Multinomial(n, cells / n)``. Drawing
those counts directly costs ``O(cells)`` per replicate instead of ``O(n)``, so 1,000 replicates
of a million rows take milliseconds, and the result is the ordinary row bootstrap (not an
approximation). ``stratified=True`` keeps every group's size fixed (multinomial within each
group), which suits designs where group sizes were fixed by sampling.

Permutation test of a pairwise gap: pooling the two groups' trials and permuting group labels
makes group A's success count hypergeometric, so permutation replicates are drawn with
``Generator.hypergeometric`` for all pairs at once (no Python loop over replicates or pairs).
"""

from __future__ import annotations

import functools

import numpy as np

from probity.stats import benjamini_hochberg, holm


def bootstrap_counts(
    fine_counts: np.ndarray,
    n_boot: int,
    rng: np.random.Generator,
    *,
    stratified: bool = False,
    chunk: int = 256,
):
    """Yield chunks of replicate counts, shape ``(b, n_fine, 4)`` with ``sum(b) == n_boot``."""
    fine_counts = np.asarray(fine_counts, dtype=np.int64)
    n_fine = fine_counts.shape[0]
    done = 0
    if not stratified:
        flat = fine_counts.ravel()
        total = int(flat.sum())
        p = flat / total
        while done < n_boot:
            b = min(chunk, n_boot - done)
            yield rng.multinomial(total, p, size=b).reshape(b, n_fine, 4)
            done += b
        return
    sizes = fine_counts.sum(1)
    while done < n_boot:
        b = min(chunk, n_boot - done)
        out = np.empty((b, n_fine, 4), dtype=np.int64)
        remaining = np.broadcast_to(sizes, (b, n_fine)).copy()
        mass = np.broadcast_to(sizes.astype(float), (b, n_fine)).copy()
        # sequential binomials: cell k gets Binomial(remaining, p_k / p_left), vectorised
        for k in range(3):
            with np.errstate(divide="ignore", invalid="ignore"):
                q = np.where(mass > 0, fine_counts[:, k] / mass, 0.0)
            draw = rng.binomial(remaining, np.clip(q, 0.0, 1.0))
            out[:, :, k] = draw
            remaining -= draw
            mass = mass - fine_counts[:, k]
        out[:, :, 3] = remaining
        yield out
        done += b


def percentile_interval(
    samples: np.ndarray, confidence: float, axis: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided percentile interval ignoring NaN replicates (NaN when all are NaN)."""
    alpha = (1.0 - confidence) / 2.0
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        lo, hi = np.nanquantile(samples, [alpha, 1.0 - alpha], axis=axis)
    return lo, hi


def two_proportion_z(x1: np.ndarray, n1: np.ndarray, x2: np.ndarray, n2: np.ndarray) -> np.ndarray:
    """Two-sided pooled two-proportion z-test p-values (NaN where a group has no trials)."""
    from scipy.special import erfc

    x1, n1, x2, n2 = (np.asarray(a, dtype=float) for a in (x1, n1, x2, n2))
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = (x1 + x2) / (n1 + n2)
        se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        z = (x1 / n1 - x2 / n2) / se
        p = erfc(np.abs(z) / np.sqrt(2.0))
    p = np.where(se == 0, np.where(x1 / np.maximum(n1, 1) == x2 / np.maximum(n2, 1), 1.0, 0.0), p)
    return np.where((n1 > 0) & (n2 > 0), p, np.nan)


def permutation_test(
    x1: np.ndarray,
    n1: np.ndarray,
    x2: np.ndarray,
    n2: np.ndarray,
    rng: np.random.Generator,
    n_perm: int = 2000,
    chunk: int = 500,
) -> np.ndarray:
    """Monte-Carlo permutation p-values ``(1 + #{|d*| >= |d|}) / (1 + n_perm)`` per pair."""
    x1, n1, x2, n2 = (np.asarray(a, dtype=np.int64) for a in (x1, n1, x2, n2))
    valid = (n1 > 0) & (n2 > 0)
    n1s, n2s = np.maximum(n1, 1), np.maximum(n2, 1)
    good = x1 + x2
    bad = n1 + n2 - good
    observed = np.abs(x1 / n1s - x2 / n2s)
    hits = np.zeros(x1.shape, dtype=np.int64)
    done = 0
    while done < n_perm:
        b = min(chunk, n_perm - done)
        a = rng.hypergeometric(good, bad, np.where(valid, n1, 0), size=(b, *x1.shape))
        d = np.abs(a / n1s - (good - a) / n2s)
        hits += (d >= observed - 1e-12).sum(0)
        done += b
    p = (1.0 + hits) / (1.0 + n_perm)
    return np.where(valid, p, np.nan)


CORRECTIONS = {
    "holm": holm,
    "bh": benjamini_hochberg,
    "fdr_bh": benjamini_hochberg,
    "benjamini-hochberg": benjamini_hochberg,
    "none": lambda p: np.asarray(p, float),
}


@functools.lru_cache(maxsize=256)
def _range_critical(n_groups: int, confidence: float) -> float:
    """Tukey's critical value for all pairwise differences of ``n_groups`` estimates:
    the studentized-range quantile over sqrt(2) (1.96 for two groups)."""
    from scipy.stats import studentized_range

    return float(studentized_range.ppf(confidence, n_groups, np.inf) / np.sqrt(2.0))


def simultaneous_pairs(
    x: np.ndarray, n: np.ndarray, confidence: float, *, log: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Simultaneous intervals for every pairwise difference of the proportions ``x / n``
    (``i < j``), and the interval of the largest absolute difference they imply.

    Why not the percentile bootstrap of ``max - min``: the bootstrap of a maximum is biased
    upwards, so with no true gap that interval excluded 0 in every dataset (and a max-t
    bootstrap covered about 0.93). Here each proportion is Agresti-Caffo adjusted
    (``(x + 1) / (n + 2)``, which keeps rates of 0 or 1 and small groups honest) and the
    pairs share the Tukey-Kramer critical value (studentized range / sqrt 2), so all
    ``d_ij +- c * se_ij`` hold at once with the stated confidence (simulated coverage
    0.947-0.97 from 2 to 8 groups, 30 to 900 rows each; see bench/fairness_verdicts.py).
    If they all hold, the gap ``max |d_ij|`` lies in
    ``[max_ij dist(0, I_ij), max_ij max(|l_ij|, |u_ij|)]``: coverage at least as high, also
    with tied groups or no gap. ``log=True`` does the same for log proportions (delta
    method), giving intervals of log ratios (for ratio metrics such as four-fifths).

    Returns ``(ia, ib, low, high, gap_interval)``; closed form, no resampling.
    """
    x = np.asarray(x, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    g = len(x)
    ia, ib = np.triu_indices(g, 1)
    if g < 2:
        return ia, ib, np.empty(0), np.empty(0), np.array([np.nan, np.nan])
    p = (x + 1.0) / (n + 2.0)
    if log:
        est = np.log(p)
        var = (1.0 - p) / (p * (n + 2.0))
    else:
        est = p
        var = p * (1.0 - p) / (n + 2.0)
    d = est[ia] - est[ib]
    half = _range_critical(g, float(confidence)) * np.sqrt(var[ia] + var[ib])
    low, high = d - half, d + half
    dist0 = np.maximum(0.0, np.maximum(low, -high))
    far = np.maximum(np.abs(low), np.abs(high))
    return ia, ib, low, high, np.array([float(np.max(dist0)), float(np.max(far))])
