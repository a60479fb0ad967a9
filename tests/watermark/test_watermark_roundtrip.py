"""Generate with a real (tiny) transformers model, detect; human text is not flagged."""

from __future__ import annotations

import re

import numpy as np
import pytest

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

from probity.lm import GenerationParams, sample  # noqa: E402
from probity.watermark import detect_text, generate, make_scheme  # noqa: E402

HUMAN = (
    "The quiet river ran under the old stone bridge while the teacher walked slowly "
    "home and remembered the bright garden of her small city in the morning rain. "
) * 2
SCHEMES = [
    ("kgw", {}),
    ("kgw", {"hard": True, "gamma": 0.5}),
    ("kgw", {"seeding": "selfhash", "context_width": 2, "delta": 4.0}),
    ("kgw", {"backend": "hf-compat", "delta": 4.0}),
    ("gumbel", {}),
]


def _scheme(tiny_model, name: str, params: dict):
    if params.get("backend") == "hf-compat":
        params = {**params, "vocab_size": tiny_model.vocab_size}
    # a fixed key keeps the test deterministic (sampling is seeded too)
    return make_scheme(name, 1234, **params)


@pytest.mark.parametrize("name,params", SCHEMES)
def test_generate_then_detect_every_scheme(tiny_model, name: str, params: dict) -> None:
    s = _scheme(tiny_model, name, params)
    prompt = "the river"
    out = generate(tiny_model, [prompt], s, GenerationParams(max_new_tokens=60, seed=3))[0]
    assert out.completion_tokens >= 15
    d = s.detect(list(out.token_ids), prompt_ids=tiny_model.encode(prompt), fpr=1e-3)
    assert d.watermarked, d.to_dict()
    assert not detect_text(HUMAN, s, tiny_model, fpr=1e-3).watermarked


class _WordsOnly:
    """Restrict the random tiny model to whole-word tokens, so decoded text re-tokenises
    to the same ids (a random model otherwise writes byte fragments)."""

    def __init__(self, model) -> None:
        ok = [
            t
            for t in range(model.vocab_size)
            if re.fullmatch(r" [a-z]{2,}", model.decode([t]) or "")
            and model.encode(model.decode([t])) == [t]
        ]
        self.mask = np.full(model.vocab_size, -np.inf)
        self.mask[ok] = 0.0

    def __call__(self, input_ids, logits):
        return logits + self.mask


@pytest.mark.parametrize("name,params", SCHEMES)
def test_text_round_trip_every_scheme(tiny_model, name: str, params: dict) -> None:
    s = _scheme(tiny_model, name, params)
    prompt = "The garden"
    out = sample(
        tiny_model,
        [prompt],
        GenerationParams(max_new_tokens=50, seed=4),
        adjusters=[_WordsOnly(tiny_model), s.adjuster(tiny_model.vocab_size)],
    )[0]
    d = detect_text(prompt + out.text, s, tiny_model, prompt=prompt, fpr=1e-3)
    assert d.watermarked, (out.text, d.to_dict())


def test_batched_processor_with_model_generate(tiny_model) -> None:
    s = make_scheme("kgw", 5, delta=3.0)
    outs = generate(
        tiny_model,
        ["the", "a garden", "she said"],
        s,
        GenerationParams(max_new_tokens=40, seed=1, n=2),
    )
    assert len(outs) == 6
    for o in outs:
        assert s.detect(list(o.token_ids), fpr=1e-3).watermarked
