"""The fast PRF, the schemes' detection statistics, windows, repeats, prompts, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binom

from probity.errors import InputError
from probity.watermark import Detection, make_scheme
from probity.watermark.detection import best_window


@pytest.mark.parametrize(
    "seeding,h", [("lefthash", 1), ("lefthash", 3), ("selfhash", 1), ("selfhash", 4)]
)
def test_torch_processor_numpy_adjuster_and_detector_agree_bit_for_bit(
    seeding: str, h: int
) -> None:
    torch = pytest.importorskip("torch")
    s = make_scheme("kgw", 11, seeding=seeding, context_width=h, gamma=0.3)
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 700, size=(5, 9))
    torch_mask = s.logits_processor(700).green(torch.from_numpy(ids), 700).numpy()
    np_mask = s.adjuster(700).green(ids, 700)
    np.testing.assert_array_equal(torch_mask, np_mask)
    # the detector scores token v after ids[b] green iff the mask says so
    for b in range(5):
        cand = np.arange(0, 700, 7)
        full = np.tile(np.append(ids[b], 0), (len(cand), 1))
        full[:, -1] = cand
        got = [s._values(row, np.array([9]))[0] > 0.5 for row in full]
        np.testing.assert_array_equal(got, np_mask[b, cand])
    assert abs(np_mask.mean() - 0.3) < 0.03


def test_green_lists_depend_on_key_and_not_on_vocab_size() -> None:
    a = make_scheme("kgw", 1).green_mask([5], 1000)
    b = make_scheme("kgw", 2).green_mask([5], 1000)
    assert (a != b).mean() > 0.2
    big = make_scheme("kgw", 1).green_mask([5], 5000)
    np.testing.assert_array_equal(a, big[:1000])


def test_exact_binomial_p_value_and_z() -> None:
    s = make_scheme("kgw", 3, gamma=0.25)
    rng = np.random.default_rng(1)
    ids = rng.integers(0, 30000, 400)
    d = s.detect(ids)
    assert d.p_value == pytest.approx(binom.sf(d.green - 1, d.scored, 0.25))
    assert d.z == pytest.approx((d.green - 0.25 * d.scored) / np.sqrt(d.scored * 0.25 * 0.75))
    assert not d.watermarked and d.scored == 399
    assert set(d.to_dict()) >= {
        "scheme",
        "z",
        "p_value",
        "green",
        "scored",
        "watermarked",
        "fpr",
        "window",
        "marks",
    }
    assert isinstance(d, Detection) and len(d.marks) == 400 and d.marks[0] == -1


def _watermarked_ids(scheme, n: int, vocab: int = 5000, seed: int = 0) -> np.ndarray:
    """Greedy-ish synthetic generation: random logits plus the scheme's adjuster."""
    rng = np.random.default_rng(seed)
    adj = scheme.adjuster(vocab)
    ids = list(rng.integers(0, vocab, 4))
    for _ in range(n):
        logits = rng.normal(0, 1.0, vocab)
        out = adj(np.array([ids]), logits[None, :])[0]
        p = np.exp(out - out.max())
        ids.append(int(rng.choice(vocab, p=p / p.sum())))
    return np.array(ids[4:])


@pytest.mark.parametrize(
    "name,params",
    [
        ("kgw", {}),
        ("kgw", {"hard": True}),
        ("kgw", {"seeding": "selfhash", "context_width": 3}),
        ("gumbel", {}),
    ],
)
def test_synthetic_round_trip_every_scheme(name: str, params: dict) -> None:
    s = make_scheme(name, 99, **params)
    ids = _watermarked_ids(s, 80)
    d = s.detect(ids, fpr=1e-4)
    assert d.watermarked and d.p_value < 1e-6, d.to_dict()
    other = make_scheme(name, 100, **params).detect(ids)
    assert not other.watermarked and other.p_value > 1e-3


def test_repeated_context_token_pairs_count_once() -> None:
    s = make_scheme("kgw", 5)
    phrase = np.array([10, 20, 30, 40, 50, 60])
    ids = np.tile(phrase, 50)  # very repetitive "human" text
    d = s.detect(ids)
    assert d.scored == 6  # 6 distinct (previous token, token) pairs
    assert not d.watermarked
    raw = s.detect(ids, ignore_repeated=False)
    assert raw.scored == len(ids) - 1


def test_prompt_tokens_are_context_only() -> None:
    s = make_scheme("kgw", 5)
    ids = np.arange(100, 150)
    d = s.detect(ids, prompt_ids=[1, 2, 3])
    assert d.scored == 50 and len(d.marks) == 50 and -1 not in d.marks[:1]
    assert s.detect(ids).scored == 49


