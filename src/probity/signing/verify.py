"""``verify_any``: check any Probity certificate against a pinned public key.

Dispatches on the certificate's ``kind``: watermark detection certificates go through
:func:`probity.watermark.verify_certificate` (which also checks the claims name the signing
key), unlearning certificates are checked for their signature and, with ``model_dir``, for
being recorded in that model's ledger; any other kind gets the signature check.
"""

from __future__ import annotations

import os
from typing import Any

from probity.errors import InputError, TamperedError
from probity.signing.documents import public_key_hex, verify_signature
from probity.types import Certificate


def verify_any(
    cert: Certificate | dict[str, Any] | str | os.PathLike[str],
    public_key: Any,
    *,
    model_dir: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Verify ``cert`` against ``public_key`` (hex, public key export file or bytes).

    Returns ``{"valid": True, "kind", "key_id", "key_matched": True, "claims"}``; any failure
    raises :class:`TamperedError`. A pinned key is required: without one a signature proves
    only that nothing changed since *someone* signed it.
    """
    if public_key is None:
        raise InputError("no public key given; pass the signer's exported public key (--key)")
    from probity.watermark.certificates import load_certificate  # one reader for every kind

    c = load_certificate(cert)
    pin = public_key_hex(public_key)
    if c.kind == "watermark-detection":
        from probity.watermark import verify_certificate as verify_watermark

        res = verify_watermark(c, pin)
        return {"valid": True, "kind": c.kind, **res.to_dict()}
    verify_signature(c, pin)
    if c.kind == "unlearning" and model_dir is not None:
        from probity.unlearning.integrity import certificate_in_ledger

        certificate_in_ledger(model_dir, c)
    elif c.kind == "unlearning" and not c.claims.get("ledger_entry"):
        raise TamperedError("unlearning certificate names no ledger entry")
    return {
        "valid": True,
        "kind": c.kind,
        "key_id": c.key_id,
        "key_matched": True,
        "claims": c.claims,
    }
