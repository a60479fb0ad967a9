"""Forget by data subject and by content hash, batch files and `probity unlearn serve`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import SGDClassifier

from probity.cli import main
from probity.errors import UnknownKeyError
from probity.unlearning import SISAModel, record_hash


def _frame(n=120):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(n, 3))
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    df["label"] = (X[:, 0] > 0).astype(int)
    df["rid"] = [f"row{i}" for i in range(n)]
    df["customer"] = [f"cust{i % 30}" for i in range(n)]  # 4 records per customer
    # record row5's exact copy under another id (a duplicate in the corpus)
    df.loc[n - 1, ["a", "b", "c", "label"]] = df.loc[5, ["a", "b", "c", "label"]].to_numpy()
    return df


def _model(tmp_path, df, **kw):
    return SISAModel.train(
        SGDClassifier(loss="log_loss", random_state=0),
        df[["a", "b", "c"]].to_numpy(dtype=float),
        df["label"].to_numpy(dtype=int),
        tmp_path / "m",
        ids=df["rid"].tolist(),
        subjects=df["customer"].tolist(),
        shards=3,
        slices=2,
        backend="serial",
        **kw,
    )


def test_forget_by_subject_removes_every_record_of_the_person_and_survives_retrain(tmp_path):
    df = _frame()
    m = _model(tmp_path, df)
    res = m.forget(subjects=["cust7"])
    gone = set(df.loc[df["customer"] == "cust7", "rid"])
    assert res.forgotten == 4 and not gone & set(m.manifest())
    with pytest.raises(UnknownKeyError, match="subjects match no record"):
        m.forget(subjects=["nobody"])
    # the person's new records collected later are also kept out of a retrain
    more = df.copy()
    more.loc[len(more)] = [0.1, 0.2, 0.3, 1, "row-new", "cust7"]
    m2 = _model(tmp_path, more, overwrite=True)
    assert "row-new" not in m2.manifest() and m2.state["tombstoned"] == 5
    m2.verify_ledger()


def test_forget_by_content_hash_and_duplicates_go_too(tmp_path):
    df = _frame()
    m = _model(tmp_path, df)
    X = df[["a", "b", "c"]].to_numpy()
    h = record_hash(X[5], df["label"].to_numpy()[5])
    assert m.manifest()["row5"].sha256 == h
    res = m.forget(content_sha256=[h])
    assert res.forgotten == 2  # row5 and its copy under another id
    assert "row5" not in m.manifest() and f"row{len(df) - 1}" not in m.manifest()
    # by id, the copy goes too unless duplicates=False
    m2 = _model(tmp_path / "b", df)
    assert m2.forget(["row5"], duplicates=False).forgotten == 1
    m3 = _model(tmp_path / "c", df)
    assert m3.forget(["row5"]).forgotten == 2
    m3.verify_ledger()


def _cli_setup(tmp_path):
    df = _frame()
    df.to_csv(tmp_path / "train.csv", index=False)
    (tmp_path / "sisa.yaml").write_text(
        "data: train.csv\nlabel: label\nid: rid\nsubject: customer\nestimator: sgd\n"
        "shards: 2\nslices: 2\nbackend: serial\nout: model\n"
    )
    assert main(["unlearn", "train", "--config", str(tmp_path / "sisa.yaml")]) == 0
    return tmp_path / "model"


def test_cli_batch_file_makes_one_certificate_per_request(tmp_path, capsys):
    model = _cli_setup(tmp_path)
    batch = tmp_path / "requests.jsonl"
    batch.write_text(
        json.dumps({"ids": ["row1"], "reason": "art. 17"})
        + "\n"
        + json.dumps({"subjects": ["cust2"]})
        + "\n"
    )
    capsys.readouterr()
    args = ["unlearn", "forget", "--model", str(model), "--batch", str(batch)]
    assert main([*args, "--certificate", str(tmp_path / "certs.jsonl"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["forgotten"] for r in out["requests"]] == [1, 4]
    certs = (tmp_path / "certs.jsonl").read_text().splitlines()
    assert len(certs) == 2 and json.loads(certs[0])["claims"]["reason"] == "art. 17"
    assert main(["unlearn", "ledger", "verify", "--model", str(model)]) == 0
    batch.write_text('{"ids": ["row3"]}\n{"idz": ["x"]}\n')
    capsys.readouterr()
    assert main(args) == 2
    assert "requests.jsonl:2: unknown field 'idz'" in capsys.readouterr().err
    (tmp_path / "subj.txt").write_text("cust9\n")
    args = ["unlearn", "forget", "--model", str(model), "--subjects", str(tmp_path / "subj.txt")]
    assert main(args) == 0


def test_serve_answers_requests_on_stdin(tmp_path):
    model = _cli_setup(tmp_path)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    requests = "\n".join(
        [
            json.dumps({"ids": ["row1"]}),
            json.dumps({"ids": ["missing"]}),
            "not json",
            json.dumps({"subjects": ["cust3"], "reason": "erasure"}),
        ]
    )
    proc = subprocess.run(
        [sys.executable, "-m", "probity", "unlearn", "serve", "--model", str(model)],
        input=requests + "\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    answers = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [a["ok"] for a in answers] == [True, False, False, True]
    assert "not in the manifest" in answers[1]["error"] and "not valid JSON" in answers[2]["error"]
    assert answers[3]["forgotten"] == 4 and answers[3]["certificate"]["kind"] == "unlearning"
    m = SISAModel.open(model)
    m.verify_ledger()
    assert m.status().forget_requests == 2


def test_cli_forget_of_a_sklearn_model_imports_no_torch(tmp_path):
    """A forget's start-up cost: only what the model's checkpoints need (Found 8)."""
    model = _cli_setup(tmp_path)
    (tmp_path / "ids.txt").write_text("row4\n")
    code = (
        "import sys; from probity.cli import main; "
        f"rc = main(['unlearn', 'forget', '--model', {str(model)!r}, '--ids', "
        f"{str(tmp_path / 'ids.txt')!r}]); "
        "heavy = sorted(m for m in ('torch', 'opacus', 'transformers', 'ray') if m in sys.modules); "
        "print(rc, heavy)"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.stdout.strip().splitlines()[-1] == "0 []", out.stderr
