from __future__ import annotations

import json

from overlap_helpers import CODE_A, CODE_A_RENAMED, CODE_B, UNRELATED, mutate

from probity.cli import main


def _write_jsonl(path, recs):
    path.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    return path


def test_index_build_check_stats_add_drop(tmp_path, corpus, capsys):
    src = _write_jsonl(
        tmp_path / "c.jsonl", [{"id": f"d{i}", "body": t} for i, t in enumerate(corpus[:40])]
    )
    assert (
        main(
            [
                "overlap",
                "index",
                "build",
                "--name",
                "bk",
                "--input",
                str(src),
                "--field",
                "body",
                "--ngram",
                "12",
                "--json",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["documents"] == 40 and out["kind"] == "text"
    copied = " ".join(corpus[3].split()[:40])
    assert main(["overlap", "check", "--index", "bk", "Intro. " + copied, "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["verbatim"][0]["doc"] == "d3"
    qfile = tmp_path / "q.txt"
    qfile.write_text(copied)
    assert main(["overlap", "check", "--index", "bk", "--file", str(qfile)]) == 0
    assert "d3" in capsys.readouterr().out
    more = _write_jsonl(tmp_path / "m.jsonl", [{"id": "new1", "body": corpus[50]}])
    assert (
        main(
            [
                "overlap",
                "index",
                "add",
                "--name",
                "bk",
                "--input",
                str(more),
                "--field",
                "body",
                "--json",
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["documents"] == 41
    assert main(["overlap", "index", "stats", "--name", "bk"]) == 0
    assert "41 documents" in capsys.readouterr().out
    assert main(["overlap", "index", "drop", "--name", "bk"]) == 0
    capsys.readouterr()
    assert main(["overlap", "index", "stats", "--name", "bk"]) == 2
    assert "no overlap index named 'bk'" in capsys.readouterr().err


def test_code_index_from_folder(tmp_path, capsys):
    d = tmp_path / "src"
    d.mkdir()
    (d / "a.py").write_text(CODE_A)
    (d / "b.py").write_text(CODE_B)
    assert (
        main(["overlap", "index", "build", "--name", "cd", "--input", str(d), "--kind", "code"])
        == 0
    )
    q = tmp_path / "q.py"
    q.write_text(UNRELATED + "\n" + CODE_A_RENAMED)
    capsys.readouterr()
    assert main(["overlap", "check", "--index", "cd", "--file", str(q), "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["code_clones"][0]["doc"] == "a.py"


def test_check_errors(capsys):
    assert main(["overlap", "check", "hello"]) == 2
    assert "--index" in capsys.readouterr().err
    assert main(["overlap", "check", "--index", "missing", "hello"]) == 2
    assert main(["overlap", "index", "build", "--name", "x", "--input", "/no/such.jsonl"]) == 2


def test_curate_dedup(tmp_path, corpus, rng, capsys):
    recs = [
        {"id": "a", "text": corpus[0]},
        {"id": "b", "text": corpus[0]},
        {"id": "c", "text": mutate(corpus[0], 0.01, rng)},
        {"id": "d", "text": corpus[1]},
    ]
    src = _write_jsonl(tmp_path / "in.jsonl", recs)
    with open(src, "a") as fh:
        fh.write("{not json\n")
        fh.write('{"id": "e", "body": "no text field"}\n')
    out = tmp_path / "out.jsonl"
    assert (
        main(
            [
                "curate",
                "dedup",
                "--input",
                str(src),
                "--output",
                str(out),
                "--near",
                "0.8",
                "--json",
            ]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == ["a", "d"]
    assert data["counts"] == {"exact_duplicate": 1, "near_duplicate": 1}
    assert [r["line"] for r in data["rejected"]] == [5, 6]
    report = json.loads((tmp_path / "out.jsonl.dedup.json").read_text())
    assert report["total"] == 4 and len(report["removals"]) == 2
    assert main(["curate", "dedup", "--input", str(src), "--output", str(src)]) == 2
