"""transformers ``LogitsProcessor`` adapters (torch), imported only when generating.

Batched: one call handles every row of ``input_ids``; the whole-vocabulary PRF is a few int64
tensor operations per step, on whatever device the scores live.

KGW with ``lefthash`` seeding also memoises, per context, the tensor it adds to the scores
(see :class:`_RowCache`): the green list after a context depends only on the previous h token
ids, and text revisits contexts often, so a hit replaces the whole-vocabulary PRF (multiply,
compare, convert: about three passes over the vocabulary) by a dictionary lookup.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import numpy as np
import torch
from transformers import LogitsProcessor

from probity.watermark import _prf as P

_CACHE_MAX = 65536
_PY_SEEDS_MAX = 16


class _Seeds:
    """Context seeds per row, cached by the context's token ids.

    The seed of a row is a handful of scalar hash rounds; done as torch ops on a (batch,)
    tensor each round costs a kernel launch, so rows are hashed in numpy (same maths, see
    ``_prf``) and memoised: contexts repeat a lot during generation.
    """

    def __init__(self, k0: int, k1: int, k2: int) -> None:
        self.k0, self.k1, self.k2 = k0, k1, k2
        self.cache: dict[tuple[int, ...], int] = {}

    def left(self, ctx: torch.Tensor) -> torch.Tensor:
        """``(seed ^ k2) | 1`` multipliers for ``(batch, h)`` contexts, int64 ``(batch, 1)``."""
        rows = [tuple(r) for r in ctx.tolist()]
        missing = [r for r in rows if r not in self.cache]
        if missing:
            if len(self.cache) > _CACHE_MAX:
                self.cache.clear()
            if len(missing) <= _PY_SEEDS_MAX:  # a few rows: plain ints beat numpy's overhead
                for r in missing:
                    m = (P.left_context_py(r, self.k0, self.k1) ^ self.k2) | 1
                    self.cache[r] = P._s(m)
            else:
                seeds = P.left_context_np(np.array(missing, dtype=np.int64), self.k0, self.k1)
                mult = (seeds ^ np.uint64(self.k2)) | np.uint64(1)
                self.cache.update(zip(missing, mult.view(np.int64).tolist(), strict=True))
        return torch.tensor([self.cache[r] for r in rows], dtype=torch.int64, device=ctx.device)[
            :, None
        ]


class _Tables:
    def __init__(self, k1: int) -> None:
        self.k1 = k1
        self._cache: dict[tuple[int, str], torch.Tensor] = {}

    def token_hashes(self, vocab: int, device: torch.device) -> torch.Tensor:
        key = (vocab, str(device))
        if key not in self._cache:
            self._cache[key] = P.token_hash_t(torch.arange(vocab, device=device), self.k1)
        return self._cache[key]


#: Default byte budget of one KGW processor's per-context cache (see :class:`_RowCache`).
ROW_CACHE_BYTES = 128 << 20
#: Most contexts remembered as seen once (the cache's admission filter).
SEEN_MAX = 1 << 16


class _RowCache:
    """Bounded LRU of per-context score operands in one preallocated slab.

    Entries are rows of a ``(capacity, vocab)`` tensor in the scores' dtype on their device
    (0/1 for soft KGW, 0/-inf for hard), keyed by the context (the last h token ids); an
    LRU order maps contexts to slots and a miss overwrites the least recently used slot in
    place, so a step allocates no cache memory. Bound: ``capacity = max(1, max_bytes //
    (vocab * itemsize))`` rows, i.e. at most ``max_bytes`` (default :data:`ROW_CACHE_BYTES`,
    128 MiB: 667 contexts at vocab 50,257 float32, 261 at 128,256), or one row where a row is
    larger. On CPU the slab is created with ``torch.empty``, so untouched rows cost no
    physical memory; on a GPU the whole slab is allocated on first use. One slab at
    a time: a call with another vocabulary size, device or dtype starts a new one. A context
    is stored from its second miss on (:meth:`admit`; the remembered set holds at most
    :data:`SEEN_MAX` context tuples). Counters ``hits`` / ``misses`` count looked-up rows.
    """

    def __init__(self, max_bytes: int = ROW_CACHE_BYTES) -> None:
        if max_bytes < 0:
            raise ValueError(f"max_bytes must be >= 0, got {max_bytes}")
        self.max_bytes = int(max_bytes)
        self.hits = 0
        self.misses = 0
        self.base: tuple[Any, ...] | None = None
        self.slab: torch.Tensor | None = None
        self.slots: OrderedDict[tuple[int, ...], int] = OrderedDict()
        self.capacity = 0
        self.seen: set[tuple[int, ...]] = set()
        self.lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.slots)

    @property
    def nbytes(self) -> int:
        """Bytes held by filled rows."""
        return 0 if self.slab is None else len(self.slots) * self.slab[0].nbytes

    def ensure(self, vocab: int, device: torch.device, dtype: torch.dtype) -> None:
        base = (vocab, str(device), dtype)
        if base != self.base:
            itemsize = torch.empty((), dtype=dtype).element_size()
            self.capacity = max(1, self.max_bytes // (vocab * itemsize))
            self.slab = torch.empty((self.capacity, vocab), dtype=dtype, device=device)
            self.slots.clear()
            self.seen.clear()
            self.base = base

    def lookup(self, ctx: tuple[int, ...]) -> int | None:
        """The slot holding ``ctx`` (marked most recently used), or ``None``; counted."""
        i = self.slots.get(ctx)
        if i is None:
            self.misses += 1
            return None
        self.slots.move_to_end(ctx)
        self.hits += 1
        return i

    def admit(self, ctx: tuple[int, ...]) -> bool:
        """Whether a missing ``ctx`` should be stored: only from its second miss on.

        Contexts seen once are only remembered (a set of at most :data:`SEEN_MAX` tuples,
        cleared when full), so one-off contexts neither evict recurring ones nor pay for
        writing a fresh slab row (first-touch page faults make that dearer than the PRF)."""
        if ctx in self.seen:
            return True
        if len(self.seen) >= SEEN_MAX:
            self.seen.clear()
        self.seen.add(ctx)
        return False

    def alloc(self, ctx: tuple[int, ...]) -> int:
        """A slot for ``ctx`` (a free one, else the least recently used), to be filled."""
        if len(self.slots) < self.capacity:
            i = len(self.slots)
        else:
            _, i = self.slots.popitem(last=False)
        self.slots[ctx] = i
        return i

    def clear(self) -> None:
        self.slots.clear()
        self.seen.clear()


class KGWLogitsProcessor(LogitsProcessor):
    """KGW (``fast`` backend): add ``delta`` to green logits, or forbid red ones (``hard``).

    With ``lefthash`` seeding the tensor added to each row's scores is cached per context
    (the row's last h token ids) in a bounded LRU of at most ``cache_bytes`` bytes (see
    :class:`_RowCache`; 0 disables it). Outputs are bit-identical with and without the cache:
    a hit reuses exactly the tensor a miss computes, and the final operation is the same.
    ``selfhash`` seeding is not cached (its list depends on the candidate token).
    """

    def __init__(
        self,
        words: tuple[int, int, int],
        thr: int,
        delta: float,
        hard: bool,
        context_width: int,
        seeding: str,
        cache_bytes: int = ROW_CACHE_BYTES,
    ) -> None:
        self.k0, self.k1, self.k2 = words
        self.thr = thr
        self.delta = delta
        self.hard = hard
        self.h = context_width
        self.seeding = seeding
        self.tables = _Tables(self.k1)
        self.seeds = _Seeds(self.k0, self.k1, self.k2)
        self._self_cache: dict[tuple[int, str], torch.Tensor] = {}
        self.rows = _RowCache(cache_bytes)

    def cache_info(self) -> dict[str, Any]:
        """Per-context cache counters: ``hits``, ``misses`` (rows looked up), ``hit_rate``
        in [0, 1], ``entries``, ``bytes`` and ``max_bytes``."""
        c = self.rows
        n = c.hits + c.misses
        return {
            "hits": c.hits,
            "misses": c.misses,
            "hit_rate": c.hits / n if n else 0.0,
            "entries": len(c),
            "bytes": c.nbytes,
            "max_bytes": c.max_bytes,
        }

    def green(self, input_ids: torch.LongTensor, vocab: int) -> torch.Tensor:
        """Boolean ``(batch, vocab)`` green mask for the next token of each row."""
        return self._green_x(input_ids, vocab) < self.thr - P.SIGN

    def _green_x(self, input_ids: torch.LongTensor, vocab: int) -> torch.Tensor:
        b, length = input_ids.shape
        dev = input_ids.device
        table = self.tables.token_hashes(vocab, dev)
        if self.seeding == "lefthash":
            return table[None, :] * self.seeds.left(input_ids[:, length - self.h :])
        key = (vocab, str(dev))
        sign = P._s(P.SIGN)
        if key not in self._self_cache:  # selfhash per-candidate minhash term, sign-flipped
            self._self_cache[key] = P.mix_t(table ^ P._s(self.k0)) ^ sign
        g = self._self_cache[key][None, :]
        if self.h > 1:
            th = P.token_hash_t(input_ids[:, length - self.h + 1 :], self.k1)
            m = P.umin_t(P.mix_t(th ^ P._s(self.k0)))[:, None] ^ sign
            g = torch.minimum(g, m)  # unsigned min, in sign-flipped space
        seed = (g ^ sign) ^ P._s(self.k2)
        return (table[None, :] * (seed | 1)).expand(b, vocab)

    def _operand(self, green: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        """What :meth:`_apply` adds: the green mask as 0/1 (soft) or 0/-inf (hard)."""
        g = green.to(dtype)
        return torch.log(g) if self.hard else g  # log 1 = 0 keeps green, log 0 = -inf drops red

    def _apply(self, scores: torch.Tensor, op: torch.Tensor, out: Any = None) -> torch.Tensor:
        if self.hard:
            return torch.add(scores, op, out=out)
        return torch.add(scores, op, alpha=self.delta, out=out)

    def _cached(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor | None:
        """Scores plus the per-context cached operands (``None``: more distinct contexts in
        the batch than cache slots; the caller then computes without the cache)."""
        length = input_ids.shape[1]
        ctxs = [tuple(r) for r in input_ids[:, length - self.h :].tolist()]
        c = self.rows
        c.ensure(scores.shape[-1], scores.device, scores.dtype)
        if len(ctxs) > 1 and len(set(ctxs)) > c.capacity:
            return None
        slab = c.slab
        assert slab is not None
        ops: list[torch.Tensor | None] = []
        todo: dict[tuple[int, ...], list[int]] = {}  # missing context -> rows needing it
        for r, ctx in enumerate(ctxs):
            if ctx in todo:  # again in this batch: computed once, counted as a hit
                c.hits += 1
                todo[ctx].append(r)
                ops.append(None)
                continue
            i = c.lookup(ctx)
            if i is None:
                todo[ctx] = [r]
                ops.append(None)
            else:
                ops.append(slab[i])
        if todo:  # one batched PRF for every context missing from the cache
            dev = scores.device
            ctx_t = torch.tensor(list(todo), dtype=torch.int64, device=dev)
            table = self.tables.token_hashes(scores.shape[-1], dev)
            x = table[None, :] * self.seeds.left(ctx_t)
            for xr, (ctx, rows) in zip(x, todo.items(), strict=True):
                # the green test written straight into its row as 0/1 in the dtype (exactly
                # green.to(dtype), one pass less than a bool mask then a copy)
                op = slab[c.alloc(ctx)] if c.admit(ctx) else torch.empty_like(scores[0])
                torch.lt(xr, self.thr - P.SIGN, out=op)
                if self.hard:
                    op.log_()
                for r in rows:
                    ops[r] = op
        if len(ops) == 1:
            return self._apply(scores, ops[0][None, :])  # type: ignore[index]
        out = torch.empty_like(scores)
        for r, op in enumerate(ops):  # per-row adds: no gathered (batch, vocab) copy
            self._apply(scores[r], op, out=out[r])  # type: ignore[arg-type]
        return out

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        need = self.h if self.seeding == "lefthash" else self.h - 1
        if input_ids.shape[1] < need:
            return scores
        if self.seeding == "lefthash" and self.rows.max_bytes > 0:
            with self.rows.lock:  # the slab's rows are read and written under one lock
                out = self._cached(input_ids, scores)
            if out is not None:
                return out
        return self._apply(
            scores, self._operand(self.green(input_ids, scores.shape[-1]), scores.dtype)
        )


class GumbelLogitsProcessor(LogitsProcessor):
    """Gumbel-max: keep only ``argmax_v scores_v / T - log(-log u_v)`` (one-hot output)."""

    def __init__(self, words: tuple[int, int, int], context_width: int, temperature: float) -> None:
        self.k0, self.k1, self.k2 = words
        self.h = context_width
        self.temperature = temperature
        self.tables = _Tables(self.k1)
        self.seeds = _Seeds(self.k0, self.k1, self.k2)
        from probity.watermark.schemes import ContextTracker

        # first step and repeated contexts: ordinary sampling (seeds vary text, no loops)
        self.tracker = ContextTracker(context_width)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        _b, length = input_ids.shape
        if length < self.h:
            return scores
        rows = torch.from_numpy(self.tracker.watermark_rows(input_ids.cpu().numpy()))
        rows = rows.to(scores.device)
        if not bool(rows.any()):
            return scores
        table = self.tables.token_hashes(scores.shape[-1], input_ids.device)
        u = P.to_unit_t(table[None, :] * self.seeds.left(input_ids[:, length - self.h :]))
        g = -torch.log(-torch.log(u))
        choice = (scores.double() / self.temperature + g).argmax(dim=-1)
        out = torch.full_like(scores, float("-inf")).scatter_(1, choice[:, None], 0.0)
        return torch.where(rows[:, None], out, scores)
