"""The ``citations`` and ``grounding`` guard scanners."""

from __future__ import annotations

from probity.citations import CitationDB
from probity.citations._sample import SAMPLE_ANSWER, SAMPLE_RECORDS
from probity.guard import ScanContext, create_scanner, scan_one
from probity.home import citations_db_path


def test_default_home_database_missing_gives_unverifiable():
    scanner = create_scanner("citations")
    found = scan_one(scanner, SAMPLE_ANSWER, ScanContext(direction="output"))
    assert [f.category for f in found] == ["unverifiable"]
    assert "missing or empty" in found[0].message
    assert len(found[0].spans) == 5
    assert not citations_db_path().exists()  # scanning never creates the database
    assert scan_one(scanner, "No references here.") == []


def test_findings_per_unverified_reference_in_home_database():
    with CitationDB() as db:
        db.add_records(SAMPLE_RECORDS)
    scanner = create_scanner("citations")
    found = scan_one(scanner, SAMPLE_ANSWER, ScanContext(direction="output"))
    assert [f.category for f in found] == ["not_found", "not_found"]
    for f in found:
        assert f.source == "citations" and f.details["evidence"]
        assert (
            "Recursive" in SAMPLE_ANSWER[f.spans[0].start : f.spans[0].end]
            or "Quantum" in SAMPLE_ANSWER[f.spans[0].start : f.spans[0].end]
        )
    assert scan_one(scanner, SAMPLE_ANSWER, ScanContext(mode="creative")) == []
    inc = scan_one(scanner, "As Smith et al. (2020) argued, it works.")
    assert [f.category for f in inc] == ["incomplete"] and inc[0].score < 0.5


def test_grounding_scanner_uses_context_corpus():
    scanner = create_scanner("grounding")
    text = "The Danube empties into the Black Sea. Penguins enjoy jazz on Tuesdays."
    assert scan_one(scanner, text) == []  # no corpus, nothing to say
    ctx = ScanContext(
        direction="output",
        metadata={
            "corpus": ["The Danube rises in the Black Forest and empties into the Black Sea."]
        },
    )
    found = scan_one(scanner, text, ctx)
    assert [f.category for f in found] == ["no_evidence"]
    assert text[found[0].spans[0].start : found[0].spans[0].end].startswith("Penguins")
