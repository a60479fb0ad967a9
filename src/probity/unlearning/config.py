"""The ``sisa.yaml`` file of ``probity unlearn train`` and the estimators it can name.

Example::

    data: train.csv          # CSV, TSV, Parquet or JSONL; relative to this file
    label: default           # label column
    id: applicant_id         # id column (default: the row number)
    subject: customer_id     # optional: the data subject of each record (forget by subject)
    features: [age, income]  # default: every other numeric column
    estimator: sgd           # sgd | logistic | tree | forest | mlp | torch | torch-mlp
    params: {alpha: 0.0001}  # passed to the estimator
    shards: 5
    slices: 3
    aggregation: mean_proba  # or vote
    backend: joblib          # joblib | ray | serial
    n_jobs: 2
    random_state: 0
    out: models/credit-sisa  # the model directory; relative to this file
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field

from probity.config import ProbityModel, load_config
from probity.errors import InputError

ESTIMATORS: tuple[str, ...] = ("sgd", "logistic", "tree", "forest", "mlp", "torch", "torch-mlp")


class SISAConfig(ProbityModel):
    data: str
    label: str = "label"
    id: str | None = None
    subject: str | None = None
    features: list[str] | None = None
    estimator: str = "sgd"
    params: dict[str, Any] = Field(default_factory=dict)
    shards: int = Field(5, ge=1)
    slices: int = Field(3, ge=1)
    aggregation: Literal["mean_proba", "vote"] = "mean_proba"
    backend: Literal["joblib", "ray", "serial"] = "joblib"
    n_jobs: int = Field(1, ge=1)
    random_state: int = 0
    out: str = "sisa-model"


def make_estimator(name: str, params: dict[str, Any] | None = None) -> Any:
    """A fresh estimator from a short name (see :data:`ESTIMATORS`)."""
    p = dict(params or {})
    try:
        if name == "sgd":
            from sklearn.linear_model import SGDClassifier

            return SGDClassifier(**{"loss": "log_loss", "random_state": 0, **p})
        if name == "logistic":
            from sklearn.linear_model import LogisticRegression

            return LogisticRegression(**{"max_iter": 1000, **p})
        if name == "tree":
            from sklearn.tree import DecisionTreeClassifier

            return DecisionTreeClassifier(**{"random_state": 0, **p})
        if name == "forest":
            from sklearn.ensemble import RandomForestClassifier

            return RandomForestClassifier(**{"random_state": 0, **p})
        if name == "mlp":
            from sklearn.neural_network import MLPClassifier

            return MLPClassifier(**{"random_state": 0, **p})
        if name in ("torch", "torch-mlp"):
            from probity.privacy.dp import TorchClassifier

            if name == "torch-mlp":
                p.setdefault("hidden", (64,))
            if "hidden" in p:
                p["hidden"] = tuple(p["hidden"])
            return TorchClassifier(**p)
    except TypeError as exc:
        raise InputError(f"estimator {name!r}: bad params: {exc}") from exc
    raise InputError(f"unknown estimator {name!r}; choose one of {list(ESTIMATORS)}")


def load_xy(
    path: str | Path,
    label: str,
    id_col: str | None = None,
    features: list[str] | None = None,
    subject_col: str | None = None,
) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """Read a table; return (X float64, y, ids, feature names). ``subject_col`` is only kept
    out of the default features."""
    import pandas as pd

    from probity.io import read_table

    df = read_table(path)
    if label not in df.columns:
        raise InputError(f"{path}: no label column {label!r}; columns are {list(df.columns)[:20]}")
    if id_col is not None and id_col not in df.columns:
        raise InputError(f"{path}: no id column {id_col!r}; columns are {list(df.columns)[:20]}")
    if features is None:
        skip = {label, id_col, subject_col}
        features = [
            c for c in df.columns if c not in skip and pd.api.types.is_numeric_dtype(df[c].dtype)
        ]
        if not features:
            raise InputError(f"{path}: no numeric feature columns besides {label!r}")
    missing = [c for c in features if c not in df.columns]
    if missing:
        raise InputError(f"{path}: feature columns {missing} not found")
    try:
        X = df[features].to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{path}: feature columns must be numeric ({exc})") from exc
    if not np.isfinite(X).all():
        raise InputError(f"{path}: features contain missing or infinite values; clean them first")
    y = df[label].to_numpy()
    ids = [str(v) for v in (df[id_col] if id_col else range(len(df)))]
    return X, y, ids, list(features)


def load_column(path: str | Path, column: str) -> list[str]:
    """One column of a table as strings (the ``subject`` column of ``sisa.yaml``)."""
    from probity.io import read_table

    df = read_table(path)
    if column not in df.columns:
        raise InputError(f"{path}: no column {column!r}; columns are {list(df.columns)[:20]}")
    return [str(v) for v in df[column]]


def load_sisa_config(path: str | Path) -> SISAConfig:
    return load_config(path, SISAConfig)


__all__ = [
    "ESTIMATORS",
    "SISAConfig",
    "load_column",
    "load_sisa_config",
    "load_xy",
    "make_estimator",
]
