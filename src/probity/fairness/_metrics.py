"""Group metrics from confusion-matrix counts.

Every metric Probity reports is a ratio of sums of the four confusion cells of a group, so one
``np.bincount`` over ``group_code * 4 + 2 * y + yhat`` gives everything; per group it is
``O(n)`` once, instead of one pass of a Python metric function per group and per metric (what
``fairlearn.metrics.MetricFrame`` does). The cell order is sklearn's ``confusion_matrix(...)
.ravel()`` order: ``tn, fp, fn, tp`` (index ``2 * y + yhat``), with the *favourable* label
as class 1 (repays, approved).

Domain words: the *false-rejection rate* is the share of applicants who would in fact repay
(favourable truth) that the model rejects, i.e. the false-negative rate FNR = fn / (fn + tp);
the *false-acceptance rate* is the share of applicants who default that the model approves,
i.e. FPR = fp / (fp + tn).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from probity.errors import InputError

TN, FP, FN, TP = 0, 1, 2, 3


@dataclass(frozen=True)
class MetricSpec:
    """A rate ``sum(counts[num]) / sum(counts[den])`` over the cells ``tn, fp, fn, tp``."""

    name: str
    num: tuple[int, ...]
    den: tuple[int, ...]
    also: str  # the textbook name, shown next to the domain word
    description: str


_SPECS = [
    MetricSpec(
        "selection_rate",
        (FP, TP),
        (TN, FP, FN, TP),
        "selection rate",
        "share of all applicants given the favourable decision",
    ),
    MetricSpec(
        "error_rate",
        (FP, FN),
        (TN, FP, FN, TP),
        "1 - accuracy",
        "share of all applicants whose decision differs from the outcome",
    ),
    MetricSpec(
        "false_rejection_rate",
        (FN,),
        (FN, TP),
        "FNR",
        "share of favourable-outcome applicants (would repay) who are rejected",
    ),
    MetricSpec(
        "false_acceptance_rate",
        (FP,),
        (TN, FP),
        "FPR",
        "share of unfavourable-outcome applicants (default) who are accepted",
    ),
    MetricSpec(
        "true_positive_rate",
        (TP,),
        (FN, TP),
        "TPR, recall",
        "share of favourable-outcome applicants who are accepted",
    ),
    MetricSpec("false_positive_rate", (FP,), (TN, FP), "FPR", "same as the false-acceptance rate"),
    MetricSpec("false_negative_rate", (FN,), (FN, TP), "FNR", "same as the false-rejection rate"),
    MetricSpec(
        "true_negative_rate",
        (TN,),
        (TN, FP),
        "TNR, specificity",
        "share of unfavourable-outcome applicants who are rejected",
    ),
    MetricSpec(
        "precision",
        (TP,),
        (FP, TP),
        "PPV",
        "share of accepted applicants who have the favourable outcome",
    ),
]

#: All metrics by name.
METRICS: dict[str, MetricSpec] = {s.name: s for s in _SPECS}
#: Short aliases accepted wherever a metric name is.
ALIASES = {
    "fnr": "false_negative_rate",
    "fpr": "false_positive_rate",
    "tpr": "true_positive_rate",
    "tnr": "true_negative_rate",
    "frr": "false_rejection_rate",
    "far": "false_acceptance_rate",
    "selection": "selection_rate",
    "error": "error_rate",
    "ppv": "precision",
    "demographic_parity": "selection_rate",
}
#: The metrics an audit reports by default.
DEFAULT_METRICS = (
    "selection_rate",
    "error_rate",
    "false_rejection_rate",
    "false_acceptance_rate",
    "precision",
)


def metric_name(name: str) -> str:
    """The canonical metric name for ``name`` (case-insensitive; aliases such as ``fnr``)."""
    key = name.strip().lower().replace("-", "_")
    key = ALIASES.get(key, key)
    if key not in METRICS:
        raise InputError(
            f"unknown metric {name!r}", hint="choose from " + ", ".join([*METRICS, *ALIASES])
        )
    return key


def confusion_counts(
    codes: np.ndarray, y: np.ndarray, yhat: np.ndarray, n_groups: int
) -> np.ndarray:
    """Counts ``(n_groups, 4)`` of ``tn, fp, fn, tp`` per group code, in one bincount.

    ``codes`` are ints in ``[0, n_groups)``; ``y`` and ``yhat`` are 0/1 (1 = favourable).
    """
    cell = codes.astype(np.int64, copy=False) * 4 + (y.astype(np.int64) << 1) + yhat
    return np.bincount(cell, minlength=4 * n_groups).reshape(n_groups, 4)


def rates(counts: np.ndarray, name: str) -> np.ndarray:
    """The metric ``name`` for counts of shape ``(..., 4)``; NaN where the denominator is 0.

    The arithmetic matches scikit-learn's exactly (so results equal MetricFrame's bit for
    bit): rates are ``int / int`` in float64, and the error rate is ``1 - correct / n`` as
    ``zero_one_loss`` computes it.
    """
    spec = METRICS[name]
    counts = np.asarray(counts)
    den = counts[..., list(spec.den)].sum(-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        if name == "error_rate":
            out = 1.0 - (counts[..., TN] + counts[..., TP]) / den
        else:
            out = counts[..., list(spec.num)].sum(-1) / den
    return np.where(den > 0, out, np.nan)


def numerators(counts: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """``(successes, trials)`` of the metric's proportion, for the significance tests."""
    spec = METRICS[name]
    return counts[..., list(spec.num)].sum(-1), counts[..., list(spec.den)].sum(-1)
