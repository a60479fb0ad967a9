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


def mean_row(values: list[float]) -> dict[str, Any]:
    """Mean of ratings or sentiment scores with a 95% t interval, as a report/JSON row."""
    v = np.asarray(values, dtype=float)
    n = len(v)
    if n == 0:
        return {"n": 0, "mean": None, "sd": None, "ci_low": None, "ci_high": None}
    mean = float(v.mean())
    if n < 2:
        return {"n": n, "mean": mean, "sd": None, "ci_low": None, "ci_high": None}
    sd = float(v.std(ddof=1))
    half = float(_st.t.ppf(0.975, n - 1)) * sd / np.sqrt(n)
    return {"n": n, "mean": mean, "sd": sd, "ci_low": mean - half, "ci_high": mean + half}


def rank_association(groups: list[list[float]]) -> dict[str, Any]:
    """Kruskal-Wallis test that ratings or scores differ between a factor's levels (ranks:
    no normality assumed; ties corrected), with epsilon-squared as the effect size."""
    groups = [g for g in groups if len(g)]
    n = sum(len(g) for g in groups)
    if len(groups) < 2 or len({x for g in groups for x in g}) < 2:
        return {
            "test": "kruskal-wallis",
            "statistic": None,
            "p_value": None,
            "epsilon_squared": None,
            "note": "not testable: fewer than two levels or all answers equal",
        }
    h, p = _st.kruskal(*groups)
    return {
        "test": "kruskal-wallis",
        "statistic": float(h),
        "p_value": float(p),
        "epsilon_squared": float(h / (n - 1)) if n > 1 else None,
        "note": "",
    }


def joint_linear(
    personas: list[dict[str, str]], values: np.ndarray, a_first: np.ndarray | None
) -> dict[str, Any]:
    """Least squares of ratings/scores on every factor at once (dummy coding, first level the
    reference; plus whether the product was shown first, when order matters), with
    classical 95% intervals."""
    if len(personas) < 3:
        return {"n": len(personas), "terms": [], "note": "too few rated answers"}
    factors = list(personas[0])
    levels = {f: list(dict.fromkeys(p[f] for p in personas)) for f in factors}
    names, cols = ["intercept"], [np.ones(len(personas))]
    for f in factors:
        for lv in levels[f][1:]:
            names.append(f"{f}={lv}")
            cols.append(np.array([p[f] == lv for p in personas], dtype=float))
    if a_first is not None:
        names.append("shown first")
        cols.append(np.asarray(a_first, dtype=float))
    x = np.column_stack(cols)
    y = np.asarray(values, dtype=float)
    dof = len(y) - x.shape[1]
    if len(names) > MAX_JOINT_TERMS or dof < 1:
        return {"n": len(y), "terms": [], "note": "too many terms for the answers"}
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ beta
    cov = float(resid @ resid / dof) * np.linalg.pinv(x.T @ x)
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    t = float(_st.t.ppf(0.975, dof))
    with np.errstate(divide="ignore", invalid="ignore"):
        pv = 2 * _st.t.sf(np.abs(beta / se), dof)
    return {
        "n": len(y),
        "model": "least squares",
        "reference": {f: levels[f][0] for f in factors},
        "terms": [
            {
                "term": name,
                "coef": float(beta[i]),
                "se": float(se[i]),
                "ci_low": float(beta[i] - t * se[i]),
                "ci_high": float(beta[i] + t * se[i]),
                "p_value": float(pv[i]),
            }
            for i, name in enumerate(names)
        ],
        "note": "",
    }
