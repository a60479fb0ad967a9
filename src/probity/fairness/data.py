"""Data for fairness audits: a synthetic lending set with a planted bias, and credit loaders.

``make_lending`` plants a *measurement* bias, a documented mechanism of unfair credit
models: for a share ``bias`` of women, the recorded credit history is empty (``history_years
= 0``, a "thin file", e.g. the history is in a partner's name), although their true history,
which drives repayment, is like everyone else's. A model trained on the recorded features
therefore underrates these women and rejects more of those who would repay: a false-rejection
gap between women and men. Young applicants (under 25) have short histories for real, so age
bands differ too, but that part is not a planted unfairness. The ``score`` column is a
legacy scorecard computed from the recorded features, and ``approved`` is ``score >= 0.5``.

Columns: ``sex`` (F/M), ``age`` (years, 18..75), ``income`` (thousands per year),
``debt_ratio`` (0..1), ``history_years`` (recorded), ``late_payments`` (count in two years),
``part_time`` (0/1, more common among women; no effect on repayment), ``repaid`` (1 = would
repay, the favourable outcome), ``score`` (0..1), ``approved`` (1/0).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from probity.errors import InputError

LENDING_FEATURES = ["income", "debt_ratio", "history_years", "late_payments", "part_time"]


def make_lending(n: int = 20_000, *, bias: float = 0.35, seed: int = 0):
    """A synthetic lending DataFrame of ``n`` applicants with a planted false-rejection bias
    against women (see the module docstring); ``bias`` in [0, 1] is the share of women whose
    history is recorded as empty (0 plants nothing)."""
    import pandas as pd

    if n < 10:
        raise InputError(f"n must be at least 10, got {n}")
    if not 0 <= bias <= 1:
        raise InputError(f"bias must be in [0, 1], got {bias}")
    rng = np.random.default_rng(seed)
    female = rng.random(n) < 0.5
    age = np.clip(rng.gamma(3.0, 6.5, n) + 18, 18, 75).astype(np.int64)
    income = np.exp(rng.normal(np.log(38.0) + 0.006 * (age - 40), 0.45, n))
    debt_ratio = rng.beta(2.0, 4.0, n)
    true_history = np.minimum(age - 18, rng.gamma(2.5, 4.0, n))
    late = rng.poisson(0.6, n)
    part_time = (rng.random(n) < np.where(female, 0.35, 0.08)).astype(np.int64)
    logit = (
        1.1
        + 1.0 * np.log(income / 38.0)
        - 3.0 * (debt_ratio - 0.33)
        + 0.09 * (true_history - 8.0)
        - 0.6 * (late - 0.6)
    )
    repaid = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    thin = female & (rng.random(n) < bias)
    history = np.where(thin, 0.0, true_history)
    est = (
        1.1
        + 1.0 * np.log(income / 38.0)
        - 3.0 * (debt_ratio - 0.33)
        + 0.09 * (history - 8.0)
        - 0.6 * (late - 0.6)
        + rng.normal(0, 0.3, n)
    )
    score = 1 / (1 + np.exp(-(est - 0.9)))
    return pd.DataFrame(
        {
            "sex": np.where(female, "F", "M"),
            "age": age,
            "income": income.round(2),
            "debt_ratio": debt_ratio.round(4),
            "history_years": history.round(2),
            "late_payments": late,
            "part_time": part_time,
            "repaid": repaid,
            "score": score.round(5),
            "approved": (score >= 0.5).astype(np.int64),
        }
    )


_GERMAN_SEX = {"A91": "male", "A92": "female", "A93": "male", "A94": "male", "A95": "female"}


def load_german(path: str | Path):
    """UCI Statlog German credit (``german.data``): 20 attributes ``a1..a20``, plus ``sex``
    (from the personal-status codes of attribute 9: A92/A95 female, others male), ``age``
    (attribute 13, years) and ``good`` (1 good credit = favourable, 0 bad)."""
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise InputError(f"german credit file not found: {str(p)!r}")
    df = pd.read_csv(p, sep=r"\s+", header=None, names=[f"a{i}" for i in range(1, 22)])
    df["sex"] = df["a9"].map(_GERMAN_SEX)
    df["age"] = df["a13"]
    df["good"] = (df.pop("a21") == 1).astype(np.int64)
    return df


def load_taiwan(path: str | Path):
    """Taiwan default of credit card clients: ``X1..X23``, ``sex`` (X2: 1 male, 2 female),
    ``age`` (X5), ``Y`` (1 = default) and ``repaid`` (1 - Y, favourable)."""
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise InputError(f"taiwan credit file not found: {str(p)!r}")
    df = pd.read_csv(p)
    df["sex"] = df["X2"].map({1: "male", 2: "female"})
    df["age"] = df["X5"]
    df["repaid"] = 1 - df["Y"].astype(np.int64)
    return df


def features(df: Any, exclude: list[str]) -> Any:
    """Numeric/one-hot features of ``df`` without the ``exclude`` columns."""
    import pandas as pd

    return pd.get_dummies(df.drop(columns=[c for c in exclude if c in df.columns]), dtype=float)
