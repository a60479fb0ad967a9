"""Verdicts: the right verdict with evidence for real, invented and corrupted references."""

from __future__ import annotations

import pytest

from probity.citations import (
    CitationDB,
    Reference,
    calibrate,
    compare_authors,
    verify_references,
    word_difference,
)
from probity.citations._sample import SAMPLE_ANSWER, SAMPLE_RECORDS


@pytest.fixture()
def db(tmp_path):
    d = CitationDB(tmp_path / "c.db")
    d.add_records(SAMPLE_RECORDS, source="sample")
    yield d
    d.close()


def test_chat_answer_three_real_two_invented(db):
    verdicts = verify_references(SAMPLE_ANSWER, db)
    assert [v.verdict for v in verdicts] == ["verified"] * 3 + ["not_found"] * 2
    assert verdicts[0].closest.title == "Attention Is All You Need"
    assert verdicts[1].closest.year == 2016
    for v in verdicts:
        assert v.evidence and 0.0 <= v.confidence <= 1.0
        assert SAMPLE_ANSWER[v.reference.span.start : v.reference.span.end] == v.reference.raw
    # the invented paper with a real author names that fact as evidence
    assert any("real author" in e for e in verdicts[3].evidence)


def test_author_mismatch_names_missing_and_extra(db):
    ref = Reference(
        title="Deep Residual Learning for Image Recognition",
        authors=("Kaiming He", "Xiangyu Zhang", "Jane Doe"),
        year=2016,
    )
    v = verify_references([ref], db)[0]
    assert v.verdict == "author_mismatch"
    assert "Jane Doe" in v.details["authors"]["extra"]
    assert set(v.details["authors"]["missing"]) == {"Shaoqing Ren", "Jian Sun"}
    assert v.fields["title"] == "match" and v.fields["authors"] == "mismatch"


def test_partial_list_without_et_al_is_a_mismatch_but_et_al_is_fine(db):
    base = dict(title="Denoising Diffusion Probabilistic Models", year=2020)
    partial = verify_references([Reference(authors=("Jonathan Ho", "Ajay Jain"), **base)], db)[0]
    assert partial.verdict == "author_mismatch"
    etal = verify_references([Reference(authors=("J. Ho",), et_al=True, **base)], db)[0]
    assert etal.verdict == "verified"


def test_year_future_and_venue(db):
    t = "Generative Adversarial Nets"
    a = (
        "Ian J. Goodfellow",
        "Jean Pouget-Abadie",
        "Mehdi Mirza",
        "Bing Xu",
        "David Warde-Farley",
        "Sherjil Ozair",
        "Aaron C. Courville",
        "Yoshua Bengio",
    )
    assert (
        verify_references([Reference(title=t, authors=a, year=2013)], db)[0].verdict
        == "year_mismatch"
    )
    fut = verify_references([Reference(title=t, authors=a, year=2999)], db)[0]
    assert fut.verdict == "year_mismatch" and "future" in fut.evidence[0]
    ven = verify_references([Reference(title=t, authors=a, year=2014, venue="ICML")], db)[0]
    assert ven.verdict == "venue_mismatch"
    alias = Reference(
        title=t, authors=a, year=2014, venue="Advances in Neural Information Processing Systems 27"
    )
    assert verify_references([alias], db)[0].verdict == "verified"


def test_bad_identifiers(db):
    # a DOI that belongs to another paper
    ref = Reference(
        title="Attention Is All You Need",
        authors=("Ashish Vaswani",),
        et_al=True,
        year=2017,
        doi="10.1109/CVPR.2016.90",
    )
    v = verify_references([ref], db)[0]
    assert v.verdict == "bad_identifier" and "another paper" in v.evidence[0]
    # an identifier alone that resolves nowhere
    v2 = verify_references([Reference(doi="10.99999/fake.123", kind="identifier")], db)[0]
    assert v2.verdict == "bad_identifier"
    # an identifier alone that resolves is checked against the other fields
    v3 = verify_references([Reference(arxiv="1412.6980", year=2015)], db)[0]
    assert v3.verdict == "verified" and v3.closest.title.startswith("Adam")


def test_near_miss_title_is_not_found_but_typo_and_case_are_verified(db):
    a = ("Jonathan Ho", "Ajay Jain", "Pieter Abbeel")
    near = Reference(title="Denoising Diffusion Probabilistic Modeling", authors=a, year=2020)
    v = verify_references([near], db)[0]
    assert v.verdict == "not_found" and v.closest is not None
    assert "modeling" in v.details["title_words_only_cited"]
    typo = Reference(title="denoising difusion probabilistic models", authors=a, year=2020)
    assert verify_references([typo], db)[0].verdict == "verified"


def test_incomplete_is_never_a_problem(db):
    v = verify_references([Reference(authors=("Smith",), year=2020, kind="in_text")], db)[0]
    assert v.verdict == "incomplete" and not v.problem


def test_empty_database_refuses_rather_than_calling_everything_invented(tmp_path):
    from probity.errors import InputError

    with CitationDB(tmp_path / "empty.db") as empty, pytest.raises(InputError, match="empty"):
        verify_references(SAMPLE_ANSWER, empty)


def test_word_difference_and_compare_authors():
    assert word_difference("A Study of Models", "a study of model") == (["models"], ["model"])
    assert word_difference("Reinforcment Learning Agents", "Reinforcement Learning Agents") == (
        [],
        [],
    )
    r = compare_authors(["Wei Zhang", "J. Smith"], ["Zhang Wei", "John Smith"], False)
    assert r["ok"], r
    r2 = compare_authors(["B. Smith"], ["John Smith"], False)
    assert not r2["ok"] and r2["extra"] == ["B. Smith"]


def test_calibrate_stores_parameters(db):
    seen: list[tuple[int, int]] = []
    out = calibrate(db, n=60, seed=1, progress=lambda done, total: seen.append((done, total)))
    # the progress callback (the CLI's bar) reaches the end, counting every case verified
    assert seen and seen[-1][0] == seen[-1][1] and seen == sorted(seen)
    assert out["cases"] > 0 and 0 <= out["brier_after"] <= 1
    assert db.meta("platt")
    v = verify_references(SAMPLE_ANSWER, db)
    assert all(0.0 <= x.confidence <= 1.0 for x in v)
