"""API keys: minted at random, stored only as hashes, compared in constant time.

A key is ``pbk-<id>-<43 url-safe characters>`` (256 random bits). The server keeps a hash:

* ``sha256:<hex>``: SHA-256 of the key. Enough for random 256-bit keys (no dictionary to
  attack), and cheap enough to check on every request.
* ``scrypt:<n>:<r>:<p>:<salt hex>:<hex>``: scrypt (RFC 7914). Costly by design (``n=2**14``
  is ~20-50 ms), so it is only run for a key carrying that entry's ``pbk-<id>-`` prefix, off the
  event loop, and every outcome is cached by the SHA-256 of the presented key
  (:class:`KeyStore`).

SHA-256 hashes are compared with :func:`hmac.compare_digest` against every entry (no early
exit). Failed authentications are throttled per client address (:class:`FailureLimiter`).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import math
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
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
    """Finds the id of a presented key among stored hashes without letting wrong keys cost more.

    * SHA-256 entries are all compared (constant time, no early exit): a microsecond each.
    * An scrypt entry is tried only for a key that carries its id's prefix (``pbk-<id>-``, as
      :func:`new_api_key` mints them), so a wrong key runs scrypt at most once, and a key
      without a configured id's prefix never does. ``lookup`` runs that scrypt in the calling
      thread; the gateway calls :meth:`averify`, which runs it on one worker thread (off the
      event loop, one at a time, so wrong keys can take at most one core).
    * Every outcome is cached by the SHA-256 of the presented key (successes for the process's
      life, failures in a bounded LRU), so a retried key never pays scrypt twice.
    """

    def __init__(self, entries: Iterable[tuple[str, str]], *, negative_cache: int = 4096) -> None:
        self._entries = [(kid, parse_hash(h)) for kid, h in entries]
        self._sha = [(kid, h) for kid, h in self._entries if h.algo == "sha256"]
        self._scrypt = {kid: h for kid, h in self._entries if h.algo == "scrypt"}
        self._ok: dict[bytes, str] = {}
        self._bad: OrderedDict[bytes, None] = OrderedDict()
        self._bad_max = negative_cache
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="probity-scrypt")
        self._inflight: dict[bytes, asyncio.Future[str | None]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def ids(self) -> list[str]:
        return [kid for kid, _ in self._entries]

    def _fast(self, presented: str) -> tuple[bytes, str | None, bool]:
        """(sha, id or None, decided): everything that needs no scrypt."""
        sha = hashlib.sha256(presented.encode("utf-8", "surrogatepass")).digest()
        if sha in self._ok:
            return sha, self._ok[sha], True
        if sha in self._bad:
            return sha, None, True
        found: str | None = None
        for kid, h in self._sha:
            if hmac.compare_digest(sha, h.digest) and found is None:
                found = kid
        if found is not None:
            self._ok[sha] = found
            return sha, found, True
        if _scrypt_candidate(presented, self._scrypt) is None:
            self._remember_bad(sha)
            return sha, None, True
        return sha, None, False

    def _slow(self, sha: bytes, presented: str) -> str | None:
        kid = _scrypt_candidate(presented, self._scrypt)
        found = None
        if kid is not None:
            h = self._scrypt[kid]
            derived = _scrypt(presented, h.salt, h.n, h.r, h.p, len(h.digest))
            if hmac.compare_digest(derived, h.digest):
                found = kid
        if found is None:
            self._remember_bad(sha)
        else:
            self._ok[sha] = found
        return found

    def _remember_bad(self, sha: bytes) -> None:
        self._bad[sha] = None
        self._bad.move_to_end(sha)
        while len(self._bad) > self._bad_max:
            self._bad.popitem(last=False)

    def lookup(self, presented: str) -> str | None:
        """The id of the key ``presented`` matches, or ``None`` (scrypt in this thread)."""
        if not presented:
            return None
        sha, kid, decided = self._fast(presented)
        return kid if decided else self._slow(sha, presented)

    async def averify(self, presented: str) -> str | None:
        """:meth:`lookup` for the event loop: scrypt runs on the key store's worker thread, and
        concurrent first uses of one key share a single run."""
        if not presented:
            return None
        sha, kid, decided = self._fast(presented)
        if decided:
            return kid
        fut = self._inflight.get(sha)
        if fut is None:
            loop = asyncio.get_running_loop()
            fut = asyncio.ensure_future(
                loop.run_in_executor(self._pool, self._slow, sha, presented)
            )
            self._inflight[sha] = fut
            fut.add_done_callback(lambda _: self._inflight.pop(sha, None))
        return await asyncio.shield(fut)

    def close(self) -> None:
        """Stop the scrypt thread once its queued checks are done (a key reload swaps stores
        while requests may still be waiting on the old one)."""
        self._pool.shutdown(wait=False)


def _scrypt_candidate(presented: str, scrypt_ids: dict[str, ParsedHash]) -> str | None:
    """The configured scrypt id whose ``pbk-<id>-`` prefix ``presented`` carries, if any."""
    if not scrypt_ids or not presented.startswith("pbk-"):
        return None
    best = None
    for kid in scrypt_ids:
        if presented.startswith(f"pbk-{kid}-") and (best is None or len(kid) > len(best)):
            best = kid
    return best


class FailureLimiter:
    """Per client address: more than ``per_minute`` failed authentications in the last 60 s
    and the address is refused (with the seconds until the oldest failure expires) before its
    key is even looked at. Keeps at most ``max_clients`` addresses (oldest dropped)."""

    def __init__(self, per_minute: int, *, max_clients: int = 10_000) -> None:
        self.per_minute = per_minute
        self.max_clients = max_clients
        self._fails: OrderedDict[str, deque[float]] = OrderedDict()

    def retry_after(self, client: str, now: float | None = None) -> int:
        """0 when ``client`` may try; else whole seconds to wait."""
        q = self._fails.get(client)
        if not q:
            return 0
        now = time.monotonic() if now is None else now
        while q and now - q[0] >= 60.0:
            q.popleft()
        if len(q) < self.per_minute:
            return 0
        return max(1, math.ceil(60.0 - (now - q[0])))

    def failed(self, client: str, now: float | None = None) -> None:
        q = self._fails.get(client)
        if q is None:
            q = self._fails[client] = deque()
            while len(self._fails) > self.max_clients:
                self._fails.popitem(last=False)
        q.append(time.monotonic() if now is None else now)


def bearer_token(authorization: str | None, api_key_header: str | None = None) -> str:
    """The key from ``Authorization: Bearer <key>`` (or an ``api-key`` header); ``""`` if none."""
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer":
            return token.strip()
    return (api_key_header or "").strip()
