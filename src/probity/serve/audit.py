"""A single writer thread in front of the guard's hash-chained :class:`AuditLog`.

Requests hand their record to the writer and wait (without blocking the event loop) until it
is on disk; only then is the response sent. The writer drains everything that queued up while
it was writing, so when the log offers ``append_many`` (one lock and one ``fsync`` for a
batch: group commit), a burst of N requests costs one ``fsync``, not N. With only ``append``
it writes the batch one record at a time, still in arrival order.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from concurrent.futures import Future
from typing import Any

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
                    for (_, fut), rec in zip(batch, stored, strict=True):
                        fut.set_result(rec)
                except Exception as exc:  # every waiting request learns the write failed
                    for _, fut in batch:
                        if not fut.done():
                            fut.set_exception(exc)
            else:
                for rec, fut in batch:
                    try:
                        fut.set_result(self.log.append(rec))
                    except Exception as exc:
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
