"""Probity's group metrics equal fairlearn's MetricFrame exactly on the same inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import precision_score, zero_one_loss

from probity.fairness import FairnessAudit, group_metrics


def _inputs(n: int = 20_000, seed: int = 3):
    rng = np.random.default_rng(seed)
    sex = rng.choice(["F", "M", "X"], n, p=[0.48, 0.48, 0.04])
    age = rng.integers(18, 80, n)
    y = (rng.random(n) < 0.7).astype(int)
    yhat = np.where(rng.random(n) < 0.8, y, 1 - y)
    yhat[(sex == "F") & (rng.random(n) < 0.05)] = 0
    return y, yhat, sex, age


def _mf(y, yhat, sensitive):
    from fairlearn.metrics import (
        MetricFrame,
        count,
        false_negative_rate,
        false_positive_rate,
        selection_rate,
        true_negative_rate,
        true_positive_rate,
    )

    metrics = {
        "selection_rate": selection_rate,
        "error_rate": zero_one_loss,
        "false_rejection_rate": false_negative_rate,
        "false_acceptance_rate": false_positive_rate,
        "true_positive_rate": true_positive_rate,
        "true_negative_rate": true_negative_rate,
        "precision": lambda t, p: precision_score(t, p, zero_division=0),
        "count": count,
    }
    return MetricFrame(metrics=metrics, y_true=y, y_pred=yhat, sensitive_features=sensitive)


def test_intersectional_metrics_equal_metricframe_bit_for_bit():
    y, yhat, sex, age = _inputs()
    res = FairnessAudit(
        metrics=(
            "selection_rate",
            "error_rate",
            "false_rejection_rate",
            "false_acceptance_rate",
            "true_positive_rate",
            "true_negative_rate",
            "precision",
        ),
        n_boot=0,
    ).run(y, yhat, {"sex": sex, "age": age}, {"age": [25, 40, 60]})
    from probity.fairness._groups import band_labels

    bands = np.array(band_labels([25, 40, 60]))[np.searchsorted([25, 40, 60], age, "right")]
    mf = _mf(y, yhat, pd.DataFrame({"sex": sex, "age": bands}))
    by = mf.by_group
    inter = res.grouping("sex x age")
    assert len(inter.groups) == len(by) == 12
    for g in inter.groups:
        row = by.loc[(g.values["sex"], g.values["age"])]
        assert g.count == row["count"]
        for m in g.metrics:
            assert g.metrics[m] == row[m], (g.group, m, g.metrics[m], row[m])
    # the marginal grouping too
    by_sex = _mf(y, yhat, pd.Series(sex, name="sex")).by_group
    for g in res.grouping("sex").groups:
        for m in g.metrics:
            assert g.metrics[m] == by_sex.loc[g.group, m]
    # and the overall values
    for m, v in res.overall.items():
        assert v == mf.overall[m]


def test_group_metrics_fast_path_equals_metricframe():
    y, yhat, sex, _ = _inputs(5000, seed=9)
    labels, vals = group_metrics(y, yhat, sex, ["false_rejection_rate", "selection_rate"])
    by = _mf(y, yhat, pd.Series(sex, name="sex")).by_group
    for i, lbl in enumerate(labels):
        assert vals["false_rejection_rate"][i] == by.loc[lbl, "false_rejection_rate"]
        assert vals["selection_rate"][i] == by.loc[lbl, "selection_rate"]


@pytest.mark.parametrize("favourable", [0, 1])
def test_favourable_label_is_the_positive_class(favourable):
    y, yhat, sex, _ = _inputs(3000, seed=1)
    res = FairnessAudit(metrics=("false_rejection_rate",), n_boot=0).run(
        y, yhat, {"sex": sex}, favourable=favourable
    )
    fav_y, fav_p = (y == favourable), (yhat == favourable)
    for g in res.grouping("sex").groups:
        m = sex == g.group
        expected = np.sum(fav_y[m] & ~fav_p[m]) / np.sum(fav_y[m])
        assert g.metrics["false_rejection_rate"] == pytest.approx(expected, abs=0)
