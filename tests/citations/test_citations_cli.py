"""``probity cite``: verify, db import/stats/list, ground, and bad input."""

from __future__ import annotations

import json

from probity.citations._sample import SAMPLE_ANSWER, SAMPLE_RECORDS
from probity.cli import main


def _records(tmp_path):
    f = tmp_path / "recs.jsonl"
    f.write_text("\n".join(json.dumps(r) for r in SAMPLE_RECORDS) + "\n{broken\n", encoding="utf-8")
    return f


def test_import_stats_list_verify(tmp_path, capsys):
    f = _records(tmp_path)
    assert main(["cite", "db", "import", str(f), "--json"]) == 2  # the {broken line
    rep = json.loads(capsys.readouterr().out)["imports"][0]
    assert rep["added"] == len(SAMPLE_RECORDS) and rep["skipped"] == 1
    assert main(["cite", "db", "stats", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["records"] == len(SAMPLE_RECORDS)
    assert main(["cite", "db", "list", "diffusion", "--json"]) == 0
    recs = json.loads(capsys.readouterr().out)["records"]
    assert recs[0]["title"] == "Denoising Diffusion Probabilistic Models"
    answer = tmp_path / "answer.txt"
    answer.write_text(SAMPLE_ANSWER, encoding="utf-8")
    assert main(["cite", "verify", "--file", str(answer), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["verdict"] for r in out["references"]] == ["verified"] * 3 + ["not_found"] * 2
    assert out["summary"]["not_found"] == 2
    assert main(["cite", "verify", SAMPLE_ANSWER]) == 0
    assert "not_found" in capsys.readouterr().out


def test_verify_bib_file(tmp_path, capsys):
    assert main(["cite", "db", "import", str(_records(tmp_path))]) == 2  # {broken
    bib = tmp_path / "x.bib"
    bib.write_text(
        "@article{a, title={Adam: A Method for Stochastic Optimization},\n"
        " author={Kingma, Diederik P. and Ba, Jimmy}, year={2014}}\n",
        encoding="utf-8",
    )
    capsys.readouterr()
    assert main(["cite", "verify", "--bib", str(bib), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["references"][0]["verdict"] == "year_mismatch"


def test_errors_are_one_line(tmp_path, capsys):
    assert main(["cite", "verify", "Some text (Smith, 2020)."]) == 2
    assert "no citation database" in capsys.readouterr().err
    empty = tmp_path / "empty.db"
    assert main(["cite", "db", "stats", "--db", str(tmp_path / "x.db")]) == 2
    from probity.citations import CitationDB

    CitationDB(empty).close()
    assert main(["cite", "verify", "--db", str(empty), "Some text (Smith, 2020)."]) == 2
    assert "empty" in capsys.readouterr().err
    assert main(["cite", "db", "import", str(tmp_path / "nope.bib")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["cite", "verify"]) == 2
    assert main(["cite", "db", "stats", "--db", str(tmp_path / "absent.db")]) == 2


def test_ground_cli(tmp_path, capsys):
    d = tmp_path / "docs"
    d.mkdir()
    (d / "a.md").write_text("The Danube empties into the Black Sea.", encoding="utf-8")
    assert (
        main(
            [
                "cite",
                "ground",
                "--corpus",
                str(d),
                "--json",
                "The Danube empties into the Black Sea. Cats fly.",
            ]
        )
        == 0
    )
    res = json.loads(capsys.readouterr().out)
    assert [s["status"] for s in res["sentences"]] == ["supported", "no_evidence"]
    assert main(["cite", "ground", "--corpus", str(tmp_path / "none"), "x y"]) == 2


def test_calibrate_cli_and_demo_step(tmp_path, capsys):
    from pathlib import Path

    from rich.console import Console

    from probity.demo import DemoContext
    from probity.demo import step_citations as step
    from probity.report import Report

    assert main(["cite", "db", "calibrate", "--json"]) == 2  # empty database
    assert main(["cite", "db", "import", str(_records(tmp_path))]) == 2  # {broken
    capsys.readouterr()
    assert main(["cite", "db", "calibrate", "--cases", "40", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["cases"] > 0
    ctx = DemoContext(
        out_dir=Path(tmp_path / "demo"), report=Report("t"), console=Console(quiet=True), quiet=True
    )
    out = step.run(ctx)
    assert out["verdicts"] == ["verified"] * 3 + ["not_found"] * 2 and out["skipped"] == 1
    assert out["grounding"][-1] == "no_evidence"
