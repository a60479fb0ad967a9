"""DP-SGD training through Opacus and the torch estimator wrapper."""

from __future__ import annotations

import numpy as np
import pytest

from probity.errors import InputError
from probity.privacy import DPClassifier, TorchClassifier, membership_audit


def _data(n=300, d=8, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, d)).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    return X, y


def test_torch_classifier_is_sklearn_style():
    from sklearn.base import clone

    X, y = _data()
    clf = TorchClassifier(hidden=(16,), epochs=20, random_state=1).fit(X, y)
    assert clf.predict_proba(X).shape == (300, 2)
    assert np.allclose(clf.predict_proba(X).sum(1), 1, atol=1e-5)
    assert clf.score(X, y) > 0.85
    again = clone(clf).fit(X, y)  # random_state makes it reproducible
    assert np.allclose(again.predict_proba(X[:5]), clf.predict_proba(X[:5]), atol=1e-6)
    with pytest.raises(InputError, match="not fitted"):
        TorchClassifier().predict(X)


def test_dp_classifier_states_its_guarantee_and_does_not_leak():
    X, y = _data()
    clf = DPClassifier(epsilon=2.0, epochs=4, batch_size=50, lr=0.5, random_state=0)
    clf.fit(X[:150], y[:150])
    p = clf.privacy_
    assert p["accountant"] in ("rdp", "prv") and p["delta"] == pytest.approx(1 / 1500)
    assert p["epsilon_spent"] <= 2.0 + 1e-6 and p["noise_multiplier"] > 0
    # auto accounting: calibrated under RDP, the tighter of RDP and PRV reported, both shown
    assert p["epsilon_rdp"] <= 2.0 + 1e-3
    assert p["epsilon_spent"] == pytest.approx(min(p["epsilon_rdp"], p["epsilon_prv"]))
    assert clf.score(X[150:], y[150:]) > 0.6
    res = membership_audit(clf, (X[:150], y[:150]), (X[150:], y[150:]), attack="loss")
    assert res.auc < 0.6


def test_dp_bad_parameters():
    X, y = _data(50)
    with pytest.raises(InputError, match="epsilon"):
        DPClassifier(epsilon=0).fit(X, y)
    with pytest.raises(InputError, match="delta"):
        DPClassifier(delta=2.0).fit(X, y)
    with pytest.raises(InputError, match="partial_fit"):
        DPClassifier().partial_fit(X, y)
