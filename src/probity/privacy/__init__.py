"""Privacy audits and differentially private training.

* :func:`membership_audit` attacks a classifier with known members and non-members (LOSS or
  confidence threshold, shadow models, LiRA online/offline) and returns an
  :class:`AuditResult`: AUC, TPR at 1%, 0.1% and 0% FPR, a ROC, the most exposed records and an
  empirical epsilon lower bound. :func:`audit_scores` does the same from per-example scores.
* :class:`DPClassifier` trains a torch logistic/MLP model with DP-SGD (Opacus) to a target
  (epsilon, delta); :class:`TorchClassifier` is the same model without DP.

Importing this package is light; torch, scikit-learn and scipy load on first use where they
are not needed for the metrics.
"""

from __future__ import annotations

from typing import Any

from probity.privacy.audit import (
    ATTACKS,
    FPR_LEVELS,
    AuditResult,
    audit_scores,
    membership_audit,
    roc_figure,
)
from probity.privacy.metrics import auc, empirical_epsilon, epsilon_from_rates, roc, tpr_at_fpr


def __getattr__(name: str) -> Any:  # lazy: dp imports torch
    if name in ("DPClassifier", "TorchClassifier"):
        from probity.privacy import dp

        return getattr(dp, name)
    raise AttributeError(name)


__all__ = [
    "ATTACKS",
    "FPR_LEVELS",
    "AuditResult",
    "DPClassifier",
    "TorchClassifier",
    "auc",
    "audit_scores",
    "empirical_epsilon",
    "epsilon_from_rates",
    "membership_audit",
    "roc",
    "roc_figure",
    "tpr_at_fpr",
]
