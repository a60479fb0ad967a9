"""Bit-exact reproduction of transformers' ``WatermarkLogitsProcessor`` green lists.

transformers seeds a CPU ``torch.Generator`` per context and takes the first
``k = int(vocab_size * greenlist_ratio)`` entries of ``torch.randperm(vocab_size)``:

* seed (lefthash)  ``= hashing_key * t[-1]``                 (Python integers)
* seed (selfhash)  ``= min(hashing_key * a * b)`` over the window's last ``context_width``
  tokens, ``a = table[t % 1000003] + 1``, ``b = table[t[-1] % 1000003] + 1`` in wrapping int64,
  where ``table = randperm(1000003)`` from a generator seeded with ``hashing_key``;
* ``manual_seed(seed % (2**64 - 1))`` seeds MT19937 with the low 32 bits;
* CPU ``randperm(n)`` is a forward Fisher-Yates shuffle: for ``i`` in ``0..n-2`` it swaps
  positions ``i`` and ``i + (r_i mod (n - i))`` with ``r_i`` the i-th 32-bit MT19937 output.

Position ``i`` is final after step ``i``, so the green list only needs the first ``k`` draws.
Why hand-written: transformers builds a full O(vocab) permutation per scored token in a Python
loop. Here membership of one token is decided by following that token through the first ``k``
swaps with array operations over all queries at once (a token is green iff some step
``i < k`` swaps it into position ``i``). The MT19937 draws come from numpy's own MT19937
(``RandomState`` uses the same initialisation as torch), one C call per distinct seed.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from probity.errors import InputError

TABLE_SIZE = 1_000_003
_M64 = (1 << 64) - 1


@lru_cache(maxsize=8)
def fixed_table(hashing_key: int) -> np.ndarray:
    """transformers' selfhash table: ``randperm(1000003)`` seeded with ``hashing_key``."""
    import torch

    g = torch.Generator(device="cpu")
    g.manual_seed(hashing_key)
    return torch.randperm(TABLE_SIZE, generator=g).numpy().astype(np.int64)


def check_hashing_key(hashing_key: int) -> int:
    if not isinstance(hashing_key, int | np.integer) or not 0 <= int(hashing_key) < 2**63:
        raise InputError(
            f"hf-compat hashing key must be an integer in [0, 2^63), got {hashing_key!r}"
        )
    return int(hashing_key)


def lefthash_seeds(prev: np.ndarray, hashing_key: int) -> np.ndarray:
    """32-bit MT seeds for previous tokens ``prev`` (any shape), int64.

    ``(hashing_key * t) mod (2^64 - 1)`` computed exactly with 32-bit limbs (no Python loop):
    2^64 = 1 (mod 2^64 - 1), so the 128-bit product folds as ``hi + lo``.
    """
    t = np.asarray(prev, dtype=np.uint64)
    hk = int(hashing_key) % _M64
    h1, h0 = np.uint64(hk >> 32), np.uint64(hk & 0xFFFFFFFF)
    t1, t0 = t >> np.uint64(32), t & np.uint64(0xFFFFFFFF)
    u32 = np.uint64(32)
    m32 = np.uint64(0xFFFFFFFF)
    with np.errstate(over="ignore"):
        ll = h0 * t0
        lh = h0 * t1
        hl = h1 * t0
        hh = h1 * t1
        mid = (ll >> u32) + (lh & m32) + (hl & m32)
        lo = (ll & m32) | ((mid & m32) << u32)
        hi = hh + (lh >> u32) + (hl >> u32) + (mid >> u32)
        s = hi + lo
        carry = (s < lo).astype(np.uint64)
        s = s + carry  # fold the 2^64 overflow: 2^64 = 1 (mod M)
        s = np.where(s == np.uint64(_M64), np.uint64(0), s)
    return (s & m32).astype(np.int64)


def selfhash_seeds(windows: np.ndarray, hashing_key: int) -> np.ndarray:
    """32-bit MT seeds for ``(n, context_width)`` windows ending at the target token."""
    table = fixed_table(hashing_key)
    w = np.asarray(windows, dtype=np.int64)
    a = table[w % TABLE_SIZE] + 1
    b = table[w[:, -1] % TABLE_SIZE] + 1
    with np.errstate(over="ignore"):
        prod = (np.int64(hashing_key) * a) * b[:, None]  # wrapping int64, as torch
    s = prod.min(axis=1)
    u = s.view(np.uint64)
    with np.errstate(over="ignore"):
        u = np.where(s < 0, u - np.uint64(1), u)  # Python's s % (2^64 - 1) for negative s
    return (u & np.uint64(0xFFFFFFFF)).astype(np.int64)


