"""`probity unlearn train | forget | status | ledger verify`."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from probity.cli import main


def _write_data(tmp_path, n=200):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 3))
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    df["label"] = (X[:, 0] > 0).astype(int)
    df["rid"] = [f"id{i}" for i in range(n)]
    df.to_csv(tmp_path / "train.csv", index=False)
    (tmp_path / "sisa.yaml").write_text(
        "data: train.csv\nlabel: label\nid: rid\nestimator: sgd\nshards: 2\nslices: 2\n"
        "backend: serial\nout: model\n"
    )
    return tmp_path / "sisa.yaml"


def test_train_forget_status_verify(tmp_path, capsys):
    cfg = _write_data(tmp_path)
    assert main(["unlearn", "train", "--config", str(cfg), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["records"] == 200 and out["shards"] == 2 and out["features"] == ["a", "b", "c"]
    model = tmp_path / "model"
    (tmp_path / "ids.txt").write_text("id3\nid7\n\n")
    assert (
        main(
            [
                "unlearn",
                "forget",
                "--model",
                str(model),
                "--ids",
                str(tmp_path / "ids.txt"),
                "--certificate",
                str(tmp_path / "cert.json"),
                "--json",
            ]
        )
        == 0
    )
    res = json.loads(capsys.readouterr().out)
    assert res["forgotten"] == 2 and res["certificate"]["kind"] == "unlearning"
    assert json.loads((tmp_path / "cert.json").read_text())["signature"]
    assert main(["unlearn", "status", "--model", str(model), "--json"]) == 0
    st = json.loads(capsys.readouterr().out)
    assert st["records"] == 198 and st["forget_requests"] == 1
    assert main(["unlearn", "ledger", "verify", "--model", str(model)]) == 0
    assert "ledger OK" in capsys.readouterr().out
    # tampering is reported as one line, exit code 1
    led = model / "ledger.jsonl"
    led.write_text(led.read_text().replace('"forgotten": 2', '"forgotten": 1'))
    assert main(["unlearn", "ledger", "verify", "--model", str(model)]) == 1
    err = capsys.readouterr().err
    assert "modified" in err and "Traceback" not in err


def test_cli_bad_input(tmp_path, capsys):
    cfg = _write_data(tmp_path)
    assert main(["unlearn", "train", "--config", str(cfg)]) == 0
    capsys.readouterr()
    (tmp_path / "ids.txt").write_text("nope\n")
    code = main(
        [
            "unlearn",
            "forget",
            "--model",
            str(tmp_path / "model"),
            "--ids",
            str(tmp_path / "ids.txt"),
        ]
    )
    assert code == 2 and "not in the manifest" in capsys.readouterr().err
    (tmp_path / "bad.yaml").write_text("data: train.csv\nshards: 0\n")
    assert main(["unlearn", "train", "--config", str(tmp_path / "bad.yaml")]) == 2
    assert "bad.yaml:2" in capsys.readouterr().err
    (tmp_path / "bad2.yaml").write_text("data: train.csv\nlabel: nolabel\n")
    assert main(["unlearn", "train", "--config", str(tmp_path / "bad2.yaml")]) == 2
    assert "no label column" in capsys.readouterr().err
    assert main(["unlearn", "status", "--model", str(tmp_path)]) == 2


def test_audit_privacy_accepts_a_sisa_directory(tmp_path, capsys):
    cfg = _write_data(tmp_path)
    assert main(["unlearn", "train", "--config", str(cfg)]) == 0
    df = pd.read_csv(tmp_path / "train.csv")
    df.iloc[:50].to_csv(tmp_path / "members.csv", index=False)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(50, 3))
    out = pd.DataFrame(X, columns=["a", "b", "c"]).assign(
        label=(X[:, 0] > 0).astype(int), rid=[f"x{i}" for i in range(50)]
    )
    out.to_csv(tmp_path / "non.csv", index=False)
    capsys.readouterr()
    args = [
        "audit",
        "privacy",
        "--model",
        str(tmp_path / "model"),
        "--members",
        str(tmp_path / "members.csv"),
        "--nonmembers",
        str(tmp_path / "non.csv"),
        "--id",
        "rid",
    ]
    assert main([*args, "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert 0 <= res["auc"] <= 1 and res["n_members"] == 50
    assert main([*args, "--attack", "lira"]) == 2
    assert "SISA" in capsys.readouterr().err
