"""End to end: canaries are trained on, found leaking, forgotten, and shown not to leak."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.tree import DecisionTreeClassifier

from probity.privacy import membership_audit
from probity.unlearning import SISAModel, forget_audit, verify_certificate


def _canary_task(seed=0):
    """Ordinary records follow y = [x0 > 0]; canaries are ordinary-looking points with the
    opposite label, so a model only gets them "right" by memorising them."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(300, 4))
    y = (X[:, 0] > 0).astype(int)
    C = rng.normal(size=(24, 4))
    cy = (C[:, 0] <= 0).astype(int)
    return X, y, C, cy


def test_record_trained_found_leaking_forgotten_not_leaking(tmp_path):
    X, y, C, cy = _canary_task()
    Xtr = np.vstack([X, C[:12]])
    ytr = np.r_[y, cy[:12]]
    ids = [f"r{i}" for i in range(300)] + [f"canary{i}" for i in range(12)]
    model = SISAModel.train(
        DecisionTreeClassifier(random_state=0),
        Xtr,
        ytr,
        tmp_path / "m",
        ids=ids,
        shards=3,
        slices=2,
        backend="serial",
    )
    members, held_out = (C[:12], cy[:12]), (C[12:], cy[12:])
    before = membership_audit(model, members, held_out, attack="loss", member_ids=ids[300:])
    assert before.auc > 0.9, before.to_dict()  # the trained-on canaries stand out: they leak
    assert before.tpr_at_fpr["0%"] > 0.5
    single = "canary0"
    assert before.exposed[0]["above_nonmembers"] == 1.0

    res = model.forget(ids[300:], reason="data subject request")
    assert verify_certificate(res.certificate)
    after = forget_audit(model, members, held_out, ids=ids[300:], tolerance=0.15)
    assert after.passed, after.to_dict()
    assert abs(after.auc - 0.5) <= 0.15
    assert after.still_listed == [] and single not in model.manifest()
    # ordinary records are still predicted well
    assert model.score(X, y) > 0.9


@pytest.mark.slow
def test_ray_backend(tmp_path):
    ray = pytest.importorskip("ray")

    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    try:
        X, y, _, _ = _canary_task()
        m = SISAModel.train(
            DecisionTreeClassifier(random_state=0),
            X,
            y,
            tmp_path / "r",
            shards=2,
            slices=2,
            backend="ray",
            n_jobs=1,
        )
        res = m.forget(["3"])
        assert res.forgotten == 1 and m.score(X, y) > 0.9
    finally:
        ray.shutdown()
