"""The request bodies the gateway accepts (pydantic), cleaned before anything reads them.

Strings in a body are cleaned once, on arrival: JSON allows lone UTF-16 surrogates
(``"\\ud800"``) that no UTF-8 encoder, tokenizer or log can take, so each becomes U+FFFD.
``seed`` must fit a signed 64-bit integer (OpenAI's and vLLM's range).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

_SURROGATE = re.compile("[\ud800-\udfff]")
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

#: Client parameters forwarded to an upstream as they are (after validation).
PASS_THROUGH = ("frequency_penalty", "presence_penalty", "user", "logit_bias")


def clean_text(s: str) -> str:
    """``s`` with every lone surrogate replaced by U+FFFD (valid pairs are already joined)."""
    return _SURROGATE.sub("\ufffd", s) if _SURROGATE.search(s) else s


def _clean(obj: Any) -> Any:
    if isinstance(obj, str):
        return clean_text(obj)
    if isinstance(obj, list):
        return [_clean(x) for x in obj]
    if isinstance(obj, dict):
        return {clean_text(k) if isinstance(k, str) else k: _clean(v) for k, v in obj.items()}
    return obj


class _Clean(BaseModel):
    @model_validator(mode="before")
    @classmethod
    def _no_surrogates(cls, data: Any) -> Any:
        return _clean(data)


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    include_usage: bool = False


class GenerationRequest(_Clean):
    """What chat and legacy completions share."""

    model_config = ConfigDict(extra="allow")

    model: str
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    temperature: float = Field(1.0, ge=0, le=2)
    top_p: float = Field(1.0, gt=0, le=1)
    n: int = Field(1, ge=1)
    seed: int | None = Field(None, ge=INT64_MIN, le=INT64_MAX)
    stop: str | list[str] | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    user: str | None = None
    frequency_penalty: float | None = Field(None, ge=-2, le=2)
    presence_penalty: float | None = Field(None, ge=-2, le=2)
    logit_bias: dict[str, float] | None = None

    def passthrough(self) -> dict[str, Any]:
        """The optional parameters the client set that an upstream receives unchanged."""
        out = {k: getattr(self, k) for k in PASS_THROUGH if getattr(self, k) is not None}
        if self.stream and self.stream_options is not None:
            out["stream_options"] = self.stream_options.model_dump()
        return out


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(GenerationRequest):
    messages: list[ChatMessage] = Field(min_length=1)


class CompletionRequest(GenerationRequest):
    prompt: str | list[str]


class ScanRequest(_Clean):
    model_config = ConfigDict(extra="forbid")

    text: str
    direction: str = "input"
    policy: str | None = None


class TextRequest(_Clean):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1)


class OverlapRequest(_Clean):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1)
    index: str = Field(min_length=1)
    min_tokens: int | None = Field(None, ge=1)
    threshold: float | None = Field(None, gt=0, le=1)


class DetectRequest(_Clean):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1)
    fpr: float | None = Field(None, gt=0, lt=1)
    prompt: str | None = None


class ModerationRequest(_Clean):
    """OpenAI's ``/v1/moderations`` body: ``input`` a string, a list of strings, or a list of
    ``{"type": "text", "text": ...}`` parts (image parts are not scanned)."""

    model_config = ConfigDict(extra="allow")

    input: str | list[str] | list[dict[str, Any]]
    model: str | None = None

    def texts(self) -> list[str]:
        if isinstance(self.input, str):
            return [self.input]
        out = []
        for x in self.input:
            if isinstance(x, str):
                out.append(x)
            elif isinstance(x, dict) and x.get("type") == "text":
                out.append(str(x.get("text", "")))
        return out


def text_parts(content: str | list[dict[str, Any]] | None) -> list[str]:
    """The texts a message's content holds (a string, or the ``text`` parts of a list)."""
    if content is None:
        return []
    if isinstance(content, str):
        return [content]
    return [str(p.get("text", "")) for p in content if p.get("type") == "text"]


def with_texts(
    content: str | list[dict[str, Any]] | None, texts: list[str]
) -> str | list[dict[str, Any]] | None:
    """``content`` with its text parts replaced by ``texts`` (in order); other parts kept."""
    if content is None:
        return None
    if isinstance(content, str):
        return texts[0]
    it = iter(texts)
    return [{**p, "text": next(it)} if p.get("type") == "text" else p for p in content]
