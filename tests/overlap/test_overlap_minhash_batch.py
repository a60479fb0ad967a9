"""The batched tokenise-and-hash fast path gives bit-identical signatures to the per-document path."""

from __future__ import annotations

import numpy as np
import pytest
import xxhash

from probity.overlap import MinHasher
from probity.overlap import minhash as mh_mod
from probity.overlap.minhash import batch_token_hashes, shingle_hashes
from probity.text import hash_strings, words


def _varied_corpus() -> list[str]:
    rng = np.random.default_rng(7)
    vocab = ["alpha", "Beta", "GAMMA", "x_1", "42", "don't", "naïve", "Straße", "ＡＢＣ", "東京"]
    vocab += ["word", "the", "of", "and", "data", "set", "mini", "hash", "Probity", "z"]
    texts = [
        "",
        "   ",
        "!!! ... ???",
        "one",
        "Two",
        "three words here",
        "a b c d",  # shorter than the 5-gram
        "a b c d e",  # exactly one 5-gram
        "Tabs\tand\nnewlines\r\nand\x0bvertical\x0cfeeds and\x1fseps",
        "Mixed-CASE, punctuation; (brackets) [and] {braces} & under_scores 3.14",
        "it's an apostrophe text that's ascii",
        "naïve café déjà vu — unicode dash",
        "ＡＢＣ fullwidth ＡＢＣ and ß",
        "東京 is a city 東京タワー",
        "emoji 🙂 between words 🙂 here",
        "\u00ff \u00ff latin y-diaeresis tokens \u00ff",
        "lone surrogate \ud800 inside",
    ]
    for _ in range(300):
        k = int(rng.integers(0, 40))
        texts.append(" ".join(rng.choice(vocab, size=k).tolist()))
    order = rng.permutation(len(texts))
    return [texts[i] for i in order] + texts[:5]


def _per_document(h: MinHasher, texts: list[str]) -> np.ndarray:
    return h.signatures_from_hashes([shingle_hashes(t, h.ngram) for t in texts])


def test_batch_token_hashes_match_words_and_hash_strings():
    texts = _varied_corpus()
    th, lens = batch_token_hashes(texts)
    ref = [hash_strings(words(t)) for t in texts]
    assert lens.tolist() == [len(r) for r in ref]
    assert np.array_equal(th, np.concatenate(ref))
    assert th.dtype == np.uint64 and lens.dtype == np.int64


def test_batch_token_hashes_empty_input():
    th, lens = batch_token_hashes([])
    assert len(th) == 0 and len(lens) == 0


@pytest.mark.parametrize("scheme", ["oph", "kperm"])
@pytest.mark.parametrize("ngram", [1, 3, 5])
def test_signatures_bit_identical_to_per_document_path(scheme, ngram):
    texts = _varied_corpus()
    h = MinHasher(num_perm=64, ngram=ngram, seed=3, scheme=scheme)
    ref = _per_document(h, texts)
    assert np.array_equal(h.signatures(texts), ref)
    assert np.array_equal(h.signatures(texts, batch=7), ref)
    for i in (0, 3, 11):
        assert np.array_equal(h.signature(texts[i]), ref[i])


def test_separator_collision_falls_back(monkeypatch):
    texts = ["alpha beta gamma delta epsilon zeta", "beta gamma", ""]
    fake = np.uint64(xxhash.xxh3_64_intdigest(b"beta"))
    monkeypatch.setattr(mh_mod, "_SEP_HASH", fake)
    th, lens = batch_token_hashes(texts)
    assert lens.tolist() == [6, 2, 0]
    assert np.array_equal(th, hash_strings(words(texts[0]) + words(texts[1])))
