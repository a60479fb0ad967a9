"""Choose a :class:`~probity.lm.TextGenerator` from command-line style arguments."""

from __future__ import annotations

from probity.lm.base import TextGenerator


def open_generator(
    model: str | None = None,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    concurrency: int = 4,
    timeout: float = 60.0,
) -> TextGenerator:
    """A local model (``model`` is a path, hub name or ``None`` for the demo model), or, when
    ``base_url`` is given, the OpenAI-compatible endpoint serving ``model``."""
    if base_url:
        from probity.lm.openai_compat import OpenAICompatGenerator

        return OpenAICompatGenerator(
            base_url, model or "default", api_key=api_key, concurrency=concurrency, timeout=timeout
        )
    from probity.lm.hf import load_model

    return load_model(model)
