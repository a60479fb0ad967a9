from __future__ import annotations

import pytest
from overlap_helpers import make_doc

from probity.errors import CorruptIndexError, InputError
from probity.overlap import SpanIndex


def test_planted_span_found_with_source_and_offsets(corpus, rng):
    idx = SpanIndex.build([(f"d{i}", t) for i, t in enumerate(corpus)], n=12)
    words = corpus[17].split()
    copied = " ".join(words[40:100])
    query = "An introduction of my own. " + copied.upper() + ". And my own ending here."
    hits = idx.query(query)
    assert len(hits) == 1
    h = hits[0]
    assert h.doc == "d17" and h.tokens == 60
    assert (h.doc_token_start, h.doc_token_end) == (40, 100)
    assert query[h.start : h.end].lower() == copied


def test_no_false_positive_on_unrelated_text(corpus, rng):
    idx = SpanIndex.build(corpus, n=8)
    for _ in range(20):
        assert idx.query(make_doc(rng, 150)) == []


def test_short_match_below_n_not_reported(corpus):
    idx = SpanIndex.build(corpus, n=20)
    words = corpus[3].split()
    assert idx.query("x " + " ".join(words[:19]) + " y") == []
    assert len(idx.query("x " + " ".join(words[:20]) + " y")) == 1
    assert idx.query(" ".join(words[:30]), min_tokens=40) == []


def test_two_sources_give_two_spans(corpus):
    idx = SpanIndex.build(corpus, n=10)
    a = " ".join(corpus[1].split()[:30])
    b = " ".join(corpus[2].split()[50:80])
    hits = idx.query(a + " . new words here now . " + b)
    assert [h.doc for h in hits] == ["1", "2"]


def test_save_load_mmap_and_corruption(tmp_path, corpus):
    idx = SpanIndex.build(corpus, n=10)
    idx.save(tmp_path)
    back = SpanIndex.load(tmp_path, 10, idx.ids)
    q = " ".join(corpus[5].split()[:40])
    assert back.query(q) == idx.query(q)
    (tmp_path / "span_docs.npy").write_bytes(b"\x00" * 10)
    with pytest.raises(CorruptIndexError):
        SpanIndex.load(tmp_path, 10, idx.ids)


def test_bad_n():
    with pytest.raises(InputError):
        SpanIndex(n=1)


def test_run_copied_from_two_overlapping_sources_is_split(rng):
    x, y, z = make_doc(rng, 40), make_doc(rng, 30), make_doc(rng, 40)
    idx = SpanIndex.build([("A", f"{x} {y}"), ("B", f"{y} {z}"), ("C", make_doc(rng, 80))], n=10)
    hits = idx.query(f"{x} {y} {z}")
    assert [h.doc for h in hits] == ["A", "B"]
    assert hits[0].tokens == 70 and (hits[0].doc_token_start, hits[0].doc_token_end) == (0, 70)
    assert hits[1].end == len(f"{x} {y} {z}") and hits[1].doc_token_end == 70


def test_boilerplate_in_many_documents_is_attributed_to_the_first(rng):
    common = make_doc(rng, 30)
    idx = SpanIndex.build([make_doc(rng, 20) + " " + common for _ in range(300)], n=10)
    hits = idx.query("intro words " + common + " outro words")
    assert len(hits) == 1 and hits[0].doc == "0" and hits[0].sources == 300
