"""Metrics of a membership-inference attack: ROC, AUC, TPR at fixed FPR, empirical epsilon.

Scores follow one convention everywhere: **higher means "more likely a member"**. Members are
the positives. All functions are vectorised with numpy (a single sort, then cumulative sums).
"""

from __future__ import annotations

import math

import numpy as np

from probity.errors import InputError


def _scores(name: str, values: np.ndarray) -> np.ndarray:
    arr = np.asarray(values, dtype=float).ravel()
    if arr.size == 0:
        raise InputError(
            f"{name}: no scores given; an audit needs at least one record of each kind"
        )
    if not np.all(np.isfinite(arr)):
        bad = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise InputError(f"{name}: score {bad} is {arr[bad]}; scores must be finite numbers")
    return arr


def roc(
    member_scores: np.ndarray, nonmember_scores: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ROC curve of the rule "member when score >= t" over every distinct threshold t.

    Returns ``(fpr, tpr, thresholds)``, each of length k + 1 starting at (0, 0) with threshold
    +inf; FPR = fraction of non-members at or above t, TPR = fraction of members at or above t.
    Ties are handled exactly (one point per distinct score).
    """
    m = _scores("members", member_scores)
    n = _scores("non-members", nonmember_scores)
    scores = np.concatenate([m, n])
    labels = np.concatenate([np.ones(m.size), np.zeros(n.size)])
    order = np.argsort(-scores, kind="mergesort")
    s, lab = scores[order], labels[order]
    tp = np.cumsum(lab)
    fp = np.cumsum(1.0 - lab)
    last = np.r_[np.flatnonzero(np.diff(s) != 0), s.size - 1]  # last index of each distinct score
    tpr = np.r_[0.0, tp[last] / m.size]
    fpr = np.r_[0.0, fp[last] / n.size]
    thr = np.r_[np.inf, s[last]]
    return fpr, tpr, thr


def auc(fpr: np.ndarray, tpr: np.ndarray) -> float:
    """Area under the ROC curve by the trapezoid rule (0.5 = chance, 1 = perfect)."""
    return float(np.trapezoid(tpr, fpr))


def tpr_at_fpr(fpr: np.ndarray, tpr: np.ndarray, target: float) -> float:
    """Highest TPR among thresholds whose FPR is at most ``target`` (in [0, 1]).

    ``target = 0`` gives the fraction of members scored above every non-member. With n
    non-members, FPR targets below 1/n can only be met at FPR = 0; report n alongside.
    """
    ok = fpr <= target + 1e-12
    return float(tpr[ok].max()) if ok.any() else 0.0


def clopper_pearson(
    k: np.ndarray | int, n: int, alpha: float = 0.05
) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided exact (Clopper-Pearson) ``1 - alpha`` interval of a binomial rate k / n."""
    from scipy.stats import beta

    k = np.asarray(k, dtype=float)
    lo = np.where(k > 0, beta.ppf(alpha / 2, k, n - k + 1), 0.0)
    hi = np.where(k < n, beta.ppf(1 - alpha / 2, k + 1, n - k), 1.0)
    return np.nan_to_num(lo, nan=0.0), np.nan_to_num(hi, nan=1.0)


def epsilon_from_rates(
    tpr: np.ndarray | float, fpr: np.ndarray | float, delta: float = 0.0
) -> np.ndarray:
    """The epsilon implied by one (TPR, FPR) pair under (epsilon, delta)-DP.

    Any (eps, delta)-DP training satisfies TPR <= e^eps * FPR + delta and
    (1 - FPR) <= e^eps * (1 - TPR) + delta (Kairouz et al. 2015), so
    eps >= max(log((TPR - delta) / FPR), log((1 - FPR - delta) / (1 - TPR))).
    """
    tpr = np.asarray(tpr, dtype=float)
    fpr = np.asarray(fpr, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.log(np.clip(tpr - delta, 0, None) / fpr)
        b = np.log(np.clip(1 - fpr - delta, 0, None) / (1 - tpr))
    out = np.fmax(
        np.nan_to_num(a, nan=0.0, posinf=np.inf, neginf=0.0),
        np.nan_to_num(b, nan=0.0, posinf=np.inf, neginf=0.0),
    )
    return np.maximum(out, 0.0)


def empirical_epsilon(
    member_scores: np.ndarray,
    nonmember_scores: np.ndarray,
    *,
    delta: float = 0.0,
    alpha: float = 0.05,
    seed: int = 0,
) -> dict[str, float | None]:
    """A one-sided ``1 - alpha`` empirical lower bound on epsilon (Jagielski et al. 2020).

    Honest by construction: the records are split at random into two halves; the threshold is
    chosen on the first half (the one maximising the point estimate), then the bound is
    computed on the second half with Clopper-Pearson intervals (TPR's lower end, FPR's upper
    end), so the choice of threshold does not inflate it. Returns the bound, the point
    estimate on the held-out half and the threshold. The bound assumes records entered training
    independently; for a single trained model it is a heuristic, not a proof.
    """
    m = _scores("members", member_scores)
    n = _scores("non-members", nonmember_scores)
    rng = np.random.default_rng(seed)
    mi, ni = rng.permutation(m.size), rng.permutation(n.size)
    m_fit, m_ev = m[mi[: m.size // 2]], m[mi[m.size // 2 :]]
    n_fit, n_ev = n[ni[: n.size // 2]], n[ni[n.size // 2 :]]
    if min(m_fit.size, m_ev.size, n_fit.size, n_ev.size) == 0:
        return {
            "epsilon_lb": 0.0,
            "epsilon_point": 0.0,
            "threshold": math.inf,
            "alpha": alpha,
            "delta": delta,
        }
    fpr, tpr, thr = roc(m_fit, n_fit)
    # choose the threshold whose Clopper-Pearson bound is largest on the fitting half (the
    # point estimate is infinite at every threshold with no false positive, so useless here)
    lo_fit, _ = clopper_pearson(np.rint(tpr[1:] * m_fit.size), m_fit.size, 2 * alpha)
    _, hi_fit = clopper_pearson(np.rint(fpr[1:] * n_fit.size), n_fit.size, 2 * alpha)
    k = int(np.argmax(epsilon_from_rates(lo_fit, hi_fit, delta))) + 1
    t = float(thr[k])
    tp = int((m_ev >= t).sum())
    fp = int((n_ev >= t).sum())
    tpr_lo, tpr_hi = clopper_pearson(tp, m_ev.size, 2 * alpha)
    fpr_lo, fpr_hi = clopper_pearson(fp, n_ev.size, 2 * alpha)
    lb = max(
        float(epsilon_from_rates(tpr_lo, fpr_hi, delta)),
        # the complementary direction: members below t look like non-members
        float(epsilon_from_rates(1 - tpr_hi, 1 - fpr_lo, delta)),
    )
    point = float(epsilon_from_rates(tp / m_ev.size, fp / n_ev.size, delta))
    # the point estimate is infinite when no held-out non-member passes the threshold
    return {
        "epsilon_lb": lb,
        "epsilon_point": point if math.isfinite(point) else None,
        "threshold": t,
        "alpha": alpha,
        "delta": delta,
    }


__all__ = ["auc", "clopper_pearson", "empirical_epsilon", "epsilon_from_rates", "roc", "tpr_at_fpr"]
