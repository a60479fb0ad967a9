"""Black-box: code clones of real standard-library functions, through the CLI (issue 21, Found 1)."""

from __future__ import annotations

import json

import pytest
from clone_corpus import clone_sets

from probity.cli import main


@pytest.fixture(scope="module")
def material():
    return clone_sets()


def _build(tmp_path, prot, extra=()):
    d = tmp_path / "protected"
    d.mkdir()
    for fid, src in prot:
        (d / f"{fid}.py").write_text(src, encoding="utf-8")
    assert (
        main(
            [
                "overlap",
                "index",
                "build",
                "--name",
                "code",
                "--input",
                str(d),
                "--kind",
                "code",
                *extra,
            ]
        )
        == 0
    )


def _hits(tmp_path, capsys, query: str, extra=()) -> set[str]:
    q = tmp_path / "query.py"
    q.write_text(query, encoding="utf-8")
    capsys.readouterr()
    assert main(["overlap", "check", "--index", "code", "--file", str(q), "--json", *extra]) == 0
    rep = json.loads(capsys.readouterr().out)
    return {c["doc"].removesuffix(".py") for c in rep["code_clones"]}


def _api_hits(idx, query: str) -> set[str]:
    return {c.doc for c in idx.check(query).code_clones}


def test_real_function_clones_found_and_unrelated_not(material):
    from probity.overlap import OverlapIndex

    prot, sets = material
    idx = OverlapIndex.build("code", prot, kind="code")  # the defaults the CLI uses
    for kind in ("renamed", "swapped", "embedded"):
        found = sum(fid in _api_hits(idx, q) for fid, q in sets[kind])
        assert found / len(sets[kind]) >= 0.95, f"{kind}: {found}/{len(sets[kind])}"
    fp = sum(bool(_api_hits(idx, q)) for _, q in sets["negative"])
    assert fp / len(sets["negative"]) <= 0.02, f"false positives {fp}/{len(sets['negative'])}"


def test_clone_found_through_the_cli(tmp_path, capsys, material):
    prot, sets = material
    _build(tmp_path, prot)
    fid, q = sets["swapped"][3]
    assert fid in _hits(tmp_path, capsys, q)
    assert not _hits(tmp_path, capsys, sets["negative"][0][1])


def test_cli_exposes_k_window_threshold(tmp_path, capsys, material):
    prot, sets = material
    _build(tmp_path, prot, ["--k", "8", "--window", "5", "--json"])
    meta = json.loads(capsys.readouterr().out)
    assert meta["params"]["k"] == 8 and meta["params"]["w"] == 5
    fid, q = sets["renamed"][0]
    assert fid in _hits(tmp_path, capsys, q, ["--code-threshold", "0.3"])
    # an impossible threshold reports nothing
    assert not _hits(
        tmp_path, capsys, q, ["--code-threshold", "1.01", "--code-min-tokens", "100000"]
    )


def test_side_by_side_html_marks_both_sides(tmp_path, capsys, material):
    prot, sets = material
    _build(tmp_path, prot)
    fid, q = sets["embedded"][2]
    (tmp_path / "q.py").write_text(q, encoding="utf-8")
    page = tmp_path / "view.html"
    assert (
        main(
            [
                "overlap",
                "check",
                "--index",
                "code",
                "--file",
                str(tmp_path / "q.py"),
                "--html",
                str(page),
            ]
        )
        == 0
    )
    html = page.read_text(encoding="utf-8")
    assert f"<h2>{fid}.py</h2>" in html
    left, right = html.split("<h2>checked text</h2>")[1].split(f"<h2>{fid}.py</h2>")
    assert left.count("<mark") >= 1 and right.count("<mark") >= 1
