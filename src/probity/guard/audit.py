"""A hash-chained, append-only JSONL audit log of guard decisions.

Each line is a JSON object with ``prev`` (the previous line's hash, 64 zeros for the first) and
``hash`` = sha256 of the canonical JSON (sorted keys, no whitespace) of the record without
``hash``. Editing, deleting, reordering or inserting a line breaks the chain at that line, which
:meth:`AuditLog.verify` reports as ``first_bad_line``. (Truncating the tail cannot be seen from
the log alone; keep the last hash elsewhere to detect that.)

Appends take an exclusive ``flock`` on the file, write one line and fsync, so several processes
(gateway workers) may share one log.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from probity.errors import InputError
from probity.types import Verdict

GENESIS = "0" * 64


def _canonical(record: dict[str, Any]) -> bytes:
    body = {k: v for k, v in record.items() if k != "hash"}
    return json.dumps(
        body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode("utf-8")


def record_hash(record: dict[str, Any]) -> str:
    """sha256 (hex) of the canonical JSON of ``record`` without its ``hash`` field."""
    return hashlib.sha256(_canonical(record)).hexdigest()


@dataclass(frozen=True)
class AuditVerification:
    """Result of verifying a log: ``ok``, number of ``records`` read, the 1-based
    ``first_bad_line`` (None when ok), a ``reason`` and the ``last_hash`` of the chain."""

    ok: bool
    records: int
    first_bad_line: int | None = None
    reason: str = ""
    last_hash: str = GENESIS
    path: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "records": self.records,
            "first_bad_line": self.first_bad_line,
            "reason": self.reason,
            "last_hash": self.last_hash,
            "path": self.path,
        }


class AuditLog:
    """Append-only hash-chained JSONL log at ``path`` (default: the Probity home's audit log)."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        if path is None:
            from probity.home import audit_log_path

            path = audit_log_path()
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def _last_hash(self, fh: Any) -> str:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        if size == 0:
            return GENESIS
        block = min(size, 1 << 16)
        while True:
            fh.seek(size - block)
            tail = fh.read(block)
            lines = tail.rstrip(b"\n").split(b"\n")
            if len(lines) > 1 or block == size:
                break
            block = min(size, block * 4)
        try:
            return str(json.loads(lines[-1])["hash"])
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(
                f"audit log {str(self.path)!r} ends with a damaged line",
                hint="run `probity guard log verify` to find it",
            ) from exc

    def append(self, record: dict[str, Any], *, fsync: bool = True) -> dict[str, Any]:
        """Append ``record`` (``ts`` is added when missing); returns it with ``prev``/``hash``."""
        return self.append_many([record], fsync=fsync)[0]

    def append_many(
        self, records: list[dict[str, Any]], *, fsync: bool = True
    ) -> list[dict[str, Any]]:
        """Append ``records`` in order under one lock and one ``fsync`` (group commit): a burst
        of N decisions costs one disk sync, not N. Returns them with ``prev``/``hash``."""
        import fcntl

        out: list[dict[str, Any]] = []
        with open(self.path, "a+b") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                prev = self._last_hash(fh)
                lines = []
                for record in records:
                    rec = {k: v for k, v in record.items() if k not in ("prev", "hash")}
                    rec.setdefault("ts", time.time())
                    rec["prev"] = prev
                    rec["hash"] = prev = record_hash(rec)
                    lines.append(
                        json.dumps(rec, ensure_ascii=False, default=str, sort_keys=True) + "\n"
                    )
                    out.append(rec)
                fh.seek(0, os.SEEK_END)
                fh.write("".join(lines).encode("utf-8"))
                fh.flush()
                if fsync:
                    os.fsync(fh.fileno())
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        return out

    @staticmethod
    def verify(path: str | os.PathLike[str] | None = None) -> AuditVerification:
        """Check every line's hash and link; stops at the first bad line."""
        if path is None:
            from probity.home import audit_log_path

            path = audit_log_path()
        p = Path(path)
        if not p.exists():
            raise InputError(f"audit log not found: {str(p)!r}")
        prev = GENESIS
        n = 0
        with open(p, "rb") as fh:
            for lineno, raw in enumerate(fh, 1):
                if not raw.strip():
                    return AuditVerification(
                        False, n, lineno, "blank line inside the log", prev, str(p)
                    )
                try:
                    rec = json.loads(raw.decode("utf-8"))
                    if not isinstance(rec, dict):
                        raise ValueError("not an object")
                except (UnicodeDecodeError, ValueError) as exc:
                    return AuditVerification(
                        False, n, lineno, f"unreadable line: {exc}", prev, str(p)
                    )
                if rec.get("prev") != prev:
                    return AuditVerification(
                        False,
                        n,
                        lineno,
                        "broken link: prev does not match the previous line's hash",
                        prev,
                        str(p),
                    )
                if rec.get("hash") != record_hash(rec):
                    return AuditVerification(
                        False, n, lineno, "hash mismatch: the line was edited", prev, str(p)
                    )
                prev = rec["hash"]
                n += 1
        return AuditVerification(True, n, None, "", prev, str(p))


def audit_record(
    verdict: Verdict,
    policy: Any,
    scanners: dict[str, str] | None = None,
    include_text: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    """A JSON-ready audit record for ``verdict`` under ``policy``.

    Holds the policy name and digest, the scanner -> version map, the action, each finding's
    source, category, score, action and spans, and the sha256 of the text; the text itself only
    when ``include_text`` (or the policy's ``audit.include_text``) allows it.
    """
    from probity.text import text_digest

    allow_text = include_text or bool(
        getattr(getattr(policy, "audit", None), "include_text", False)
    )
    rec: dict[str, Any] = {
        "policy": policy.name if hasattr(policy, "name") else str(policy),
        "policy_digest": getattr(policy, "digest", ""),
        "direction": verdict.direction,
        "action": verdict.action,
        "scanners": dict(scanners or {}),
        "findings": [
            {
                "source": f.source,
                "category": f.category,
                "score": round(float(f.score), 4),
                "action": f.action,
                "spans": [[s.start, s.end] for s in f.spans],
            }
            for f in verdict.findings
        ],
        "text_sha256": text_digest(verdict.text),
    }
    if allow_text:
        rec["text"] = verdict.text
    rec.update(extra)
    return rec