def mt_draws(seeds: np.ndarray, k: int) -> np.ndarray:
    """The first ``k`` raw 32-bit MT19937 outputs for each seed, ``(len(seeds), k)`` uint32."""
    out = np.empty((len(seeds), k), dtype=np.uint32)
    rs = np.random.RandomState(0)
    # One C call per distinct seed (not per token): RandomState's MT19937 with a 32-bit seed
    # is initialised exactly as torch's CPU generator, and randint over the full 32-bit range
    # returns the raw outputs unchanged.
    for row, seed in enumerate(seeds.tolist()):
        rs.seed(seed)
        out[row] = rs.randint(0, 2**32, size=k, dtype=np.uint32)
    return out


def swap_targets(draws: np.ndarray, vocab_size: int) -> np.ndarray:
    """``j_i = i + r_i mod (n - i)``: the position swapped into position ``i`` at step ``i``."""
    k = draws.shape[1]
    steps = np.arange(k, dtype=np.uint32)
    return (steps + draws % (np.uint32(vocab_size) - steps)).astype(np.int32)


def green_tokens(
    seeds: np.ndarray, tokens: np.ndarray, vocab_size: int, k: int, chunk: int = 128
) -> np.ndarray:
    """Whether ``tokens[q]`` is in the green list of ``seeds[q]`` (bool per query).

    Distinct seeds are processed in chunks so that memory stays at ``chunk * k`` words.
    """
    useeds, inv = np.unique(np.asarray(seeds), return_inverse=True)
    tokens = np.asarray(tokens, dtype=np.int64)
    # each distinct (seed, token) query is answered once
    pairs, back = np.unique(inv.ravel() * np.int64(vocab_size) + tokens, return_inverse=True)
    inv, tokens = pairs // vocab_size, pairs % vocab_size
    order = np.argsort(inv, kind="stable")
    bounds = np.searchsorted(inv[order], np.arange(0, len(useeds) + chunk, chunk))
    out = np.zeros(len(tokens), dtype=bool)
    for c in range(0, len(useeds), chunk):
        q = order[bounds[c // chunk] : bounds[c // chunk + 1]]
        targets = swap_targets(mt_draws(useeds[c : c + chunk], k), vocab_size)
        out[q] = membership(targets, inv[q] - c, tokens[q])
    return out[back.ravel()]


def membership(
    targets: np.ndarray, rows: np.ndarray, tokens: np.ndarray, chunk: int = 512
) -> np.ndarray:
    """Whether ``tokens[q]`` is green under the shuffle ``targets[rows[q]]`` (bool per query).

    A token at position ``p`` after steps ``<= t`` is finalised at the first step ``i > t``
    with ``j_i == p``; if no such ``i <= p`` exists and ``p < k``, step ``p`` moves it to
    ``j_p`` and the search continues from there; if ``p >= k`` and none exists, it is red.
    """
    k = targets.shape[1]
    steps = np.arange(k, dtype=np.int64)
    out = np.zeros(len(tokens), dtype=bool)
    for lo in range(0, len(tokens), chunk):  # memory bound only: chunk x k per hop
        sl = slice(lo, lo + chunk)
        idx = np.arange(len(tokens))[sl]
        pos = np.asarray(tokens[sl], dtype=np.int64).copy()
        done = np.full(len(idx), -1, dtype=np.int64)
        row = rows[sl]
        active = np.ones(len(idx), dtype=bool)
        first_hop = True
        while active.any():
            a = np.flatnonzero(active)
            tj = targets[row[a]]
            hit = tj == pos[a, None]
            if not first_hop:  # only steps after the token last moved
                hit &= steps[None, :] > done[a, None]
            first = hit.argmax(axis=1)
            found = hit[np.arange(len(a)), first]
            green = found & (first <= pos[a])
            out[idx[a[green]]] = True
            move = ~green & (pos[a] < k)
            mv = a[move]
            done[mv] = pos[mv]
            pos[mv] = targets[row[mv], pos[mv]]
            active[:] = False
            active[mv] = True
            first_hop = False
    return out


def green_lists(seeds: np.ndarray, vocab_size: int, k: int) -> np.ndarray:
    """Full green lists ``(len(seeds), k)``: the first ``k`` entries of each permutation.

    Used by the numpy sampler; loops over the ``k`` steps, vectorised over seeds.
    """
    j = swap_targets(mt_draws(np.asarray(seeds), k), vocab_size).astype(np.int64)
    perm = np.tile(np.arange(vocab_size, dtype=np.int64), (len(seeds), 1))
    r = np.arange(len(seeds))
    for i in range(k):
        a = perm[:, i].copy()
        perm[:, i] = perm[r, j[:, i]]
        perm[r, j[:, i]] = a
    return perm[:, :k]
