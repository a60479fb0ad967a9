"""Checking a forget: the forgotten records should look like non-members and be unlisted."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from probity.privacy.audit import AuditResult, membership_audit


@dataclass(frozen=True)
class ForgetAudit:
    """LOSS-attack AUC of forgotten records against non-members (0.5 = indistinguishable),
    the mean percentile of their scores among non-members' (0.5 = typical) and the ids still
    listed in the manifest (should be empty)."""

    auc: float
    mean_percentile: float
    still_listed: list[str]
    passed: bool
    tolerance: float
    audit: AuditResult

    def to_dict(self) -> dict[str, Any]:
        return {
            "auc": self.auc,
            "mean_percentile": self.mean_percentile,
            "still_listed": self.still_listed,
            "passed": self.passed,
            "tolerance": self.tolerance,
            "audit": self.audit.to_dict(),
        }


def forget_audit(
    model: Any,
    forgotten: tuple[Any, Any],
    nonmembers: tuple[Any, Any],
    *,
    ids: Sequence[Any] = (),
    tolerance: float = 0.15,
    attack: str = "loss",
) -> ForgetAudit:
    """Attack ``model`` with the forgotten records as "members" against true non-members.

    Passes when ``|AUC - 0.5| <= tolerance`` and no id in ``ids`` is still in the model's
    manifest (when the model has one). With few forgotten records the AUC is noisy: a
    tolerance near ``1 / sqrt(n_forgotten)`` is realistic.
    """
    res = membership_audit(model, forgotten, nonmembers, attack=attack)
    n_sorted = np.sort(res.nonmember_scores)
    pct = float(np.mean(np.searchsorted(n_sorted, res.member_scores) / n_sorted.size))
    listed: list[str] = []
    if hasattr(model, "manifest") and ids:
        man = model.manifest()
        listed = [str(i) for i in ids if str(i) in man]
    passed = abs(res.auc - 0.5) <= tolerance and not listed
    return ForgetAudit(
        auc=res.auc,
        mean_percentile=pct,
        still_listed=listed,
        passed=passed,
        tolerance=tolerance,
        audit=res,
    )


__all__ = ["ForgetAudit", "forget_audit"]
