"""Watermark schemes: each pairs *bias the next-token distribution* with *score a sequence*.

* :class:`KGWScheme` (Kirchenbauer et al. 2023): a keyed hash of the context splits the
  vocabulary into a green fraction ``gamma`` and a red rest; generation adds ``delta`` to green
  logits (``hard``: forbids red tokens); detection counts green tokens (binomial test).
  Backends: ``fast`` (Probity's counter-based PRF, O(1) per token, vocab-size independent)
  and ``hf-compat`` (bit-identical with transformers' ``WatermarkLogitsProcessor``).
* :class:`GumbelScheme` (Aaronson 2022): distortion-free. A keyed uniform ``u_v`` per
  (context, token) and the Gumbel-max trick pick ``argmax_v log p_v - log(-log u_v)``, which
  is an exact sample from ``p`` over the key's randomness. Detection sums ``-log(1 - u)`` of
  the chosen tokens (Gamma test).
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from probity.errors import InputError
from probity.text import mix64, ngram_hashes
from probity.watermark import _prf as P
from probity.watermark.detection import (
    GREEN,
    RED,
    UNSCORED,
    Detection,
    best_window,
    binomial_sf,
    gamma_sf,
    z_binomial,
    z_gamma,
)
from probity.watermark.keys import WatermarkKey

#: transformers' default ``hashing_key`` (the millionth prime), used when no key is given.
HF_DEFAULT_HASHING_KEY = 15485863
_PUBLIC_DEMO_SECRET = b"probity-public-demo-key: NOT SECRET, for demos and tests only"


def _as_ids(token_ids: Sequence[int] | np.ndarray | None, what: str = "token_ids") -> np.ndarray:
    if token_ids is None:
        return np.empty(0, dtype=np.int64)
    if hasattr(token_ids, "detach"):  # a torch tensor
        token_ids = token_ids.detach().cpu().numpy()
    arr = np.asarray(token_ids)
    if arr.ndim == 2 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim != 1:
        raise InputError(f"{what} must be one sequence of token ids, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise InputError(f"{what} must be integers, got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    if arr.size and arr.min() < 0:
        raise InputError(f"{what} contains a negative token id ({int(arr.min())})")
    return arr


def _check_fpr(fpr: float) -> float:
    if not 0 < fpr < 1:
        raise InputError(f"fpr must be in (0, 1), got {fpr}")
    return float(fpr)


class WatermarkScheme:
    """Base class: the detection pipeline shared by every scheme.

    Subclasses define ``_min_context`` (tokens of context a position needs), ``_ngram_len``
    (the (context, token) window used to drop repeats), ``_values`` (per-position statistic)
    and ``_test`` (p-value and z).
    """

    name = "scheme"
    context_width = 1
    key_id: str | None = None
    #: a :class:`~probity.watermark.calibration.Calibration` (the key's empirical null) or None
    calibration: Any = None
    #: sorted uint64 hashes of (context, token) pairs never scored (a frequent-pair skip list)
    skip: np.ndarray | None = None

    # -- to implement -----------------------------------------------------------------------
    @property
    def _min_context(self) -> int:
        return self.context_width

    @property
    def _ngram_len(self) -> int:
        return self.context_width + 1

    def _values(self, full: np.ndarray, positions: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _null_pvalues(self, stat: np.ndarray, n: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _null_label(self) -> str:
        raise NotImplementedError

    def _pvalues(self, stat: np.ndarray, n: np.ndarray) -> np.ndarray:
        if self.calibration is not None:
            return self.calibration.pvalues(stat, n)
        return self._null_pvalues(stat, n)

    @property
    def null(self) -> str:
        """Which null distribution the p-values use (``Detection.null``)."""
        return self.calibration.label if self.calibration is not None else self._null_label()

    def with_calibration(self, calibration: Any) -> WatermarkScheme:
        """A copy that takes p-values from ``calibration`` (and applies its skip list)."""
        from probity.watermark.calibration import fingerprint

        mine = fingerprint(self.without_calibration().public_params())
        if calibration.params_fingerprint != mine:
            raise InputError(
                "this calibration was made for other scheme parameters "
                f"({calibration.params_fingerprint}), not {mine}; run `probity watermark "
                "calibrate` with these settings"
            )
        out = copy.copy(self)
        out.calibration = calibration
        out.skip = calibration.skip if len(calibration.skip) else None
        return out

    def without_calibration(self) -> WatermarkScheme:
        """A copy with the i.i.d. null and no skip list."""
        out = copy.copy(self)
        out.calibration = None
        out.skip = None
        return out

    def _skip_mask(self, keys: np.ndarray) -> np.ndarray:
        if self.skip is None or not len(self.skip):
            return np.zeros(len(keys), dtype=bool)
        return np.isin(keys, self.skip)

    def _z(self, stat: float, n: float) -> float:
        raise NotImplementedError

    def _is_green(self, values: np.ndarray) -> np.ndarray:
        return values > 0.5

    def _repeat_keys(self, full: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """uint64 key per scored position; positions with equal keys count once. Default:
        the (context, token) n-gram ending at the position."""
        n = self._ngram_len
        return ngram_hashes(mix64(full.astype(np.uint64)), n)[positions - (n - 1)]

    def public_params(self) -> dict[str, Any]:
        raise NotImplementedError

    def logits_processor(self, vocab_size: int, **kw: Any) -> Any:
        raise NotImplementedError

    def adjuster(self, vocab_size: int, **kw: Any) -> Any:
        raise NotImplementedError

    # -- detection --------------------------------------------------------------------------
    def score_positions(
        self,
        token_ids: Sequence[int] | np.ndarray,
        *,
        prompt_ids: Sequence[int] | np.ndarray | None = None,
        ignore_repeated: bool = True,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-token ``(values, scored, counted)`` arrays aligned with ``token_ids``.

        ``scored``: the token has enough context; ``counted``: scored and its (context,
        token) n-gram is the first occurrence (always, when ``ignore_repeated`` is false).
        """
        ids = _as_ids(token_ids)
        prompt = _as_ids(prompt_ids, "prompt_ids")
        full = np.concatenate([prompt, ids]) if prompt.size else ids
        off = len(prompt)
        values = np.zeros(len(ids), dtype=np.float64)
        scored = np.zeros(len(ids), dtype=bool)
        start = max(off, self._min_context)
        positions = np.arange(start, len(full), dtype=np.int64)
        if positions.size == 0:
            return values, scored, scored.copy()
        values[positions - off] = self._values(full, positions)
        scored[positions - off] = True
        counted = scored.copy()
        if ignore_repeated or self.skip is not None:
            kp = self._repeat_keys(full, positions)
            keep = np.ones(len(positions), dtype=bool)
            if ignore_repeated:
                _, first = np.unique(kp, return_index=True)
                keep[:] = False
                keep[first] = True
            keep &= ~self._skip_mask(kp)
            counted[positions - off] = keep
        return values, scored, counted

    def detect(
        self,
        token_ids: Sequence[int] | np.ndarray,
        *,
        fpr: float = 1e-4,
        prompt_ids: Sequence[int] | np.ndarray | None = None,
        windowed: bool = False,
        ignore_repeated: bool = True,
        min_window: int = 16,
    ) -> Detection:
        """Score ``token_ids`` (the generated tokens; ``prompt_ids`` are context only).

        ``fpr`` in (0, 1) is the false-positive rate of the verdict. ``windowed`` searches
        for the most watermarked window (see :mod:`probity.watermark.detection`).
        Runs in array operations over all tokens; no per-token Python loop.
        """
        fpr = _check_fpr(fpr)
        values, _scored, counted = self.score_positions(
            token_ids, prompt_ids=prompt_ids, ignore_repeated=ignore_repeated
        )
        n = int(counted.sum())
        stat = float(values[counted].sum())
        p = float(self._pvalues(np.array([stat]), np.array([n]))[0])
        green_mask = self._is_green(values)
        marks = np.where(counted, np.where(green_mask, GREEN, RED), UNSCORED)
        green = int((green_mask & counted).sum())
        window = None
        z = self._z(stat, n)
        if windowed and n:
            w = best_window(values, counted, self._pvalues, min_len=min_window)
            w["green"] = int((green_mask & counted)[w["start"] : w["end"]].sum())
            w["z"] = self._z(w["statistic"], w["scored"])
            window = w
            p = w["p_value"]
        return Detection(
            scheme=self.name,
            z=z,
            p_value=p,
            green=green,
            scored=n,
            watermarked=bool(n > 0 and p <= fpr),
            fpr=fpr,
            window=window,
            marks=tuple(marks.astype(np.int64).tolist()),
            statistic=stat,
            params=self.public_params(),
            null=self.null,
        )

    def detect_many(
        self,
        sequences: Sequence[Sequence[int] | np.ndarray],
        *,
        fpr: float = 1e-4,
        ignore_repeated: bool = True,
    ) -> list[Detection]:
        """:meth:`detect` for many token sequences at once (no prompts, not windowed).

        All sequences are scored in one set of array operations (and, for ``hf-compat``,
        green lists are shared across sequences), so throughput does not pay a per-text
        Python overhead per token. Results equal ``[detect(s) for s in sequences]``.
        """
        fpr = _check_fpr(fpr)
        seqs = [_as_ids(x) for x in sequences]
        if not seqs:
            return []
        lens = np.array([len(x) for x in seqs], dtype=np.int64)
        offs = np.concatenate([[0], np.cumsum(lens)[:-1]])
        full = np.concatenate(seqs) if lens.sum() else np.empty(0, dtype=np.int64)
        mc = self._min_context
        starts = offs + mc
        take = np.maximum(lens - mc, 0)
        text_of = np.repeat(np.arange(len(seqs)), take)
        positions = (
            np.arange(int(take.sum()), dtype=np.int64)
            - np.repeat(np.cumsum(take) - take, take)
            + np.repeat(starts, take)
        )
        values = self._values(full, positions) if positions.size else np.zeros(0)
        counted = np.ones(len(positions), dtype=bool)
        if (ignore_repeated or self.skip is not None) and positions.size:
            pair = self._repeat_keys(full, positions)
            if ignore_repeated:
                keys = pair ^ mix64(text_of.astype(np.uint64) + np.uint64(1))
                _, first = np.unique(keys, return_index=True)
                counted[:] = False
                counted[first] = True
            counted &= ~self._skip_mask(pair)
        green_mask = self._is_green(values)
        k = len(seqs)
        stat = np.bincount(text_of[counted], weights=values[counted], minlength=k)
        nsc = np.bincount(text_of[counted], minlength=k)
        greens = np.bincount(text_of[counted & green_mask], minlength=k)
        pvals = self._pvalues(stat, nsc)
        marks_all = np.full(len(full), UNSCORED, dtype=np.int64)
        marks_all[positions] = np.where(counted, np.where(green_mask, GREEN, RED), UNSCORED)
        params = self.public_params()
        out = []
        for i in range(k):  # one result object per text
            n_i = int(nsc[i])
            p_i = float(pvals[i])
            out.append(
                Detection(
                    scheme=self.name,
                    z=self._z(float(stat[i]), n_i),
                    p_value=p_i,
                    green=int(greens[i]),
                    scored=n_i,
                    watermarked=bool(n_i > 0 and p_i <= fpr),
                    fpr=fpr,
                    marks=tuple(marks_all[offs[i] : offs[i] + lens[i]].tolist()),
                    statistic=float(stat[i]),
                    params=dict(params),
                    null=self.null,
                )
            )
        return out


