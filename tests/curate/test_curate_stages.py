"""The stages that use the guard (scrub_pii, filter_toxicity) and the overlap engine
(drop_protected), run as whole jobs so the sidecar and report are checked too."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from probity.curate import load_job, run_job
from probity.errors import InputError, ProbityError

EMAIL = "jane.doe@example.com"
PHONE = "+1 415 555 0132"
CLEAN = [
    "The river ran past the quiet city where bakers met each morning to trade stories.",
    "A teacher reads a letter by the window while the rain falls on the garden.",
    "Engineers learn slowly, but the bridge they built has stood for a hundred years.",
]


def _job(tmp: Path, records: list[dict], stages: str, extra: str = "") -> Path:
    with open(tmp / "corpus.jsonl", "w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r) + "\n")
    job = tmp / "job.yaml"
    job.write_text(
        "inputs: [corpus.jsonl]\nid_field: id\nstages:\n"
        f"{stages}output: {{path: out, format: jsonl}}\noptions: {{chunk_size: 2{extra}}}\n"
    )
    return job


def _run(job: Path):
    cfg, base = load_job(job)
    rep = run_job(cfg, base)
    out = job.parent / "out"
    kept = {
        r["id"]: r
        for p in sorted(out.glob("part-*.jsonl"))
        for r in map(json.loads, p.read_text().splitlines())
    }
    dropped = {
        d["id"]: d for d in map(json.loads, (out / "dropped.jsonl").read_text().splitlines())
    }
    assert rep.accounted and len(kept) + len(dropped) == rep.records_read
    return rep, kept, dropped


def _pii_records() -> list[dict]:
    recs = [{"id": f"c{i}", "text": t} for i, t in enumerate(CLEAN)]
    recs.insert(1, {"id": "p1", "text": f"Write to {EMAIL} or call {PHONE} after nine."})
    recs.append({"id": "p2", "text": f"My phone is {PHONE}; the office is closed on Sunday."})
    return recs


def test_scrub_pii_redacts_email_and_phone(tmp_path):
    rep, kept, dropped = _run(_job(tmp_path, _pii_records(), "  - {name: scrub_pii}\n"))
    assert not dropped and len(kept) == 5
    p1 = kept["p1"]["text"]
    assert EMAIL not in p1 and "555 0132" not in p1 and "@" not in p1
    assert "[EMAIL_ADDRESS]" in p1 and "[PHONE_NUMBER]" in p1
    assert p1.startswith("Write to ") and p1.endswith(" after nine.")
    assert "555" not in kept["p2"]["text"] and "[PHONE_NUMBER]" in kept["p2"]["text"]
    for i, t in enumerate(CLEAN):  # clean records pass unchanged
        assert kept[f"c{i}"]["text"] == t
    st = rep.stages[0]
    assert st["name"] == "scrub_pii" and st["changed"] == 2 and st["dropped"] == 0
    assert any(e["action"] == "changed" and EMAIL in e["before"] for e in st["examples"])


def test_scrub_pii_drop_records_the_entity_types(tmp_path):
    job = _job(
        tmp_path, _pii_records(), "  - {name: scrub_pii, action: drop}\n", ", sidecar_text: true"
    )
    rep, kept, dropped = _run(job)
    assert set(dropped) == {"p1", "p2"} and set(kept) == {"c0", "c1", "c2"}
    assert dropped["p1"]["stage"] == "scrub_pii"
    assert dropped["p1"]["reason"] == "pii:EMAIL_ADDRESS,PHONE_NUMBER"
    assert dropped["p2"]["reason"] == "pii:PHONE_NUMBER"
    assert EMAIL in dropped["p1"]["text"]  # sidecar_text keeps the text for review
    assert rep.stages[0]["reasons"] == {
        "pii:EMAIL_ADDRESS,PHONE_NUMBER": 1,
        "pii:PHONE_NUMBER": 1,
    }


def test_scrub_pii_rejects_a_bad_action(tmp_path):
    with pytest.raises(InputError, match="redact or drop"):
        _run(_job(tmp_path, _pii_records(), "  - {name: scrub_pii, action: shred}\n"))


def test_filter_toxicity_drops_toxic_keeps_clean(tmp_path):
    recs = [{"id": f"c{i}", "text": t} for i, t in enumerate(CLEAN)]
    recs.append({"id": "tox", "text": "You are a fucking idiot and a worthless piece of shit."})
    rep, kept, dropped = _run(_job(tmp_path, recs, "  - {name: filter_toxicity, threshold: 0.8}\n"))
    assert set(dropped) == {"tox"} and set(kept) == {"c0", "c1", "c2"}
    stage, reason = dropped["tox"]["stage"], dropped["tox"]["reason"]
    assert stage == "filter_toxicity" and reason.startswith("toxicity:")
    assert float(reason.split(":")[1]) >= 0.8
    assert rep.stages[0]["dropped"] == 1


def test_filter_toxicity_bad_options(tmp_path):
    recs = [{"id": "c0", "text": CLEAN[0]}]
    with pytest.raises(InputError, match="threshold"):
        _run(_job(tmp_path, recs, "  - {name: filter_toxicity, threshold: 1.5}\n"))
    with pytest.raises(InputError, match="filter_toxicity"):
        _run(_job(tmp_path, recs, "  - {name: filter_toxicity, colour: red}\n"))


def _book(seed: int = 3, n: int = 300) -> str:
    rng = random.Random(seed)
    vocab = [f"{a}{b}" for a in ("lor", "mar", "sel", "tov", "quin") for b in "aeiouyrstn"]
    return " ".join(rng.choice(vocab) for _ in range(n))


def test_drop_protected_drops_a_60_word_copy(tmp_path):
    from probity.overlap import OverlapIndex

    book = _book()
    OverlapIndex.build("books", [("book-1", book)], ngram=50)
    copy = " ".join(book.split()[100:160])  # 60 words, above the index's 50-token spans
    recs = [{"id": f"c{i}", "text": t} for i, t in enumerate(CLEAN)]
    recs.append({"id": "leak", "text": f"{CLEAN[0]} {copy} {CLEAN[1]}"})
    short = " ".join(book.split()[:20])  # 20 words: below the span length, kept
    recs.append({"id": "quote", "text": f"As the book says, {short}."})
    rep, kept, dropped = _run(_job(tmp_path, recs, "  - {name: drop_protected, index: books}\n"))
    assert set(dropped) == {"leak"}
    assert set(kept) == {"c0", "c1", "c2", "quote"}
    assert dropped["leak"]["stage"] == "drop_protected"
    assert dropped["leak"]["reason"] == "protected:verbatim:book-1"
    assert rep.stages[0]["reasons"] == {"protected:verbatim:book-1": 1}


def test_drop_protected_needs_an_existing_index(tmp_path):
    recs = [{"id": "c0", "text": CLEAN[0]}]
    with pytest.raises(InputError, match="index: NAME"):
        _run(_job(tmp_path, recs, "  - drop_protected\n"))
    with pytest.raises(ProbityError, match="no overlap index named 'nothere'"):
        _run(_job(tmp_path, recs, "  - {name: drop_protected, index: nothere}\n"))
