"""Zero-shot detection statistics computed from language-model logits.

Both statistics are computed for a whole batch in a few tensor operations (no per-token
Python loop). For a text ``x_1..x_T`` and a model giving next-token distributions ``p_t``:

* **Fast-DetectGPT** (Bao et al., 2024), analytic form with one model for sampling and
  scoring: ``D = (sum_t log p_t(x_t) - sum_t mu_t) / sqrt(sum_t s2_t)`` where
  ``mu_t = sum_v p_t(v) log p_t(v)`` and ``s2_t = sum_v p_t(v) (log p_t(v))^2 - mu_t^2`` are the
  mean and variance of the log-likelihood of a token *sampled from the model itself*. Machine
  text sits near the model's own mode, so ``D`` is large; human text has lower ``D``.
* **Binoculars** (Hans et al., 2024): ``B = logPPL_perf(x) / XPPL(obs, perf)`` with
  ``logPPL_perf = -mean_t log q_t(x_t)`` and ``XPPL = mean_t sum_v p_t(v) * (-log q_t(v))``
  (``p`` the observer, ``q`` the performer). Low ``B`` means machine-like. Probity reports
  ``-B`` so that for every detector a higher score means "more machine-like".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from probity.errors import InputError, require


def context_window(model: Any) -> int | None:
    """The model's maximum sequence length (position embeddings), or None when unknown."""
    cfg = getattr(getattr(model, "model", None), "config", None)
    n = getattr(cfg, "n_positions", 0) or getattr(cfg, "max_position_embeddings", 0)
    return int(n) if n else None


def scored_length(model: Any, max_tokens: int) -> int:
    """Tokens of each text that are scored: ``max_tokens``, capped at the context window."""
    window = context_window(model)
    return min(max_tokens, window) if window else max_tokens


def _encode(model: Any, text: str, limit: int) -> list[int]:
    """The first ``limit`` token ids of ``text``. Texts longer than the model's window are
    truncated here on purpose, so transformers' "sequence is longer than the maximum" warning
    (meant for feeding the whole sequence to the model) is switched off for this tokenizer."""
    warned = getattr(getattr(model, "tokenizer", None), "deprecation_warnings", None)
    if isinstance(warned, dict):
        warned["sequence-length-is-longer-than-the-specified-maximum"] = True
    return list(model.encode(text))[:limit]


def _batch_ids(model: Any, texts: Sequence[str], max_tokens: int) -> tuple[Any, Any, list[int]]:
    torch = require("torch", "hf")
    limit = scored_length(model, max_tokens)
    encoded = [_encode(model, t, limit) for t in texts]
    lengths = [len(e) for e in encoded]
    width = max(max(lengths), 2)
    pad = model.eos_token_id if model.eos_token_id is not None else 0
    ids = torch.full((len(texts), width), pad, dtype=torch.long)
    mask = torch.zeros((len(texts), width), dtype=torch.long)
    for i, e in enumerate(encoded):
        if e:
            ids[i, : len(e)] = torch.tensor(e, dtype=torch.long)
            mask[i, : len(e)] = 1
    return ids, mask, lengths


def _log_probs(model: Any, ids: Any, mask: Any) -> Any:
    torch = require("torch", "hf")
    with torch.inference_mode():
        logits = model.model(
            input_ids=ids.to(model.device), attention_mask=mask.to(model.device)
        ).logits
    return torch.log_softmax(logits[:, :-1, :].float(), dim=-1).cpu()


def token_counts(model: Any, texts: Sequence[str], max_tokens: int = 512) -> list[int]:
    """How many tokens of each text a detector scores (the first token has no context)."""
    limit = scored_length(model, max_tokens)
    return [max(0, len(_encode(model, t, limit)) - 1) for t in texts]


def fast_detectgpt_scores(
    model: Any, texts: Sequence[str], *, max_tokens: int = 512, batch_size: int = 8
) -> np.ndarray:
    """Analytic Fast-DetectGPT criterion for each text (higher = more machine-like).

    Texts shorter than 2 tokens get NaN.
    """
    torch = require("torch", "hf")
    out = np.full(len(texts), np.nan)
    for start in range(0, len(texts), batch_size):
        chunk = list(texts[start : start + batch_size])
        ids, mask, lengths = _batch_ids(model, chunk, max_tokens)
        logp = _log_probs(model, ids, mask)  # (B, L-1, V)
        target = ids[:, 1:]
        valid = mask[:, 1:].bool()
        ll = logp.gather(-1, target.unsqueeze(-1)).squeeze(-1)
        plogp = logp.exp() * logp  # one (B, L, V) temporary, reused for both moments
        mu = plogp.sum(-1)
        s2 = torch.linalg.vecdot(plogp, logp) - mu.square()
        num = ((ll - mu) * valid).sum(-1)
        den = (s2 * valid).sum(-1).clamp_min(1e-12).sqrt()
        scores = (num / den).numpy()
        for i, n in enumerate(lengths):
            if n >= 2:
                out[start + i] = float(scores[i])
    return out


def binoculars_scores(
    observer: Any,
    performer: Any,
    texts: Sequence[str],
    *,
    max_tokens: int = 512,
    batch_size: int = 8,
) -> np.ndarray:
    """Negated Binoculars score ``-logPPL_perf / XPPL(obs, perf)`` (higher = more machine-like).

    ``observer`` and ``performer`` must share a tokenizer (same vocabulary); they may be the
    same model, which reduces Binoculars to perplexity normalised by the model's own entropy.
    """
    if observer is not performer and observer.vocab_size != performer.vocab_size:
        raise InputError(
            f"Binoculars needs two models with one tokenizer; vocabularies differ "
            f"({observer.vocab_size} vs {performer.vocab_size})"
        )
    out = np.full(len(texts), np.nan)
    max_tokens = min(scored_length(observer, max_tokens), scored_length(performer, max_tokens))
    for start in range(0, len(texts), batch_size):
        chunk = list(texts[start : start + batch_size])
        ids, mask, lengths = _batch_ids(performer, chunk, max_tokens)
        logq = _log_probs(performer, ids, mask)
        logp = logq if observer is performer else _log_probs(observer, ids, mask)
        target = ids[:, 1:]
        valid = mask[:, 1:].float()
        nll = -logq.gather(-1, target.unsqueeze(-1)).squeeze(-1)
        xent = -(logp.exp() * logq).sum(-1)
        count = valid.sum(-1).clamp_min(1.0)
        log_ppl = (nll * valid).sum(-1) / count
        x_ppl = (xent * valid).sum(-1) / count
        scores = (-(log_ppl / x_ppl.clamp_min(1e-12))).numpy()
        for i, n in enumerate(lengths):
            if n >= 2:
                out[start + i] = float(scores[i])
    return out


def log_perplexity_scores(
    model: Any, texts: Sequence[str], *, max_tokens: int = 512, batch_size: int = 8
) -> np.ndarray:
    """Negated mean token log-perplexity (the classic baseline; higher = more machine-like)."""
    out = np.full(len(texts), np.nan)
    for start in range(0, len(texts), batch_size):
        chunk = list(texts[start : start + batch_size])
        ids, mask, lengths = _batch_ids(model, chunk, max_tokens)
        logp = _log_probs(model, ids, mask)
        valid = mask[:, 1:].float()
        ll = logp.gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
        scores = ((ll * valid).sum(-1) / valid.sum(-1).clamp_min(1.0)).numpy()
        for i, n in enumerate(lengths):
            if n >= 2:
                out[start + i] = float(scores[i])
    return out
