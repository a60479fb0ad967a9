"""Watermark keys: a secret for the PRF and an Ed25519 keypair for signing certificates.

A key is one JSON file ``<probity home>/keys/<key_id>.json`` (mode 0600) holding the 32-byte
secret, the raw Ed25519 private and public keys (hex), a name and the creation time.
``key_id`` is ``wk-`` plus the first 12 hex digits of SHA-256 over the public key, so a
certificate names the key that signed it. ``hf_hashing_key`` (optional) is the integer
``hashing_key`` of transformers' ``WatermarkingConfig`` used by the ``hf-compat`` backend;
when unset one is derived from the secret.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from probity.errors import InputError, UnknownKeyError, require
from probity.home import keys_dir
from probity.io import write_json_atomic

KEY_FORMAT = "probity-watermark-key/1"
PUBLIC_FORMAT = "probity-public-key/1"


@dataclass(frozen=True)
class WatermarkKey:
    """A watermark key. ``secret`` never appears in ``to_dict()`` or ``repr``."""

    key_id: str
    name: str
    created: str
    secret: bytes
    signing_key: bytes  # raw Ed25519 private key, 32 bytes
    public_key: bytes  # raw Ed25519 public key, 32 bytes
    hf_hashing_key: int | None = None
    path: str | None = None

    def __repr__(self) -> str:
        return f"WatermarkKey(key_id={self.key_id!r}, name={self.name!r})"

    @property
    def public_key_hex(self) -> str:
        return self.public_key.hex()

    def hashing_key(self) -> int:
        """The integer hashing key for the ``hf-compat`` backend (63 bits)."""
        if self.hf_hashing_key is not None:
            return self.hf_hashing_key
        d = hashlib.blake2b(self.secret, digest_size=8, person=b"probity-hf-key").digest()
        return int.from_bytes(d, "little") >> 1

    def sign(self, message: bytes) -> bytes:
        ed = require("cryptography.hazmat.primitives.asymmetric.ed25519", "crypto")
        return ed.Ed25519PrivateKey.from_private_bytes(self.signing_key).sign(message)

    def to_dict(self) -> dict[str, Any]:
        """Public description (no secret, no private key)."""
        return {
            "key_id": self.key_id,
            "name": self.name,
            "created": self.created,
            "public_key": self.public_key_hex,
            "hf_hashing_key_set": self.hf_hashing_key is not None,
            "path": self.path,
        }

    def public_export(self) -> dict[str, Any]:
        """What a third party needs to verify certificates: the id and the public key."""
        return {
            "format": PUBLIC_FORMAT,
            "key_id": self.key_id,
            "name": self.name,
            "algorithm": "ed25519",
            "public_key": self.public_key_hex,
        }

    def secret_export(self) -> dict[str, Any]:
        """The full key file content (keep it secret)."""
        d = {
            "format": KEY_FORMAT,
            "key_id": self.key_id,
            "name": self.name,
            "created": self.created,
            "secret": self.secret.hex(),
            "signing_key": self.signing_key.hex(),
            "public_key": self.public_key_hex,
        }
        if self.hf_hashing_key is not None:
            d["hf_hashing_key"] = self.hf_hashing_key
        return d


def _key_id(public_key: bytes) -> str:
    return "wk-" + hashlib.sha256(public_key).hexdigest()[:12]


def new_key(
    name: str | None = None, *, hf_hashing_key: int | None = None, save: bool = True
) -> WatermarkKey:
    """Create a key (random 32-byte secret, fresh Ed25519 keypair) and store it in the home."""
    ed = require("cryptography.hazmat.primitives.asymmetric.ed25519", "crypto")
    ser = require("cryptography.hazmat.primitives.serialization", "crypto")
    if hf_hashing_key is not None and not 0 <= int(hf_hashing_key) < 2**63:
        raise InputError(f"hf hashing key must be in [0, 2^63), got {hf_hashing_key}")
    priv = ed.Ed25519PrivateKey.generate()
    raw_priv = priv.private_bytes(ser.Encoding.Raw, ser.PrivateFormat.Raw, ser.NoEncryption())
    raw_pub = priv.public_key().public_bytes(ser.Encoding.Raw, ser.PublicFormat.Raw)
    kid = _key_id(raw_pub)
    if name is not None:
        if not name or any(c in name for c in "/\\") or name.startswith("wk-"):
            raise InputError(
                f"invalid key name {name!r}; use letters, digits, '-' or '_' "
                "and do not start with 'wk-'"
            )
        if save and any(k.name == name for k in list_keys()):
            raise InputError(f"a key named {name!r} already exists; choose another name")
    key = WatermarkKey(
        key_id=kid,
        name=name or kid,
        secret=secrets.token_bytes(32),
        created=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        signing_key=raw_priv,
        public_key=raw_pub,
        hf_hashing_key=None if hf_hashing_key is None else int(hf_hashing_key),
    )
    if save:
        path = keys_dir() / f"{kid}.json"
        write_json_atomic(path, key.secret_export(), permissions=0o600)
        os.chmod(path, 0o600)
        key = WatermarkKey(**{**key.__dict__, "path": str(path)})
    return key


def _from_file(path: Path) -> WatermarkKey:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read key file {path}: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != KEY_FORMAT:
        if isinstance(data, dict) and data.get("format") == PUBLIC_FORMAT:
            raise InputError(
                f"{path} is a public key export; detection needs the secret key "
                "file (`probity keys export KEY --secret`)"
            )
        raise InputError(f"{path} is not a Probity watermark key file")
    try:
        pub = bytes.fromhex(data["public_key"])
        key = WatermarkKey(
            key_id=data["key_id"],
            name=data.get("name", data["key_id"]),
            created=data.get("created", ""),
            secret=bytes.fromhex(data["secret"]),
            signing_key=bytes.fromhex(data["signing_key"]),
            public_key=pub,
            hf_hashing_key=data.get("hf_hashing_key"),
            path=str(path),
        )
    except (KeyError, ValueError) as exc:
        raise InputError(f"key file {path} is damaged: {exc}") from exc
    if _key_id(pub) != key.key_id:
        raise InputError(f"key file {path} is damaged: its id does not match its public key")
    return key


def list_keys() -> list[WatermarkKey]:
    """Every key stored in the Probity home, oldest first."""
    out = []
    for p in sorted(keys_dir().glob("wk-*.json")):
        try:
            out.append(_from_file(p))
        except InputError:
            continue  # a foreign or damaged file is not a key; `keys show` reports it
    return sorted(out, key=lambda k: (k.created, k.key_id))


def load_key(key_id_or_path: str | os.PathLike[str] | WatermarkKey) -> WatermarkKey:
    """A key by id (``wk-...``), by name, or from a key file path."""
    if isinstance(key_id_or_path, WatermarkKey):
        return key_id_or_path
    ref = str(key_id_or_path)
    if not ref:
        raise InputError("no key given; pass a key id, name or key file")
    p = Path(ref).expanduser()
    if p.is_file():
        return _from_file(p)
    direct = keys_dir() / f"{ref}.json"
    if ref.startswith("wk-") and direct.is_file():
        return _from_file(direct)
    matches = [k for k in list_keys() if ref in (k.name, k.key_id)]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise InputError(f"key name {ref!r} is ambiguous ({len(matches)} keys); use the key id")
    raise UnknownKeyError(f"unknown key {ref!r}", hint="run `probity keys list`")
