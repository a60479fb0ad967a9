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

from probity.errors import TamperedError
from probity.types import Certificate

GENESIS = "0" * 64


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


def make_entry(path: str | os.PathLike[str], entry: dict[str, Any]) -> dict[str, Any]:
    """The line ``entry`` would be if appended now: seq/prev/hash filled in (nothing written)."""
    entries = read_ledger(path)
    prev = entries[-1]["hash"] if entries else GENESIS
    body = {**entry, "seq": len(entries), "prev": prev}
    body["hash"] = sha256_hex(canonical(body))
    return body


def append_line(path: str | os.PathLike[str], body: dict[str, Any]) -> None:
    """Append a line made by :func:`make_entry` (append mode, one write, fsync)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with open(p, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(body, sort_keys=True, ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def append_entry(path: str | os.PathLike[str], entry: dict[str, Any]) -> dict[str, Any]:
    """Append ``entry`` (any JSON object) with seq/prev/hash filled in; returns the full line."""
    body = make_entry(path, entry)
    append_line(path, body)
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


def signing_public_key() -> str:
    """Hex public key of this home's unlearning key (created on first use)."""
    from cryptography.hazmat.primitives import serialization

    from probity.signing.keystore import load_purpose_key

    key = load_purpose_key("unlearning")
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        .hex()
    )


def sign_certificate(kind: str, claims: dict[str, Any]) -> Certificate:
    """Sign ``claims`` with the unlearning key (``probity keys list``, purpose "unlearning")."""
    from probity.signing.documents import sign_document
    from probity.signing.keystore import load_purpose_key, purpose_key_id

    key = load_purpose_key("unlearning")
    key_id = purpose_key_id("unlearning", bytes.fromhex(signing_public_key()))
    doc = sign_document(
        {"kind": kind, "key_id": key_id, "claims": json.loads(canonical(claims))}, key
    )
    return Certificate.from_dict(doc)


def verify_certificate(
    cert: Certificate | dict[str, Any], *, public_key: str | None = None
) -> bool:
    """Verify a certificate's Ed25519 signature; raise :class:`TamperedError` when it fails.

    With ``public_key`` (hex, or a ``probity keys export`` file) the signer is pinned: a
    certificate signed by any other key fails. **Without it only integrity is checked**: the
    certificate's own embedded key is used, so it proves nothing was changed after signing,
    not who signed (anyone can sign a forged certificate with a fresh key). Pin the model's
    key, or use ``probity verify CERT --key PUB`` / ``probity unlearn ledger verify``.
    """
    from probity.signing.documents import public_key_hex, verify_signature

    c = cert if isinstance(cert, Certificate) else Certificate.from_dict(cert)
    pin = None if public_key is None else public_key_hex(public_key)
    return verify_signature(c, pin)


__all__ = [
    "GENESIS",
    "append_entry",
    "append_line",
    "canonical",
    "make_entry",
    "read_ledger",
    "sha256_hex",
    "sign_certificate",
    "signing_public_key",
    "verify_certificate",
    "verify_ledger",
]
