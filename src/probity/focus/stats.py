"""Statistics of a focus group: Wilson intervals, chi-square association, position effect."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats as _st

from probity.stats import wilson as _wilson


def wilson(k: int, n: int) -> tuple[float, float]:
    """95% Wilson score interval for ``k / n`` (``(nan, nan)`` when ``n == 0``)."""
    _, lo, hi = _wilson(k, n)
    return float(lo), float(hi)


def share_row(k: int, n: int) -> dict[str, Any]:
    """Share ``k/n`` with its Wilson interval, as a report/JSON row."""
    lo, hi = wilson(k, n)
    return {
        "n": n,
        "count": k,
        "share": (k / n) if n else float("nan"),
        "ci_low": lo,
        "ci_high": hi,
    }


def association(table: np.ndarray) -> dict[str, Any]:
    """Chi-square test of independence on a levels x {A, B} table of counts.

    Rows or columns that are all zero are dropped; with fewer than two of either the test is
    undefined and reported as such (p-value None).
    """
    t = np.asarray(table, dtype=float)
    t = t[t.sum(axis=1) > 0]
    t = t[:, t.sum(axis=0) > 0] if t.size else t
    if t.shape[0] < 2 or t.shape[1] < 2:
        return {
            "chi2": None,
            "dof": 0,
            "p_value": None,
            "cramers_v": None,
            "note": "not testable: fewer than two levels or only one answer given",
        }
    chi2, p, dof, expected = _st.chi2_contingency(t, correction=False)
    n = t.sum()
    v = float(np.sqrt(chi2 / (n * (min(t.shape) - 1)))) if n else None
    note = "some expected counts < 5: treat the p-value with care" if (expected < 5).any() else ""
    return {"chi2": float(chi2), "dof": int(dof), "p_value": float(p), "cramers_v": v, "note": note}


def position_effect(chose_first_shown: int, n: int) -> dict[str, Any]:
    """Share of answers picking whichever option was shown first, with a binomial test vs 1/2."""
    row = share_row(chose_first_shown, n)
    row["p_value"] = float(_st.binomtest(chose_first_shown, n, 0.5).pvalue) if n else None
    return row
