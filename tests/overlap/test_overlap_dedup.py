from __future__ import annotations

import pytest
from overlap_helpers import mutate

from probity.errors import InputError
from probity.overlap import dedup_records


def _recs(texts):
    return [{"id": f"r{i}", "text": t} for i, t in enumerate(texts)]


def test_exact_near_and_accounting(corpus, rng):
    texts = [
        corpus[0],
        corpus[1],
        "  " + corpus[0].upper() + "\n",
        mutate(corpus[1], 0.01, rng),
        corpus[2],
        mutate(corpus[2], 0.5, rng),
    ]
    res = dedup_records(_recs(texts), exact=True, near=0.8)
    assert res.kept == ("r0", "r1", "r4", "r5")
    reasons = {r.id: (r.reason, r.representative) for r in res.removed}
    assert reasons == {"r2": ("exact_duplicate", "r0"), "r3": ("near_duplicate", "r1")}
    assert len(res.kept) + len(res.removed) == res.total == 6
    assert res.to_dict()["counts"] == {"exact_duplicate": 1, "near_duplicate": 1}


def test_deterministic_and_order_defines_representative(corpus, rng):
    a, b = corpus[5], mutate(corpus[5], 0.01, rng)
    r1 = dedup_records(_recs([a, b]), near=0.8)
    r2 = dedup_records(_recs([a, b]), near=0.8)
    assert r1 == r2
    r3 = dedup_records([{"id": "x", "text": b}, {"id": "y", "text": a}], near=0.8)
    assert r3.kept == ("x",) and r3.removed[0].representative == "x"


def test_max_repeats_caps_long_span(corpus):
    shared = " ".join(corpus[9].split()[:60])
    texts = [f"{corpus[i][:200]} {shared} {corpus[i][-200:]}" for i in range(10, 15)]
    res = dedup_records(_recs(texts), exact=True, near=None, max_repeats=2, span_tokens=50)
    assert res.kept == ("r0", "r1")
    assert {r.reason for r in res.removed} == {"repeated_span"}
    assert all(r.representative == "r0" for r in res.removed)
    none = dedup_records(_recs(texts), exact=True, near=None)
    assert len(none.kept) == 5


def test_bad_input():
    with pytest.raises(InputError):
        dedup_records([{"id": "a", "text": "x"}, {"id": "a", "text": "y"}])
    with pytest.raises(InputError):
        dedup_records([{"id": "a"}])
    with pytest.raises(InputError):
        dedup_records(["x"], near=1.5)
    with pytest.raises(InputError):
        dedup_records(["x"], max_repeats=0)


def test_strings_and_pairs_accepted():
    res = dedup_records(["same text here", "same text here", ("z", "other")], near=None)
    assert res.kept == ("0", "z") and res.removed[0].id == "1"
