"""The ``fast`` keyed PRF: a stateless counter-based hash, vectorised in numpy and torch.

Why hand-written: the green list of a context must be computable for one (context, token)
pair in O(1) (detection) and for the whole vocabulary at once (generation), identically on
every device. A seeded random permutation per token (what transformers does) is O(vocab) per
token and device-dependent. The mixer is SplitMix64's finaliser (Steele et al. 2014), a
bijection on 64-bit words with full avalanche; keyed by 64-bit words derived from the key's
secret with BLAKE2b.

Definitions (all arithmetic modulo 2^64):

* ``th(t)   = mix(k1 ^ ((t + 1) * C1))``                 token hash
* ``ctx(w)  = fold over the h tokens before the target of  c <- mix(c ^ (th(t_j) + j * C2))``,
  starting from ``c = k0``                                   (lefthash)
* ``self(w) = min(mix(k0 ^ th(t)) for t in the h-token window ending at the target)``
  (selfhash: the window includes the candidate itself)
* ``prf     = th(target) * ((seed ^ k2) | 1)``: multiply-shift hashing, one multiplication
  per vocabulary entry at generation time (the token hashes are a cached table). For a fixed
  odd multiplier the map is a bijection of the uniform token hash, so ``prf`` is uniform;
* KGW green iff ``prf ^ 2^63 < floor(gamma * 2^64)`` (one signed comparison on int64);
  Gumbel's uniform is ``((prf >> 11) + 0.5) / 2^53``.

The torch version works on int64 (torch lacks full uint64 arithmetic): multiplication and XOR
wrap identically, logical right shifts are masked, unsigned comparisons flip the sign bit.
``tests/watermark`` checks both implementations agree bit for bit.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

M1 = 0xBF58476D1CE4E5B9
M2 = 0x94D049BB133111EB
C1 = 0x9E3779B97F4A7C15
C2 = 0xD1B54A32D192ED03
SIGN = 1 << 63
MASK64 = (1 << 64) - 1


def derive_words(secret: bytes, scheme: str) -> tuple[int, int, int]:
    """Three 64-bit key words for ``scheme`` from a key's secret (BLAKE2b, personalised)."""
    d = hashlib.blake2b(secret, digest_size=24, person=b"probity-wm-prf", salt=scheme.encode()[:16])
    raw = d.digest()
    return tuple(int.from_bytes(raw[i : i + 8], "little") for i in (0, 8, 16))  # type: ignore[return-value]


def threshold(gamma: float) -> int:
    """``floor(gamma * 2^64)`` as a Python int (the KGW green threshold)."""
    return min(int(gamma * 2.0**64), MASK64)


# -- numpy (uint64) ---------------------------------------------------------------------------


