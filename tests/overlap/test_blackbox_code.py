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


@pytest.mark.parametrize("kind", ["renamed", "swapped", "embedded"])
def test_real_function_clones_found(tmp_path, capsys, material, kind):
    prot, sets = material
    _build(tmp_path, prot)
    found = sum(fid in _hits(tmp_path, capsys, q) for fid, q in sets[kind])
    assert found / len(sets[kind]) >= 0.95, f"{kind}: {found}/{len(sets[kind])}"


def test_unrelated_real_functions_not_reported(tmp_path, capsys, material):
    prot, sets = material
    _build(tmp_path, prot)
    fp = sum(bool(_hits(tmp_path, capsys, q)) for _, q in sets["negative"])
    assert fp / len(sets["negative"]) <= 0.05


def test_cli_exposes_k_window_threshold(tmp_path, capsys, material):
    prot, sets = material
    _build(tmp_path, prot, ["--k", "8", "--window", "5", "--json"])
    meta = json.loads(capsys.readouterr().out)
    assert meta["k"] == 8 and meta["window"] == 5
    fid, q = sets["renamed"][0]
    assert fid in _hits(tmp_path, capsys, q, ["--code-threshold", "0.3"])
    # an impossible threshold reports nothing
    assert not _hits(
        tmp_path, capsys, q, ["--code-threshold", "1.01", "--code-min-tokens", "100000"]
    )
