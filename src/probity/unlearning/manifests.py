"""Manifests of a SISA model: which record lives where, and salted hashes of forgotten ones.

A manifest version ``manifests/vNNNN.jsonl`` has one line per retained record: its id, shard,
slice and content hash (SHA-256 of its features and label). Only the current version is kept
on disk: after a forget commits, earlier versions (which still list the forgotten ids in plain
text) are deleted; the ledger keeps every version's SHA-256.

Forgotten records are remembered only as salted hashes (HMAC-SHA256 keyed by the model's
random ``salt`` in ``state.json``) of their id and content, in the ledger. Those are the
tombstones: a retrain (``train(..., overwrite=True)``) drops every record whose id or content
matches one, so a forgotten record can never come back.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from probity.errors import CorruptIndexError, TamperedError
from probity.io import write_bytes_atomic


def sha256_hex(data: bytes | str) -> str:
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def record_hash(x: np.ndarray, y: Any) -> str:
    """SHA-256 of a record's features (as float64 bytes) and label: the manifest's content hash."""
    h = hashlib.sha256(np.ascontiguousarray(x, dtype=np.float64).tobytes())
    h.update(b"|" + repr(y.item() if hasattr(y, "item") else y).encode())
    return h.hexdigest()


def salted(salt: str, kind: str, value: str) -> str:
    """HMAC-SHA256 of ``value`` keyed by the model's salt (``kind``: "id" or "content")."""
    return hmac.new(bytes.fromhex(salt), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class ManifestEntry:
    """Where one training record lives: its shard, slice, content hash and (optional) data
    subject, the person or entity the record is about."""

    id: str
    shard: int
    slice: int
    sha256: str
    subject: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = {"id": self.id, "shard": self.shard, "slice": self.slice, "sha256": self.sha256}
        if self.subject is not None:
            d["subject"] = self.subject
        return d


def manifest_line(e: ManifestEntry) -> str:
    """One manifest line: a JSON object built directly (json.dumps per record is 3x slower)."""
    subj = "" if e.subject is None else f', "subject": {_json_str(e.subject)}'
    return (
        f'{{"id": {_json_str(e.id)}, "shard": {e.shard}, '
        f'"slice": {e.slice}, "sha256": "{e.sha256}"{subj}}}\n'
    )


_PLAIN_ID = re.compile(r"[A-Za-z0-9_.:@/ +-]*")


def _json_str(value: str) -> str:
    """JSON string literal; ids of plain characters skip json.dumps (the common case)."""
    if _PLAIN_ID.fullmatch(value):
        return f'"{value}"'
    return json.dumps(value, ensure_ascii=False)


def write_manifest(root: Path, version: int, lines: Iterable[str]) -> tuple[str, str]:
    """Write manifest version ``version``; returns (relative path, SHA-256)."""
    rel = f"manifests/v{version:04d}.jsonl"
    path = root / rel
    if path.exists():
        raise CorruptIndexError(f"manifest {path} already exists; manifests are immutable")
    data = "".join(lines).encode("utf-8")
    write_bytes_atomic(path, data)
    return rel, sha256_hex(data)


def read_manifest(root: Path, ref: dict[str, Any]) -> dict[str, ManifestEntry]:
    """Read the manifest ``ref`` (``{"file", "sha256"}`` from the state), hash-checked."""
    from probity.io import iter_jsonl

    path = root / ref["file"]
    if not path.exists():
        raise CorruptIndexError(f"manifest {path} is missing")
    if sha256_hex(path.read_bytes()) != ref["sha256"]:
        raise TamperedError(f"manifest {path} does not match the hash in state.json")
    # iter_jsonl (not a faster bulk parse) reports a damaged line with its line number
    return {o["id"]: ManifestEntry(**o) for _, o in iter_jsonl(path)}


def old_manifests(root: Path, current_rel: str) -> list[Path]:
    """Manifest versions other than the current one (deleted after a forget commits)."""
    cur = (root / current_rel).name
    return [p for p in sorted((root / "manifests").glob("v*.jsonl")) if p.name != cur]


#: ledger field -> the ``salted`` kind it holds
TOMBSTONE_FIELDS = {"ids_salted": "id", "records_salted": "content", "subjects_salted": "subject"}


def tombstones(entries: Iterable[dict[str, Any]]) -> dict[str, set[str]]:
    """Salted hashes of every forgotten id, content and subject in a ledger, by kind."""
    out: dict[str, set[str]] = {kind: set() for kind in TOMBSTONE_FIELDS.values()}
    for e in entries:
        if e.get("event") == "forget":
            for field_, kind in TOMBSTONE_FIELDS.items():
                out[kind].update(e.get(field_, ()))
    return out


def is_tombstoned(salt: str, stones: dict[str, set[str]], e: ManifestEntry) -> bool:
    """Whether record ``e`` matches a forgotten id, content or subject."""
    return (
        salted(salt, "id", e.id) in stones["id"]
        or salted(salt, "content", e.sha256) in stones["content"]
        or (e.subject is not None and salted(salt, "subject", e.subject) in stones["subject"])
    )
