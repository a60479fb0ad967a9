"""Privacy audits and differentially private training.

* :func:`membership_audit` attacks a classifier with known members and non-members (LOSS or
  confidence threshold, shadow models, LiRA online/offline) and returns an
  :class:`AuditResult`: AUC, TPR at 1%, 0.1% and 0% FPR, a ROC, the most exposed records and an
  empirical epsilon lower bound. :func:`audit_scores` does the same from per-example scores.
* :func:`lm_membership_audit` attacks a causal language model with member and non-member
  texts (loss, zlib ratio, Min-K%, Min-K%++, reference model).
* :func:`one_run_audit` audits a :class:`DPClassifier` in one training run with planted
  canaries (Steinke et al. 2023) and returns an empirical epsilon lower bound.
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
from probity.privacy.lm_attacks import LM_ATTACKS, lm_membership_audit, lm_scores
from probity.privacy.metrics import auc, empirical_epsilon, epsilon_from_rates, roc, tpr_at_fpr


def __getattr__(name: str) -> Any:  # lazy: dp imports torch
    if name in ("DPClassifier", "TorchClassifier"):
        from probity.privacy import dp

        return getattr(dp, name)
    if name in ("one_run_audit", "OneRunAudit"):
        from probity.privacy import dp_audit

        return getattr(dp_audit, name)
    raise AttributeError(name)


__all__ = [
    "ATTACKS",
    "FPR_LEVELS",
    "LM_ATTACKS",
    "AuditResult",
    "DPClassifier",
    "OneRunAudit",
    "TorchClassifier",
    "auc",
    "audit_scores",
    "empirical_epsilon",
    "epsilon_from_rates",
    "lm_membership_audit",
    "lm_scores",
    "membership_audit",
    "one_run_audit",
    "roc",
    "roc_figure",
    "tpr_at_fpr",
]
