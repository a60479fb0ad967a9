"""`probity audit privacy`."""

from __future__ import annotations

import json

import joblib
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from probity.cli import main


def _tables(tmp_path, n=200, d=60):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, d))
    y = (X[:, 0] + rng.normal(size=n) > 0).astype(int)
    cols = [f"f{i}" for i in range(d)]
    mem = pd.DataFrame(X[: n // 2], columns=cols).assign(
        label=y[: n // 2], rid=[f"m{i}" for i in range(n // 2)]
    )
    non = pd.DataFrame(X[n // 2 :], columns=cols).assign(
        label=y[n // 2 :], rid=[f"n{i}" for i in range(n // 2)]
    )
    mem.to_csv(tmp_path / "members.csv", index=False)
    non.to_parquet(tmp_path / "non.parquet")
    model = LogisticRegression(C=10, max_iter=2000).fit(X[: n // 2], y[: n // 2])
    joblib.dump(model, tmp_path / "model.joblib")
    joblib.dump(LinearSVC().fit(X[: n // 2], y[: n // 2]), tmp_path / "svc.pkl")
    return tmp_path


def test_audit_privacy_json_and_report(tmp_path, capsys):
    p = _tables(tmp_path)
    args = [
        "audit",
        "privacy",
        "--model",
        str(p / "model.joblib"),
        "--members",
        str(p / "members.csv"),
        "--nonmembers",
        str(p / "non.parquet"),
        "--id",
        "rid",
    ]
    assert main([*args, "--json", "--report", str(p / "r.html")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["attack"] == "loss" and out["auc"] > 0.6
    assert out["exposed"][0]["id"].startswith("m")
    assert "data:image/png" in (p / "r.html").read_text()
    assert main([*args, "--attack", "lira", "--n-reference", "4"]) == 0
    assert "TPR at 0.1% FPR" in capsys.readouterr().out


def test_audit_privacy_bad_input(tmp_path, capsys):
    p = _tables(tmp_path)
    base = [
        "audit",
        "privacy",
        "--members",
        str(p / "members.csv"),
        "--nonmembers",
        str(p / "non.parquet"),
    ]
    assert main([*base, "--model", str(p / "svc.pkl")]) == 2
    assert "no predict_proba" in capsys.readouterr().err
    assert main([*base, "--model", str(p / "model.joblib"), "--attack", "nope"]) == 2
    assert "unknown attack" in capsys.readouterr().err
    assert main([*base, "--model", str(p / "missing.pkl")]) == 2
    assert main([*base, "--model", str(p / "model.joblib"), "--label", "zzz"]) == 2
    assert "no label column" in capsys.readouterr().err
