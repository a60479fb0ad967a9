"""Ed25519 signatures over Probity certificates.

Every certificate (:class:`probity.types.Certificate`) is signed over the canonical JSON
(sorted keys, no spaces, UTF-8) of ``{"kind", "key_id", "claims"}``; this is the format the
watermark and unlearning certificates have always used, so old certificates still verify.
"""

from __future__ import annotations

import json
from typing import Any

from probity.errors import TamperedError
from probity.types import Certificate

PUBLIC_FORMAT = "probity-public-key/1"


def payload(kind: str, key_id: str, claims: dict[str, Any]) -> bytes:
    """The bytes a certificate's signature covers."""
    body = {"kind": kind, "key_id": key_id, "claims": claims}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign_document(doc: dict[str, Any], private_key: Any) -> dict[str, Any]:
    """Sign ``doc`` (``kind``, ``key_id``, ``claims``) with an Ed25519 private key; returns the
    certificate as a dict with ``public_key`` and ``signature`` (hex) filled in."""
    from cryptography.hazmat.primitives import serialization

    pub = private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    claims = json.loads(json.dumps(doc["claims"]))
    sig = private_key.sign(payload(doc["kind"], doc["key_id"], claims))
    return {
        **doc,
        "claims": claims,
        "public_key": pub.hex(),
        "signature": sig.hex(),
        "algorithm": "ed25519",
    }


def public_key_hex(ref: Any) -> str:
    """A trusted public key as hex, from: raw hex, a public key export file
    (``probity keys export``), a watermark key file or id, or bytes."""
    # one reader of public keys for every kind: the watermark area's, which already accepts
    # every export made by `probity keys export` (format probity-public-key/1)
    from probity.watermark.certificates import _public_key_hex

    return _public_key_hex(ref).lower()


def verify_signature(cert: Certificate, public_key: str | None = None) -> bool:
    """Check ``cert``'s Ed25519 signature; raise :class:`TamperedError` when it fails.

    ``public_key`` (hex) pins the signer. Without it the certificate's embedded key is used:
    that proves only **integrity** (nothing was changed after signing), not who signed.
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if cert.algorithm != "ed25519":
        raise TamperedError(f"unsupported certificate algorithm {cert.algorithm!r}")
    if public_key is not None and public_key.lower() != str(cert.public_key).lower():
        raise TamperedError(
            f"certificate {cert.key_id} was signed by a different key than the pinned public key"
        )
    try:
        pub = Ed25519PublicKey.from_public_bytes(bytes.fromhex(cert.public_key))
        pub.verify(bytes.fromhex(cert.signature), payload(cert.kind, cert.key_id, cert.claims))
    except (InvalidSignature, ValueError) as exc:
        raise TamperedError(
            f"certificate signature does not verify (key {cert.key_id}): "
            "its claims or signature were changed"
        ) from exc
    return True
