"""API keys kept in their own file, changed while the gateway runs.

``keys_file: gateway-keys.yaml`` in the gateway config points at a YAML file holding
``keys:`` entries (the same shape as the config's ``keys:``). ``probity serve keys add``,
``revoke`` and ``rotate`` rewrite it atomically; a running gateway sees the change within a
second (it compares the file's modification time and size before authenticating, at most once
a second) and swaps its key store at once, so a revoked key stops working without a restart
and a rotated key's old secret with it. A file that does not validate is not loaded: the
gateway keeps its previous keys and logs why.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from probity.config import ProbityModel, load_config
from probity.errors import InputError
from probity.io import write_text_atomic
from probity.serve.auth import hash_api_key, new_api_key
from probity.serve.config import ApiKeyConfig


class KeysFile(ProbityModel):
    """The keys file: ``keys:`` entries."""

    keys: tuple[ApiKeyConfig, ...] = ()


def load_keys_file(path: str | os.PathLike[str]) -> tuple[ApiKeyConfig, ...]:
    """The entries of ``path`` (none when the file does not exist yet)."""
    if not Path(path).exists():
        return ()
    return load_config(path, KeysFile).keys


def signature(path: str | os.PathLike[str]) -> tuple[int, int, int] | None:
    """What changes when the file is rewritten: (inode, mtime ns, size); None when absent."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _save(path: str | os.PathLike[str], keys: list[ApiKeyConfig]) -> None:
    entries = [
        k.model_dump(exclude_none=True, exclude_defaults=True) | {"id": k.id, "hash": k.hash}
        for k in keys
    ]
    for e in entries:
        if "allowed_policies" in e:
            e["allowed_policies"] = list(e["allowed_policies"])
    text = "# API keys of a Probity gateway (hashes only): `probity serve keys --help`\n"
    write_text_atomic(path, text + yaml.safe_dump({"keys": entries}, sort_keys=False))


def add_key(
    path: str | os.PathLike[str], key_id: str, *, scrypt: bool = False, **settings: Any
) -> tuple[str, ApiKeyConfig]:
    """Mint a key for ``key_id``, store its hash in ``path``; returns (key, entry)."""
    keys = list(load_keys_file(path))
    if any(k.id == key_id for k in keys):
        raise InputError(f"key id {key_id!r} already exists in {str(path)!r}; use `rotate`")
    key = new_api_key(key_id)
    entry = ApiKeyConfig.model_validate(
        {
            "id": key_id,
            "hash": hash_api_key(key, algo="scrypt" if scrypt else "sha256"),
            **{k: v for k, v in settings.items() if v not in (None, (), [])},
        }
    )
    _save(path, [*keys, entry])
    return key, entry


def revoke_key(path: str | os.PathLike[str], key_id: str) -> ApiKeyConfig:
    """Remove ``key_id`` from ``path``; returns the removed entry."""
    keys = list(load_keys_file(path))
    gone = [k for k in keys if k.id == key_id]
    if not gone:
        raise InputError(f"no key with id {key_id!r} in {str(path)!r}")
    _save(path, [k for k in keys if k.id != key_id])
    return gone[0]


def rotate_key(
    path: str | os.PathLike[str], key_id: str, *, scrypt: bool | None = None
) -> tuple[str, ApiKeyConfig]:
    """A new secret for ``key_id`` (same id and settings); the old one stops working."""
    keys = list(load_keys_file(path))
    idx = next((i for i, k in enumerate(keys) if k.id == key_id), None)
    if idx is None:
        raise InputError(f"no key with id {key_id!r} in {str(path)!r}")
    old = keys[idx]
    use_scrypt = old.hash.startswith("scrypt:") if scrypt is None else scrypt
    key = new_api_key(key_id)
    keys[idx] = old.model_copy(
        update={"hash": hash_api_key(key, algo="scrypt" if use_scrypt else "sha256")}
    )
    _save(path, keys)
    return key, keys[idx]
