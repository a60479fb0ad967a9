"""transformers ``LogitsProcessor`` adapters (torch), imported only when generating.

Batched: one call handles every row of ``input_ids``; the whole-vocabulary PRF is a few int64
tensor operations per step, on whatever device the scores live.
"""

from __future__ import annotations

import torch
from transformers import LogitsProcessor

from probity.watermark import _prf as P


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

    def __init__(self, words: tuple[int, int, int], thr: int, delta: float, hard: bool,
                 context_width: int, seeding: str) -> None:
        self.k0, self.k1, self.k2 = words
        self.thr = thr
        self.delta = delta
        self.hard = hard
        self.h = context_width
        self.seeding = seeding
        self.tables = _Tables(self.k1)
        self._self_cache: dict[tuple[int, str], torch.Tensor] = {}

    def green(self, input_ids: torch.LongTensor, vocab: int) -> torch.Tensor:
        """Boolean ``(batch, vocab)`` green mask for the next token of each row."""
        b, length = input_ids.shape
        dev = input_ids.device
        table = self.tables.token_hashes(vocab, dev)
        if self.seeding == "lefthash":
            seed = P.left_context_t(input_ids[:, length - self.h :], self.k0, self.k1)[:, None]
        else:
            key = (vocab, str(dev))
            if key not in self._self_cache:
                self._self_cache[key] = P.mix_t(table ^ P._s(self.k0))
            g = self._self_cache[key][None, :]
            if self.h > 1:
                th = P.token_hash_t(input_ids[:, length - self.h + 1 :], self.k1)
                m = P.umin_t(P.mix_t(th ^ P._s(self.k0)))[:, None]
                sign = P._s(P.SIGN)
                seed = torch.where((g ^ sign) < (m ^ sign), g, m)
            else:
                seed = g.expand(b, vocab)
        return P.ult_t(P.prf_t(seed, table[None, :], self.k2), self.thr)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        need = self.h if self.seeding == "lefthash" else self.h - 1
        if input_ids.shape[1] < need:
            return scores
        green = self.green(input_ids, scores.shape[-1])
        if self.hard:
            return scores.masked_fill(~green, float("-inf"))
        return scores + green.to(scores.dtype) * self.delta


class GumbelLogitsProcessor(LogitsProcessor):
    """Gumbel-max: keep only ``argmax_v scores_v / T - log(-log u_v)`` (one-hot output)."""

    def __init__(self, words: tuple[int, int, int], context_width: int, temperature: float) -> None:
        self.k0, self.k1, self.k2 = words
        self.h = context_width
        self.temperature = temperature
        self.tables = _Tables(self.k1)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        b, length = input_ids.shape
        if length < self.h:
            return scores
        table = self.tables.token_hashes(scores.shape[-1], input_ids.device)
        seed = P.left_context_t(input_ids[:, length - self.h :], self.k0, self.k1)
        u = P.to_unit_t(P.prf_t(seed[:, None], table[None, :], self.k2))
        g = -torch.log(-torch.log(u))
        choice = (scores.double() / self.temperature + g).argmax(dim=-1)
        out = torch.full_like(scores, float("-inf"))
        return out.scatter_(1, choice[:, None], 0.0)
