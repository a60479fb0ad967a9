"""Fairness audits for predictive models, and training under pairwise fairness constraints.

Audit (``audit`` / ``FairnessAudit``): per-group rates from one ``np.bincount`` of the
confusion cells (selection, error, false-rejection = FNR, false-acceptance = FPR, TPR, TNR,
precision, count), for each sensitive column and their intersection; bootstrap percentile
intervals for every rate and for the largest-minus-smallest gap (resampling the counts as a
multinomial, which is exactly the row bootstrap); pairwise two-proportion z or permutation
tests with Holm or Benjamini-Hochberg correction across all comparisons; a tolerance check on
the gap's upper bound. The favourable label is the positive class.

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
    "ToleranceCheck",
    "audit",
    "group_metrics",
    "load_german",
    "load_taiwan",
    "make_lending",
    "metric_name",
    "mitigate",
]
