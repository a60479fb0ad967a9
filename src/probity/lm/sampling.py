"""A numpy sampler for any :class:`~probity.lm.NextTokenModel`.

It exists so that a watermark (any :class:`~probity.lm.LogitsAdjuster`) can drive models that
are not transformers models (llama.cpp, a remote logits service). For transformers models,
``HFModel.generate(..., logits_processors=[...])`` uses transformers' own loop.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from probity.errors import InputError
from probity.lm.base import (
    Completion,
    GenerationParams,
    LogitsAdjuster,
    NextTokenModel,
    cut_at_stop,
)


def _filter_top_p(logits: np.ndarray, top_p: float) -> np.ndarray:
    order = np.argsort(-logits, axis=-1)
    sorted_logits = np.take_along_axis(logits, order, axis=-1)
    probs = np.exp(sorted_logits - sorted_logits[:, :1])
    probs /= probs.sum(axis=-1, keepdims=True)
    cum = np.cumsum(probs, axis=-1)
    drop_sorted = cum - probs > top_p  # keep the smallest prefix whose mass reaches top_p
    drop = np.zeros_like(drop_sorted)
    np.put_along_axis(drop, order, drop_sorted, axis=-1)
    return np.where(drop, -np.inf, logits)


def sample(
    model: NextTokenModel,
    prompts: Sequence[str],
    params: GenerationParams | None = None,
    adjusters: Sequence[LogitsAdjuster] = (),
) -> list[Completion]:
    """Sample completions token by token, applying ``adjusters`` to the logits at each step.

    Batched over prompts x n; the same inputs and ``params.seed`` give the same outputs.
    """
    params = params or GenerationParams()
    rng = np.random.default_rng(params.seed)
    rows = [(i, j, model.encode(p)) for i, p in enumerate(prompts) for j in range(params.n)]
    if any(len(ids) == 0 for _, _, ids in rows):
        raise InputError("a prompt encodes to no tokens; give a non-empty prompt")
    results: list[Completion] = []
    width = max(len(ids) for _, _, ids in rows)
    eos = model.eos_token_id
    pad = eos if eos is not None else 0
    batch = np.full((len(rows), width), pad, dtype=np.int64)
    for r, (_, _, ids) in enumerate(rows):
        batch[r, width - len(ids) :] = ids  # right-aligned: the last column is the last token
    done = np.zeros(len(rows), dtype=bool)
    new_tokens: list[list[int]] = [[] for _ in rows]
    for _ in range(params.max_new_tokens):
        logits = model.next_token_logits(batch).astype(np.float64)
        for adjust in adjusters:
            logits = np.asarray(adjust(batch, logits), dtype=np.float64)
        if params.temperature == 0:
            nxt = np.argmax(logits, axis=-1)
        else:
            logits = logits / params.temperature
            if params.top_k:
                kth = np.partition(logits, -params.top_k, axis=-1)[:, -params.top_k][:, None]
                logits = np.where(logits < kth, -np.inf, logits)
            if params.top_p < 1:
                logits = _filter_top_p(logits, params.top_p)
            probs = np.exp(logits - logits.max(axis=-1, keepdims=True))
            probs /= probs.sum(axis=-1, keepdims=True)
            u = rng.random((len(rows), 1))
            nxt = (probs.cumsum(axis=-1) < u).sum(axis=-1).clip(max=probs.shape[1] - 1)
        for r, tok in enumerate(nxt.tolist()):
            if done[r]:
                continue
            if eos is not None and tok == eos:
                done[r] = True
            else:
                new_tokens[r].append(int(tok))
        batch = np.concatenate([batch, nxt[:, None].astype(np.int64)], axis=1)
        if done.all():
            break
    for r, (pi, j, ids) in enumerate(rows):
        text, stopped = cut_at_stop(model.decode(new_tokens[r]), params.stop)
        reason = "stop" if (done[r] or stopped) else "length"
        results.append(
            Completion(
                text=text,
                prompt_index=pi,
                index=j,
                finish_reason=reason,
                completion_tokens=len(new_tokens[r]),
                prompt_tokens=len(ids),
                token_ids=tuple(new_tokens[r]),
            )
        )
    return results
