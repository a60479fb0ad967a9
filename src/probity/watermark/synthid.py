"""SynthID-Text (Dathathri et al., Nature 2024), compatible with transformers'
``SynthIDTextWatermarkLogitsProcessor`` / ``SynthIDTextWatermarkingConfig``.

Generation is tournament sampling in its vectorised form: for each of ``depth`` layers a keyed
bit ``g_l(context, token)`` reweights the next-token distribution,
``p <- p (1 + g_l - E_p[g_l])``, which equals a two-candidate tournament per layer. The keyed
bits are transformers' exactly: an LCG hash (``h <- (h + x) * 6364136223846793005 + 1`` mod
2^64) of the last ``ngram_len`` tokens, then of each layer key, indexes a table of random bits
drawn by ``torch.randint`` from ``sampling_table_seed``. Contexts start as ``ngram_len - 1``
zeros at the first generated token (transformers ignores the prompt), and a context already
seen in the same generation is not watermarked (the repeated-context rule).

Detection (Probity's, vectorised numpy) scores each position whose context is new: the
**mean** score counts the ones among its ``depth`` bits, Binomial(n depth, q) under the null
(an exact p-value); the **weighted-mean** score weights layer l by SynthID's linear weights
``10 .. 1`` (earlier layers carry more signal), with a normal null of mean ``n W1 q`` and
variance ``n W2 q (1 - q)`` (W1, W2: sum of the weights and of their squares). ``q`` is the
sampling table's share of ones (:attr:`SynthIDScheme.p_one`), not 1/2. transformers ships a
trained Bayesian detector instead; it needs weights trained per model, which these calibrated
scores do not.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from probity.errors import InputError
from probity.watermark.detection import binomial_sf, z_binomial
from probity.watermark.keys import WatermarkKey
from probity.watermark.schemes import WatermarkScheme, _key_material

_MULT = np.uint64(6364136223846793005)
_ONE = np.uint64(1)
DEFAULT_DEPTH = 30
SCORES = ("mean", "weighted_mean")


def _as_u64(values: Sequence[int]) -> np.ndarray:
    """Signed or unsigned 64-bit integers as their uint64 bit patterns (torch's int64 wrap)."""
    return np.array([int(v) & 0xFFFFFFFFFFFFFFFF for v in values], dtype=np.uint64)


def accumulate(h: np.ndarray, data: np.ndarray) -> np.ndarray:
    """transformers' ``accumulate_hash`` over the last axis of ``data`` (uint64, wrapping)."""
    h = np.asarray(h, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(data.shape[-1]):  # loop over the n-gram length (a small constant)
            h = (h + data[..., j].astype(np.uint64)) * _MULT + _ONE
    return h


def derived_keys(secret: bytes, depth: int) -> tuple[list[int], int]:
    """``depth`` layer keys and a sampling-table seed derived from a key's secret (63-bit)."""
    raw = hashlib.shake_256(b"probity-synthid:" + secret).digest(8 * (depth + 1))
    words = [int.from_bytes(raw[8 * i : 8 * i + 8], "little") >> 1 for i in range(depth + 1)]
    return words[:depth], words[depth]


_TABLES: dict[tuple[int, int], np.ndarray] = {}


def sampling_table(size: int, seed: int) -> np.ndarray:
    """The random bits transformers draws: ``torch.randint(0, 2, (size,))`` from ``seed``."""
    key = (int(size), int(seed))
    if key not in _TABLES:
        from probity.errors import require

        torch = require("torch", "hf")
        gen = torch.Generator(device="cpu").manual_seed(int(seed))
        table = torch.randint(low=0, high=2, size=(int(size),), generator=gen, device="cpu")
        _TABLES[key] = table.numpy().astype(np.uint8)
    return _TABLES[key]


class SynthIDScheme(WatermarkScheme):
    """SynthID-Text tournament watermark (see the module docstring).

    ``keys``: transformers' layer keys (their number is the depth; the table seed then
    defaults to transformers' 0); default: ``depth`` keys and a seed derived from the Probity
    key's secret. ``ngram_len`` (default 5) counts the token itself;
    ``sampling_table_size`` (default 2^16) and ``sampling_table_seed`` as in transformers'
    config; ``context_history_size`` (default 1024) bounds the repeated-context memory at
    generation; ``score`` ``mean`` or ``weighted_mean`` chooses the detection statistic.
    """

    name = "synthid"

    def __init__(
        self,
        key: WatermarkKey | int | None = None,
        *,
        keys: Sequence[int] | None = None,
        ngram_len: int = 5,
        depth: int = DEFAULT_DEPTH,
        sampling_table_size: int = 2**16,
        sampling_table_seed: int | None = None,
        context_history_size: int = 1024,
        skip_first_ngram_calls: bool = False,
        score: str = "weighted_mean",
    ) -> None:
        if int(ngram_len) < 2:
            raise InputError(f"ngram_len must be >= 2, got {ngram_len}")
        if score not in SCORES:
            raise InputError(f"unknown SynthID score {score!r}; use one of {list(SCORES)}")
        if int(sampling_table_size) < 2:
            raise InputError(f"sampling_table_size must be >= 2, got {sampling_table_size}")
        secret, self.key_id = _key_material(key)
        derived, derived_seed = derived_keys(secret, int(depth))
        if keys is not None:
            keys = [int(k) for k in keys]
            if not keys:
                raise InputError("keys must be a non-empty list of integers")
            self.key_id = self.key_id if isinstance(key, WatermarkKey) else None
        self.keys = list(keys) if keys is not None else derived
        self.ngram_len = int(ngram_len)
        self.context_width = self.ngram_len - 1
        self.sampling_table_size = int(sampling_table_size)
        if sampling_table_seed is None:  # transformers' default (0) goes with its keys
            sampling_table_seed = 0 if keys is not None else derived_seed
        self.sampling_table_seed = int(sampling_table_seed)
        self.context_history_size = int(context_history_size)
        self.skip_first_ngram_calls = bool(skip_first_ngram_calls)
        self.score = score
        self.key = key
        self._keys_u64 = _as_u64(self.keys)
        d = len(self.keys)
        self.weights = np.linspace(10.0, 1.0, d) if d > 1 else np.ones(1)

    @property
    def depth(self) -> int:
        return len(self.keys)

    @property
    def p_one(self) -> float:
        """The fraction of ones in the sampling table: the null probability of a keyed bit.

        Not 1/2: the table is 2^16 random bits, so its mean is off by about 0.002 (up to
        0.005 for some seeds), and over thousands of bits per text that shift alone would
        make a fixed key's p-values several times too small (the per-key bias of issue 20).
        """
        return float(sampling_table(self.sampling_table_size, self.sampling_table_seed).mean())

    def public_params(self) -> dict[str, Any]:
        keys_digest = hashlib.sha256(",".join(map(str, self.keys)).encode()).hexdigest()[:16]
        return {
            "scheme": "synthid",
            "ngram_len": self.ngram_len,
            "depth": self.depth,
            "keys_sha256": keys_digest,
            "sampling_table_size": self.sampling_table_size,
            "score": self.score,
            "key_id": self.key_id,
        }

    def transformers_config(self) -> dict[str, Any]:
        """Keyword arguments for transformers' ``SynthIDTextWatermarkingConfig`` (secret!)."""
        return {
            "ngram_len": self.ngram_len,
            "keys": list(self.keys),
            "sampling_table_size": self.sampling_table_size,
            "sampling_table_seed": self.sampling_table_seed,
            "context_history_size": self.context_history_size,
            "skip_first_ngram_calls": self.skip_first_ngram_calls,
        }

    # -- keyed bits --------------------------------------------------------------------------
    def g_values(self, ngram_hash: np.ndarray) -> np.ndarray:
        """The ``depth`` keyed bits for n-gram hashes (any shape): shape ``(..., depth)``."""
        table = sampling_table(self.sampling_table_size, self.sampling_table_seed)
        with np.errstate(over="ignore"):
            h = (ngram_hash[..., None] + self._keys_u64) * _MULT + _ONE
        # torch's int64 `%` takes the divisor's sign: the same as numpy's on the signed view
        idx = np.mod(h.view(np.int64), np.int64(self.sampling_table_size))
        return table[idx]

    def _values(self, full: np.ndarray, positions: np.ndarray) -> np.ndarray:
        n = self.ngram_len
        grams = full[positions[:, None] - (n - 1) + np.arange(n)]
        g = self.g_values(accumulate(np.ones(len(positions), dtype=np.uint64), grams))
        if self.score == "mean":
            return g.sum(axis=1).astype(np.float64)
        return g.astype(np.float64) @ self.weights

    def _repeat_keys(self, full: np.ndarray, positions: np.ndarray) -> np.ndarray:
        # transformers' repetition mask: a position counts when its context is new
        n = self.ngram_len
        ctx = full[positions[:, None] - (n - 1) + np.arange(n - 1)]
        return accumulate(np.ones(len(positions), dtype=np.uint64), ctx)

    def _is_green(self, values: np.ndarray) -> np.ndarray:
        scale = self.depth if self.score == "mean" else self.weights.sum()
        return values > scale * self.p_one

    def _null_pvalues(self, stat: np.ndarray, n: np.ndarray) -> np.ndarray:
        n = np.asarray(n, dtype=np.float64)
        q = self.p_one
        if self.score == "mean":
            return binomial_sf(stat, n * self.depth, q)
        from scipy.special import ndtr

        w1, w2 = self.weights.sum(), (self.weights**2).sum()
        sd = np.sqrt(np.maximum(n, 1) * w2 * q * (1 - q))
        z = (np.asarray(stat, dtype=np.float64) - n * w1 * q) / sd
        return np.where(n > 0, ndtr(-z), 1.0)

    def _null_label(self) -> str:
        q = self.p_one
        if self.score == "mean":
            return (
                f"binomial(n x {self.depth}, q={q:.4f}): the keyed bits of new contexts "
                "independent, q the sampling table's share of ones (not calibrated)"
            )
        return (
            f"normal(n W1 q, n W2 q(1-q)), q={q:.4f} the sampling table's share of ones, for "
            "SynthID's weighted mean of independent keyed bits (not calibrated)"
        )

    def _z(self, stat: float, n: float) -> float:
        if not n:
            return 0.0
        q = self.p_one
        if self.score == "mean":
            return z_binomial(stat, n * self.depth, q)
        w1, w2 = self.weights.sum(), (self.weights**2).sum()
        return float((stat - n * w1 * q) / np.sqrt(n * w2 * q * (1 - q)))

    def mean_score(self, token_ids: Sequence[int] | np.ndarray) -> float:
        """SynthID's mean score: the fraction of ones among the counted keyed bits."""
        bits = copy.copy(self.without_calibration())
        bits.score = "mean"
        values, _scored, counted = bits.score_positions(token_ids)
        n = int(counted.sum())
        return float(values[counted].sum() / (n * self.depth)) if n else 0.0

    # -- generation --------------------------------------------------------------------------
    def logits_processor(self, vocab_size: int, **kw: Any) -> Any:
        """transformers' own ``SynthIDTextWatermarkLogitsProcessor`` with these keys."""
        from transformers.generation.logits_process import SynthIDTextWatermarkLogitsProcessor

        return SynthIDTextWatermarkLogitsProcessor(
            **self.transformers_config(), device=kw.get("device", "cpu")
        )

    def adjuster(self, vocab_size: int, **kw: Any) -> Any:
        """A numpy :class:`~probity.lm.LogitsAdjuster` (Probity's own tournament sampler)."""
        return _SynthIDAdjuster(self, float(kw.get("temperature", 1.0)))


class _SynthIDAdjuster:
    """Tournament reweighting with transformers' state rules, in numpy (one per generation)."""

    def __init__(self, scheme: SynthIDScheme, temperature: float) -> None:
        self.s = scheme
        self.temperature = temperature if temperature > 0 else 1.0
        self.context: np.ndarray | None = None
        self.history: list[list[int]] = []
        self.calls = 0

    def __call__(self, input_ids: np.ndarray, logits: np.ndarray) -> np.ndarray:
        s = self.s
        ids = np.asarray(input_ids, dtype=np.int64)
        logits = np.asarray(logits, dtype=np.float64)
        b, vocab = logits.shape
        if self.context is None:
            self.context = np.zeros((b, s.ngram_len - 1), dtype=np.int64)
            self.history = [[] for _ in range(b)]
        else:
            self.context = np.concatenate([self.context[:, 1:], ids[:, -1:]], axis=1)
        self.calls += 1
        if s.skip_first_ngram_calls and self.calls < s.ngram_len:
            return logits
        ctx_hash = accumulate(np.ones(b, dtype=np.uint64), self.context)
        with np.errstate(over="ignore"):
            tok_hash = (ctx_hash[:, None] + np.arange(vocab, dtype=np.uint64)) * _MULT + _ONE
        g = s.g_values(tok_hash).astype(np.float64)  # (b, vocab, depth)
        z = logits / self.temperature
        probs = np.exp(z - z.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        for layer in range(g.shape[2]):
            gl = g[:, :, layer]
            probs = probs * (1 + gl - (gl * probs).sum(axis=1, keepdims=True))
        with np.errstate(divide="ignore"):
            new = np.log(probs) * self.temperature  # the sampler divides by T again
        out = logits.copy()
        for r in range(b):
            h = int(ctx_hash[r])
            if h not in self.history[r]:
                out[r] = new[r]
            self.history[r].insert(0, h)
            del self.history[r][s.context_history_size :]
        return out
