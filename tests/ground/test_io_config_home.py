"""io.py, config.py, home.py and types.py: atomic writes, streaming reads, clear errors."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
import zstandard

from probity.config import ProbityModel, load_config, load_config_text
from probity.errors import ConfigError, InputError
from probity.home import audit_log_path, home, keys_dir
from probity.io import (
    Manifest,
    RejectSink,
    atomic_write,
    iter_jsonl,
    iter_texts,
    read_table,
    read_text,
    write_jsonl,
)
from probity.types import Finding, Span, Verdict, most_severe


def test_atomic_write_leaves_the_old_file_on_failure(tmp_path: Path):
    target = tmp_path / "out.txt"
    target.write_text("good")
    with pytest.raises(RuntimeError), atomic_write(target) as fh:
        fh.write("half")
        raise RuntimeError("crash")
    assert target.read_text() == "good"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_iter_jsonl_rejects_bad_lines_with_reasons(tmp_path: Path):
    p = tmp_path / "in.jsonl"
    p.write_bytes(b'{"text": "a"}\n\nnot json\n[1, 2]\n\xff\xfe\n{"text": "b"}\n')
    sink = RejectSink()
    rows = list(iter_jsonl(p, rejects=sink))
    assert [(n, r["text"]) for n, r in rows] == [(1, "a"), (6, "b")]
    assert [(r.line, r.reason.split(":")[0]) for r in sink.rejects] == [
        (3, "invalid JSON"),
        (4, "invalid JSON"),
        (5, "invalid UTF-8"),
    ]
    with pytest.raises(InputError, match=r"in.jsonl:3"):
        list(iter_jsonl(p))


def test_compressed_jsonl_and_missing_field(tmp_path: Path):
    records = [{"text": f"doc {i}"} for i in range(3)]
    gz = tmp_path / "a.jsonl.gz"
    with gzip.open(gz, "wt") as fh:
        fh.write("\n".join(json.dumps(r) for r in records))
    zst = tmp_path / "a.jsonl.zst"
    zst.write_bytes(
        zstandard.ZstdCompressor().compress(
            gz.read_bytes() and "\n".join(json.dumps(r) for r in records).encode()
        )
    )
    for path in (gz, zst):
        assert [t for _, t in iter_texts(path)] == ["doc 0", "doc 1", "doc 2"]
    with pytest.raises(InputError, match="no field 'body'"):
        list(iter_texts(gz, field="body"))


def test_parquet_and_table_reading(tmp_path: Path):
    import pandas as pd

    df = pd.DataFrame({"text": ["x", "y"], "n": [1, 2]})
    df.to_parquet(tmp_path / "t.parquet")
    assert [t for _, t in iter_texts(tmp_path / "t.parquet")] == ["x", "y"]
    assert read_table(tmp_path / "t.parquet")["n"].tolist() == [1, 2]
    (tmp_path / "bad.csv").write_bytes(b"\x00\x01\x02")
    with pytest.raises(InputError):
        read_table(tmp_path / "missing.csv")
    write_jsonl(tmp_path / "r.jsonl", [{"a": 1}])
    assert read_table(tmp_path / "r.jsonl")["a"].tolist() == [1]


def test_read_text_reports_invalid_utf8(tmp_path: Path):
    (tmp_path / "bad.txt").write_bytes(b"ok \xff")
    with pytest.raises(InputError, match="not valid UTF-8"):
        read_text(tmp_path / "bad.txt")
    with pytest.raises(InputError, match="file not found"):
        read_text(tmp_path / "none.txt")


def test_manifest_resumes_and_refuses_other_settings(tmp_path: Path):
    m = Manifest(tmp_path / "job.manifest.json", fingerprint="abc")
    m.mark_done("part-0", {"rows": 10})
    again = Manifest(tmp_path / "job.manifest.json", fingerprint="abc")
    assert again.is_done("part-0") and again.get("part-0") == {"rows": 10}
    assert not again.is_done("part-1")
    with pytest.raises(InputError, match="other settings"):
        Manifest(tmp_path / "job.manifest.json", fingerprint="xyz")


class Job(ProbityModel):
    name: str
    threshold: float = 0.5
    stages: tuple[str, ...] = ()


def test_config_errors_name_file_line_and_field(tmp_path: Path):
    p = tmp_path / "job.yaml"
    p.write_text("name: demo\nstages:\n  - a\nthreshold: high\n")
    with pytest.raises(ConfigError) as err:
        load_config(p, Job)
    assert f"{p}:4: threshold" in str(err.value)
    p.write_text("name: demo\nbogus: 1\n")
    with pytest.raises(ConfigError, match=r":2: bogus"):
        load_config(p, Job)
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_config_text("name: [unclosed", Job)
    assert load_config_text("name: x\nthreshold: 0.25", Job).threshold == 0.25


def test_home_follows_the_environment(probity_home: Path):
    assert home() == probity_home
    assert keys_dir().is_dir() and keys_dir().parent == probity_home
    assert audit_log_path().parent.is_dir()


def test_types_serialise_and_order_actions():
    f = Finding("pii", "EMAIL", 0.9, (Span(0, 5, "EMAIL"),), "an e-mail address", "redact")
    v = Verdict(most_severe(["flag", "redact", "allow"]), (f,), "*****")
    d = v.to_dict()
    assert d["action"] == "redact" and d["findings"][0]["spans"][0]["end"] == 5
    json.dumps(d)
    with pytest.raises(ValueError):
        Span(5, 2)
    with pytest.raises(ValueError):
        most_severe(["explode"])
