"""Fairness audits for predictive models, and training under pairwise fairness constraints.

Audit (``audit`` / ``FairnessAudit``): per-group rates from one ``np.bincount`` of the
confusion cells (selection, error, false-rejection = FNR, false-acceptance = FPR, TPR, TNR,
precision, count), for each sensitive column, their 2-way intersections and their full
intersection; bootstrap percentile intervals for every rate (resampling the counts as a
multinomial, which is exactly the row bootstrap); simultaneous intervals for the
largest-minus-smallest gap and the selection-rate ratio (four-fifths rule); pairwise
two-proportion z or permutation tests with Holm or Benjamini-Hochberg correction within each
metric x grouping (or the whole audit); tolerance verdicts that fail only when the interval
lies above the tolerance; per-group AUC and calibration for scores. The favourable label is
the positive class.

Mitigation (``mitigate``): fairlearn's ExponentiatedGradient or ThresholdOptimizer with the
bound tuned so the *pairwise* gap meets the tolerance, certified on a held-out split.

Data: ``make_lending`` (synthetic, with a planted documented bias), ``load_german``,
``load_taiwan``.
"""

from probity.fairness._metrics import DEFAULT_METRICS, METRICS, metric_name
from probity.fairness.audit import (
    AuditResult,
    Comparison,
    FairnessAudit,
    Gap,
    GroupingResult,
    GroupStats,
    Ratio,
    ToleranceCheck,
    audit,
    group_metrics,
)
from probity.fairness.data import LENDING_FEATURES, load_german, load_taiwan, make_lending
from probity.fairness.mitigate import FairClassifier, MitigationResult, mitigate

__all__ = [
    "DEFAULT_METRICS",
    "LENDING_FEATURES",
    "METRICS",
    "AuditResult",
    "Comparison",
    "FairClassifier",
    "FairnessAudit",
    "Gap",
    "GroupStats",
    "GroupingResult",
    "MitigationResult",
    "Ratio",
    "ToleranceCheck",
    "audit",
    "group_metrics",
    "load_german",
    "load_taiwan",
    "make_lending",
    "metric_name",
    "mitigate",
]
