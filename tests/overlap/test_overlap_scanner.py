from __future__ import annotations

import pytest
from overlap_helpers import CODE_A, CODE_A_RENAMED, UNRELATED, mutate

from probity.errors import InputError, UnknownKeyError
from probity.guard.base import create_scanner, scan_one
from probity.guard.scanners.protected import redact
from probity.overlap import OverlapIndex


def test_protected_scanner_block_and_redact(corpus, rng):
    OverlapIndex.build("prot", [(f"p{i}", t) for i, t in enumerate(corpus)], ngram=12)
    copied = " ".join(corpus[2].split()[20:60])
    text = "Here is my original answer. " + copied + " And a closing remark."
    sc = create_scanner("protected", index="prot", action="redact")
    found = scan_one(sc, text)
    assert [f.category for f in found] == ["verbatim"]
    f = found[0]
    assert f.action == "redact" and f.details["document"] == "p2"
    red = redact(text, found)
    assert copied.split()[5] not in red and red.startswith("Here is my original answer.")
    blk = create_scanner("protected", index="prot", action="block")
    nd = scan_one(blk, mutate(corpus[7], 0.01, rng))
    assert {x.category for x in nd} >= {"near_duplicate"}
    assert all(x.action == "block" for x in nd)
    assert scan_one(blk, "an innocent sentence that copies nothing at all") == []
    assert sc.scan_many(["", text])[0] == []


def test_protected_scanner_code_clone():
    OverlapIndex.build("pc", [("a.py", CODE_A)], kind="code", k=8, w=4)
    sc = create_scanner("protected", index="pc")
    found = scan_one(sc, UNRELATED + "\n" + CODE_A_RENAMED)
    clones = [f for f in found if f.category == "code_clone"]
    assert clones and clones[0].details["document"] == "a.py" and clones[0].spans


def test_protected_scanner_bad_options():
    with pytest.raises(UnknownKeyError):
        create_scanner("protected", index="absent")
    OverlapIndex.build("p3", [("a", "some words " * 30)], ngram=8)
    with pytest.raises(InputError):
        create_scanner("protected", index="p3", action="explode")


def test_protected_scanner_min_tokens_below_index_n_fails_at_load(corpus):
    OverlapIndex.build("bk12", [(f"d{i}", t) for i, t in enumerate(corpus[:5])])  # n = 12
    with pytest.raises(InputError, match="below the index's n-gram length 12"):
        create_scanner("protected", index="bk12", min_tokens=8)
    sc = create_scanner("protected", index="bk12", min_tokens=12)
    copied = " ".join(corpus[2].split()[10:40])
    found = sc.scan_many(["", "nothing here at all", "Quote: " + copied])
    assert found[0] == [] and found[1] == []
    assert found[2][0].details["document"] == "d2"
