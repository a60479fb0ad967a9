"""Mitigation: pairwise constraint tuned on fairlearn, deterministic, certified on held-out."""

from __future__ import annotations

import numpy as np
import pytest

from probity.errors import InputError
from probity.fairness import LENDING_FEATURES, make_lending, mitigate


@pytest.fixture(scope="module")
def lending():
    return make_lending(8000, bias=0.6, seed=11)


@pytest.fixture(scope="module")
def threshold_result(lending):
    return mitigate(
        lending[LENDING_FEATURES],
        lending.repaid,
        lending[["sex"]],
        method="threshold",
        tolerance=0.02,
        seed=3,
        n_boot=200,
    )


def test_threshold_mitigation_shrinks_the_held_out_gap(threshold_result):
    r = threshold_result
    assert r.gap_before > 0.04
    assert r.gap_after < r.gap_before / 2
    assert r.n_test == 2400 and r.n_train == 5600
    assert r.status in ("pass", "fail", "inconclusive")
    assert r.certified == (r.gap_after_ci_high <= r.tolerance)
    assert abs(r.accuracy_cost - (r.error_after - r.error_before)) < 1e-12
    d = r.to_dict()
    assert "model" not in d and d["mitigated"]["checks"][0]["grouping"] == "sex"


def test_mitigation_is_deterministic_and_predicts_proba(lending, threshold_result):
    again = mitigate(
        lending[LENDING_FEATURES],
        lending.repaid,
        lending[["sex"]],
        method="threshold",
        tolerance=0.02,
        seed=3,
        n_boot=200,
    )
    assert again.to_dict() == threshold_result.to_dict()
    clf = threshold_result.model
    X = lending[LENDING_FEATURES].iloc[:200]
    s = lending[["sex"]].iloc[:200]
    assert np.array_equal(clf.predict(X, s), clf.predict(X, s))
    proba = clf.predict_proba(X, s)
    assert proba.shape == (200, 2) and np.allclose(proba.sum(1), 1)
    with pytest.raises(InputError, match="sensitive features"):
        clf.predict(X)


def test_reduction_method_uses_pairwise_tuning(lending):
    r = mitigate(
        lending[LENDING_FEATURES],
        lending.repaid,
        lending[["sex"]],
        method="reduction",
        tolerance=0.02,
        seed=0,
        n_boot=100,
        max_tries=2,
        max_iter=20,
    )
    # the per-group bound fairlearn gets is at most a quarter of the pairwise tolerance
    assert r.bound <= 0.02 / 4
    assert r.gap_after < r.gap_before
    proba = r.model.predict_proba(lending[LENDING_FEATURES].iloc[:50])
    assert proba.shape == (50, 2)


def test_bad_mitigation_input(lending):
    X, y, s = lending[LENDING_FEATURES], lending.repaid, lending[["sex"]]
    with pytest.raises(InputError, match="cannot constrain"):
        mitigate(X, y, s, metric="precision")
    with pytest.raises(InputError, match="unknown method"):
        mitigate(X, y, s, method="magic")
    with pytest.raises(InputError, match="NaN"):
        mitigate(X.assign(income=X.income.where(X.index != 2)), y, s, method="threshold")
    with pytest.raises(InputError, match="differ in length"):
        mitigate(X.iloc[:100], y, s)


def test_tuning_target_leaves_room_for_the_held_out_interval(threshold_result):
    r = threshold_result
    assert isinstance(r.target_gap, float) and r.expected_halfwidth > 0
    assert r.tolerance / 8 <= r.target_gap <= r.tolerance / 2
    accepted = [t for t in r.tried if t["val_gap"] <= r.target_gap]
    assert r.bound == (
        accepted[0]["bound"]
        if accepted
        else min(r.tried, key=lambda t: (t["val_gap"], -t["bound"]))["bound"]
    )