def _key_material(key: WatermarkKey | int | None) -> tuple[bytes, str | None]:
    if isinstance(key, WatermarkKey):
        return key.secret, key.key_id
    if key is None:
        return _PUBLIC_DEMO_SECRET, "public-demo"
    if isinstance(key, bool) or not isinstance(key, int | np.integer):
        raise InputError(
            f"key must be a WatermarkKey, an integer or None, got {type(key).__name__}"
        )
    return hashlib.sha256(b"probity-int-key:" + str(int(key)).encode()).digest(), None


class KGWScheme(WatermarkScheme):
    """Green/red-list watermark (KGW).

    Parameters: ``gamma`` in (0, 1) green fraction; ``delta`` >= 0 logit bias (soft);
    ``hard`` forbids red tokens; ``context_width`` h >= 1 tokens seed the list;
    ``seeding`` ``lefthash`` (the h tokens before the target) or ``selfhash`` (min-hash over a
    window of h tokens ending at the candidate itself); ``backend`` ``fast`` or
    ``hf-compat`` (``vocab_size`` then required for detection: the model config's).
    """

    name = "kgw"

    def __init__(
        self,
        key: WatermarkKey | int | None = None,
        *,
        gamma: float = 0.25,
        delta: float = 2.0,
        hard: bool = False,
        context_width: int = 1,
        seeding: str = "lefthash",
        backend: str = "fast",
        vocab_size: int | None = None,
    ) -> None:
        if not 0 < gamma < 1:
            raise InputError(f"gamma must be in (0, 1), got {gamma}")
        if delta < 0:
            raise InputError(f"delta must be >= 0, got {delta}")
        if int(context_width) < 0:
            raise InputError(f"context_width must be >= 0, got {context_width}")
        if int(context_width) == 0 and (seeding != "lefthash" or backend != "fast"):
            raise InputError(
                "context_width 0 (the unigram scheme: one fixed green list) needs seeding "
                "'lefthash' and backend 'fast'"
            )
        if seeding not in ("lefthash", "selfhash"):
            raise InputError(f"unknown seeding {seeding!r}; use 'lefthash' or 'selfhash'")
        if backend not in ("fast", "hf-compat"):
            raise InputError(f"unknown backend {backend!r}; use 'fast' or 'hf-compat'")
        if backend == "hf-compat" and hard:
            raise InputError("hard=True is not part of transformers' scheme; use backend 'fast'")
        if vocab_size is not None and int(vocab_size) < 2:
            raise InputError(f"vocab_size must be >= 2, got {vocab_size}")
        self.gamma = float(gamma)
        self.delta = float(delta)
        self.hard = bool(hard)
        self.context_width = int(context_width)
        self.seeding = seeding
        self.backend = backend
        self.vocab_size = None if vocab_size is None else int(vocab_size)
        self.key = key
        if backend == "hf-compat":
            from probity.watermark._hfcompat import check_hashing_key

            if isinstance(key, WatermarkKey):
                hk, self.key_id = key.hashing_key(), key.key_id
            elif key is None:
                hk, self.key_id = HF_DEFAULT_HASHING_KEY, "hf-default"
            else:
                hk, self.key_id = key, None
            self.hashing_key = check_hashing_key(hk)
        else:
            secret, self.key_id = _key_material(key)
            self._k = P.derive_words(secret, f"kgw-{seeding}")
            self._thr = P.threshold(self.gamma)

    def with_vocab_size(self, vocab_size: int) -> KGWScheme:
        """A copy with ``vocab_size`` set (the hf-compat green lists depend on it)."""
        out = KGWScheme(
            self.key,
            gamma=self.gamma,
            delta=self.delta,
            hard=self.hard,
            context_width=self.context_width,
            seeding=self.seeding,
            backend=self.backend,
            vocab_size=vocab_size,
        )
        out.calibration, out.skip = self.calibration, self.skip
        return out

    @property
    def _min_context(self) -> int:
        return self.context_width if self.seeding == "lefthash" else self.context_width - 1

    @property
    def _ngram_len(self) -> int:
        return self.context_width + (1 if self.seeding == "lefthash" else 0)

    def public_params(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "scheme": "kgw",
            "backend": self.backend,
            "gamma": self.gamma,
            "delta": self.delta,
            "hard": self.hard,
            "context_width": self.context_width,
            "seeding": self.seeding,
            "key_id": self.key_id,
        }
        if self.backend == "hf-compat":
            d["vocab_size"] = self.vocab_size
        return d

    def _values(self, full: np.ndarray, positions: np.ndarray) -> np.ndarray:
        h = self.context_width
        if self.backend == "hf-compat":
            return self._values_hf(full, positions).astype(np.float64)
        k0, k1, k2 = self._k
        if self.seeding == "lefthash":
            ctx = full[positions[:, None] - h + np.arange(h)]
            seed = P.left_context_np(ctx, k0, k1)
            x = P.prf_np(seed, P.token_hash_np(full[positions], k1), k2)
        else:
            win = full[positions[:, None] - (h - 1) + np.arange(h)]
            th = P.token_hash_np(win, k1)
            x = P.prf_np(P.self_min_np(th, k0), th[:, -1], k2)
        return P.green_np(x, self._thr).astype(np.float64)

    def _repeat_keys(self, full: np.ndarray, positions: np.ndarray) -> np.ndarray:
        if self.backend == "fast" and self.seeding == "selfhash":
            # selfhash decides green from (min-hash seed, token): windows that differ but share
            # the seed and the token repeat the same decision, so de-duplicate on that pair
            h = self.context_width
            k0, k1, _ = self._k
            win = full[positions[:, None] - (h - 1) + np.arange(h)]
            th = P.token_hash_np(win, k1)
            return mix64(P.self_min_np(th, k0) ^ mix64(th[:, -1]))
        return super()._repeat_keys(full, positions)

    def _values_hf(self, full: np.ndarray, positions: np.ndarray) -> np.ndarray:
        from probity.watermark import _hfcompat as H

        if self.vocab_size is None:
            raise InputError(
                "the hf-compat backend needs vocab_size (the model config's "
                "vocab_size); pass it or detect through a model/tokenizer"
            )
        if full.max(initial=0) >= self.vocab_size:
            raise InputError(
                f"token id {int(full.max())} is outside vocab_size "
                f"{self.vocab_size}; is this the right tokenizer?"
            )
        h = self.context_width
        if self.seeding == "lefthash":
            seeds = H.lefthash_seeds(full[positions - 1], self.hashing_key)
        else:
            win = full[positions[:, None] - (h - 1) + np.arange(h)]
            seeds = H.selfhash_seeds(win, self.hashing_key)
        return H.green_tokens(
            seeds, full[positions], self.vocab_size, int(self.vocab_size * self.gamma)
        )

    def _null_pvalues(self, stat: np.ndarray, n: np.ndarray) -> np.ndarray:
        return binomial_sf(stat, n, self.gamma)

    def _null_label(self) -> str:
        return (
            f"binomial(n, gamma={self.gamma:g}): each scored token green independently "
            "(not calibrated for this key)"
        )

    def _z(self, stat: float, n: float) -> float:
        return z_binomial(stat, n, self.gamma)

    def green_mask(self, context: Sequence[int] | np.ndarray, vocab_size: int) -> np.ndarray:
        """The green list after ``context`` as a boolean mask over ``vocab_size`` tokens."""
        ctx = _as_ids(context, "context")
        adj = self.adjuster(vocab_size)
        return adj.green(ctx[None, :], vocab_size)[0]

    def logits_processor(self, vocab_size: int, **kw: Any) -> Any:
        """A batched transformers ``LogitsProcessor`` (torch) for ``model.generate``.

        ``fast`` backend, ``lefthash`` seeding: ``cache_bytes=`` (default 128 MiB; 0 disables)
        bounds the processor's per-context cache of green lists (LRU; see
        ``probity.watermark._torch._RowCache``); outputs are identical with or without it."""
        if self.backend == "hf-compat":
            from transformers.generation.logits_process import WatermarkLogitsProcessor

            # transformers' own processor is the reference this backend matches bit for bit.
            return WatermarkLogitsProcessor(
                vocab_size=self.vocab_size or vocab_size,
                device=kw.get("device", "cpu"),
                greenlist_ratio=self.gamma,
                bias=self.delta,
                hashing_key=self.hashing_key,
                seeding_scheme=self.seeding,
                context_width=self.context_width,
            )
        from probity.watermark._torch import ROW_CACHE_BYTES, KGWLogitsProcessor

        return KGWLogitsProcessor(
            self._k,
            self._thr,
            self.delta,
            self.hard,
            self.context_width,
            self.seeding,
            cache_bytes=int(kw.get("cache_bytes", ROW_CACHE_BYTES)),
        )

    def adjuster(self, vocab_size: int, **kw: Any) -> Any:
        """A numpy :class:`~probity.lm.LogitsAdjuster` for :func:`probity.lm.sample`."""
        return _KGWAdjuster(self, vocab_size)


