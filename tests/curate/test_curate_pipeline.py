"""Curation jobs: stages, accounting, resumption after a crash, and identical output on Ray."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pytest

from probity.curate import load_job, run_job
from probity.errors import ConfigError, InputError

WORDS = [
    "river",
    "stone",
    "light",
    "green",
    "quiet",
    "bright",
    "city",
    "garden",
    "morning",
    "evening",
    "rain",
    "sun",
    "letter",
    "window",
    "story",
    "teacher",
    "doctor",
    "pilot",
    "engineer",
    "baker",
    "walks",
    "reads",
    "writes",
    "learns",
]


def make_corpus(path: Path, n: int = 120, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    base = [" ".join(rng.choice(WORDS) for _ in range(60)) for _ in range(n)]
    records = []
    for i, text in enumerate(base):
        records.append({"id": f"d{i}", "text": text})
        if i % 10 == 0:  # exact duplicate with different spacing and case
            records.append({"id": f"d{i}-exact", "text": "  " + text.upper().replace(" ", "   ")})
        if i % 7 == 0:  # near duplicate: one word changed (5-gram Jaccard about 0.84)
            w = text.split()
            w[30] = "changed"
            records.append({"id": f"d{i}-near", "text": " ".join(w)})
    records.append({"id": "tiny", "text": "too short"})
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r) + "\n")
        fh.write("this line is not json\n")
        fh.write(json.dumps({"id": "notext", "body": "x"}) + "\n")
    return records


def write_job(tmp: Path, stages: str, out: str = "out", extra: str = "") -> Path:
    job = tmp / "job.yaml"
    job.write_text(f"""inputs: ["corpus.jsonl.gz"]
id_field: id
stages:
{stages}
output: {{path: {out}, format: jsonl, shard_size: 50}}
options: {{chunk_size: 20{extra}}}
""")
    return job


STAGES = """  - normalize
  - {name: user, function: "curate_user_stages:drop_short"}
  - dedup_exact
  - {name: dedup_near, threshold: 0.8}
  - {name: cap_repeats, max_repeats: 2, span_tokens: 50}