def mix_np(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser on a uint64 array (wrapping arithmetic)."""
    x = np.asarray(x, dtype=np.uint64)
    with np.errstate(over="ignore"):
        x = x ^ (x >> np.uint64(30))
        x = x * np.uint64(M1)
        x = x ^ (x >> np.uint64(27))
        x = x * np.uint64(M2)
        x = x ^ (x >> np.uint64(31))
    return x


def token_hash_np(tokens: np.ndarray, k1: int) -> np.ndarray:
    t = np.asarray(tokens).astype(np.uint64)
    with np.errstate(over="ignore"):
        return mix_np(np.uint64(k1) ^ ((t + np.uint64(1)) * np.uint64(C1)))


def left_context_np(ctx: np.ndarray, k0: int, k1: int) -> np.ndarray:
    """Context seeds for an ``(n, h)`` array of the h tokens before each target (oldest first)."""
    ctx = np.asarray(ctx)
    c = np.full(ctx.shape[0], k0, dtype=np.uint64)
    h = ctx.shape[1]
    with np.errstate(over="ignore"):
        for j in range(h):  # loop over the context width h (a small constant), not over tokens
            c = mix_np(
                c ^ (token_hash_np(ctx[:, h - 1 - j], k1) + np.uint64(((j + 1) * C2) & MASK64))
            )
    return c


def mix_py(x: int) -> int:
    """:func:`mix_np` on one Python int (a uint64 value)."""
    x ^= x >> 30
    x = (x * M1) & MASK64
    x ^= x >> 27
    x = (x * M2) & MASK64
    return x ^ (x >> 31)


def left_context_py(ctx: tuple[int, ...], k0: int, k1: int) -> int:
    """:func:`left_context_np` for one context (plain ints; oldest token first).

    For a handful of contexts (a decoding step's missing rows) this is ~10x cheaper than the
    numpy version, whose cost there is per-call overhead, not arithmetic."""
    c = k0
    h = len(ctx)
    for j in range(h):
        t = ctx[h - 1 - j]
        th = mix_py(k1 ^ (((t + 1) * C1) & MASK64))
        c = mix_py(c ^ ((th + (j + 1) * C2) & MASK64))
    return c


def self_min_np(window_hashes: np.ndarray, k0: int) -> np.ndarray:
    """Selfhash seeds: the minimum over the window of ``mix(k0 ^ th(t))``; input ``(n, h)`` th."""
    return mix_np(np.uint64(k0) ^ window_hashes).min(axis=-1)


def prf_np(seed: np.ndarray, target_hash: np.ndarray, k2: int) -> np.ndarray:
    with np.errstate(over="ignore"):
        return target_hash * ((seed ^ np.uint64(k2)) | np.uint64(1))


def green_np(x: np.ndarray, thr: int) -> np.ndarray:
    """KGW green test: ``x ^ 2^63 < thr`` unsigned, i.e. ``int64(x) < thr - 2^63``."""
    return x.view(np.int64) < np.int64(thr - SIGN)


def to_unit_np(x: np.ndarray) -> np.ndarray:
    """uint64 -> float64 in (0, 1) (53 high bits, centred)."""
    return ((x >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53


# -- torch (int64 holding uint64 bit patterns) ------------------------------------------------


def _s(v: int) -> int:
    """A uint64 constant as the signed int64 with the same bits."""
    v &= MASK64
    return v - (1 << 64) if v >= SIGN else v


def _lsr(x: Any, s: int) -> Any:
    return (x >> s) & ((1 << (64 - s)) - 1)


def mix_t(x: Any) -> Any:
    x = x ^ _lsr(x, 30)
    x = x * _s(M1)
    x = x ^ _lsr(x, 27)
    x = x * _s(M2)
    return x ^ _lsr(x, 31)


def token_hash_t(tokens: Any, k1: int) -> Any:
    return mix_t((tokens.long() + 1) * _s(C1) ^ _s(k1))


def left_context_t(ctx: Any, k0: int, k1: int) -> Any:
    import torch

    c = torch.full((ctx.shape[0],), _s(k0), dtype=torch.int64, device=ctx.device)
    h = ctx.shape[1]
    for j in range(h):
        c = mix_t(c ^ (token_hash_t(ctx[:, h - 1 - j], k1) + _s((j + 1) * C2)))
    return c


def ult_t(x: Any, bound: int) -> Any:
    """Unsigned ``x < bound`` for int64 tensors holding uint64 bits."""
    return (x ^ _s(SIGN)) < _s(bound ^ SIGN)


def umin_t(x: Any, dim: int = -1) -> Any:
    """Unsigned minimum along ``dim``."""
    return (x ^ _s(SIGN)).min(dim=dim).values ^ _s(SIGN)


def prf_t(seed: Any, target_hash: Any, k2: int) -> Any:
    return target_hash * ((seed ^ _s(k2)) | 1)


def green_t(x: Any, thr: int) -> Any:
    return x < thr - SIGN


def to_unit_t(x: Any) -> Any:
    import torch

    return (_lsr(x, 11).to(torch.float64) + 0.5) * 2.0**-53