class _KGWAdjuster:
    """numpy green lists for :func:`probity.lm.sample` (the same maths as the processor)."""

    def __init__(self, scheme: KGWScheme, vocab_size: int) -> None:
        self.s = scheme
        self.vocab_size = int(vocab_size)

    def green(self, input_ids: np.ndarray, vocab: int) -> np.ndarray:
        s = self.s
        ids = np.asarray(input_ids, dtype=np.int64)
        b, length = ids.shape
        h = s.context_width
        need = h if s.seeding == "lefthash" else h - 1
        if length < need:
            return np.ones((b, vocab), dtype=bool)
        if s.backend == "hf-compat":
            from probity.watermark import _hfcompat as H

            v = s.vocab_size or vocab
            k = int(v * s.gamma)
            if s.seeding != "lefthash":
                raise InputError(
                    "the numpy sampler supports hf-compat lefthash only; use "
                    "the transformers processor (HFModel.generate) for selfhash"
                )
            lists = H.green_lists(H.lefthash_seeds(ids[:, -1], s.hashing_key), v, k)
            out = np.zeros((b, vocab), dtype=bool)
            np.put_along_axis(out, lists, True, axis=1)
            return out
        k0, k1, k2 = s._k
        table = P.token_hash_np(np.arange(vocab), k1)
        if s.seeding == "lefthash":
            seed = P.left_context_np(ids[:, length - h :], k0, k1)[:, None]
        else:
            g = P.mix_np(np.uint64(k0) ^ table)[None, :]
            if h > 1:
                m = P.self_min_np(P.token_hash_np(ids[:, length - h + 1 :], k1), k0)[:, None]
                seed = np.minimum(g, m)
            else:
                seed = np.repeat(g, b, axis=0)
        return P.green_np(P.prf_np(seed, table[None, :], k2), s._thr)

    def __call__(self, input_ids: np.ndarray, logits: np.ndarray) -> np.ndarray:
        logits = np.asarray(logits, dtype=np.float64)
        green = self.green(input_ids, logits.shape[-1])
        if self.s.hard:
            return np.where(green, logits, -np.inf)
        return logits + self.s.delta * green


