"""SISA training, forgetting, checkpoints, manifest, ledger and certificates."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.linear_model import SGDClassifier
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier

from probity.errors import InputError, TamperedError, UnknownKeyError
from probity.unlearning import SISAModel, verify_certificate


def _data(n=240, d=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = (X[:, 0] + X[:, 1] + 0.5 * rng.normal(size=n) > 0).astype(int)
    return X, y


@pytest.fixture
def sgd_model(tmp_path):
    X, y = _data()
    m = SISAModel.train(
        SGDClassifier(loss="log_loss", random_state=0),
        X,
        y,
        tmp_path / "m",
        shards=3,
        slices=3,
        backend="serial",
    )
    return m, X, y


def test_train_writes_a_complete_model_dir(sgd_model):
    m, X, y = sgd_model
    root = m.model_dir
    assert (root / "state.json").exists() and (root / "manifests" / "v0000.jsonl").exists()
    assert not list(root.parent.glob(".m.*.tmp"))  # the temp dir was renamed into place
    man = m.manifest()
    assert len(man) == len(X)
    assert {e.shard for e in man.values()} == {0, 1, 2}
    assert {e.slice for e in man.values()} == {0, 1, 2}
    # incremental estimator: one checkpoint per slice per shard
    assert all(
        len(sh["checkpoints"]) == 3 and None not in sh["checkpoints"] for sh in m.state["shards"]
    )
    assert m.score(X, y) > 0.75
    again = SISAModel.open(root)
    assert np.allclose(again.predict_proba(X[:10]), m.predict_proba(X[:10]))


def test_forget_retrains_from_the_last_clean_checkpoint(sgd_model):
    m, X, _y = sgd_model
    man = m.manifest()
    # a record in slice 2 of some shard: slices 0 and 1 of that shard must be reused
    target = next(e for e in man.values() if e.slice == 2)
    before = [list(sh["checkpoints"]) for sh in m.state["shards"]]
    res = m.forget([target.id], reason="test")
    after = [list(sh["checkpoints"]) for sh in m.state["shards"]]
    s = target.shard
    assert res.retrained == {s: 2}
    assert after[s][:2] == before[s][:2] and after[s][2] != before[s][2]
    for other in set(range(3)) - {s}:
        assert after[other] == before[other]
    # the stale checkpoint that saw the record is gone from disk
    ck = list((m.model_dir / "checkpoints" / f"s{s:03d}").glob("r002-*.pkl"))
    assert len(ck) == 1 and before[s][2][:20] not in ck[0].name
    assert target.id not in m.manifest() and len(m.manifest()) == len(X) - 1
    assert res.records_retrained < res.records_total / 3
    # the record's data is gone from the shard file too
    with np.load(m.model_dir / m.state["shards"][s]["data"]) as z:
        assert target.id not in set(z["ids"].tolist())
    assert verify_certificate(res.certificate)
    assert res.certificate.claims["retrained"] == {
        str(s): {"from_slice": 2, "slices": 1, "records_after": m.state["shards"][s]["n"]}
    }


def test_batched_forget_and_refit_estimator(tmp_path):
    X, y = _data()
    m = SISAModel.train(
        DecisionTreeClassifier(random_state=0),
        X,
        y,
        tmp_path / "t",
        shards=4,
        slices=2,
        backend="serial",
        aggregation="vote",
    )
    assert all(sh["checkpoints"][0] is None for sh in m.state["shards"])  # final only
    ids = [str(i) for i in range(30)]
    res = m.forget(ids)
    assert res.forgotten == 30 and set(res.retrained.values()) == {0}
    assert sum(m.status().records_per_shard) == len(X) - 30
    assert m.verify_ledger()["entries"] == 2


def test_unknown_ids_change_nothing(sgd_model):
    m, _X, _y = sgd_model
    state = json.dumps(m.state, sort_keys=True)
    with pytest.raises(UnknownKeyError, match="not in the manifest"):
        m.forget(["0", "no-such-id"])
    assert json.dumps(SISAModel.open(m.model_dir).state, sort_keys=True) == state
    m.forget(["0"])
    with pytest.raises(UnknownKeyError, match="already forgotten"):
        m.forget(["0"])


def test_ledger_tamper_is_detected(sgd_model):
    m, _X, _y = sgd_model
    m.forget(["1"])
    m.forget(["2", "3"])
    assert m.verify_ledger()["entries"] == 3
    path = m.model_dir / "ledger.jsonl"
    lines = path.read_text().splitlines()
    entry = json.loads(lines[1])
    entry["forgotten"] = 0
    path.write_text("\n".join([lines[0], json.dumps(entry), lines[2]]) + "\n")
    with pytest.raises(TamperedError, match=":2: entry was modified"):
        m.verify_ledger()
    path.write_text("\n".join(lines[:2]) + "\n")  # cut off the last request
    with pytest.raises(TamperedError, match="cut off"):
        m.verify_ledger()
    path.write_text("\n".join([lines[0], lines[2]]) + "\n")  # remove a middle request
    with pytest.raises(TamperedError, match="sequence"):
        m.verify_ledger()


def test_certificate_and_manifest_tamper_are_detected(sgd_model):
    m, _X, _y = sgd_model
    res = m.forget(["5"])
    cert = res.certificate.to_dict()
    cert["claims"]["forgotten"] = 99
    with pytest.raises(TamperedError, match="signature"):
        verify_certificate(cert)
    man = m.model_dir / m.state["manifest"]["file"]
    man.write_text(man.read_text() + '{"id": "5", "shard": 0, "slice": 0, "sha256": "x"}\n')
    with pytest.raises(TamperedError, match="manifest"):
        SISAModel.open(m.model_dir).manifest()


def test_bad_inputs(tmp_path):
    X, y = _data(60)
    with pytest.raises(InputError, match="no predict_proba"):
        SISAModel.train(LinearSVC(), X, y, tmp_path / "a", shards=2)
    # vote aggregation works without predict_proba
    SISAModel.train(
        LinearSVC(), X, y, tmp_path / "b", shards=2, aggregation="vote", backend="serial"
    )
    with pytest.raises(InputError, match="already exists"):
        SISAModel.train(LinearSVC(), X, y, tmp_path / "b", shards=2, aggregation="vote")
    with pytest.raises(InputError, match="more than once"):
        SISAModel.train(SGDClassifier(loss="log_loss"), X, y, tmp_path / "c", ids=["a"] * 60)
    with pytest.raises(InputError, match="shards"):
        SISAModel.train(SGDClassifier(loss="log_loss"), X, y, tmp_path / "d", shards=0)
    with pytest.raises(InputError, match="not a SISA model"):
        SISAModel.open(tmp_path)
    with pytest.raises(InputError, match="no ids"):
        SISAModel.open(tmp_path / "b").forget([])


def test_joblib_backend_matches_serial(tmp_path):
    X, y = _data()
    est = SGDClassifier(loss="log_loss", random_state=0)
    a = SISAModel.train(est, X, y, tmp_path / "a", shards=2, slices=2, backend="serial")
    b = SISAModel.train(est, X, y, tmp_path / "b", shards=2, slices=2, backend="joblib", n_jobs=2)
    assert np.allclose(a.predict_proba(X), b.predict_proba(X))


def test_repeated_forgets_write_the_same_manifest_as_a_fresh_open(sgd_model):
    # forgets reuse cached manifest lines; the bytes must match a manifest built from scratch
    m, X, _y = sgd_model
    ids = list(m.manifest())
    m.forget([ids[0]])
    m.forget([ids[5], ids[7]])
    fresh = SISAModel.open(m.model_dir)
    fresh.forget([ids[9]])
    m2 = SISAModel.open(m.model_dir)
    assert m2.verify_ledger()["manifest_version"] == 3
    man = m2.manifest()
    assert len(man) == len(X) - 4 and not {ids[0], ids[5], ids[7], ids[9]} & set(man)
    assert list(man) == [i for i in ids if i not in {ids[0], ids[5], ids[7], ids[9]}]
    # the in-process model continues from the state it wrote, not from the reopened one
    m.state = json.loads((m.model_dir / "state.json").read_text("utf-8"))
    m._manifest = None
    m.forget([ids[11]])
    text = (m.model_dir / m.state["manifest"]["file"]).read_text("utf-8")
    rows = [json.loads(line) for line in text.splitlines()]
    assert [r["id"] for r in rows] == [i for i in list(man) if i != ids[11]]
    assert text == "".join(
        json.dumps({"id": r["id"], "shard": r["shard"], "slice": r["slice"], "sha256": r["sha256"]})
        + "\n"
        for r in rows
    )
