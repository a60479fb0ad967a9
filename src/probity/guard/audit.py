"""A hash-chained, append-only JSONL audit log of guard decisions.

Each line is a JSON object with ``prev`` (the previous line's hash, 64 zeros for the first) and
``hash`` = sha256 of the canonical JSON (sorted keys, no whitespace) of the record without
``hash``. Editing, deleting, reordering or inserting a line breaks the chain at that line, which
:meth:`AuditLog.verify` reports as ``first_bad_line``. (Truncating the tail cannot be seen from
the log alone, and neither can an edit followed by re-computing every later hash: signed
checkpoints catch both; see :mod:`probity.guard.audit_signing`.)

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
    """Append-only hash-chained JSONL log at ``path`` (default: the Probity home's audit log).

    ``sign_key`` (a key id, name or key file from ``probity keys``): write an Ed25519-signed
    checkpoint of the chain head every ``checkpoint_every`` records and on :meth:`close`.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        sign_key: Any = None,
        checkpoint_every: int = 100,
    ) -> None:
        if path is None:
            from probity.home import audit_log_path

            path = audit_log_path()
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if checkpoint_every < 1:
            raise InputError(f"checkpoint_every must be >= 1, got {checkpoint_every}")
        self.checkpoint_every = int(checkpoint_every)
        self._signer = None
        if sign_key is not None:
            from probity.guard.audit_signing import CheckpointSigner

            self._signer = CheckpointSigner(sign_key)
        self._unsigned = 0  # records appended by this writer since its last checkpoint

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Write a signed checkpoint of the head when records were added since the last one."""
        if self._signer is not None and self._unsigned:
            self.append_many([], force_checkpoint=True)

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
        self,
        records: list[dict[str, Any]],
        *,
        fsync: bool = True,
        force_checkpoint: bool = False,
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

                def add(record: dict[str, Any]) -> dict[str, Any]:
                    nonlocal prev
                    rec = {k: v for k, v in record.items() if k not in ("prev", "hash")}
                    rec.setdefault("ts", time.time())
                    rec["prev"] = prev
                    rec["hash"] = prev = record_hash(rec)
                    lines.append(
                        json.dumps(rec, ensure_ascii=False, default=str, sort_keys=True) + "\n"
                    )
                    return rec

                for record in records:
                    out.append(add(record))
                    self._unsigned += 1
                    if self._signer is not None and self._unsigned >= self.checkpoint_every:
                        add(self._signer.checkpoint(prev))
                        self._unsigned = 0
                if self._signer is not None and force_checkpoint and self._unsigned:
                    add(self._signer.checkpoint(prev))
                    self._unsigned = 0
                fh.seek(0, os.SEEK_END)
                fh.write("".join(lines).encode("utf-8"))
                fh.flush()
                if fsync:
                    os.fsync(fh.fileno())
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        return out

    @staticmethod
    def verify(path: str | os.PathLike[str] | None = None, *, key: Any = None) -> AuditVerification:
        """Check every line's hash and link; stops at the first bad line. With ``key`` (a
        public key file from ``probity keys export``, or a key id/name), also check every
        signed checkpoint and that the log ends with one (see :mod:`.audit_signing`)."""
        public = None
        if key is not None:
            from probity.guard.audit_signing import check_checkpoint, load_public_key

            public = load_public_key(key)[1]
        if path is None:
            from probity.home import audit_log_path

            path = audit_log_path()
        p = Path(path)
        if not p.exists():
            raise InputError(f"audit log not found: {str(p)!r}")
        prev = GENESIS
        n = signed = unsigned = lineno = 0
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
                if rec.get("kind") == "checkpoint":
                    if public is not None:
                        why = check_checkpoint(rec, prev, public)
                        if why:
                            return AuditVerification(False, n, lineno, why, prev, str(p))
                        signed, unsigned = signed + 1, 0
                else:
                    n += 1
                    unsigned += 1
                prev = rec["hash"]
        if public is not None and (not signed or unsigned):
            reason = (
                "no signed checkpoint in the log"
                if not signed
                else f"{unsigned} record(s) after the last signed checkpoint: the tail was "
                "truncated or the writer did not close the log"
            )
            return AuditVerification(False, n, lineno + 1 if n else 1, reason, prev, str(p))
        return AuditVerification(True, n, None, "", prev, str(p))


def audit_record(
    verdict: Verdict,
    policy: Any,
    scanners: dict[str, str] | None = None,
    include_text: bool = False,
    input_text: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A JSON-ready audit record for ``verdict`` under ``policy``.

    Holds the policy name and digest, the scanner -> version map, the action, each finding's
    source, category, score, action and spans, and ``text_sha256``: the sha256 of the checked
    (input) text ``input_text``, for every verdict, so a block is tied to what was blocked;
    ``output_sha256`` is added when the text passed on differs (redacted). The text itself
    (``text``, and ``output_text`` when it differs) only when ``include_text`` (or the
    policy's ``audit.include_text``) allows it. Without ``input_text`` the passed-on text is
    used (older callers).
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
        "text_sha256": text_digest(verdict.text if input_text is None else input_text),
    }
    passed_differs = input_text is not None and verdict.text != input_text
    if passed_differs and verdict.action != "block":
        rec["output_sha256"] = text_digest(verdict.text)
    if allow_text:
        rec["text"] = verdict.text if input_text is None else input_text
        if passed_differs and verdict.action != "block":
            rec["output_text"] = verdict.text
    rec.update(extra)
    return rec
