"""One-run DP audit: sound under the null, powerful against a memorising model."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.neighbors import KNeighborsClassifier

from probity.errors import InputError
from probity.privacy import DPClassifier, one_run_audit
from probity.privacy.dp_audit import epsilon_lower_bound


def _data(n=400, seed=0, d=20):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-0.5, 0.5, size=(n, d)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    return X, y


def test_bound_is_sound_in_a_null_simulation():
    # guesses exactly as good as epsilon = 1 allows: the bound must exceed 1 at most 5% of runs
    rng = np.random.default_rng(0)
    p = math.e / (1 + math.e)
    over = [epsilon_lower_bound(100, int(rng.binomial(100, p))) > 1.0 for _ in range(400)]
    assert np.mean(over) <= 0.05 + 0.03
    assert epsilon_lower_bound(100, 50) == 0.0 and epsilon_lower_bound(100, 100) > 2.5
    # delta adds slack: never a larger bound
    assert epsilon_lower_bound(100, 90, delta=1e-4) <= epsilon_lower_bound(100, 90)


def test_memorising_model_exceeds_any_small_epsilon():
    X, y = _data()
    res = one_run_audit(KNeighborsClassifier(n_neighbors=1), X, y, canaries=200, guesses=60)
    assert res.correct >= 55 and res.epsilon_lb > 2.0, res
    assert res.epsilon_claimed is None and res.delta == 0.0


def test_dp_classifier_stays_below_its_epsilon():
    X, y = _data()
    clf = DPClassifier(epsilon=1.0, epochs=3, batch_size=50, lr=0.5)
    res = one_run_audit(clf, X, y, canaries=100, guesses=40, seed=1)
    assert res.epsilon_claimed == 1.0 and 0 < res.delta < 1e-3
    assert res.epsilon_lb <= 1.0, res


def test_bad_inputs():
    X, y = _data(50)
    with pytest.raises(InputError, match="canaries"):
        one_run_audit(KNeighborsClassifier(1), X, y, canaries=5)
    with pytest.raises(InputError, match="guesses"):
        one_run_audit(KNeighborsClassifier(1), X, y, canaries=20, guesses=3)
