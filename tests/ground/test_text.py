"""text.py: one definition of tokens, n-grams and sentences for every engine."""

from __future__ import annotations

import numpy as np
import pytest

from probity.text import (
    hash_strings,
    mix64,
    ngram_hashes,
    normalize,
    sentence_spans,
    sentences,
    shingles,
    text_digest,
    tokenize,
)


def test_normalize_folds_width_case_and_space():
    assert normalize("  ＡＢＣ\tDef\n\nghi ") == "abc def ghi"
    assert normalize("Straße") == "strasse"


def test_tokenize_keeps_offsets_into_the_original_text():
    text = "Don't  STOP, résumé!"
    toks = tokenize(text)
    assert toks.words == ["don't", "stop", "résumé"]
    assert [text[a:b] for a, b in zip(toks.starts, toks.ends, strict=True)] == [
        "Don't",
        "STOP",
        "résumé",
    ]
    assert tokenize(text, punctuation=True).words == ["don't", "stop", ",", "résumé", "!"]


def test_ngram_hashes_match_a_naive_window_hash_and_depend_on_order():
    rng = np.random.default_rng(0)
    t = rng.integers(0, 2**63, size=200, dtype=np.uint64)
    for n in (1, 2, 5, 13):
        fast = ngram_hashes(t, n)
        assert fast.shape == (200 - n + 1,)
        base, mask = 0x100000001B3, (1 << 64) - 1
        for i in (0, 7, 200 - n):
            acc = 0
            for k in range(n):
                acc = (acc * base + int(t[i + k])) & mask
            expected = (
                mix64(np.asarray([acc ^ n], dtype=np.uint64)) if n > 1 else mix64(t[i : i + 1])
            )
            assert fast[i] == expected[0]
    swapped = t.copy()
    swapped[[0, 1]] = swapped[[1, 0]]
    assert ngram_hashes(swapped, 3)[0] != ngram_hashes(t, 3)[0]


def test_ngram_hashes_short_input_and_bad_n():
    assert ngram_hashes(np.zeros(3, dtype=np.uint64), 5).size == 0
    with pytest.raises(ValueError):
        ngram_hashes(np.zeros(3, dtype=np.uint64), 0)


def test_shingles_ignore_case_and_punctuation_but_not_words():
    a = shingles("The quick brown fox jumps.", 3)
    b = shingles("the QUICK, brown fox -- jumps", 3)
    c = shingles("the quick red fox jumps", 3)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_hash_strings_is_seeded_and_stable():
    h1 = hash_strings(["a", "b"], seed=1)
    assert h1.dtype == np.uint64 and len(set(h1.tolist())) == 2
    assert np.array_equal(h1, hash_strings(["a", "b"], seed=1))
    assert not np.array_equal(h1, hash_strings(["a", "b"], seed=2))


def test_sentences_respect_abbreviations_initials_and_lists():
    text = "Dr. Smith met J. R. Tolkien in 1950. He left! Did she?\n\n- item one\n- item two"
    assert sentences(text) == [
        "Dr. Smith met J. R. Tolkien in 1950.",
        "He left!",
        "Did she?",
        "- item one",
        "- item two",
    ]
    for a, b in sentence_spans(text):
        assert text[a:b].strip() == text[a:b]
    assert sentences("   ") == []
    assert sentences("no terminal punctuation") == ["no terminal punctuation"]


def test_text_digest_is_sha256_hex():
    assert text_digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
