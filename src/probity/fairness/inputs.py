"""Inputs of a fairness audit: tables, decision sources and two-valued columns, with errors
that name the column, the value and the fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from probity.errors import InputError, ModelError


def _matches(values: np.ndarray, favourable: Any) -> np.ndarray:
    """Boolean mask of ``values == favourable``, comparing numbers as numbers ('1' == 1.0)."""
    if values.dtype.kind in "biuf":
        try:
            return values == float(favourable)
        except (TypeError, ValueError):
            return np.zeros(len(values), dtype=bool)
    return (
        np.asarray([str(v) for v in values]) == str(favourable)
        if values.dtype.kind == "O"
        else values.astype(str) == str(favourable)
    )


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value, so messages say 2, not np.int64(2)."""
    return value.item() if isinstance(value, np.generic) else value


def binarize(values: Any, favourable: Any, what: str, *, require_both: bool = True) -> np.ndarray:
    """Map a two-valued column to 0/1 (1 = ``favourable``) with clear errors."""
    import pandas as pd

    s = pd.Series(values)
    if len(s) == 0:
        raise InputError(f"the {what} column is empty")
    if s.isna().any():
        raise InputError(
            f"the {what} column has {int(s.isna().sum())} missing values (NaN)",
            hint="drop or fill those rows before auditing",
        )
    uniques = pd.unique(s)
    if len(uniques) > 2:
        shown = ", ".join(repr(_plain(u)) for u in list(uniques)[:6])
        raise InputError(
            f"the {what} column is not binary: {len(uniques)} distinct values "
            f"({shown}{', ...' if len(uniques) > 6 else ''})",
            hint="audits need two outcomes; map the column to two values first",
        )
    mask = _matches(s.to_numpy(), favourable)
    if require_both and not mask.any():
        raise InputError(
            f"favourable value {favourable!r} does not occur in the {what} column",
            hint=f"its values are {[_plain(u) for u in uniques]}",
        )
    return mask.astype(np.int64)


def load_frame(data: Any):
    """A DataFrame from a DataFrame or a path (CSV, TSV, Parquet, JSONL)."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, str | Path):
        from probity.io import read_table

        return read_table(data)
    raise InputError(f"expected a DataFrame or a table path, got {type(data).__name__}")


def load_model(model: Any) -> Any:
    """A fitted estimator from an object or a joblib path (trusted files only: joblib is
    pickle)."""
    if isinstance(model, str | Path):
        p = Path(model)
        if not p.is_file():
            raise InputError(f"model file not found: {str(p)!r}")
        import joblib

        try:
            model = joblib.load(p)
        except Exception as exc:  # joblib/pickle raise many types for foreign files
            raise ModelError(f"cannot load model {str(p)!r}: {exc}") from exc
    if not hasattr(model, "predict"):
        raise ModelError(f"the model ({type(model).__name__}) has no predict method")
    return model


def decisions(
    df: Any,
    *,
    label: str,
    favourable: Any,
    pred: str | None,
    score: str | None,
    threshold: float,
    model: Any,
) -> np.ndarray:
    """The decision column (original label values or 0/1 for scores) from exactly one source."""
    given = [x for x in (pred, score, model) if x is not None]
    if len(given) != 1:
        raise InputError(
            "give exactly one decision source: a prediction column, a score "
            "column with a threshold, or a model"
        )
    if label not in df.columns:
        raise InputError(
            f"label column {label!r} not in the table",
            hint=f"available columns: {list(df.columns)}",
        )
    for col in (pred, score):
        if col is not None and col not in df.columns:
            raise InputError(
                f"column {col!r} not in the table", hint=f"available columns: {list(df.columns)}"
            )
    fav_mask_label = _matches(df[label].to_numpy(), favourable)
    other = df[label][~fav_mask_label]
    other_value = other.iloc[0] if len(other) else None
    if pred is not None:
        return df[pred].to_numpy()
    if score is not None:
        s = df[score]
        if s.isna().any():
            raise InputError(f"the score column {score!r} has {int(s.isna().sum())} NaNs")
        if not np.issubdtype(s.dtype, np.number):
            raise InputError(f"the score column {score!r} is not numeric")
        fav = _favourable_value(df[label], favourable)
        return np.where(s.to_numpy(float) >= threshold, fav, _other(fav, other_value))
    est = load_model(model)
    names = getattr(est, "feature_names_in_", None)
    if names is not None:
        missing = [c for c in names if c not in df.columns]
        if missing:
            raise InputError(f"the model needs column(s) {missing} that the table lacks")
        X = df[list(names)]
    else:
        X = df.drop(columns=[label])
    if X.isna().any().any():
        raise InputError(
            "the model's feature columns contain NaNs", hint="fill or drop them before auditing"
        )
    try:
        if hasattr(est, "predict_proba") and threshold != 0.5:
            classes = list(getattr(est, "classes_", []))
            fav = _favourable_value(df[label], favourable)
            proba = est.predict_proba(X)[:, classes.index(fav)]
            return np.where(proba >= threshold, fav, _other(fav, other_value))
        return np.asarray(est.predict(X))
    except (ValueError, KeyError, IndexError) as exc:
        raise ModelError(f"the model failed to predict on this table: {exc}") from exc


def _favourable_value(col: Any, favourable: Any) -> Any:
    mask = _matches(col.to_numpy(), favourable)
    if not mask.any():
        raise InputError(f"favourable value {favourable!r} does not occur in column {col.name!r}")
    return col[mask].iloc[0]


def _other(fav: Any, other_value: Any) -> Any:
    if other_value is not None:
        return other_value
    return "__not_favourable__" if isinstance(fav, str) else (0 if fav != 0 else 1)


__all__ = ["binarize", "decisions", "load_frame", "load_model"]