class GumbelScheme(WatermarkScheme):
    """Distortion-free Gumbel-max watermark (Aaronson).

    ``context_width`` h >= 1 tokens seed the keyed uniforms; ``temperature`` > 0 is applied to
    the logits before the Gumbel-max choice (the processor's output is one-hot, so later
    warpers do not change it).

    Two steps are ordinary samples (from the sampler's seeded RNG) instead of the keyed
    choice, as in Aaronson's scheme and SynthID: the first generated token, so that different
    seeds give different texts, and every step whose context (the last h tokens) already
    occurred earlier in the same generation, so that a revisited context does not replay the
    same continuation and the text does not loop. Detection scores only the first occurrence
    of each context (a repeated context carries no new evidence).
    """

    name = "gumbel"

    def __init__(
        self,
        key: WatermarkKey | int | None = None,
        *,
        context_width: int = 2,
        temperature: float = 1.0,
    ) -> None:
        if int(context_width) < 1:
            raise InputError(
                f"gumbel needs context_width >= 1, got {context_width} (with no context every "
                "step would reuse the same uniforms)"
            )
        if temperature <= 0:
            raise InputError(f"temperature must be > 0, got {temperature}")
        self.context_width = int(context_width)
        self.temperature = float(temperature)
        self.key = key
        secret, self.key_id = _key_material(key)
        self._k = P.derive_words(secret, "gumbel")

    def public_params(self) -> dict[str, Any]:
        return {"scheme": "gumbel", "context_width": self.context_width, "key_id": self.key_id}

    def _repeat_keys(self, full: np.ndarray, positions: np.ndarray) -> np.ndarray:
        # generation falls back to ordinary sampling at a repeated context, so only the first
        # occurrence of each context (the h tokens before the position) carries the watermark
        h = self.context_width
        return ngram_hashes(mix64(full.astype(np.uint64)), h)[positions - h]

    def _values(self, full: np.ndarray, positions: np.ndarray) -> np.ndarray:
        h = self.context_width
        k0, k1, k2 = self._k
        ctx = full[positions[:, None] - h + np.arange(h)]
        seed = P.left_context_np(ctx, k0, k1)
        u = P.to_unit_np(P.prf_np(seed, P.token_hash_np(full[positions], k1), k2))
        return -np.log1p(-u)

    def _is_green(self, values: np.ndarray) -> np.ndarray:
        return values > np.log(2.0)

    def _null_pvalues(self, stat: np.ndarray, n: np.ndarray) -> np.ndarray:
        return gamma_sf(stat, n)

    def _null_label(self) -> str:
        return "gamma(n, 1): each scored token's -log(1-u) Exp(1) independently (not calibrated)"

    def _z(self, stat: float, n: float) -> float:
        return z_gamma(stat, n)

    def logits_processor(self, vocab_size: int, **kw: Any) -> Any:
        from probity.watermark._torch import GumbelLogitsProcessor

        return GumbelLogitsProcessor(
            self._k, self.context_width, kw.get("temperature", self.temperature)
        )

    def uniforms(self, contexts: np.ndarray, vocab_size: int) -> np.ndarray:
        """The keyed uniforms ``u`` (``(batch, vocab)``) after ``(batch, h)`` contexts."""
        k0, k1, k2 = self._k
        table = P.token_hash_np(np.arange(vocab_size), k1)
        seed = P.left_context_np(contexts, k0, k1)
        return P.to_unit_np(P.prf_np(seed[:, None], table[None, :], k2))

    def adjuster(self, vocab_size: int, **kw: Any) -> Any:
        return _GumbelAdjuster(self, kw.get("temperature", self.temperature))


