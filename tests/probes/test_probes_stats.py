"""Statistical validity of the probe statistics: interval coverage, planted gaps, null rates."""

from __future__ import annotations

import numpy as np
import pytest

from probity.errors import InputError
from probity.probes.stats import (
    adjust,
    benjamini_hochberg,
    bootstrap_diff,
    holm,
    newcombe_diff,
    paired_signflip,
    permutation_pvalue,
    wilson,
)


def test_wilson_matches_textbook_value() -> None:
    # 81 of 263 (Newcombe 1998, example): Wilson 95% interval 0.2553 to 0.3662
    p, lo, hi = wilson(81, 263)
    assert p == pytest.approx(81 / 263)
    assert lo == pytest.approx(0.2553, abs=5e-4)
    assert hi == pytest.approx(0.3662, abs=5e-4)


def test_wilson_edges_and_empty() -> None:
    p, lo, hi = wilson(np.array([0, 10, 0]), np.array([10, 10, 0]))
    assert lo[0] == 0 and hi[0] > 0.2
    assert hi[1] == pytest.approx(1.0) and lo[1] < 0.8
    assert np.isnan(p[2]) and np.isnan(lo[2])


@pytest.mark.parametrize("rate,n", [(0.1, 30), (0.5, 20), (0.8, 60), (0.03, 200)])
def test_wilson_95_interval_covers_known_rate(rate: float, n: int) -> None:
    rng = np.random.default_rng(1)
    k = rng.binomial(n, rate, size=4000)
    _, lo, hi = wilson(k, n)
    coverage = np.mean((lo <= rate) & (rate <= hi))
    assert 0.92 <= coverage <= 0.985, coverage


def test_newcombe_difference_covers_true_shift() -> None:
    rng = np.random.default_rng(2)
    k1 = rng.binomial(80, 0.7, 3000)
    k2 = rng.binomial(80, 0.4, 3000)
    d, lo, hi = newcombe_diff(k1, 80, k2, 80)
    assert np.mean((lo <= 0.3) & (hi >= 0.3)) >= 0.93
    assert np.all(lo <= d) and np.all(d <= hi)


def test_holm_and_bh_known_values() -> None:
    p = np.array([0.01, 0.04, 0.03, 0.005, np.nan])
    h = holm(p)
    assert h[:4] == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert np.isnan(h[4])
    b = benjamini_hochberg(p)
    assert b[:4] == pytest.approx([0.02, 0.04, 0.04, 0.02])
    with pytest.raises(InputError, match="unknown correction"):
        adjust(p, "bonferroni-ish")


def test_planted_tone_gap_is_detected_with_interval_covering_it() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(-0.15, 0.4, 200)  # the group written about more negatively
    y = rng.normal(0.0, 0.4, 200)
    _, lo, hi = bootstrap_diff(x, y, B=1000)
    assert lo < -0.15 < hi and hi < 0
    assert permutation_pvalue(x, y, B=999) < 0.01


def test_null_false_discoveries_at_stated_rate() -> None:
    rng = np.random.default_rng(4)
    pvals = np.array(
        [
            permutation_pvalue(rng.normal(0, 1, 40), rng.normal(0, 1, 40), B=199, seed=i)
            for i in range(300)
        ]
    )
    rate = np.mean(pvals < 0.05)
    assert 0.02 <= rate <= 0.09, rate
    # Holm over families of 10 null tests: family-wise error at most about alpha
    fam = pvals.reshape(30, 10)
    fwer = np.mean([np.any(holm(f) < 0.05) for f in fam])
    assert fwer <= 0.15


def test_stratified_permutation_keeps_strata() -> None:
    # a template effect (stratum) that is balanced across groups must not create a gap
    rng = np.random.default_rng(5)
    s = np.repeat([0, 1], 30)
    null = []
    for i in range(100):
        x = np.where(s == 0, -1.0, 1.0) + rng.normal(0, 0.1, 60)
        y = np.where(s == 0, -1.0, 1.0) + rng.normal(0, 0.1, 60)
        null.append(permutation_pvalue(x, y, strata_x=s, strata_y=s, B=99, seed=i))
    assert np.mean(np.array(null) < 0.05) <= 0.12
    # a small real gap hidden under a large template effect is found within strata
    assert permutation_pvalue(x + 0.1, y, strata_x=s, strata_y=s, B=499) < 0.01


def test_signflip_detects_paired_shift_and_not_null() -> None:
    rng = np.random.default_rng(6)
    assert paired_signflip(rng.normal(0.3, 0.5, 60), B=999) < 0.01
    nulls = [paired_signflip(rng.normal(0, 1, 30), B=199, seed=i) for i in range(200)]
    assert 0.01 <= np.mean(np.array(nulls) < 0.05) <= 0.1
    assert np.isnan(paired_signflip(np.array([])))
