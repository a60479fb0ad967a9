"""Per-group ranking and calibration of scores: ROC AUC, calibration-in-the-large and the
expected calibration error, for audits given a score column.

Rank-based AUC (Mann-Whitney U) per group from one global ``rankdata`` would mix groups, so
ranks are computed within each group on sorted slices; calibration uses ``np.bincount`` over
``group * bins + bin`` for all groups at once.
"""

from __future__ import annotations

import numpy as np

#: Equal-width score bins of the expected calibration error.
ECE_BINS = 10


def group_score_stats(
    codes: np.ndarray, y: np.ndarray, scores: np.ndarray, n_groups: int
) -> dict[str, np.ndarray]:
    """``auc``, ``calibration_error`` (mean score minus mean label) and ``ece`` per group
    (NaN where a group lacks rows, or one of the two labels for the AUC)."""
    from scipy.stats import rankdata

    codes = np.asarray(codes, dtype=np.int64)
    y = np.asarray(y, dtype=np.float64)
    s = np.asarray(scores, dtype=np.float64)
    n = np.bincount(codes, minlength=n_groups).astype(float)
    pos = np.bincount(codes, weights=y, minlength=n_groups)
    neg = n - pos
    with np.errstate(divide="ignore", invalid="ignore"):
        calib = (
            np.bincount(codes, weights=s, minlength=n_groups) - pos
        ) / n  # mean(score) - mean(label)
    order = np.argsort(codes, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(n.astype(np.int64))])
    auc = np.full(n_groups, np.nan)
    for gi in range(n_groups):
        if pos[gi] == 0 or neg[gi] == 0:
            continue
        rows = order[bounds[gi] : bounds[gi + 1]]
        ranks = rankdata(s[rows])  # average ranks for ties
        rank_pos = float(ranks[y[rows] == 1].sum())
        auc[gi] = (rank_pos - pos[gi] * (pos[gi] + 1) / 2) / (pos[gi] * neg[gi])
    b = np.clip((np.clip(s, 0.0, 1.0) * ECE_BINS).astype(np.int64), 0, ECE_BINS - 1)
    cell = codes * ECE_BINS + b
    size = n_groups * ECE_BINS
    ssum = np.bincount(cell, weights=s, minlength=size).reshape(n_groups, ECE_BINS)
    ysum = np.bincount(cell, weights=y, minlength=size).reshape(n_groups, ECE_BINS)
    with np.errstate(divide="ignore", invalid="ignore"):
        ece = np.abs(ssum - ysum).sum(1) / n
    return {"auc": auc, "calibration_error": calib, "ece": ece}
