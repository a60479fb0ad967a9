from __future__ import annotations

import numpy as np
import pytest
from overlap_helpers import mutate

from probity.errors import CorruptIndexError, InputError
from probity.overlap import (
    LSHIndex,
    MinHasher,
    lsh_params,
    near_duplicate_clusters,
    near_duplicate_pairs,
)


def test_lsh_params_fit_and_move_with_threshold():
    b1, r1 = lsh_params(0.8, 128)
    b2, r2 = lsh_params(0.5, 128)
    assert b1 * r1 <= 128 and b2 * r2 <= 128
    assert r1 > r2  # a higher threshold needs more rows per band
    with pytest.raises(InputError):
        lsh_params(1.5, 128)


def test_insert_query_finds_planted_near_duplicates(corpus, rng):
    mh = MinHasher()
    idx = LSHIndex(threshold=0.5)
    idx.insert(np.arange(100, 100 + len(corpus)), mh.signatures(corpus))
    near = [mutate(t, 0.03, rng) for t in corpus[:20]]
    res = idx.query_many(mh.signatures(near))
    assert sum(100 + i in r for i, r in enumerate(res)) >= 19
    # an unrelated document has no (or very few) candidates
    assert len(idx.query(mh.signature("completely different words " * 40))) == 0
    scored = idx.query_scored(mh.signature(near[0]), min_jaccard=0.5)
    assert scored[0][0] == 100 and scored[0][1] > 0.6


def test_incremental_insert_and_save_load(tmp_path, corpus):
    mh = MinHasher()
    sig = mh.signatures(corpus)
    idx = LSHIndex(0.8)
    idx.insert(np.arange(30), sig[:30])
    assert 5 in idx.query(sig[5])
    idx.insert(np.arange(30, 60), sig[30:])
    assert 45 in idx.query(sig[45]) and len(idx) == 60
    p = idx.save(tmp_path / "x.npz")
    back = LSHIndex.load(p)
    assert list(back.query(sig[45])) == list(idx.query(sig[45]))
    assert back.nbytes() / 60 < 2048
    p.write_bytes(b"garbage")
    with pytest.raises(CorruptIndexError):
        LSHIndex.load(p)


def test_clusters_are_deterministic_with_smallest_representative(corpus, rng):
    texts = [
        corpus[0],
        corpus[1],
        mutate(corpus[0], 0.02, rng),
        corpus[2],
        mutate(corpus[1], 0.02, rng),
        corpus[1],
    ]
    labels = near_duplicate_clusters(texts, 0.7)
    assert labels.tolist() == [0, 1, 0, 3, 1, 1]
    assert near_duplicate_clusters(texts, 0.7).tolist() == labels.tolist()
    pairs = near_duplicate_pairs(texts, 0.7)
    assert all(i < j and j_ >= 0.7 for i, j, j_ in pairs)
    # signatures instead of texts: estimated Jaccard
    sig = MinHasher().signatures(texts)
    assert near_duplicate_clusters(sig, 0.7).tolist() == labels.tolist()


def test_exact_recheck_rejects_false_candidates(corpus):
    # threshold 0.99: a 3% edit is a candidate by LSH perhaps, but exact Jaccard is < 0.99
    import random

    t2 = mutate(corpus[0], 0.05, random.Random(1))
    assert near_duplicate_clusters([corpus[0], t2], 0.99).tolist() == [0, 1]
