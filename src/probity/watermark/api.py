"""Text-level helpers: tokenise and detect, generate with a watermark."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from probity.errors import InputError, ModelError
from probity.watermark.detection import Detection
from probity.watermark.schemes import KGWScheme, WatermarkScheme


def _resolve_tokenizer(tokenizer_or_model: Any) -> tuple[Any, int | None]:
    """Return ``(encode function, vocab size or None)`` for a model, tokenizer or path."""
    if hasattr(tokenizer_or_model, "next_token_logits") and hasattr(tokenizer_or_model, "encode"):
        return tokenizer_or_model.encode, int(tokenizer_or_model.vocab_size)
    if isinstance(tokenizer_or_model, str) or hasattr(tokenizer_or_model, "__fspath__"):
        return _load_tokenizer(str(tokenizer_or_model))
    if callable(getattr(tokenizer_or_model, "encode", None)):
        return _tok_encode(tokenizer_or_model), len(tokenizer_or_model)
    raise InputError(
        f"cannot tokenise with {type(tokenizer_or_model).__name__}; pass a model, "
        "a transformers tokenizer or a model path"
    )


_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.json", "tokenizer.model")


def _load_tokenizer(ref: str) -> tuple[Any, int | None]:
    """A tokenizer by path or hub name: a model folder, or a tokenizer-only folder (no
    config.json: the vocabulary size is then the tokenizer's length). A path that does not
    exist or holds no tokenizer is an :class:`InputError` (bad input, exit 2)."""
    from pathlib import Path

    from probity.errors import require
    from probity.lm.hf import _from_pretrained, resolve_model_path

    transformers = require("transformers", "hf")
    p = Path(ref).expanduser()
    if p.is_dir() and not (p / "config.json").exists():
        if not any((p / f).exists() for f in _TOKENIZER_FILES):
            raise InputError(
                f"--tokenizer {ref!r} holds neither a model nor a tokenizer (no config.json, "
                "tokenizer.json or tokenizer_config.json)"
            )
        try:
            tok = transformers.AutoTokenizer.from_pretrained(str(p), local_files_only=True)
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot load the tokenizer in {ref!r}: {exc}") from exc
        return _tok_encode(tok), len(tok)
    try:
        local_ref, local = resolve_model_path(ref)
        tok = _from_pretrained(transformers.AutoTokenizer, local_ref, local)
    except ModelError as exc:
        raise InputError(f"cannot load tokenizer {ref!r}: {exc}") from exc
    try:
        vocab = int(
            transformers.AutoConfig.from_pretrained(local_ref, local_files_only=True).vocab_size
        )
    except (OSError, ValueError, AttributeError):
        vocab = len(tok)
    return _tok_encode(tok), vocab


def _tok_encode(tok: Any):
    def encode(text: str) -> list[int]:
        try:
            return list(tok(text, add_special_tokens=False)["input_ids"])
        except TypeError:
            return list(tok.encode(text))

    return encode


def strip_prompt(text: str, prompt: str | None) -> str:
    """Drop everything up to the end of ``prompt`` when the text contains it (chat transcripts,
    echoed prompts); otherwise return ``text``."""
    if prompt:
        i = text.find(prompt)
        if i >= 0:
            return text[i + len(prompt) :]
    return text


def detect_text(
    text: str,
    scheme: WatermarkScheme,
    tokenizer_or_model: Any,
    *,
    prompt: str | None = None,
    fpr: float = 1e-4,
    windowed: bool = False,
    ignore_repeated: bool = True,
) -> Detection:
    """Tokenise ``text`` (without special tokens) and :meth:`~WatermarkScheme.detect` it.

    ``prompt``: stripped from the text when echoed in it and used as context only.
    """
    if not isinstance(text, str) or not text.strip():
        raise InputError("the text to detect is empty")
    encode, vocab = _resolve_tokenizer(tokenizer_or_model)
    if (
        isinstance(scheme, KGWScheme)
        and scheme.backend == "hf-compat"
        and scheme.vocab_size is None
    ):
        scheme = scheme.with_vocab_size(vocab) if vocab else scheme
    body = strip_prompt(text, prompt)
    ids = encode(body)
    prompt_ids = encode(prompt) if prompt else None
    return scheme.detect(
        ids, fpr=fpr, prompt_ids=prompt_ids, windowed=windowed, ignore_repeated=ignore_repeated
    )


def generate(
    model: Any, prompts: Sequence[str], scheme: WatermarkScheme, params: Any = None
) -> list[Any]:
    """Generate watermarked completions from ``model``.

    An :class:`~probity.lm.HFModel` uses transformers' ``generate`` with the scheme's
    ``LogitsProcessor``; any other :class:`~probity.lm.NextTokenModel` uses
    :func:`probity.lm.sample` with the scheme's numpy adjuster.
    """
    from probity.lm import GenerationParams, sample

    params = params or GenerationParams()
    temp = params.temperature if params.temperature > 0 else 1.0
    if not hasattr(model, "next_token_logits"):
        raise ModelError(
            f"{getattr(model, 'name', model)!r} does not expose next-token logits, "
            "so it cannot be watermarked; use a local model"
        )
    if (
        isinstance(scheme, KGWScheme)
        and scheme.backend == "hf-compat"
        and scheme.vocab_size is None
    ):
        scheme = scheme.with_vocab_size(int(model.vocab_size))
    if hasattr(model, "model") and hasattr(model, "generate") and hasattr(model, "tokenizer"):
        proc = scheme.logits_processor(int(model.vocab_size), temperature=temp)
        return model.generate(list(prompts), params, logits_processors=[proc])
    return sample(
        model,
        list(prompts),
        params,
        adjusters=[scheme.adjuster(int(model.vocab_size), temperature=temp)],
    )
