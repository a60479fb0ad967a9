"""Every signing key, by purpose.

* ``watermark``: watermark keys (``<home>/keys/wk-*.json``, made by ``probity keys new``);
  each also signs its detection certificates.
* ``unlearning``: signs forget certificates (``<home>/keys/unlearning-ed25519.pem``).
* ``audit``: signs audit checkpoints (``<home>/keys/audit-ed25519.pem``).

Purpose keys are created on first use (mode 0600). Their ``key_id`` is the purpose plus the
first 16 hex digits of SHA-256 over the raw public key, as unlearning certificates always had.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any

from probity.errors import CorruptIndexError, UnknownKeyError
from probity.home import keys_dir
from probity.io import write_bytes_atomic

#: purpose -> PEM file name in ``<home>/keys`` (watermark keys live in their own files)
PURPOSE_FILES: dict[str, str] = {
    "unlearning": "unlearning-ed25519.pem",
    "audit": "audit-ed25519.pem",
}
PURPOSES = ("watermark", *PURPOSE_FILES)


@dataclass(frozen=True)
class SigningKeyInfo:
    """Public description of one signing key (never its private part)."""

    key_id: str
    name: str
    purpose: str
    public_key: str
    created: str
    path: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _raw_public(key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def purpose_key_id(purpose: str, public_raw: bytes) -> str:
    return f"{purpose}-" + hashlib.sha256(public_raw).hexdigest()[:16]


def load_purpose_key(purpose: str, *, create: bool = True) -> Any:
    """The Ed25519 private key for ``purpose`` ("unlearning" or "audit"), created on first
    use when ``create``."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if purpose not in PURPOSE_FILES:
        raise UnknownKeyError(
            f"unknown key purpose {purpose!r}; choose one of {', '.join(PURPOSE_FILES)}"
        )
    path = keys_dir() / PURPOSE_FILES[purpose]
    if path.exists():
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except ValueError as exc:
            raise CorruptIndexError(
                f"signing key {str(path)!r} cannot be read",
                hint="restore it from backup or move it away to create a new one "
                "(old certificates stay verifiable with their exported public key)",
            ) from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise CorruptIndexError(f"signing key {str(path)!r} is not an Ed25519 key")
        return key
    if not create:
        raise UnknownKeyError(f"no {purpose} key yet ({path})")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    write_bytes_atomic(path, pem, permissions=0o600)  # 0600 before any byte is written
    return key


def _purpose_info(purpose: str) -> SigningKeyInfo | None:
    import datetime as _dt

    path = keys_dir() / PURPOSE_FILES[purpose]
    if not path.exists():
        return None
    pub = _raw_public(load_purpose_key(purpose, create=False))
    created = _dt.datetime.fromtimestamp(path.stat().st_mtime, _dt.UTC).isoformat(
        timespec="seconds"
    )
    return SigningKeyInfo(
        key_id=purpose_key_id(purpose, pub),
        name=purpose,
        purpose=purpose,
        public_key=pub.hex(),
        created=created,
        path=str(path),
    )


def list_signing_keys() -> list[SigningKeyInfo]:
    """Every signing key in the Probity home: watermark keys first, then purpose keys."""
    from probity.watermark.keys import list_keys

    out = [
        SigningKeyInfo(
            key_id=k.key_id,
            name=k.name,
            purpose="watermark",
            public_key=k.public_key_hex,
            created=k.created,
            path=k.path or "",
        )
        for k in list_keys()
    ]
    for purpose in PURPOSE_FILES:
        info = _purpose_info(purpose)
        if info is not None:
            out.append(info)
    return out


def purpose_public_export(purpose: str) -> dict[str, Any]:
    """The public export (``probity-public-key/1``) of a purpose key, created if missing."""
    from probity.signing.documents import PUBLIC_FORMAT

    pub = _raw_public(load_purpose_key(purpose))
    return {
        "format": PUBLIC_FORMAT,
        "key_id": purpose_key_id(purpose, pub),
        "name": purpose,
        "purpose": purpose,
        "algorithm": "ed25519",
        "public_key": pub.hex(),
    }