def test_windowed_finds_pasted_passage_with_corrected_p_value() -> None:
    s = make_scheme("kgw", 8, delta=4.0)
    wm_ids = _watermarked_ids(s, 60, seed=2)
    rng = np.random.default_rng(5)
    human = rng.integers(0, 5000, 400)
    mixed = np.concatenate([human[:200], wm_ids, human[200:]])
    plain = s.detect(mixed)
    win = s.detect(mixed, windowed=True)
    assert win.window is not None
    w = win.window
    assert 150 <= w["start"] <= 215 and 240 <= w["end"] <= 300, w
    assert win.p_value == pytest.approx(min(1.0, w["p_value_raw"] * w["windows_tried"]))
    assert win.watermarked and win.p_value < plain.p_value
    assert not s.detect(human, windowed=True).watermarked


def test_best_window_bonferroni_is_conservative_on_null() -> None:
    rng = np.random.default_rng(0)
    s = make_scheme("kgw", 1)
    ps = [
        best_window(rng.random(300) < 0.25, np.ones(300, bool), s._pvalues)["p_value"]
        for _ in range(200)
    ]
    assert np.mean(np.array(ps) < 0.05) <= 0.05 + 0.03


def test_gumbel_null_p_values_are_uniform_enough() -> None:
    rng = np.random.default_rng(3)
    s = make_scheme("gumbel", 4)
    ps = np.array([s.detect(rng.integers(0, 40000, 60)).p_value for _ in range(300)])
    assert 0.03 < np.mean(ps < 0.1) < 0.18
    assert 0.35 < np.mean(ps < 0.5) < 0.65


@pytest.mark.parametrize(
    "kwargs",
    [
        {"gamma": 0},
        {"gamma": 1.2},
        {"delta": -1},
        {"context_width": -1},
        {"context_width": 0, "seeding": "selfhash"},
        {"context_width": 0, "backend": "hf-compat"},
        {"seeding": "middle"},
        {"backend": "gpu"},
        {"backend": "hf-compat", "hard": True},
        {"colour": "green"},
    ],
)
def test_bad_scheme_parameters_raise_input_error(kwargs: dict) -> None:
    with pytest.raises(InputError):
        make_scheme("kgw", 1, **kwargs)


def test_bad_detection_inputs_raise_input_error() -> None:
    s = make_scheme("kgw", 1)
    with pytest.raises(InputError, match="fpr"):
        s.detect([1, 2, 3], fpr=0)
    with pytest.raises(InputError, match="negative"):
        s.detect([1, -2, 3])
    with pytest.raises(InputError, match="one sequence"):
        s.detect(np.zeros((2, 3), dtype=int))
    with pytest.raises(InputError, match="unknown watermark scheme"):
        make_scheme("stripes")
    hf = make_scheme("kgw", 1, backend="hf-compat")
    with pytest.raises(InputError, match="vocab_size"):
        hf.detect([1, 2, 3])
    with pytest.raises(InputError, match="outside vocab_size"):
        make_scheme("kgw", 1, backend="hf-compat", vocab_size=10).detect([1, 2, 30])
    empty = s.detect([7])
    assert empty.scored == 0 and not empty.watermarked and empty.p_value == 1.0


def test_public_params_never_include_the_secret() -> None:
    from probity.watermark import new_key

    key = new_key("p")
    for s in (
        make_scheme("kgw", key),
        make_scheme("gumbel", key),
        make_scheme("kgw", key, backend="hf-compat"),
    ):
        text = repr(s.public_params())
        assert key.secret.hex() not in text and str(key.hashing_key()) not in text
        assert s.public_params()["key_id"] == key.key_id


@pytest.mark.parametrize(
    "name,params",
    [
        ("kgw", {}),
        ("kgw", {"seeding": "selfhash", "context_width": 3}),
        ("kgw", {"backend": "hf-compat", "vocab_size": 900}),
        ("gumbel", {}),
    ],
)
def test_detect_many_equals_detect_one_by_one(name: str, params: dict) -> None:
    s = make_scheme(name, 4, **params)
    rng = np.random.default_rng(9)
    seqs = [rng.integers(0, 900, int(n)) for n in (0, 1, 2, 5, 80, 200)]
    seqs.append(np.tile(seqs[3], 10))
    seqs.append(_watermarked_ids(s, 50, vocab=900))
    many = s.detect_many(seqs, fpr=1e-3)
    for seq, got in zip(seqs, many, strict=True):
        one = s.detect(seq, fpr=1e-3)
        assert (got.watermarked, got.params, got.fpr) == (one.watermarked, one.params, one.fpr)
        assert (got.green, got.scored, got.marks) == (one.green, one.scored, one.marks)
        assert got.p_value == pytest.approx(one.p_value)


def test_p_values_match_scipy_stats() -> None:
    from scipy.stats import binom, gamma

    from probity.watermark.detection import binomial_sf, gamma_sf

    g = np.array([0, 1, 5, 30, 60, 200])
    n = np.array([10, 10, 40, 60, 60, 200])
    np.testing.assert_allclose(binomial_sf(g, n, 0.25), binom.sf(g - 1, n, 0.25), rtol=1e-9)
    t = np.array([0.0, 3.0, 50.0, 120.0])
    m = np.array([5, 5, 40, 60])
    np.testing.assert_allclose(gamma_sf(t, m), gamma.sf(t, m), rtol=1e-9)
