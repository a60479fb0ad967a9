"""The fast paths added to probity.text give exactly the slow paths' results."""

from __future__ import annotations

import random

import numpy as np
import xxhash

from probity.overlap import MinHasher
from probity.text import (
    _WORD_RE,
    hash_strings,
    normalize_token,
    strip_invisible,
    tokenize,
    words,
)


def test_ascii_fast_paths_match_regex_and_normalisation():
    r = random.Random(0)
    alphabet = [chr(i) for i in range(128)] + ["é", "’", "Ａ"]
    for _ in range(2000):
        t = "".join(r.choice(alphabet) for _ in range(r.randint(0, 50)))
        slow = [normalize_token(w) for w in _WORD_RE.findall(strip_invisible(t))]
        assert words(t) == slow, repr(t)
        assert tokenize(t).words == slow, repr(t)


def test_hash_strings_is_xxh3_of_utf8_and_handles_surrogates():
    items = ["abc", "é", "don't", ""]
    expect = [xxhash.xxh3_64_intdigest(s.encode("utf-8")) for s in items]
    assert hash_strings(items).tolist() == expect
    assert hash_strings(["\ud800x"]).dtype == np.uint64  # lone surrogate: no exception
    assert hash_strings(items, seed=3).tolist() != expect


def test_batch_shingles_equal_per_document_shingles(corpus):
    mh = MinHasher(num_perm=64)
    texts = [*corpus[:5], "", "one two", "x " * 3]
    batch = mh.signatures(texts)
    single = mh.signatures_from_hashes([mh.shingles(t) for t in texts])
    assert np.array_equal(batch, single)
