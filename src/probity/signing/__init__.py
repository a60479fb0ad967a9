"""One signing layer for every Probity certificate.

* :mod:`probity.signing.keystore` lists every signing key by purpose: watermark keys
  (``probity keys new``), the unlearning key and the audit key (created on first use), and
  exports their public parts.
* :mod:`probity.signing.documents` signs and checks the Ed25519 signature of a certificate
  (``kind``, ``key_id``, ``claims``) and pins it to a trusted public key.
* :func:`verify_any` checks any Probity certificate against a pinned public key, dispatching on
  the certificate's ``kind`` (``probity verify CERT --key PUB``).
"""

from __future__ import annotations

from probity.signing.documents import (
    payload,
    public_key_hex,
    sign_document,
    verify_signature,
)
from probity.signing.keystore import (
    PURPOSES,
    SigningKeyInfo,
    list_signing_keys,
    load_purpose_key,
    purpose_public_export,
)
from probity.signing.verify import verify_any

__all__ = [
    "PURPOSES",
    "SigningKeyInfo",
    "list_signing_keys",
    "load_purpose_key",
    "payload",
    "public_key_hex",
    "purpose_public_export",
    "sign_document",
    "verify_any",
    "verify_signature",
]
