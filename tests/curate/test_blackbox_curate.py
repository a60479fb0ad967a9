"""Black-box: curation on inputs as the world makes them (issue 21, Found 2, 4, 5, 7)."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

from test_curate_pipeline import WORDS  # the same word list as the pipeline tests

from probity.cli import main


def _text(rng: random.Random, n: int = 40) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def _job(tmp: Path, stages: str, inp: str = "in.jsonl", options: str = "") -> Path:
    job = tmp / "job.yaml"
    job.write_text(f"""inputs: ["{inp}"]
id_field: id
stages:
{stages}
output: {{path: out, format: jsonl}}
options: {{chunk_size: 5{options}}}
""")
    return job


def _lines(p: Path) -> list[dict]:
    return [json.loads(x) for x in p.read_text(encoding="utf-8").splitlines() if x.strip()]


def _kept(tmp: Path) -> list[dict]:
    return [r for p in sorted((tmp / "out").glob("part-*.jsonl")) for r in _lines(p)]


def _raw_input(tmp: Path, rng: random.Random, bad_line: str, bom: bool = False) -> Path:
    lines = [json.dumps({"id": f"d{i}", "text": _text(rng)}) for i in range(6)]
    lines.insert(3, bad_line)
    data = "\n".join(lines) + "\n"
    p = tmp / "in.jsonl"
    p.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data.encode("utf-8"))
    return p


SURROGATE = '{"id": "bad", "text": "lone \\ud800 surrogate in an otherwise fine record"}'


def test_curate_run_rejects_lone_surrogate_record(tmp_path, capsys):
    _raw_input(tmp_path, random.Random(0), SURROGATE)
    assert (
        main(["curate", "run", str(_job(tmp_path, "  - normalize\n  - dedup_exact\n")), "--json"])
        == 0
    )
    assert [r["id"] for r in _kept(tmp_path)] == [f"d{i}" for i in range(6)]
    rej = _lines(tmp_path / "out" / "rejects.jsonl")
    assert len(rej) == 1 and "surrogate" in rej[0]["reason"] and "ud800" in rej[0]["raw"]


def test_curate_dedup_rejects_lone_surrogate_record(tmp_path, capsys):
    inp = _raw_input(tmp_path, random.Random(0), SURROGATE)
    out = tmp_path / "o.jsonl"
    assert main(["curate", "dedup", "--input", str(inp), "--output", str(out), "--json"]) == 0
    assert len(_lines(out)) == 6
    rep = json.loads((tmp_path / "o.jsonl.dedup.json").read_text())
    rej = rep["rejected"]
    assert len(rej) == 1 and "surrogate" in rej[0]["reason"]


def test_bom_does_not_reject_the_first_record(tmp_path, capsys):
    inp = _raw_input(
        tmp_path, random.Random(1), json.dumps({"id": "x", "text": "extra words"}), bom=True
    )
    assert main(["curate", "run", str(_job(tmp_path, "  - normalize\n"))]) == 0
    assert len(_kept(tmp_path)) == 7
    assert not (tmp_path / "out" / "rejects.jsonl").read_text().strip()
    out = tmp_path / "o.jsonl"
    assert main(["curate", "dedup", "--input", str(inp), "--output", str(out)]) == 0
    assert len(_lines(out)) == 7


def test_curate_dedup_duplicate_id_rejects_the_line_only(tmp_path, capsys):
    rng = random.Random(2)
    inp = _raw_input(tmp_path, rng, json.dumps({"id": "d0", "text": _text(rng)}))
    out = tmp_path / "o.jsonl"
    assert main(["curate", "dedup", "--input", str(inp), "--output", str(out), "--json"]) == 0
    assert len(_lines(out)) == 6
    rej = json.loads((tmp_path / "o.jsonl.dedup.json").read_text())["rejected"]
    assert len(rej) == 1 and "duplicate id" in rej[0]["reason"] and rej[0]["raw"]


def test_curate_dedup_empty_and_null_text(tmp_path, capsys):
    rng = random.Random(3)
    lines = [
        json.dumps({"id": "a", "text": _text(rng)}),
        json.dumps({"id": "empty", "text": "   "}),
        json.dumps({"id": "null", "text": None}),
        json.dumps({"id": "missing", "body": "x"}),
    ]
    inp = tmp_path / "in.jsonl"
    inp.write_text("\n".join(lines) + "\n")
    out = tmp_path / "o.jsonl"
    assert main(["curate", "dedup", "--input", str(inp), "--output", str(out)]) == 0
    assert [r["id"] for r in _lines(out)] == ["a"]
    rej = {
        r["raw"]: r["reason"]
        for r in json.loads((tmp_path / "o.jsonl.dedup.json").read_text())["rejected"]
    }
    assert all(rej), "every reject keeps its raw line"
    by_id = {json.loads(raw)["id"]: reason for raw, reason in rej.items()}
    assert "empty" in by_id["empty"]
    assert "null" in by_id["null"] and "no text field" not in by_id["null"]
    assert "no text field" in by_id["missing"]


def test_curate_run_null_text_reason_and_raw(tmp_path, capsys):
    _raw_input(tmp_path, random.Random(4), json.dumps({"id": "n", "text": None}))
    assert main(["curate", "run", str(_job(tmp_path, "  - normalize\n"))]) == 0
    rej = _lines(tmp_path / "out" / "rejects.jsonl")
    assert len(rej) == 1 and "null" in rej[0]["reason"] and rej[0]["raw"]


def test_normalize_removes_zero_width_bidi_and_nul(tmp_path, capsys):
    text = "pay\u200bload \u202ereversed\u202c te\u0000xt soft\u00adhyphen \ufeffjoined\u2060word"
    (tmp_path / "in.jsonl").write_text(json.dumps({"id": "z", "text": text}) + "\n")
    assert main(["curate", "run", str(_job(tmp_path, "  - normalize\n"))]) == 0
    out = _kept(tmp_path)[0]["text"]
    assert out == "payload reversed text softhyphen joinedword"


def test_oversized_record_dropped_with_reason_and_big_record_scrubbed_fast(tmp_path, capsys):
    rng = random.Random(5)
    big = " ".join(_text(rng, 200) + f" mail me at user{i}@example.com." for i in range(900))
    assert 0.9e6 < len(big) < 1.3e6
    huge = "x" * 6_000_000
    recs = [{"id": "big", "text": big}, {"id": "huge", "text": huge}, {"id": "ok", "text": "fine"}]
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    job = _job(
        tmp_path,
        "  - {name: scrub_pii, action: redact, entities: [EMAIL_ADDRESS]}\n",
        options=", max_record_bytes: 5000000",
    )
    t0 = time.process_time()
    assert main(["curate", "run", str(job)]) == 0
    assert time.process_time() - t0 < 30
    kept = {r["id"]: r["text"] for r in _kept(tmp_path)}
    assert set(kept) == {"big", "ok"}
    assert "@example.com" not in kept["big"] and kept["big"].count("[EMAIL_ADDRESS]") == 900
    rej = _lines(tmp_path / "out" / "rejects.jsonl")
    assert len(rej) == 1 and rej[0]["reason"].startswith("too_large") and '"huge"' in rej[0]["raw"]


def test_protected_quote_with_dates_is_dropped_with_documented_stage_order(tmp_path, capsys):
    rng = random.Random(6)
    # a date every 8 words: once dates are rewritten no 12-token run is left verbatim
    dates = ["12 March 1998", "7 June 2004", "30 May 1999", "1 April 2010", "9 July 1987"]
    protected = " ".join(f"{_text(rng, 8)} on {dates[i % 5]}" for i in range(12)) + "."
    (tmp_path / "book.jsonl").write_text(json.dumps({"id": "book-1", "text": protected}) + "\n")
    assert (
        main(
            [
                "overlap",
                "index",
                "build",
                "--name",
                "books",
                "--input",
                str(tmp_path / "book.jsonl"),
                "--ngram",
                "12",
            ]
        )
        == 0
    )
    # embedded in new text, so only verbatim spans (not whole-document similarity) reveal it
    recs = [
        {"id": "copy", "text": _text(rng, 400) + " " + protected + " " + _text(rng, 400)},
        {"id": "fresh", "text": _text(rng, 50)},
    ]
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    stages = (
        "  - normalize\n  - {name: scrub_pii, action: redact}\n"
        "  - {name: drop_protected, index: books}\n"
    )
    assert main(["curate", "run", str(_job(tmp_path, stages))]) == 0
    assert [r["id"] for r in _kept(tmp_path)] == ["fresh"]
    dropped = _lines(tmp_path / "out" / "dropped.jsonl")
    assert dropped[0]["reason"].startswith("protected:") and "book-1" in dropped[0]["reason"]


def test_stage_order_protect_first_and_as_written():
    from probity.curate.job import JobConfig

    stages = [
        "normalize",
        {"name": "scrub_pii"},
        "dedup_exact",
        "scrub_pii",
        {"name": "filter_toxicity"},
        {"name": "drop_protected", "index": "b"},
    ]
    base = {"inputs": ["x"], "stages": stages, "output": {"path": "o"}}
    names = [s.name for s in JobConfig(**base).stages]
    assert names == [
        "normalize",
        "scrub_pii",
        "dedup_exact",
        "drop_protected",
        "scrub_pii",
        "filter_toxicity",
    ]
    kept = JobConfig(**base, options={"stage_order": "as_written"})
    assert [s.name for s in kept.stages][-1] == "drop_protected"