"""


def _output(out: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(out.glob("part-*")))


def test_every_record_is_accounted_for_with_reasons(tmp_path):
    records = make_corpus(tmp_path / "corpus.jsonl.gz")
    cfg, base = load_job(write_job(tmp_path, STAGES))
    rep = run_job(cfg, base)
    assert rep.accounted and rep.records_read == len(records) and rep.rejected == 2
    out = tmp_path / "out"
    kept = [json.loads(line) for p in sorted(out.glob("part-*.jsonl")) for line in p.open()]
    dropped = [json.loads(line) for line in (out / "dropped.jsonl").open()]
    assert len(kept) + len(dropped) == len(records)
    ids = {r["id"] for r in kept}
    assert all(f"d{i}" in ids for i in range(120))  # originals kept
    reasons = {d["id"]: (d["stage"], d["reason"]) for d in dropped}
    assert reasons["tiny"] == ("user", "user:drop_short")
    assert reasons["d10-exact"] == ("dedup_exact", "exact_duplicate")
    assert reasons["d7-near"][0] == "dedup_near"
    near = next(d for d in dropped if d["id"] == "d7-near")
    assert near["representative"] == "d7"
    rejects = [json.loads(line) for line in (out / "rejects.jsonl").open()]
    assert [r["reason"].split(":")[0] for r in rejects] == ["invalid JSON", "no text field 'text'"]
    report = json.loads((out / "report.json").read_text())
    assert [s["name"] for s in report["stages"]] == [
        "normalize",
        "user",
        "dedup_exact",
        "dedup_near",
        "cap_repeats",
    ]
    assert report["stages"][0]["changed"] >= 12  # the spaced-out exact duplicates
    assert not (out / ".work").exists()
    assert len(list(out.glob("part-*.jsonl"))) == -(-len(kept) // 50)


def test_a_crashed_job_resumes_to_the_same_output(tmp_path, monkeypatch):
    make_corpus(tmp_path / "corpus.jsonl.gz")
    clean = write_job(
        tmp_path,
        STAGES.replace(
            "  - normalize\n",
            '  - normalize\n  - {name: user, function: "curate_user_stages:crash_once"}\n',
        ),
        out="clean",
    )
    cfg, base = load_job(clean)
    run_job(cfg, base)
    victim = records_text_at(tmp_path, 75)
    monkeypatch.setenv("CURATE_CRASH_ON", victim[:30])
    cfg2, base2 = load_job(
        write_job(
            tmp_path,
            STAGES.replace(
                "  - normalize\n",
                '  - normalize\n  - {name: user, function: "curate_user_stages:crash_once"}\n',
            ),
            out="resumed",
        )
    )
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_job(cfg2, base2)
    assert (tmp_path / "resumed" / ".work" / "manifest.json").exists()
    monkeypatch.delenv("CURATE_CRASH_ON")
    rep = run_job(cfg2, base2)
    assert rep.resumed_units >= 2
    assert _output(tmp_path / "resumed") == _output(tmp_path / "clean")
    assert (tmp_path / "resumed" / "dropped.jsonl").read_bytes() == (
        tmp_path / "clean" / "dropped.jsonl"
    ).read_bytes()


def records_text_at(tmp: Path, line: int) -> str:
    with gzip.open(tmp / "corpus.jsonl.gz", "rt") as fh:
        return json.loads(fh.readlines()[line])["text"]


def test_workers_give_the_same_bytes_as_one_process(tmp_path):
    make_corpus(tmp_path / "corpus.jsonl.gz")
    cfg, base = load_job(write_job(tmp_path, STAGES, out="one"))
    run_job(cfg, base, workers=1)
    cfg2, base2 = load_job(write_job(tmp_path, STAGES, out="two"))
    run_job(cfg2, base2, workers=2)
    assert _output(tmp_path / "one") == _output(tmp_path / "two")


def test_ray_executor_output_is_byte_identical(tmp_path):
    pytest.importorskip("ray")
    make_corpus(tmp_path / "corpus.jsonl.gz", n=60)
    stages = "  - normalize\n  - dedup_exact\n  - {name: dedup_near, threshold: 0.8}\n"
    cfg, base = load_job(write_job(tmp_path, stages, out="local"))
    run_job(cfg, base)
    ray_job = write_job(tmp_path, stages, out="ray")
    # small chunks: more chunks than one submission window (8), so windows are stitched too
    ray_job.write_text(ray_job.read_text().replace("chunk_size: 20", "chunk_size: 7"))
    cfg2, base2 = load_job(ray_job)
    rep = run_job(cfg2, base2, executor="ray", workers=1)
    assert rep.executor == "ray"
    assert _output(tmp_path / "ray") == _output(tmp_path / "local")
    assert (tmp_path / "ray" / "dropped.jsonl").read_bytes() == (
        tmp_path / "local" / "dropped.jsonl"
    ).read_bytes()


def test_parquet_output_and_bad_jobs(tmp_path):
    make_corpus(tmp_path / "corpus.jsonl.gz", n=20)
    job = write_job(tmp_path, "  - dedup_exact\n")
    job.write_text(job.read_text().replace("format: jsonl", "format: parquet"))
    cfg, base = load_job(job)
    rep = run_job(cfg, base)
    import pyarrow.parquet as pq

    assert sum(pq.read_table(p).num_rows for p in rep.outputs) == rep.records_out
    (tmp_path / "bad.yaml").write_text("inputs: [x]\nstages: [explode]\noutput: {path: o}\n")
    with pytest.raises(ConfigError, match="unknown stage 'explode'"):
        load_job(tmp_path / "bad.yaml")
    (tmp_path / "nomatch.yaml").write_text(
        "inputs: [none*.jsonl]\nstages: [normalize]\noutput: {path: o}\n"
    )
    cfg3, base3 = load_job(tmp_path / "nomatch.yaml")
    with pytest.raises(InputError, match="matches no file"):
        run_job(cfg3, base3)


def test_cli_runs_a_job_and_writes_the_html_report(tmp_path, capsys):
    from probity.cli import main

    make_corpus(tmp_path / "corpus.jsonl.gz", n=30)
    job = write_job(tmp_path, "  - normalize\n  - dedup_exact\n")
    assert main(["curate", "run", str(job), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["accounted"] and data["records_out"] + data["dropped"] == data["records_read"]
    assert "data:image/png" in (tmp_path / "out" / "report.html").read_text()
    assert main(["curate", "run", str(tmp_path / "missing.yaml")]) == 2
