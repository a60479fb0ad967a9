"""The Probity home: where keys, indexes, the citation database and audit logs live.

``$PROBITY_HOME`` when set, else ``~/.probity``. Every path the toolkit writes by default is
under it; nothing else in the toolkit builds default paths by hand.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "PROBITY_HOME"


def home() -> Path:
    """The Probity home directory (not created)."""
    env = os.environ.get(ENV_VAR)
    return Path(env).expanduser() if env else Path.home() / ".probity"


def home_path(*parts: str, mkdir: bool = True) -> Path:
    """A path inside the Probity home; with ``mkdir`` its parent directory is created."""
    p = home().joinpath(*parts)
    if mkdir:
        p.parent.mkdir(parents=True, exist_ok=True)
    return p


def keys_dir() -> Path:
    """Directory of watermark and signing keys (``<home>/keys``), private to the user (0700):
    files written with the umask's permissions are never readable by others inside it."""
    p = home() / "keys"
    if not p.is_dir():
        p.mkdir(parents=True, exist_ok=True)
        p.chmod(0o700)
    return p


def indexes_dir() -> Path:
    """Directory of overlap indexes (``<home>/indexes``)."""
    return _dir("indexes")


def cache_dir() -> Path:
    """Directory for caches such as probe completions (``<home>/cache``)."""
    return _dir("cache")


def citations_db_path() -> Path:
    """The verified citation database (``<home>/citations.db``)."""
    return home_path("citations.db")


def audit_log_path() -> Path:
    """The default hash-chained audit log (``<home>/audit/log.jsonl``)."""
    return home_path("audit", "log.jsonl")


def _dir(name: str) -> Path:
    p = home() / name
    p.mkdir(parents=True, exist_ok=True)
    return p
