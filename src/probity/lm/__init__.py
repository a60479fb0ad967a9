"""Access to language models behind two small protocols.

* :class:`TextGenerator`: prompts (or chat conversations) -> completions. Implemented by
  :class:`HFModel` (a local transformers model) and :class:`OpenAICompatGenerator` (any
  OpenAI-compatible HTTP endpoint).
* :class:`NextTokenModel`: next-token logits, for watermarked sampling and scoring.
  Implemented by :class:`HFModel`.

:func:`load_model` loads by hub name or local path and never downloads when offline;
``"probity-demo"`` (the default) is the small model embedded in the package.
"""

from probity.lm.base import (
    Completion,
    GenerationParams,
    LogitsAdjuster,
    NextTokenModel,
    TextGenerator,
)
from probity.lm.embedded import DEMO_MODEL, demo_model_path
from probity.lm.hf import HFModel, load_model
from probity.lm.openai_compat import OpenAICompatGenerator
from probity.lm.sampling import sample
from probity.lm.select import open_generator

__all__ = [
    "DEMO_MODEL",
    "Completion",
    "GenerationParams",
    "HFModel",
    "LogitsAdjuster",
    "NextTokenModel",
    "OpenAICompatGenerator",
    "TextGenerator",
    "demo_model_path",
    "load_model",
    "open_generator",
    "sample",
]
