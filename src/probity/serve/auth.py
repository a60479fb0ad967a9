"""API keys: minted at random, stored only as hashes, compared in constant time.

A key is ``pbk-<id>-<43 url-safe characters>`` (256 random bits). The server keeps a hash:

* ``sha256:<hex>``: SHA-256 of the key. Enough for random 256-bit keys (no dictionary to
  attack), and cheap enough to check on every request.
* ``scrypt:<n>:<r>:<p>:<salt hex>:<hex>``: scrypt (RFC 7914) for keys chosen by people.
  Costly by design (``n=2**14`` is ~20-50 ms), so a successful check is cached in memory for
  the process's life, keyed by the SHA-256 of the presented key.

Every stored hash is compared with :func:`hmac.compare_digest`, and every configured key is
tried (no early exit), so timing does not reveal which key or which prefix matched.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from probity.errors import InputError

_SCRYPT_DEFAULT = (2**14, 8, 1)


@dataclass(frozen=True)
class ParsedHash:
    """A stored key hash: ``algo`` ``sha256`` or ``scrypt``, its digest and scrypt parameters."""

    algo: str
    digest: bytes
    salt: bytes = b""
    n: int = 0
    r: int = 0
    p: int = 0


def parse_hash(value: str) -> ParsedHash:
    """Parse ``sha256:<hex>`` or ``scrypt:<n>:<r>:<p>:<salt>:<hex>``; ``ValueError`` otherwise."""
    parts = value.split(":")
    try:
        if parts[0] == "sha256" and len(parts) == 2:
            digest = bytes.fromhex(parts[1])
            if len(digest) != 32:
                raise ValueError("a sha256 digest has 64 hex digits")
            return ParsedHash("sha256", digest)
        if parts[0] == "scrypt" and len(parts) == 6:
            n, r, p = (int(x) for x in parts[1:4])
            if n < 2 or n & (n - 1) or r < 1 or p < 1:
                raise ValueError("scrypt needs n a power of two >= 2, r >= 1, p >= 1")
            return ParsedHash("scrypt", bytes.fromhex(parts[5]), bytes.fromhex(parts[4]), n, r, p)
    except ValueError as exc:
        raise ValueError(f"invalid key hash {value[:16]!r}...: {exc}") from exc
    raise ValueError(
        f"invalid key hash {value[:16]!r}...: expected 'sha256:<hex>' or "
        "'scrypt:<n>:<r>:<p>:<salt hex>:<hex>' (see `probity serve keys new`)"
    )


def _scrypt(key: str, salt: bytes, n: int, r: int, p: int, length: int = 32) -> bytes:
    return hashlib.scrypt(
        key.encode(), salt=salt, n=n, r=r, p=p, dklen=length, maxmem=256 * 1024 * 1024
    )


def hash_api_key(key: str, *, algo: str = "sha256") -> str:
    """The entry to store for ``key``: ``sha256:<hex>``, or ``scrypt:...`` with a fresh salt."""
    if not key:
        raise InputError("an API key must not be empty")
    if algo == "sha256":
        return "sha256:" + hashlib.sha256(key.encode()).hexdigest()
    if algo == "scrypt":
        n, r, p = _SCRYPT_DEFAULT
        salt = secrets.token_bytes(16)
        return f"scrypt:{n}:{r}:{p}:{salt.hex()}:{_scrypt(key, salt, n, r, p).hex()}"
    raise InputError(f"unknown key hash algorithm {algo!r}; use sha256 or scrypt")


def new_api_key(key_id: str) -> str:
    """A fresh random key (256 bits) for ``key_id``: ``pbk-<id>-<secret>``."""
    if not key_id or any(
        c not in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-" for c in key_id
    ):
        raise InputError(f"key id {key_id!r} must be letters, digits, '_', '.', '-'")
    return f"pbk-{key_id}-{secrets.token_urlsafe(32)}"


class KeyStore:
    """Looks up the id of a presented key among stored hashes, in constant time per entry."""

    def __init__(self, entries: Iterable[tuple[str, str]]) -> None:
        self._entries = [(kid, parse_hash(h)) for kid, h in entries]
        self._scrypt_ok: dict[bytes, str] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, presented: str) -> str | None:
        """The id of the key ``presented`` matches, or ``None``."""
        if not presented:
            return None
        sha = hashlib.sha256(presented.encode()).digest()
        cached = self._scrypt_ok.get(sha)
        found: str | None = None
        for kid, h in self._entries:
            if h.algo == "sha256":
                ok = hmac.compare_digest(sha, h.digest)
            elif cached is not None:
                ok = hmac.compare_digest(cached.encode(), kid.encode())
            else:
                ok = hmac.compare_digest(
                    _scrypt(presented, h.salt, h.n, h.r, h.p, len(h.digest)), h.digest
                )
                if ok:
                    self._scrypt_ok[sha] = kid
            if ok and found is None:
                found = kid
        return found


def bearer_token(authorization: str | None, api_key_header: str | None = None) -> str:
    """The key from ``Authorization: Bearer <key>`` (or an ``api-key`` header); ``""`` if none."""
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer":
            return token.strip()
    return (api_key_header or "").strip()
