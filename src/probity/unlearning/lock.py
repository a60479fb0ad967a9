"""One writer at a time per SISA model directory.

The lock file sits beside the model directory (``.<name>.lock``), not inside it, because
``train(..., overwrite=True)`` replaces the directory. ``filelock`` gives an OS-level lock
(``flock`` on POSIX) that is released when the process dies, and is re-entrant within a
thread, so a CLI command can hold it around ``open`` + ``forget``.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from probity.errors import InputError

#: seconds a writer waits for another one before giving up (PROBITY_LOCK_TIMEOUT overrides)
DEFAULT_TIMEOUT = 600.0
_locks: dict[str, object] = {}
_guard = threading.Lock()


def lock_path(model_dir: str | os.PathLike[str]) -> Path:
    p = Path(model_dir).resolve()
    return p.parent / f".{p.name}.lock"


@contextlib.contextmanager
def model_lock(model_dir: str | os.PathLike[str], timeout: float | None = None) -> Iterator[None]:
    """Hold the model directory's write lock (waits up to ``timeout`` seconds)."""
    from filelock import FileLock, Timeout

    path = lock_path(model_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _guard:
        lk = _locks.get(str(path))
        if lk is None:
            lk = _locks[str(path)] = FileLock(str(path), thread_local=True)
    wait = (
        float(os.environ.get("PROBITY_LOCK_TIMEOUT", DEFAULT_TIMEOUT))
        if timeout is None
        else timeout
    )
    try:
        lk.acquire(timeout=wait)  # type: ignore[attr-defined]
    except Timeout as exc:
        raise InputError(
            f"model {str(model_dir)!r} is locked by another train or forget ({path}); "
            f"waited {wait:g} s"
        ) from exc
    try:
        yield
    finally:
        lk.release()  # type: ignore[attr-defined]
