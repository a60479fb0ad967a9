"""dedup_near's chunked MinHash step gives the overlap engine's decisions, whatever the chunking."""

from __future__ import annotations

import random

import numpy as np
import pytest

from probity.curate.stages import SignatureFn, distributed_signatures, near_dedup
from probity.errors import InputError
from probity.overlap import MinHasher, band_keys, dedup_records


def _corpus(n: int = 150, seed: int = 5) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    vocab = [f"v{k}" for k in range(400)]
    texts: list[str] = []
    for i in range(n):
        if texts and i % 4 == 0:  # a near copy of an earlier text (chains included)
            w = rng.choice(texts).split()
            w[rng.randrange(len(w))] = rng.choice(vocab)
            texts.append(" ".join(w))
        elif texts and i % 11 == 0:
            texts.append(rng.choice(texts))
        else:
            texts.append(" ".join(rng.choice(vocab) for _ in range(rng.randrange(3, 80))))
    texts += ["", "   ", "one", "two words"]  # empty and shorter-than-shingle texts
    return [f"r{i}" for i in range(len(texts))], texts


def test_chunked_signatures_equal_one_pass():
    _, texts = _corpus()
    fn = SignatureFn(128, 5, 1, 9, 13)
    sigs, keys = distributed_signatures(texts, fn, None, chunk_size=7)
    whole = MinHasher(128, 5, 1).signatures(texts)
    assert np.array_equal(sigs, whole)
    assert np.array_equal(keys, band_keys(whole, 9, 13))


def test_near_dedup_matches_the_overlap_engine():
    ids, texts = _corpus()
    for thr in (0.5, 0.8, 0.95):
        ref = dedup_records(list(zip(ids, texts, strict=True)), exact=False, near=thr)
        want = [(r.id, r.reason, r.representative, r.score) for r in ref.removed]
        got = near_dedup(ids, texts, threshold=thr, chunk_size=13, recall_weight=0.9)
        assert got == want  # the overlap engine's LSH bands: the same decisions
        more = near_dedup(ids, texts, threshold=thr, chunk_size=13)  # recall-heavier bands
        assert {g[0] for g in more} >= {g[0] for g in want}
        assert len(got) >= 10  # at least the verbatim copies were found
    assert near_dedup(["a"], ["only one"]) == []
    with pytest.raises(InputError, match="recall_weight"):
        near_dedup(ids, texts, recall_weight=1.0)


def test_pairs_in_small_chunks_out_of_order_equal_the_overlap_engine():
    from probity.curate.stages import near_pairs
    from probity.overlap import lsh_params, near_duplicate_pairs

    _, texts = _corpus()
    hasher = MinHasher(128, 5, 1)
    bands, rows = lsh_params(0.8, 128, 0.1, 0.9)
    sigs, keys = distributed_signatures(texts, SignatureFn(128, 5, 1, bands, rows), None, 50)
    calls = []

    def reversed_mapper(fn, chunks):  # an executor that finishes chunks in reverse order
        done = [(j, fn(c)) for j, c in chunks]
        calls.append(len(done))
        return reversed(done)

    got = near_pairs(texts, sigs, keys, 0.8, hasher, map_chunks=reversed_mapper, chunk_size=3)
    assert calls and calls[0] > 3  # several chunks of pairs went through the mapper
    assert got == near_duplicate_pairs(texts, 0.8, hasher=hasher)
