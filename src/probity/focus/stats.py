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


#: A joint model with more dummy columns than this is skipped (a CSV of unique personas).
MAX_JOINT_TERMS = 60


def joint_model(
    personas: list[dict[str, str]], chose_a: np.ndarray, a_first: np.ndarray
) -> dict[str, Any]:
    """Logistic regression of choosing product A on every factor at once (dummy coding, the
    first level of each factor the reference) plus whether A was shown first.

    Per-factor chi-square tests look at one factor at a time; the joint model estimates each
    factor's effect holding the others fixed (odds ratios with 95% Wald intervals). Shares
    per level stay the descriptive summary.
    """
    if not personas:
        return {"n": 0, "terms": [], "note": "no decided answers"}
    factors = list(personas[0])
    levels = {f: list(dict.fromkeys(p[f] for p in personas)) for f in factors}
    names = ["intercept"]
    cols = [np.ones(len(personas))]
    for f in factors:
        for lv in levels[f][1:]:
            names.append(f"{f}={lv}")
            cols.append(np.array([p[f] == lv for p in personas], dtype=float))
    names.append("shown first")
    cols.append(np.asarray(a_first, dtype=float))
    if len(names) > MAX_JOINT_TERMS:
        return {"n": len(personas), "terms": [], "note": f"too many terms ({len(names)})"}
    from probity.stats import logistic_wald

    fit = logistic_wald(np.column_stack(cols), np.asarray(chose_a, dtype=float))
    terms = [
        {
            "term": name,
            "coef": float(fit["coef"][i]),
            "se": float(fit["se"][i]),
            "ci_low": float(fit["low"][i]),
            "ci_high": float(fit["high"][i]),
            "odds_ratio": float(np.exp(fit["coef"][i])),
            "p_value": float(fit["p_value"][i]),
        }
        for i, name in enumerate(names)
    ]
    return {
        "n": len(personas),
        "reference": {f: levels[f][0] for f in factors},
        "terms": terms,
        "converged": bool(fit["converged"]),
        "note": "" if fit["converged"] else "did not converge (separation?): read with care",
    }