class ContextTracker:
    """Which rows of a batch may take the keyed choice at this step (Gumbel, SynthID).

    One tracker per generation call: the first call sees the prompts, and its step is an
    ordinary sample (so seeds vary the text); afterwards a row is watermarked only when its
    context (the last ``h`` tokens) has not occurred before in that row's generation.
    """

    def __init__(self, h: int) -> None:
        self.h = h
        self.seen: list[set[tuple[int, ...]]] | None = None

    def watermark_rows(self, ids: np.ndarray) -> np.ndarray:
        b, length = ids.shape
        ctxs = [tuple(r) for r in ids[:, length - self.h :].tolist()]
        if self.seen is None or len(self.seen) != b:
            self.seen = [{c} for c in ctxs]
            return np.zeros(b, dtype=bool)
        fresh = np.array([c not in s for c, s in zip(ctxs, self.seen, strict=True)], dtype=bool)
        for c, s in zip(ctxs, self.seen, strict=True):
            s.add(c)
        return fresh


class _GumbelAdjuster:
    def __init__(self, scheme: GumbelScheme, temperature: float) -> None:
        self.s = scheme
        self.temperature = temperature
        self.tracker = ContextTracker(scheme.context_width)

    def __call__(self, input_ids: np.ndarray, logits: np.ndarray) -> np.ndarray:
        logits = np.asarray(logits, dtype=np.float64)
        ids = np.asarray(input_ids, dtype=np.int64)
        h = self.s.context_width
        if ids.shape[1] < h:
            return logits
        rows = self.tracker.watermark_rows(ids)
        if not rows.any():
            return logits
        u = self.s.uniforms(ids[rows, -h:], logits.shape[-1])
        with np.errstate(divide="ignore"):
            choice = np.argmax(logits[rows] / self.temperature - np.log(-np.log(u)), axis=-1)
        out = logits.copy()
        one_hot = np.full((int(rows.sum()), logits.shape[-1]), -np.inf)
        one_hot[np.arange(len(choice)), choice] = 0.0
        out[rows] = one_hot
        return out


