"""The unigram scheme (KGW, context width 0, Zhao et al.): robust to reordering, and its
documented weakness, attacked: the green list leaks from token frequencies, which lets an
attacker forge the watermark."""

from __future__ import annotations

import numpy as np

from probity.lm import GenerationParams, sample
from probity.watermark import make_scheme


class _FlatModel:
    """A NextTokenModel with a near-uniform next-token distribution over 200 tokens."""

    name = "flat"
    vocab_size = 200
    eos_token_id = None

    def encode(self, text: str) -> list[int]:
        return [ord(c) % self.vocab_size for c in text]

    def decode(self, ids) -> str:
        return " ".join(map(str, ids))

    def next_token_logits(self, input_ids: np.ndarray) -> np.ndarray:
        rng = np.random.default_rng(int(input_ids[0, -1]))
        return np.tile(rng.normal(0, 0.3, self.vocab_size), (len(input_ids), 1)).astype(np.float32)


def _generate(scheme, n: int, seed: int):
    model = _FlatModel()
    return sample(
        model,
        ["ab"] * n,
        GenerationParams(max_new_tokens=300, seed=seed),
        adjusters=[scheme.adjuster(model.vocab_size)],
    )


def test_unigram_survives_shuffling_and_has_a_fixed_green_list() -> None:
    key = 20260412  # a fixed (integer) key: the test is deterministic
    scheme = make_scheme("unigram", key, delta=3.0)
    assert scheme.public_params()["context_width"] == 0
    green = scheme.green_mask([], 200)
    assert np.array_equal(green, scheme.green_mask([5, 9, 77], 200))  # context-free
    rng = np.random.default_rng(0)
    for out in _generate(scheme, 4, 1):
        shuffled = rng.permutation(out.token_ids)  # any reordering keeps every token's colour
        assert scheme.detect(out.token_ids).p_value < 1e-4
        assert scheme.detect(shuffled).p_value < 1e-4
    kgw = make_scheme(
        "kgw", key, delta=3.0
    )  # a context-seeded scheme loses the signal when shuffled
    outs = _generate(kgw, 4, 1)
    assert np.median([kgw.detect(rng.permutation(o.token_ids)).p_value for o in outs]) > 1e-3


def test_green_list_leaks_from_frequencies_and_the_watermark_can_be_forged() -> None:
    scheme = make_scheme("unigram", 777)
    true_green = scheme.green_mask([], 200)
    counts = np.zeros(200)
    for out in _generate(scheme, 20, 2):  # an attacker collects watermarked outputs
        np.add.at(counts, list(out.token_ids), 1)
    guess = np.zeros(200, dtype=bool)
    guess[np.argsort(-counts)[: int(0.25 * 200)]] = True
    precision = (guess & true_green).sum() / guess.sum()
    assert precision > 0.6  # chance is 0.25
    rng = np.random.default_rng(3)
    forged = rng.choice(np.flatnonzero(guess), size=150)  # human-written with "green" words
    assert scheme.detect(forged).p_value < 1e-4  # ... is declared watermarked
