"""The transformers backend: loading through from_pretrained, generation, logits, errors."""

from __future__ import annotations

import numpy as np
import pytest

from probity.errors import InputError, ModelError
from probity.lm import GenerationParams, HFModel, NextTokenModel, TextGenerator, load_model, sample


def test_tiny_model_round_trips_through_from_pretrained(tiny_model_dir):
    model = load_model(tiny_model_dir)
    assert isinstance(model, HFModel)
    assert isinstance(model, TextGenerator) and isinstance(model, NextTokenModel)
    ids = model.encode("the river walks slowly")
    assert ids and model.decode(ids) == "the river walks slowly"


def test_generate_is_batched_seeded_and_counts(tiny_model):
    params = GenerationParams(max_new_tokens=8, temperature=1.0, n=2, seed=3)
    out = tiny_model.generate(["The doctor", "A garden"], params)
    assert [(c.prompt_index, c.index) for c in out] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    again = tiny_model.generate(["The doctor", "A garden"], params)
    assert [c.text for c in out] == [c.text for c in again]
    assert all(c.finish_reason in ("stop", "length") for c in out)
    assert all(c.completion_tokens <= 8 for c in out)


def test_greedy_generation_is_deterministic_and_stop_strings_cut(tiny_model):
    params = GenerationParams(max_new_tokens=12, temperature=0)
    a = tiny_model.generate(["She said"], params)[0]
    b = tiny_model.generate(["She said"], params)[0]
    assert a.text == b.text
    if len(a.text) > 2:
        stop = a.text[1:3]
        cut = tiny_model.generate(
            ["She said"], GenerationParams(max_new_tokens=12, temperature=0, stop=(stop,))
        )[0]
        assert stop not in cut.text and cut.finish_reason == "stop"


def test_next_token_logits_shape_and_numpy_sampler(tiny_model):
    ids = np.asarray([tiny_model.encode("the old city")], dtype=np.int64)
    logits = tiny_model.next_token_logits(ids)
    assert logits.shape == (1, tiny_model.vocab_size) and logits.dtype == np.float32
    calls = []

    def ban_first_half(input_ids, scores):
        calls.append(input_ids.shape)
        scores = scores.copy()
        scores[:, : scores.shape[1] // 2] = -np.inf
        return scores

    out = sample(
        tiny_model,
        ["the old city"],
        GenerationParams(max_new_tokens=5, seed=1),
        adjusters=[ban_first_half],
    )[0]
    assert calls and all(t >= tiny_model.vocab_size // 2 for t in out.token_ids)


def test_chat_without_template_falls_back_to_role_lines(tiny_model):
    out = tiny_model.chat(
        [[{"role": "user", "content": "hello"}]], GenerationParams(max_new_tokens=4, seed=0)
    )
    assert len(out) == 1


def test_unknown_model_offline_is_a_model_error_with_advice(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError) as err:
        load_model("no-such-org/no-such-model")
    assert "huggingface-cli download" in str(err.value)


def test_missing_local_path_and_non_model_folder(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        load_model(str(tmp_path / "nope" / "deeper"))
    with pytest.raises(ModelError, match=r"config\.json"):
        load_model(tmp_path)


def test_bad_parameters_are_input_errors():
    with pytest.raises(InputError):
        GenerationParams(top_p=0)
    with pytest.raises(InputError):
        GenerationParams(max_new_tokens=0)
