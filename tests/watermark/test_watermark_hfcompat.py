"""The hf-compat backend against transformers itself (its processor and its detector)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
lp = pytest.importorskip("transformers.generation.logits_process")
wm = pytest.importorskip("transformers.generation.watermarking")
torch.set_num_threads(1)  # tiny models: threads only add contention on a shared CPU

from probity.watermark import _hfcompat as H  # noqa: E402
from probity.watermark import make_scheme  # noqa: E402


def _seeds(scheme: str, ctx: np.ndarray, hk: int) -> np.ndarray:
    if scheme == "lefthash":
        return H.lefthash_seeds(ctx[:, -1], hk)
    return H.selfhash_seeds(ctx, hk)


def test_green_lists_match_transformers_on_10000_random_key_context_cases() -> None:
    rng = np.random.default_rng(1234)
    cases = checked = 0
    for case_key in range(16):  # 16 keys x 640 contexts = 10,240 (key, context) cases
        hk = int(rng.integers(0, 2**62)) if case_key else 15485863
        scheme = "lefthash" if case_key % 2 else "selfhash"
        cw = int(rng.integers(1, 5))
        vocab = int(rng.choice([50, 997, 4096]))
        gamma = float(rng.choice([0.1, 0.25, 0.5]))
        proc = lp.WatermarkLogitsProcessor(vocab, "cpu", gamma, 2.0, hk, scheme, cw)
        k = int(vocab * gamma)
        ctx = rng.integers(0, vocab, size=(640, cw))
        # ours: membership of 4 green + 4 random tokens per case, all cases in one call
        ref = [proc._get_greenlist_ids(torch.from_numpy(c)).numpy() for c in ctx]
        queries = np.stack([np.concatenate([g[:4], rng.integers(0, vocab, 4)]) for g in ref])
        seeds = np.repeat(_seeds(scheme, ctx, hk), 8)
        got = H.green_tokens(seeds, queries.ravel(), vocab, k).reshape(-1, 8)
        want = np.stack([np.isin(q, g) for q, g in zip(queries, ref, strict=True)])
        np.testing.assert_array_equal(got, want)
        # and the full green lists for a subset, compared as sets
        sub = slice(0, 64)
        lists = H.green_lists(_seeds(scheme, ctx[sub], hk), vocab, k)
        for mine, theirs in zip(lists, ref[sub], strict=True):
            assert set(mine.tolist()) == set(theirs.tolist())
        cases += len(ctx)
        checked += got.size
    assert cases >= 10_000 and checked >= 80_000


def test_large_vocab_and_extreme_keys_match() -> None:
    rng = np.random.default_rng(7)
    for hk, vocab, scheme in [
        (2**63 - 1, 50257, "lefthash"),
        (3, 128256, "lefthash"),
        (2**62 + 12345, 50257, "selfhash"),
    ]:
        proc = lp.WatermarkLogitsProcessor(vocab, "cpu", 0.25, 2.0, hk, scheme, 2)
        ctx = rng.integers(0, vocab, size=(4, 2))
        ctx[0] = vocab - 1
        for c, seed in zip(ctx, _seeds(scheme, ctx, hk), strict=True):
            ref = proc._get_greenlist_ids(torch.from_numpy(c)).numpy()
            q = np.concatenate([ref[:50], rng.integers(0, vocab, 50)])
            got = H.green_tokens(np.full(len(q), seed), q, vocab, int(vocab * 0.25))
            np.testing.assert_array_equal(got, np.isin(q, ref))


@pytest.mark.parametrize(
    "scheme,cw,ignore",
    [("lefthash", 1, False), ("lefthash", 3, True), ("selfhash", 2, True), ("selfhash", 1, False)],
)
def test_detector_counts_match_transformers_watermark_detector(
    scheme: str, cw: int, ignore: bool
) -> None:
    from transformers import GPT2Config

    vocab, hk = 500, 987654321
    cfg = GPT2Config(vocab_size=vocab, bos_token_id=vocab - 1)
    det = wm.WatermarkDetector(
        cfg,
        "cpu",
        {
            "greenlist_ratio": 0.25,
            "bias": 2.0,
            "hashing_key": hk,
            "seeding_scheme": scheme,
            "context_width": cw,
        },
        ignore_repeated_ngrams=ignore,
    )
    ours = make_scheme(
        "kgw",
        hk,
        backend="hf-compat",
        gamma=0.25,
        seeding=scheme,
        context_width=cw,
        vocab_size=vocab,
    )
    rng = np.random.default_rng(3)
    ids = rng.integers(0, vocab - 1, size=(3, 120))
    ids[1, 60:] = ids[1, :60]  # repeats
    out = det(torch.from_numpy(ids), return_dict=True)
    for row in range(3):
        d = ours.detect(ids[row], ignore_repeated=ignore)
        assert d.scored == int(out.num_tokens_scored[row])
        assert d.green == int(out.num_green_tokens[row])
        assert d.z == pytest.approx(float(out.z_score[row]))


def test_text_generated_by_transformers_is_detected_and_ours_by_transformers(tiny_model) -> None:
    from transformers import WatermarkingConfig

    from probity.lm import GenerationParams, sample

    hk = 424242
    cfg = WatermarkingConfig(
        greenlist_ratio=0.25, bias=4.0, hashing_key=hk, seeding_scheme="lefthash", context_width=1
    )
    model, tok = tiny_model.model, tiny_model.tokenizer
    enc = tok(["the river"], return_tensors="pt", add_special_tokens=False)
    torch.manual_seed(0)
    out = model.generate(
        **enc,
        watermarking_config=cfg,
        do_sample=True,
        max_new_tokens=60,
        pad_token_id=tok.eos_token_id,
    )
    new = out[0, enc["input_ids"].shape[1] :].numpy()
    ours = make_scheme(
        "kgw", hk, backend="hf-compat", gamma=0.25, delta=4.0, vocab_size=tiny_model.vocab_size
    )
    d = ours.detect(new, prompt_ids=enc["input_ids"][0].numpy(), fpr=1e-3)
    assert d.watermarked, d.to_dict()
    # ours -> transformers' detector (numpy sampler with the hf-compat adjuster)
    comp = sample(
        tiny_model,
        ["the river"],
        GenerationParams(max_new_tokens=60, seed=1),
        adjusters=[ours.adjuster(tiny_model.vocab_size)],
    )[0]
    det = wm.WatermarkDetector(model.config, "cpu", cfg)
    res = det(torch.tensor([list(comp.token_ids)]), return_dict=True)
    assert bool(res.prediction[0]), res
    mine = ours.detect(list(comp.token_ids), ignore_repeated=False)
    assert mine.green == int(res.num_green_tokens[0])
