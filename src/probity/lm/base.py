"""The protocols and value types of the ``lm`` engine."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from probity.errors import InputError

Message = dict[str, str]  # {"role": "user", "content": "..."}


@dataclass(frozen=True)
class GenerationParams:
    """Sampling parameters shared by every backend.

    ``temperature`` 0 means greedy decoding; ``top_p`` in (0, 1] is nucleus sampling;
    ``top_k`` 0 disables top-k; ``n`` completions per prompt; ``seed`` makes sampling
    reproducible; generation stops at the first of ``stop`` strings (not included).
    """

    max_new_tokens: int = 64
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    n: int = 1
    seed: int | None = None
    stop: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise InputError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")
        if self.temperature < 0:
            raise InputError(f"temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise InputError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.top_k < 0:
            raise InputError(f"top_k must be >= 0, got {self.top_k}")
        if self.n < 1:
            raise InputError(f"n must be >= 1, got {self.n}")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["stop"] = list(self.stop)
        return d


@dataclass(frozen=True)
class Completion:
    """One completion. ``finish_reason`` is ``"stop"`` (EOS or a stop string), ``"length"``
    (``max_new_tokens`` reached) or a backend's own reason such as ``"content_filter"``.
    ``prompt_index`` is the prompt it answers, ``index`` its number among that prompt's ``n``.
    """

    text: str
    prompt_index: int = 0
    index: int = 0
    finish_reason: str = "stop"
    completion_tokens: int = 0
    prompt_tokens: int = 0
    token_ids: tuple[int, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["token_ids"] = list(self.token_ids)
        return d


@runtime_checkable
class TextGenerator(Protocol):
    """Anything that turns prompts into completions.

    ``generate`` returns ``len(prompts) * params.n`` completions, prompt-major (all of
    prompt 0's, then prompt 1's, ...). ``chat`` does the same for conversations, applying
    the model's chat template where it has one.
    """

    name: str

    def generate(
        self, prompts: Sequence[str], params: GenerationParams | None = None
    ) -> list[Completion]: ...

    def chat(
        self, conversations: Sequence[Sequence[Message]], params: GenerationParams | None = None
    ) -> list[Completion]: ...


@runtime_checkable
class NextTokenModel(Protocol):
    """A model that gives next-token logits: what watermarked sampling and scoring need.

    ``next_token_logits`` takes a right-aligned batch of token ids (``int64``, shape
    ``(batch, length)``) and returns ``float32`` logits of shape ``(batch, vocab_size)`` for
    the token after the last one of each row.
    """

    name: str
    vocab_size: int
    eos_token_id: int | None

    def encode(self, text: str) -> list[int]: ...

    def decode(self, ids: Sequence[int]) -> str: ...

    def next_token_logits(self, input_ids: np.ndarray) -> np.ndarray: ...


class LogitsAdjuster(Protocol):
    """One change to next-token scores, as in transformers' ``LogitsProcessor``.

    Called with the ids so far ``(batch, length)`` and the logits ``(batch, vocab)``; returns
    the adjusted logits (numpy). Watermark schemes implement this for :func:`probity.lm.sample`.
    """

    def __call__(self, input_ids: np.ndarray, logits: np.ndarray) -> np.ndarray: ...


def check_prompts(prompts: Sequence[str]) -> list[str]:
    """Validate a batch of prompts: a non-empty list of strings."""
    if isinstance(prompts, str):
        raise InputError("prompts must be a list of strings, not one string")
    out = list(prompts)
    if not out:
        raise InputError("no prompts given")
    for i, p in enumerate(out):
        if not isinstance(p, str):
            raise InputError(f"prompt {i} is {type(p).__name__}, expected str")
    return out


def cut_at_stop(text: str, stop: Sequence[str]) -> tuple[str, bool]:
    """Cut ``text`` at the first occurrence of any stop string; returns ``(text, stopped)``."""
    best = -1
    for s in stop:
        if not s:
            continue
        i = text.find(s)
        if i != -1 and (best == -1 or i < best):
            best = i
    return (text[:best], True) if best != -1 else (text, False)
