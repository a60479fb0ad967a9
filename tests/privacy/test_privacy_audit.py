"""Membership-inference metrics and attacks on small synthetic data."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from probity.errors import InputError
from probity.privacy import (
    auc,
    audit_scores,
    empirical_epsilon,
    epsilon_from_rates,
    membership_audit,
    roc,
    tpr_at_fpr,
)
from probity.report import Report


def _task(n=400, d=120, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    w = rng.normal(size=d)
    y = ((X @ w) / np.sqrt(d) + rng.normal(size=n) > 0).astype(int)
    return X[: n // 2], y[: n // 2], X[n // 2 :], y[n // 2 :]


@pytest.fixture(scope="module")
def overfit():
    Xm, ym, Xn, yn = _task()
    model = LogisticRegression(C=1.0, max_iter=3000).fit(Xm, ym)
    return model, (Xm, ym), (Xn, yn)


def test_roc_and_auc_match_sklearn():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(1)
    m = np.round(rng.normal(0.5, 1, 300), 1)  # rounded: ties must be handled
    n = np.round(rng.normal(0, 1, 400), 1)
    fpr, tpr, _thr = roc(m, n)
    expect = roc_auc_score(np.r_[np.ones(300), np.zeros(400)], np.r_[m, n])
    assert auc(fpr, tpr) == pytest.approx(expect, abs=1e-12)
    assert fpr[0] == 0 and tpr[0] == 0 and fpr[-1] == 1 and tpr[-1] == 1
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0)


def test_tpr_at_fpr_and_perfect_separation():
    fpr, tpr, _ = roc(np.array([5.0, 6, 7]), np.array([1.0, 2, 3, 4]))
    assert auc(fpr, tpr) == 1.0
    assert tpr_at_fpr(fpr, tpr, 0.0) == 1.0
    fpr, tpr, _ = roc(np.array([1.0, 2]), np.array([1.0, 2]))
    assert auc(fpr, tpr) == pytest.approx(0.5)
    assert tpr_at_fpr(fpr, tpr, 0.0) == 0.0


def test_epsilon_from_rates_bounds():
    assert float(epsilon_from_rates(0.5, 0.5)) == 0.0
    assert float(epsilon_from_rates(0.2, 0.1)) == pytest.approx(math.log(2))
    assert float(epsilon_from_rates(0.9, 0.1, delta=0.0)) == pytest.approx(math.log(9))
    # chance-level scores give no evidence of leakage
    rng = np.random.default_rng(0)
    e = empirical_epsilon(rng.normal(size=500), rng.normal(size=500))
    assert e["epsilon_lb"] < 0.5


def test_bad_scores_are_input_errors():
    with pytest.raises(InputError, match="no scores"):
        audit_scores([], [1.0])
    with pytest.raises(InputError, match="finite"):
        audit_scores([1.0, float("nan")], [0.0])


@pytest.mark.parametrize("attack", ["loss", "shadow", "lira", "lira-offline"])
def test_attacks_find_leakage_in_overfit_model(overfit, attack):
    model, mem, non = overfit
    res = membership_audit(model, mem, non, attack=attack, n_reference=8, seed=0)
    assert res.auc > 0.6, res.to_dict()
    assert set(res.tpr_at_fpr) == {"1%", "0.1%", "0%"}
    assert res.n_members == 200 and res.n_nonmembers == 200
    assert res.exposed and res.exposed[0]["score"] >= res.exposed[-1]["score"]
    d = res.to_dict()
    assert "member_scores" not in d and d["attack"] == attack


def test_label_free_confidence_attack_on_a_forest():
    from sklearn.ensemble import RandomForestClassifier

    rng = np.random.default_rng(2)
    X = rng.normal(size=(400, 5))
    y = (X[:, 0] + rng.normal(size=400) > 0).astype(int)
    forest = RandomForestClassifier(n_estimators=30, random_state=0).fit(X[:200], y[:200])
    res = membership_audit(forest, (X[:200], y[:200]), (X[200:], y[200:]), attack="confidence")
    assert res.auc > 0.65


def test_lira_beats_chance_at_low_fpr_and_epsilon_is_positive(overfit):
    model, mem, non = overfit
    res = membership_audit(model, mem, non, attack="lira", n_reference=16, seed=0)
    assert res.tpr_at_fpr["1%"] > 0.03
    assert res.epsilon["epsilon_lb"] > 0


def test_well_generalising_model_is_near_chance():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(1000, 3))
    y = (X[:, 0] > 0).astype(int)
    model = LogisticRegression().fit(X[:500], y[:500])
    res = membership_audit(model, (X[:500], y[:500]), (X[500:], y[500:]), attack="loss")
    assert abs(res.auc - 0.5) < 0.06


def test_model_without_predict_proba_is_a_clear_error(overfit):
    _, mem, non = overfit

    class NoProba:
        def predict(self, X):
            return np.zeros(len(X))

    with pytest.raises(InputError, match="no predict_proba"):
        membership_audit(NoProba(), mem, non)


def test_bad_inputs(overfit):
    model, (Xm, ym), non = overfit
    with pytest.raises(InputError, match="unknown attack"):
        membership_audit(model, (Xm, ym), non, attack="magic")
    with pytest.raises(InputError, match="labels"):
        membership_audit(model, (Xm, ym[:-1]), non)
    with pytest.raises(InputError, match="not one of the model's classes"):
        membership_audit(model, (Xm, ym + 5), non)
    with pytest.raises(InputError, match="features"):
        membership_audit(model, (Xm, ym), (Xm[:, :3], ym))


def test_torch_module_is_audited_directly():
    import torch

    _, _, Xn, yn = _task(n=100, d=4)
    torch.manual_seed(0)
    module = torch.nn.Linear(4, 2)
    res = membership_audit(module, (Xn[:25], yn[:25]), (Xn[25:], yn[25:]))
    assert 0 <= res.auc <= 1


def test_report_section_with_log_roc(overfit, tmp_path):
    model, mem, non = overfit
    res = membership_audit(model, mem, non, attack="loss")
    rep = Report("t")
    res.add_to_report(rep)
    path = rep.write(tmp_path / "r.html")
    html = path.read_text()
    assert "data:image/png;base64" in html and "AUC" in html
