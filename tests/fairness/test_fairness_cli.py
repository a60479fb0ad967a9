"""CLI: probity audit fairness / probity mitigate fairness."""

from __future__ import annotations

import json

import pytest

from probity.cli import main
from probity.fairness import make_lending


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    path = tmp_path_factory.mktemp("fair") / "lending.csv"
    make_lending(4000, bias=0.6, seed=21).to_csv(path, index=False)
    return path


def test_audit_json_and_report(table, tmp_path, capsys):
    out = tmp_path / "audit.html"
    rc = main(
        [
            "audit",
            "fairness",
            "--data",
            str(table),
            "--label",
            "repaid",
            "--favourable",
            "1",
            "--pred",
            "approved",
            "--sensitive",
            "sex",
            "--sensitive",
            "age",
            "--bins",
            "age=25,40,60",
            "--metric",
            "false_rejection_rate",
            "--tolerance",
            "0.01",
            "--n-boot",
            "100",
            "--report",
            str(out),
            "--json",
        ]
    )
    assert rc == 0
    data = json.loads(capsys.readouterr().out)
    assert [g["name"] for g in data["groupings"]] == ["sex", "age", "sex x age"]
    assert data["passed"] is False and data["checks"][0]["status"] == "fail"
    html = out.read_text()
    assert "data:image/png;base64" in html and "p adjusted" in html


def test_audit_table_output_and_strict_exit(table, capsys):
    rc = main(
        [
            "audit",
            "fairness",
            "--data",
            str(table),
            "--label",
            "repaid",
            "--score",
            "score",
            "--threshold",
            "0.5",
            "--sensitive",
            "sex",
            "--tolerance",
            "0.01",
            "--n-boot",
            "50",
            "--strict",
        ]
    )
    assert rc == 3
    out = capsys.readouterr().out
    assert "FAIL" in out and "by sex" in out


def test_audit_bad_input_is_one_line_error(table, capsys):
    rc = main(
        [
            "audit",
            "fairness",
            "--data",
            str(table),
            "--label",
            "nope",
            "--pred",
            "approved",
            "--sensitive",
            "sex",
        ]
    )
    err = capsys.readouterr().err
    assert rc == 2 and "'nope'" in err and "Traceback" not in err
    rc = main(
        [
            "audit",
            "fairness",
            "--data",
            str(table),
            "--label",
            "repaid",
            "--pred",
            "age",
            "--sensitive",
            "sex",
        ]
    )
    assert rc == 2 and "not binary" in capsys.readouterr().err


def test_mitigate_cli_json_saves_model(table, tmp_path, capsys):
    model = tmp_path / "m.joblib"
    rc = main(
        [
            "mitigate",
            "fairness",
            "--data",
            str(table),
            "--label",
            "repaid",
            "--sensitive",
            "sex",
            "--drop",
            "score,approved,age",
            "--method",
            "threshold",
            "--tolerance",
            "0.02",
            "--n-boot",
            "100",
            "--save",
            str(model),
            "--json",
        ]
    )
    assert rc == 0
    data = json.loads(capsys.readouterr().out)
    assert data["method"] == "threshold" and data["gap_after"] < data["gap_before"]
    assert model.stat().st_size > 0


def test_help_mentions_domain_words(capsys):
    rc = main(["audit", "fairness", "--help"])
    assert rc == 0
    assert "false-rejection" in capsys.readouterr().out


def test_audit_with_saved_model(table, tmp_path, capsys):
    import joblib
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    df = pd.read_csv(table)
    feats = ["income", "debt_ratio", "history_years", "late_payments"]
    path = tmp_path / "model.joblib"
    joblib.dump(LogisticRegression(max_iter=500).fit(df[feats], df["repaid"]), path)
    rc = main(
        [
            "audit",
            "fairness",
            "--data",
            str(table),
            "--label",
            "repaid",
            "--model",
            str(path),
            "--sensitive",
            "sex",
            "--n-boot",
            "0",
            "--json",
        ]
    )
    assert rc == 0
    data = json.loads(capsys.readouterr().out)
    assert data["groupings"][0]["groups"][0]["count"] + data["groupings"][0]["groups"][1][
        "count"
    ] == len(df)
    bad = tmp_path / "bad.joblib"
    bad.write_bytes(b"not a pickle")
    rc = main(
        [
            "audit",
            "fairness",
            "--data",
            str(table),
            "--label",
            "repaid",
            "--model",
            str(bad),
            "--sensitive",
            "sex",
        ]
    )
    assert rc == 1 and "cannot load model" in capsys.readouterr().err
