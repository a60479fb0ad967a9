"""Statistics for probes: intervals, tests and multiple-comparison corrections.

* :func:`wilson` — Wilson score interval for a binomial share ``k/n``:
  ``(p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)``; good coverage even for small n
  and shares near 0 or 1, where the Wald interval fails.
* :func:`newcombe_diff` — Newcombe's hybrid score interval (method 10) for ``p1 - p2`` built
  from the two Wilson intervals; used for the shift a cue causes.
* :func:`binom_pvalue` — exact two-sided binomial test of ``k/n`` against a reference rate.
* :func:`bootstrap_diff` — percentile bootstrap interval for a difference of means,
  resampling within each group (vectorised: one ``(B, n)`` index draw per group).
* :func:`permutation_pvalue` — two-sided permutation test of a difference of means, with
  labels permuted within strata (templates) when given: the strata keep the comparison to
  prompts that differ only in the group term. ``p = (1 + #{|T*| >= |T|}) / (B + 1)``, which is
  a valid p-value for any B.
* :func:`paired_signflip` — the paired version (counterfactual pairs): random sign flips of
  the per-pair differences.
* :func:`holm` and :func:`benjamini_hochberg` — adjusted p-values controlling the family-wise
  error rate (Holm) or the false discovery rate (BH) over all comparisons in a run.
"""

from __future__ import annotations

import numpy as np
from scipy import stats as _st

from probity.stats import Z95, benjamini_hochberg, holm, wilson


def newcombe_diff(
    k1: np.ndarray | int,
    n1: np.ndarray | int,
    k2: np.ndarray | int,
    n2: np.ndarray | int,
    z: float = Z95,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``p1 - p2`` and Newcombe's hybrid score interval for it."""
    p1, l1, u1 = wilson(k1, n1, z)
    p2, l2, u2 = wilson(k2, n2, z)
    d = p1 - p2
    lo = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    hi = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, np.clip(lo, -1, 1), np.clip(hi, -1, 1)


def binom_pvalue(k: int, n: int, p: float) -> float:
    """Exact two-sided binomial test p-value of ``k`` successes in ``n`` against rate ``p``."""
    if n <= 0 or not 0 <= p <= 1 or p != p:
        return float("nan")
    return float(_st.binomtest(int(k), int(n), float(p)).pvalue)


def bootstrap_diff(
    x: np.ndarray, y: np.ndarray, *, B: int = 2000, seed: int = 0, level: float = 0.95
) -> tuple[float, float, float]:
    """``mean(x) - mean(y)`` and a percentile bootstrap interval (resampling each group)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if len(x) == 0 or len(y) == 0:
        return float("nan"), float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    bx = x[rng.integers(0, len(x), (B, len(x)))].mean(axis=1)
    by = y[rng.integers(0, len(y), (B, len(y)))].mean(axis=1)
    a = (1 - level) / 2
    lo, hi = np.quantile(bx - by, [a, 1 - a])
    return float(x.mean() - y.mean()), float(lo), float(hi)


def bootstrap_mean(
    x: np.ndarray, *, B: int = 2000, seed: int = 0, level: float = 0.95
) -> tuple[float, float, float]:
    """``mean(x)`` and a percentile bootstrap interval."""
    x = np.asarray(x, dtype=np.float64)
    if len(x) == 0:
        return float("nan"), float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    b = x[rng.integers(0, len(x), (B, len(x)))].mean(axis=1)
    a = (1 - level) / 2
    lo, hi = np.quantile(b, [a, 1 - a])
    return float(x.mean()), float(lo), float(hi)


def permutation_pvalue(
    x: np.ndarray,
    y: np.ndarray,
    *,
    strata_x: np.ndarray | None = None,
    strata_y: np.ndarray | None = None,
    B: int = 2000,
    seed: int = 0,
) -> float:
    """Two-sided permutation p-value for ``mean(x) - mean(y)``.

    With strata, group labels are shuffled only among observations of the same stratum
    (vectorised: sort by stratum, then ``argsort(stratum + U(0,1))`` per permutation row gives
    a within-stratum shuffle)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    nx, ny = len(x), len(y)
    if nx == 0 or ny == 0:
        return float("nan")
    v = np.concatenate([x, y])
    lab = np.concatenate([np.ones(nx, bool), np.zeros(ny, bool)])
    if strata_x is not None and strata_y is not None:
        s = np.concatenate([np.asarray(strata_x), np.asarray(strata_y)])
        _, s = np.unique(s, return_inverse=True)
        order = np.argsort(s, kind="stable")
        v, lab, s = v[order], lab[order], s[order].astype(np.float64)
    else:
        s = np.zeros(len(v))
    obs = v[lab].mean() - v[~lab].mean()
    rng = np.random.default_rng(seed)
    hits = 0
    chunk = max(1, min(B, 4_000_000 // max(len(v), 1)))
    done = 0
    while done < B:
        b = min(chunk, B - done)
        perm = np.argsort(s[None, :] + rng.random((b, len(v))), axis=1)
        pl = lab[perm]  # labels shuffled within strata
        mx = (pl * v).sum(axis=1) / nx
        my = ((~pl) * v).sum(axis=1) / ny
        hits += int(np.count_nonzero(np.abs(mx - my) >= abs(obs) - 1e-12))
        done += b
    return (1 + hits) / (B + 1)


def paired_signflip(d: np.ndarray, *, B: int = 2000, seed: int = 0) -> float:
    """Two-sided sign-flip permutation p-value for ``mean(d) == 0`` (paired differences)."""
    d = np.asarray(d, dtype=np.float64)
    if len(d) == 0:
        return float("nan")
    obs = abs(d.mean())
    rng = np.random.default_rng(seed)
    signs = rng.choice(np.array([-1.0, 1.0]), size=(B, len(d)))
    hits = np.count_nonzero(np.abs((signs * d).mean(axis=1)) >= obs - 1e-12)
    return float((1 + hits) / (B + 1))


def adjust(p: np.ndarray, method: str) -> np.ndarray:
    """Adjust p-values by ``holm``, ``bh`` or ``none``."""
    if method == "holm":
        return holm(p)
    if method == "bh":
        return benjamini_hochberg(p)
    if method == "none":
        return np.asarray(p, dtype=np.float64)
    from probity.errors import InputError

    raise InputError(f"unknown correction {method!r}", hint="use holm, bh or none")


def with_adjusted(items: list, correction: str, alpha: float) -> list:
    """Copies of result rows (dataclasses with ``p_value``) with ``p_adjusted`` and
    ``significant`` filled in, the family being ``items`` (``None`` where p is undefined)."""
    from dataclasses import replace

    adj = adjust(np.asarray([x.p_value for x in items], dtype=np.float64), correction)
    return [
        replace(
            x,
            p_adjusted=None if np.isnan(q) else float(q),
            significant=None if np.isnan(q) else bool(q < alpha),
        )
        for x, q in zip(items, adj, strict=True)
    ]
