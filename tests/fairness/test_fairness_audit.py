"""Audit behaviour: intervals, gaps, tests, corrections, tolerance, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from probity.errors import InputError
from probity.fairness import FairnessAudit, audit, make_lending
from probity.fairness._stats import benjamini_hochberg, bootstrap_counts, holm, two_proportion_z


@pytest.fixture(scope="module")
def lending():
    return make_lending(6000, seed=2)


def test_planted_bias_shows_as_a_significant_false_rejection_gap(lending):
    res = audit(lending, "repaid", ["sex"], pred="approved", n_boot=300, tolerance=0.01)
    gap = res.gap("false_rejection_rate", "sex")
    assert gap.max_group == "F" and gap.min_group == "M"
    assert gap.gap > 0.05
    assert gap.ci_low < gap.gap < gap.ci_high
    assert gap.p_adjusted < 1e-6
    assert res.checks[0].status == "fail" and res.passed is False


def test_no_planted_bias_no_significant_gap():
    df = make_lending(6000, bias=0.0, seed=4)
    res = audit(df, "repaid", ["sex"], pred="approved", n_boot=200)
    assert res.gap("false_rejection_rate", "sex").p_adjusted > 0.05


def test_intervals_cover_point_and_are_reproducible(lending):
    a = audit(
        lending,
        "repaid",
        ["sex", "age"],
        score="score",
        threshold=0.5,
        bins={"age": [25, 40, 60]},
        n_boot=200,
        seed=5,
    )
    b = audit(
        lending,
        "repaid",
        ["sex", "age"],
        score="score",
        threshold=0.5,
        bins=["age=25,40,60"],
        n_boot=200,
        seed=5,
    )
    assert a.to_dict() == b.to_dict()
    assert [g.name for g in a.groupings] == ["sex", "age", "sex x age"]
    for g in a.groupings:
        for s in g.groups:
            lo, hi = s.ci["selection_rate"]
            assert lo <= s.metrics["selection_rate"] <= hi
    # score >= threshold reproduces the stored decision column
    c = audit(lending, "repaid", ["sex"], pred="approved", n_boot=0)
    assert c.grouping("sex").groups[0].metrics == a.grouping("sex").groups[0].metrics


def test_tolerance_pass_needs_the_upper_bound_within():
    rng = np.random.default_rng(0)
    n = 40_000
    sex = rng.choice(["F", "M"], n)
    y = (rng.random(n) < 0.7).astype(int)
    yhat = np.where(rng.random(n) < 0.9, y, 1 - y)
    res = FairnessAudit(tolerance=0.03, n_boot=300).run(y, yhat, {"sex": sex})
    assert res.checks[0].status == "pass" and res.passed
    tight = FairnessAudit(tolerance=0.004, n_boot=300).run(y, yhat, {"sex": sex})
    chk = tight.checks[0]
    assert chk.ci_high > 0.004 and not chk.passed
    assert chk.status in ("fail", "inconclusive")
    if chk.gap <= 0.004:
        assert chk.status == "inconclusive"


def test_permutation_test_agrees_with_z_test_on_large_gap(lending):
    z = audit(lending, "repaid", ["sex"], pred="approved", n_boot=0, test="z")
    p = audit(lending, "repaid", ["sex"], pred="approved", n_boot=0, test="permutation")
    gz = z.gap("false_rejection_rate", "sex")
    gp = p.gap("false_rejection_rate", "sex")
    assert gp.p_value == pytest.approx(1 / 2001)  # nothing as extreme in 2,000 permutations
    assert gz.p_value < 1e-6
    assert gp.gap == gz.gap


def test_corrections_match_hand_computed_values():
    p = np.array([0.01, 0.04, 0.03, 0.005, np.nan])
    assert np.allclose(holm(p)[:4], [0.03, 0.06, 0.06, 0.02])
    assert np.isnan(holm(p)[4])
    assert np.allclose(benjamini_hochberg(p)[:4], [0.02, 0.04, 0.04, 0.02])
    pz = two_proportion_z(np.array([50]), np.array([100]), np.array([50]), np.array([100]))
    assert pz[0] == pytest.approx(1.0)


def test_bootstrap_counts_keep_totals():
    counts = np.array([[10, 5, 3, 40], [7, 2, 9, 30]])
    rng = np.random.default_rng(0)
    plain = np.concatenate(list(bootstrap_counts(counts, 300, rng, chunk=128)))
    assert plain.shape == (300, 2, 4) and (plain.sum((1, 2)) == counts.sum()).all()
    strat = np.concatenate(list(bootstrap_counts(counts, 300, rng, stratified=True)))
    assert (strat.sum(2) == counts.sum(1)).all()
    assert np.allclose(strat.mean(0), counts, rtol=0.15)


def test_comparisons_are_corrected_per_grouping_or_across_the_audit(lending):
    kw = dict(
        pred="approved",
        bins={"age": [25, 40, 60]},
        n_boot=0,
        correction="bh",
        metrics=["false_rejection_rate"],
    )
    wide = audit(lending, "repaid", ["sex", "age"], family="audit", **kw)
    # 1 pair (sex) + 6 pairs (4 age bands) + 28 pairs (8 crossed groups)
    assert len(wide.comparisons) == 1 + 6 + 28
    raw = np.array([c.p_value for c in wide.comparisons])
    adj = np.array([c.p_adjusted for c in wide.comparisons])
    assert np.allclose(adj, benjamini_hochberg(raw), equal_nan=True)
    res = audit(lending, "repaid", ["sex", "age"], **kw)  # default: per metric x grouping
    assert res.family == "metric"
    for name, (lo, hi) in {"sex": (0, 1), "age": (1, 7), "sex x age": (7, 35)}.items():
        assert all(c.grouping == name for c in res.comparisons[lo:hi])
        adj = np.array([c.p_adjusted for c in res.comparisons[lo:hi]])
        assert np.allclose(adj, benjamini_hochberg(raw[lo:hi]), equal_nan=True)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.drop(columns=["sex"]), "not in the table"),
        (lambda d: d.assign(repaid=np.arange(len(d)) % 3), "not binary"),
        (lambda d: d.assign(repaid=d.repaid.astype(float).where(d.index != 3)), "missing values"),
        (
            lambda d: d.assign(approved=d.approved.astype(float).where(d.index != 5)),
            "missing values",
        ),
        (lambda d: d.assign(sex=d.sex.where(d.index != 7)), "missing values"),
    ],
)
def test_bad_input_raises_clear_input_error(lending, mutate, message):
    with pytest.raises(InputError, match=message):
        audit(mutate(lending.copy()), "repaid", ["sex"], pred="approved", n_boot=0)


def test_empty_group_and_unbinned_numeric_are_rejected(lending):
    with pytest.raises(InputError, match="have no rows"):
        audit(lending, "repaid", ["age"], pred="approved", bins={"age": [25, 40, 200]}, n_boot=0)
    cat = lending.assign(sex=pd.Categorical(lending.sex, categories=["F", "M", "X"]))
    with pytest.raises(InputError, match=r"X have no rows"):
        audit(cat, "repaid", ["sex"], pred="approved", n_boot=0)
    with pytest.raises(InputError, match="bin it"):
        audit(lending, "repaid", ["age"], pred="approved", n_boot=0)
    with pytest.raises(InputError, match="does not occur"):
        audit(lending, "repaid", ["sex"], pred="approved", favourable="yes", n_boot=0)
    with pytest.raises(InputError, match="exactly one decision source"):
        audit(lending, "repaid", ["sex"], pred="approved", score="score", n_boot=0)
    with pytest.raises(InputError, match="unknown metric"):
        FairnessAudit(metrics=("bogus",))


def test_string_labels_and_model_decisions():
    from sklearn.linear_model import LogisticRegression

    df = make_lending(3000, seed=6)
    df["outcome"] = np.where(df.repaid == 1, "repays", "defaults")
    feats = ["income", "debt_ratio", "history_years", "late_payments"]
    model = LogisticRegression(max_iter=500).fit(df[feats], df["outcome"])
    res = audit(
        df[[*feats, "sex", "outcome"]], "outcome", "sex", favourable="repays", model=model, n_boot=0
    )
    manual = audit(
        df.assign(p=model.predict(df[feats])),
        "outcome",
        "sex",
        pred="p",
        favourable="repays",
        n_boot=0,
    )
    assert res.to_dict()["groupings"] == manual.to_dict()["groupings"]
    assert res.favourable == "repays"


def test_to_dict_is_json_ready(lending):
    import json

    res = audit(
        lending.assign(g=np.where(lending.index < 5, "tiny", "big")),
        "repaid",
        ["g"],
        pred="approved",
        n_boot=50,
    )
    text = json.dumps(res.to_dict(), allow_nan=False)
    assert "false_rejection_rate" in text
    assert isinstance(pd.DataFrame(res.to_dict()["comparisons"]), pd.DataFrame)
