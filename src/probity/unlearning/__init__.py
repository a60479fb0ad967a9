"""Machine unlearning with SISA ensembles, a hash-chained forget ledger and signed certificates.

* :class:`SISAModel` trains S shard models, each over R slices with checkpoints, saves them in
  a model directory and forgets records by retraining only the affected shards from the last
  checkpoint before the first affected slice (:meth:`SISAModel.forget`).
* :meth:`SISAModel.verify_ledger` / :func:`verify_certificate` detect tampering;
  :func:`repair` finishes or undoes a forget interrupted by a crash.
* :func:`forget_audit` checks after a forget that the forgotten records look like non-members
  to a membership-inference attack and are gone from the manifest.
"""

from __future__ import annotations

from probity.unlearning.ledger import sign_certificate, verify_certificate, verify_ledger
from probity.unlearning.manifests import ManifestEntry, record_hash
from probity.unlearning.sisa import FORMAT, ForgetResult, SISAModel, SISAStatus, ids_key
from probity.unlearning.verify import ForgetAudit, forget_audit
from probity.unlearning.wal import repair

__all__ = [
    "FORMAT",
    "ForgetAudit",
    "ForgetResult",
    "ManifestEntry",
    "SISAModel",
    "SISAStatus",
    "forget_audit",
    "ids_key",
    "record_hash",
    "repair",
    "sign_certificate",
    "verify_certificate",
    "verify_ledger",
]
