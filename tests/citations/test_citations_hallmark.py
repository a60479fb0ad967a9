"""On the public HALLMARK records (skipped without ../shared): the database built from the
designated valid records verifies real papers and rejects the labelled fabrications."""

from __future__ import annotations

import json

from probity.citations import PROBLEM_VERDICTS, CitationDB, Reference, Verifier
from probity.citations._importers import jsonl_to_record


def test_hallmark_sample(shared_dir, tmp_path):
    data = shared_dir / "data" / "citations"
    with CitationDB(tmp_path / "h.db") as db:
        rep = db.import_file(data / "hallmark-raw-valid_entries.jsonl")
        assert rep.added > 900 and rep.skipped == 0
        v = Verifier(db)
        text = (data / "hallmark-dev_public.jsonl").read_text(encoding="utf-8")
        rows = [json.loads(x) for x in text.splitlines()]
        fakes = [
            r
            for r in rows
            if r.get("hallucination_type")
            in ("plausible_fabrication", "placeholder_authors", "future_date")
        ][:40]
        flagged = 0
        for r in fakes:
            rec = jsonl_to_record(r)
            out = v.verify(
                Reference(
                    title=rec["title"],
                    authors=tuple(rec["authors"]),
                    year=rec["year"],
                    venue=rec["venue"],
                    doi=rec["doi"],
                )
            )
            flagged += out.verdict in PROBLEM_VERDICTS
        assert flagged >= 0.9 * len(fakes)
        # a real record, abbreviated, is verified
        real = db.list(limit=1)[0]
        ref = Reference(
            title=real.title.lower(),
            authors=(real.authors[0],),
            et_al=len(real.authors) > 1,
            year=real.year,
        )
        assert v.verify(ref).verdict == "verified"
