from __future__ import annotations

import numpy as np
import pytest
from overlap_helpers import make_doc, mutate

from probity.errors import InputError
from probity.overlap import EMPTY, MinHasher, exact_jaccard, jaccard_estimate


@pytest.mark.parametrize("scheme", ["oph", "kperm"])
def test_signatures_shape_dtype_and_determinism(corpus, scheme):
    mh = MinHasher(num_perm=64, scheme=scheme)
    sig = mh.signatures(corpus[:10])
    assert sig.shape == (10, 64) and sig.dtype == np.uint64
    assert np.array_equal(sig, MinHasher(num_perm=64, scheme=scheme).signatures(corpus[:10]))
    assert not np.array_equal(
        sig, MinHasher(num_perm=64, seed=2, scheme=scheme).signatures(corpus[:10])
    )
    # the batch result equals one-at-a-time
    assert np.array_equal(sig[3], mh.signature(corpus[3]))


@pytest.mark.parametrize("scheme", ["oph", "kperm"])
def test_estimate_tracks_exact_jaccard(corpus, rng, scheme):
    mh = MinHasher(num_perm=256, scheme=scheme)
    a = corpus[:30]
    b = [mutate(t, 0.05, rng) for t in a]
    sa, sb = mh.signatures(a), mh.signatures(b)
    errs = [
        jaccard_estimate(sa[i], sb[i]) - exact_jaccard(mh.shingles(a[i]), mh.shingles(b[i]))
        for i in range(30)
    ]
    assert abs(np.mean(errs)) < 0.03
    assert np.mean(np.abs(errs)) < 0.06
    # unrelated documents estimate near zero
    assert jaccard_estimate(sa[0], sa[1]) < 0.05


def test_case_and_whitespace_do_not_change_signature(corpus):
    mh = MinHasher()
    t = corpus[0]
    assert np.array_equal(mh.signature(t), mh.signature("  " + t.upper().replace(" ", "\n ")))


def test_empty_and_short_texts():
    mh = MinHasher(num_perm=32)
    sig = mh.signatures(["", "two words", "!!!"])
    assert (sig[0] == EMPTY).all() and (sig[2] == EMPTY).all()
    assert not (sig[1] == EMPTY).any()  # shorter than ngram: one shingle, densified
    assert exact_jaccard(mh.shingles(""), mh.shingles("")) == 0.0


def test_bad_parameters():
    with pytest.raises(InputError):
        MinHasher(num_perm=4)
    with pytest.raises(InputError):
        MinHasher(ngram=0)
    with pytest.raises(InputError):
        MinHasher(scheme="nope")
    with pytest.raises(InputError):
        MinHasher().signatures("a single string")


def test_identical_sets_identical_signatures():
    import random

    r = random.Random(3)
    t = make_doc(r, 40)
    assert np.array_equal(MinHasher().signature(t), MinHasher().signature(t + " " + t[:0]))
