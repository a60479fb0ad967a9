"""Ed25519-signed checkpoints of the audit log's chain head.

A hash chain alone shows that lines were edited only to someone who kept a later hash: anyone
who edits a line and recomputes every later hash produces a log that verifies. A *checkpoint*
is a chain record ``{"kind": "checkpoint", "head": <hash of the line before>, "key_id": ...,
"signature": ...}`` whose signature covers ``head``; it is written every N records and when
the log is closed. Verifying with the public key (``probity guard log verify --key PUB``):

- a re-chained edit changes every later hash, so the next checkpoint's signed head no longer
  matches: the signature check fails (the forger lacks the private key);
- a log must end with a checkpoint: records after the last one mean the tail was truncated
  (or the writer crashed before closing) and are reported;
- removing every checkpoint is reported as "no signed checkpoint".

Cutting the log exactly at an earlier checkpoint is not detectable from the log alone; keep
the last checkpoint's head elsewhere (or ship checkpoints to another system) for that.

Keys are the Ed25519 keypairs Probity already stores (``probity keys new NAME``; the public
part from ``probity keys export NAME -o pub.json``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from probity.errors import InputError

CHECKPOINT = "checkpoint"
_DOMAIN = b"probity-guard-audit-checkpoint-v1\n"


def _message(head: str, key_id: str) -> bytes:
    return _DOMAIN + head.encode("ascii") + b"\n" + key_id.encode("utf-8")


class CheckpointSigner:
    """Signs chain heads with a stored Ed25519 key (id, name or key file)."""

    def __init__(self, key: Any) -> None:
        from probity.watermark.keys import load_key

        self._key = load_key(key)
        self.key_id = self._key.key_id

    def checkpoint(self, head: str) -> dict[str, Any]:
        """The checkpoint record for chain head ``head`` (before ``prev``/``hash`` are set)."""
        sig = self._key.sign(_message(head, self.key_id))
        return {"kind": CHECKPOINT, "head": head, "key_id": self.key_id, "signature": sig.hex()}


def load_public_key(ref: str | os.PathLike[str]) -> tuple[str, bytes]:
    """``(key_id, raw public key)`` from an exported public key file (``probity keys export``),
    a full key file, or a key id/name in the Probity home."""
    p = Path(ref).expanduser()
    if p.is_file():
        try:
            data = json.loads(p.read_text("utf-8"))
            return str(data.get("key_id", "")), bytes.fromhex(data["public_key"])
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"{str(p)!r} is not a Probity public key file: {exc}") from exc
    from probity.watermark.keys import load_key

    key = load_key(str(ref))
    return key.key_id, key.public_key


def check_checkpoint(rec: dict[str, Any], prev: str, public_key: bytes) -> str:
    """Why checkpoint ``rec`` (whose chain predecessor hash is ``prev``) is bad, or ""."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if rec.get("head") != prev:
        return "checkpoint head does not match the chain"
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            bytes.fromhex(str(rec.get("signature", ""))),
            _message(prev, str(rec.get("key_id", ""))),
        )
    except (InvalidSignature, ValueError):
        return "checkpoint signature is invalid: the chain before it was rewritten (or wrong key)"
    return ""
