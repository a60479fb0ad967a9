"""The forget ledger (append-only, hash-chained) and Ed25519-signed unlearning certificates.

Each ledger line is a JSON object with ``seq`` (0, 1, ...), ``prev`` (the previous line's
``hash``; 64 zeros for the first) and ``hash`` = SHA-256 of the canonical JSON of the line
without ``hash``. Editing, reordering or deleting a line breaks the chain; cutting lines off
the end is caught by comparing the last hash with the head stored in the model's state.

Certificates are :class:`probity.types.Certificate` objects signed with an Ed25519 key kept
in ``<probity home>/keys/unlearning-ed25519.pem`` (created on first use).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from probity.errors import CorruptIndexError, TamperedError
from probity.home import keys_dir
from probity.io import write_bytes_atomic
from probity.types import Certificate

GENESIS = "0" * 64
KEY_NAME = "unlearning-ed25519.pem"


def canonical(data: Any) -> bytes:
    """Canonical JSON bytes: sorted keys, no spaces, UTF-8."""
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode("utf-8")


def sha256_hex(data: bytes | str) -> str:
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def read_ledger(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Read all entries (no verification)."""
    p = Path(path)
    if not p.exists():
        return []
    out = []
    for lineno, line in enumerate(p.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except ValueError as exc:
            raise TamperedError(f"{p}:{lineno}: ledger line is not valid JSON") from exc
    return out


def append_entry(path: str | os.PathLike[str], entry: dict[str, Any]) -> dict[str, Any]:
    """Append ``entry`` (any JSON object) with seq/prev/hash filled in; returns the full line.

    The file is only ever appended to (opened in append mode, one write, fsync).
    """
    entries = read_ledger(path)
    prev = entries[-1]["hash"] if entries else GENESIS
    body = {**entry, "seq": len(entries), "prev": prev}
    body["hash"] = sha256_hex(canonical(body))
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with open(p, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(body, sort_keys=True, ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return body


def verify_ledger(path: str | os.PathLike[str], head: str | None = None) -> dict[str, Any]:
    """Check every link of the chain; raise :class:`TamperedError` naming the first bad line.

    ``head``: the hash the last entry must have (from the model state), which detects lines
    cut off the end. Returns ``{"entries": n, "head": last hash, "ok": True}``.
    """
    entries = read_ledger(path)
    prev = GENESIS
    for i, e in enumerate(entries):
        line = i + 1
        if not isinstance(e, dict) or "hash" not in e:
            raise TamperedError(f"{path}:{line}: ledger entry has no hash")
        body = {k: v for k, v in e.items() if k != "hash"}
        if e.get("seq") != i:
            raise TamperedError(
                f"{path}:{line}: sequence number {e.get('seq')} where {i} was "
                "expected (a line was removed or reordered)"
            )
        if e.get("prev") != prev:
            raise TamperedError(f"{path}:{line}: chain broken (prev hash does not match line {i})")
        if sha256_hex(canonical(body)) != e["hash"]:
            raise TamperedError(f"{path}:{line}: entry was modified (hash mismatch)")
        prev = e["hash"]
    if head is not None and prev != head:
        raise TamperedError(
            f"{path}: last entry hash {prev[:12]}... does not match the model "
            f"state's ledger head {head[:12]}... (entries were cut off or added)"
        )
    return {"entries": len(entries), "head": prev, "ok": True}


# --- signing -------------------------------------------------------------------------------


def _load_key():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = keys_dir() / KEY_NAME
    if path.exists():
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except ValueError as exc:
            raise CorruptIndexError(
                f"signing key {str(path)!r} cannot be read",
                hint="restore it from backup or move it away to create a "
                "new one (old certificates stay verifiable)",
            ) from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise CorruptIndexError(f"signing key {str(path)!r} is not an Ed25519 key")
        return key
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    write_bytes_atomic(path, pem)
    os.chmod(path, 0o600)
    return key


def _payload(kind: str, key_id: str, claims: dict[str, Any]) -> bytes:
    return canonical({"kind": kind, "key_id": key_id, "claims": claims})


def sign_certificate(kind: str, claims: dict[str, Any]) -> Certificate:
    """Sign ``claims`` with the unlearning key; returns a verifiable Certificate."""
    from cryptography.hazmat.primitives import serialization

    key = _load_key()
    pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    key_id = "unlearning-" + sha256_hex(pub)[:16]
    claims = json.loads(canonical(claims))  # plain JSON values only
    sig = key.sign(_payload(kind, key_id, claims))
    return Certificate(
        kind=kind, claims=claims, key_id=key_id, public_key=pub.hex(), signature=sig.hex()
    )


def verify_certificate(
    cert: Certificate | dict[str, Any], *, public_key: str | None = None
) -> bool:
    """Verify a certificate's Ed25519 signature; raise :class:`TamperedError` when it fails.

    ``public_key`` (hex) pins the expected signer; without it the embedded key is used, which
    proves integrity but not who signed.
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    c = cert if isinstance(cert, Certificate) else Certificate.from_dict(cert)
    if public_key is not None and public_key != c.public_key:
        raise TamperedError("certificate was signed by a different key than the one expected")
    try:
        pub = Ed25519PublicKey.from_public_bytes(bytes.fromhex(c.public_key))
        pub.verify(bytes.fromhex(c.signature), _payload(c.kind, c.key_id, c.claims))
    except (InvalidSignature, ValueError) as exc:
        raise TamperedError(
            "certificate signature does not verify (claims or signature were changed)"
        ) from exc
    return True


__all__ = [
    "GENESIS",
    "append_entry",
    "canonical",
    "read_ledger",
    "sha256_hex",
    "sign_certificate",
    "verify_certificate",
    "verify_ledger",
]
