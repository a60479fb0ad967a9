"""Small statistics shared by every audit: proportion intervals and multiple-testing corrections.

One implementation each, vectorised over numpy arrays, so the fairness audits, the LLM probes
and the focus groups report intervals and adjusted p-values computed the same way.
"""

from __future__ import annotations

import numpy as np

#: The standard-normal quantile for a two-sided 95% interval.
Z95 = 1.959963984540054


def wilson(
    k: np.ndarray | int, n: np.ndarray | int, z: float = Z95
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Share ``k/n`` and its Wilson score interval, elementwise; NaN where ``n == 0``.

    ``centre = (p + z²/2n) / (1 + z²/n)``, ``half = z·sqrt(p(1-p)/n + z²/4n²) / (1 + z²/n)``;
    the bounds are exactly 0 when ``k == 0`` and exactly 1 when ``k == n``.
    """
    k = np.asarray(k, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        z2 = z * z
        denom = 1 + z2 / n
        centre = (p + z2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    lo = np.where(k == 0, 0.0, np.clip(centre - half, 0, 1))
    hi = np.where(k == n, 1.0, np.clip(centre + half, 0, 1))
    bad = n <= 0
    return (np.where(bad, np.nan, p), np.where(bad, np.nan, lo), np.where(bad, np.nan, hi))


def holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error); NaN entries are not counted."""
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = len(ok)
    if m == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    adj = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out[order] = np.minimum(adj, 1.0)
    return out


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (false-discovery rate); NaN entries not counted."""
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = len(ok)
    if m == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    scaled = p[order] * m / np.arange(1, m + 1)
    adj = np.minimum.accumulate(scaled[::-1])[::-1]
    out[order] = np.minimum(adj, 1.0)
    return out


def json_ready(value: object) -> object:
    """Statistics as strict JSON: NaN and infinities become ``None`` (JSON has no NaN),
    numpy scalars and arrays become Python values, tuples become lists."""
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_ready(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def logistic_wald(
    x: np.ndarray, y: np.ndarray, *, z: float = Z95, max_iter: int = 50, ridge: float = 1e-6
) -> dict[str, np.ndarray | bool]:
    """Maximum-likelihood logistic regression with Wald intervals and p-values.

    Hand-written Newton-Raphson (IRLS) because scikit-learn's LogisticRegression gives no
    standard errors and statsmodels would be a heavy dependency for one model. ``x`` includes
    the intercept column. A tiny ``ridge`` keeps the Hessian invertible under separation (then
    the coefficient is huge with a huge standard error, and ``converged`` may be False).
    Returns ``coef``, ``se``, ``low``, ``high``, ``p_value`` and ``converged``.
    """
    from scipy.special import expit
    from scipy.stats import norm

    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    beta = np.zeros(x.shape[1])
    converged = False
    eye = ridge * np.eye(x.shape[1])
    for _ in range(max_iter):
        p = expit(x @ beta)
        w = p * (1 - p)
        hess = (x * w[:, None]).T @ x + eye
        step = np.linalg.solve(hess, x.T @ (y - p) - ridge * beta)
        beta = beta + step
        if np.max(np.abs(step)) < 1e-8:
            converged = True
            break
    p = expit(x @ beta)
    hess = (x * (p * (1 - p))[:, None]).T @ x + eye
    se = np.sqrt(np.clip(np.diag(np.linalg.inv(hess)), 0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        pv = 2 * norm.sf(np.abs(beta / se))
    return {
        "coef": beta,
        "se": se,
        "low": beta - z * se,
        "high": beta + z * se,
        "p_value": pv,
        "converged": converged,
    }
