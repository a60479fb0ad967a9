"""transformers ``LogitsProcessor`` adapters (torch), imported only when generating.

Batched: one call handles every row of ``input_ids``; the whole-vocabulary PRF is a few int64
tensor operations per step, on whatever device the scores live.
"""

from __future__ import annotations

import numpy as np
import torch
from transformers import LogitsProcessor

from probity.watermark import _prf as P

_CACHE_MAX = 65536


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


class KGWLogitsProcessor(LogitsProcessor):
    """KGW (``fast`` backend): add ``delta`` to green logits, or forbid red ones (``hard``)."""

    def __init__(
        self,
        words: tuple[int, int, int],
        thr: int,
        delta: float,
        hard: bool,
        context_width: int,
        seeding: str,
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

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        need = self.h if self.seeding == "lefthash" else self.h - 1
        if input_ids.shape[1] < need:
            return scores
        green = self.green(input_ids, scores.shape[-1]).to(scores.dtype)
        if self.hard:
            return scores + torch.log(green)  # log 1 = 0 keeps green, log 0 = -inf drops red
        return scores.add(green, alpha=self.delta)


class GumbelLogitsProcessor(LogitsProcessor):
    """Gumbel-max: keep only ``argmax_v scores_v / T - log(-log u_v)`` (one-hot output)."""

    def __init__(self, words: tuple[int, int, int], context_width: int, temperature: float) -> None:
        self.k0, self.k1, self.k2 = words
        self.h = context_width
        self.temperature = temperature
        self.tables = _Tables(self.k1)
        self.seeds = _Seeds(self.k0, self.k1, self.k2)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        _b, length = input_ids.shape
        if length < self.h:
            return scores
        table = self.tables.token_hashes(scores.shape[-1], input_ids.device)
        u = P.to_unit_t(table[None, :] * self.seeds.left(input_ids[:, length - self.h :]))
        g = -torch.log(-torch.log(u))
        choice = (scores.double() / self.temperature + g).argmax(dim=-1)
        out = torch.full_like(scores, float("-inf"))
        return out.scatter_(1, choice[:, None], 0.0)
