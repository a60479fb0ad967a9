"""A single writer thread in front of the guard's hash-chained :class:`AuditLog`.

Requests hand their record to the writer and wait (without blocking the event loop) until it
is on disk; only then is the response sent. The writer drains everything that queued up while
it was writing, so when the log offers ``append_many`` (one lock and one ``fsync`` for a
batch: group commit), a burst of N requests costs one ``fsync``, not N. With only ``append``
it writes the batch one record at a time, still in arrival order.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import threading
from concurrent.futures import Future
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from probity.errors import ConfigError, InputError

_STOP = object()


class AuditWriter:
    """Serialises appends to ``log`` on one thread; ``max_batch`` records per write at most."""

    def __init__(self, log: Any, *, max_batch: int = 512, fsync: bool = True) -> None:
        self.log = log
        self.max_batch = max_batch
        self.fsync = fsync
        self._q: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.written = 0
        self.writes = 0
        #: The last write's exception (None once a write succeeds again).
        self.last_error: BaseException | None = None

    def _ensure(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(
                        target=self._run, name="probity-audit", daemon=True
                    )
                    self._thread.start()

    def submit(self, record: dict[str, Any]) -> Future[dict[str, Any]]:
        """Queue ``record``; the future resolves to the stored record (with its hash)."""
        fut: Future[dict[str, Any]] = Future()
        self._ensure()
        self._q.put((record, fut))
        return fut

    async def write(self, record: dict[str, Any]) -> dict[str, Any]:
        """Append ``record`` and return once it is flushed (raises what the log raised)."""
        return await asyncio.wrap_future(self.submit(record))

    def _run(self) -> None:
        many = None
        if hasattr(self.log, "append_many"):

            def many(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
                return self.log.append_many(records, fsync=self.fsync)

        while True:
            item = self._q.get()
            if item is _STOP:
                return
            batch = [item]
            stop = False
            while len(batch) < self.max_batch:
                try:
                    nxt = self._q.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP:
                    stop = True
                    break
                batch.append(nxt)
            if many is not None:
                try:
                    stored = many([r for r, _ in batch])
                    self.last_error = None
                    for (_, fut), rec in zip(batch, stored, strict=True):
                        fut.set_result(rec)
                except Exception as exc:  # every waiting request learns the write failed
                    self.last_error = exc
                    for _, fut in batch:
                        if not fut.done():
                            fut.set_exception(exc)
            else:
                for rec, fut in batch:
                    try:
                        fut.set_result(self.log.append(rec))
                        self.last_error = None
                    except Exception as exc:
                        self.last_error = exc
                        fut.set_exception(exc)
            self.writes += 1
            self.written += len(batch)
            if stop:
                return

    def close(self, timeout: float = 30.0) -> None:
        """Write everything queued, then stop the thread."""
        if self._thread is not None and self._thread.is_alive():
            self._q.put(_STOP)
            self._thread.join(timeout)


# -- torn tails -----------------------------------------------------------------------------

REPAIR_HINT = "run `probity serve audit repair --config FILE` (or `--path LOG`)"


def _tail(path: Path) -> tuple[int, bytes]:
    """(offset of the last line, the last line) of a non-empty file."""
    with open(path, "rb") as fh:
        size = fh.seek(0, os.SEEK_END)
        block = min(size, 1 << 16)
        while True:
            fh.seek(size - block)
            data = fh.read(block)
            cut = data.rfind(b"\n", 0, len(data) - 1)
            if cut != -1 or block == size:
                return size - block + cut + 1, data[cut + 1 :]
            block = min(size, block * 4)


def tail_problem(path: str | os.PathLike[str]) -> str | None:
    """Why the log's last record is unusable (torn by a crash mid-write), or None."""
    p = Path(path)
    if not p.exists() or p.stat().st_size == 0:
        return None
    _, last = _tail(p)
    if not last.endswith(b"\n"):
        return "its last record is incomplete (no line end: a crash mid-write?)"
    try:
        rec = json.loads(last)
    except ValueError:
        return "its last line is not valid JSON"
    if not isinstance(rec, dict) or not isinstance(rec.get("hash"), str):
        return "its last line has no hash"
    return None


def check_tail(path: str | os.PathLike[str]) -> None:
    """Raise ``ConfigError`` when the log at ``path`` ends with a torn record: appending to it
    would fail on every request, so the gateway refuses to start instead."""
    why = tail_problem(path)
    if why is not None:
        raise ConfigError(
            f"the audit log {str(path)!r} cannot be appended to: {why}", hint=REPAIR_HINT
        )


@dataclass(frozen=True)
class Repair:
    """What :func:`repair_tail` did: bytes moved out of the log into ``saved_to``."""

    path: str
    removed_bytes: int
    saved_to: str | None
    records: int
    ok: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def repair_tail(path: str | os.PathLike[str]) -> Repair:
    """Move a torn last record out of the log (into ``<log>.torn-<unix time>``, nothing is
    deleted) and verify the chain that is left. A log whose damage is not at its end is not
    touched (``ok`` false with the reason): that needs a person, not a repair."""
    import fcntl
    import time

    from probity.guard import AuditLog
    from probity.io import write_bytes_atomic

    p = Path(path)
    if not p.exists():
        raise InputError(f"audit log not found: {str(p)!r}")
    removed, saved = 0, None
    with open(p, "r+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            if tail_problem(p) is not None:
                start, last = _tail(p)
                saved_path = p.with_name(f"{p.name}.torn-{int(time.time())}")
                write_bytes_atomic(saved_path, last)
                fh.truncate(start)
                fh.flush()
                os.fsync(fh.fileno())
                removed, saved = len(last), str(saved_path)
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    v = AuditLog.verify(p)
    return Repair(str(p), removed, saved, v.records, v.ok, v.reason)