SCHEMES = ("kgw", "gumbel", "unigram", "synthid")


def make_scheme(
    name: str = "kgw", key: WatermarkKey | int | None = None, **params: Any
) -> WatermarkScheme:
    """Build a scheme by name: ``"kgw"`` (see :class:`KGWScheme` for ``params``) or
        ``"gumbel"`` (:class:`GumbelScheme`). ``key`` is a :class:`WatermarkKey`, an integer
        (for ``hf-compat``: transformers' ``hashing_key``) or ``None`` (a public demo key /
        transformers' default hashing key: not secret). ``"unigram"`` is KGW with
        ``context_width=0`` (Zhao et al.: one fixed green list); ``"synthid"`` is SynthID-Text
    (:class:`~probity.watermark.synthid.SynthIDScheme`, transformers-compatible). ``calibration=`` applies a key's
        :class:`~probity.watermark.calibration.Calibration` to detection."""
    calibration = params.pop("calibration", None)
    try:
        if name == "kgw":
            out: WatermarkScheme = KGWScheme(key, **params)
        elif name == "unigram":
            if params.pop("context_width", 0) not in (0, None):
                raise InputError("the unigram scheme has context_width 0")
            out = KGWScheme(key, context_width=0, **params)
        elif name == "gumbel":
            out = GumbelScheme(key, **params)
        elif name == "synthid":
            from probity.watermark.synthid import SynthIDScheme

            out = SynthIDScheme(key, **params)
        else:
            out = None  # type: ignore[assignment]
    except TypeError as exc:
        raise InputError(f"bad parameter for scheme {name!r}: {exc}") from exc
    if out is not None:
        return out.with_calibration(calibration) if calibration is not None else out
    raise InputError(f"unknown watermark scheme {name!r}; choose one of {list(SCHEMES)}")
