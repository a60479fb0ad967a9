"""Sensitive columns to integer group codes: binning, intersections, labels.

The finest grouping (every sensitive column crossed) is built once; each reported grouping
(one per column, plus the intersection) is a map from fine codes to its own codes, so counts
and bootstrap replicates are computed once on the fine cells and summed up, and the marginal
and intersectional results come from the same resamples.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from probity.errors import InputError

#: A numeric sensitive column with more distinct values than this must be binned.
MAX_UNBINNED_LEVELS = 20


def parse_bins(
    specs: Sequence[str] | Mapping[str, Sequence[float]] | None,
) -> dict[str, list[float]]:
    """``["age=25,40,60"]`` (or a mapping) -> ``{"age": [25.0, 40.0, 60.0]}`` (increasing)."""
    if not specs:
        return {}
    items: list[tuple[str, Sequence[Any]]] = []
    if isinstance(specs, Mapping):
        items = [(str(k), v) for k, v in specs.items()]
    else:
        for spec in specs:
            if "=" not in spec:
                raise InputError(f"bad --bins value {spec!r}", hint="write it as COLUMN=e1,e2,...")
            col, _, edges = spec.partition("=")
            items.append((col.strip(), [e for e in edges.split(",") if e.strip()]))
    out: dict[str, list[float]] = {}
    for col, edges in items:
        try:
            vals = [float(e) for e in edges]
        except (TypeError, ValueError) as exc:
            raise InputError(f"bin edges for {col!r} must be numbers, got {list(edges)!r}") from exc
        if not vals or any(b <= a for a, b in itertools.pairwise(vals)):
            raise InputError(f"bin edges for {col!r} must be increasing and non-empty: {vals}")
        out[col] = vals
    return out


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def band_labels(edges: Sequence[float]) -> list[str]:
    """Labels of the bands cut by ``edges``: ``<25``, ``[25, 40)``, ..., ``>=60``."""
    labels = [f"<{_num(edges[0])}"]
    labels += [f"[{_num(a)}, {_num(b)})" for a, b in itertools.pairwise(edges)]
    labels.append(f">={_num(edges[-1])}")
    return labels


def encode_column(
    values: Any, name: str, edges: Sequence[float] | None
) -> tuple[np.ndarray, list[str]]:
    """Codes ``0..k-1`` and their labels for one sensitive column (binned when ``edges``)."""
    import pandas as pd

    s = pd.Series(values)
    if s.isna().any():
        raise InputError(
            f"sensitive column {name!r} has {int(s.isna().sum())} missing values",
            hint="drop those rows or fill them with an explicit 'unknown' value",
        )
    if edges is not None:
        if not pd.api.types.is_numeric_dtype(s):
            raise InputError(f"--bins given for {name!r}, but the column is not numeric")
        codes = np.searchsorted(np.asarray(edges, dtype=float), s.to_numpy(float), side="right")
        labels = band_labels(edges)
        sizes = np.bincount(codes, minlength=len(labels))
        empty = [labels[i] for i in np.flatnonzero(sizes == 0)]
        if empty:
            raise InputError(
                f"sensitive column {name!r}: band(s) {', '.join(empty)} have no rows",
                hint="change the --bins edges so that every band has applicants",
            )
        return codes.astype(np.int64), labels
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        nunique = s.nunique()
        if nunique > MAX_UNBINNED_LEVELS:
            raise InputError(
                f"sensitive column {name!r} is numeric with {nunique} distinct values",
                hint=f"bin it, e.g. --bins {name}=25,40,60",
            )
    if isinstance(s.dtype, pd.CategoricalDtype):
        counts = s.value_counts(sort=False)
        empty = [str(c) for c in s.cat.categories if counts.get(c, 0) == 0]
        if empty:
            raise InputError(
                f"sensitive column {name!r}: group(s) {', '.join(empty)} have no rows",
                hint="remove unused categories or audit data that contains every group",
            )
        cats = s
        return cats.cat.codes.to_numpy(np.int64), [str(c) for c in cats.cat.categories]
    codes, uniques = pd.factorize(s, sort=True)
    return codes.astype(np.int64), [str(u) for u in uniques]


@dataclass(frozen=True)
class Grouping:
    """One way of splitting the rows: a single column or an intersection of columns."""

    name: str
    columns: tuple[str, ...]
    labels: tuple[str, ...]
    values: tuple[tuple[str, ...], ...]  # per group, the value of each column
    fine_to_group: np.ndarray  # (n_fine,) -> code in this grouping


@dataclass(frozen=True)
class GroupIndex:
    """The fine (fully crossed) group code of every row and the groupings built on it."""

    fine_codes: np.ndarray
    n_fine: int
    groupings: tuple[Grouping, ...]


def build_groups(
    columns: Mapping[str, Any],
    bins: Mapping[str, Sequence[float]] | None = None,
    *,
    intersections: bool = True,
) -> GroupIndex:
    """Encode ``columns`` (name -> values) into fine codes and the groupings to report."""
    bins = dict(bins or {})
    unknown = sorted(set(bins) - set(columns))
    if unknown:
        raise InputError(f"--bins names {unknown} but the sensitive columns are {list(columns)}")
    names = list(columns)
    if not names:
        raise InputError("no sensitive column given", hint="pass at least one --sensitive COLUMN")
    encoded = [encode_column(columns[c], c, bins.get(c)) for c in names]
    sizes = tuple(len(lbl) for _, lbl in encoded)
    if math.prod(sizes) > 50_000_000:
        raise InputError(f"the intersection of {names} has too many cells ({math.prod(sizes)})")
    combined = (
        np.ravel_multi_index(tuple(c for c, _ in encoded), sizes)
        if len(names) > 1
        else encoded[0][0]
    )
    present = np.flatnonzero(np.bincount(combined, minlength=math.prod(sizes)))
    remap = np.full(math.prod(sizes), -1, dtype=np.int64)
    remap[present] = np.arange(len(present))
    fine_codes = remap[combined]
    fine_cols = np.unravel_index(present, sizes)  # per column, the column code of each fine cell
    groupings = []
    for k, name in enumerate(names):
        labels = tuple(encoded[k][1])
        groupings.append(
            Grouping(
                name=name,
                columns=(name,),
                labels=labels,
                values=tuple((lbl,) for lbl in labels),
                fine_to_group=np.asarray(fine_cols[k], dtype=np.int64),
            )
        )
    if intersections and len(names) > 2:
        # every 2-way intersection, then the full one: a bias may show only for a pair
        for k, m in itertools.combinations(range(len(names)), 2):
            pair = fine_cols[k].astype(np.int64) * sizes[m] + fine_cols[m]
            uniq, inverse = np.unique(pair, return_inverse=True)
            vals = tuple(
                (encoded[k][1][int(u // sizes[m])], encoded[m][1][int(u % sizes[m])]) for u in uniq
            )
            groupings.append(
                Grouping(
                    name=f"{names[k]} x {names[m]}",
                    columns=(names[k], names[m]),
                    labels=tuple(f"{names[k]}={v[0]}, {names[m]}={v[1]}" for v in vals),
                    values=vals,
                    fine_to_group=inverse.ravel().astype(np.int64),
                )
            )
    if intersections and len(names) > 1:
        vals = tuple(
            tuple(encoded[k][1][int(fine_cols[k][f])] for k in range(len(names)))
            for f in range(len(present))
        )
        labels = tuple(
            ", ".join(f"{n}={v}" for n, v in zip(names, row, strict=True)) for row in vals
        )
        groupings.append(
            Grouping(
                name=" x ".join(names),
                columns=tuple(names),
                labels=labels,
                values=vals,
                fine_to_group=np.arange(len(present)),
            )
        )
    return GroupIndex(fine_codes=fine_codes, n_fine=len(present), groupings=tuple(groupings))


def aggregate(fine_counts: np.ndarray, grouping: Grouping) -> np.ndarray:
    """Sum fine-cell counts ``(..., n_fine, 4)`` into the grouping's ``(..., G, 4)``."""
    n_groups = len(grouping.labels)
    if n_groups == fine_counts.shape[-2] and np.array_equal(
        grouping.fine_to_group, np.arange(n_groups)
    ):
        return fine_counts
    onehot = np.zeros((n_groups, fine_counts.shape[-2]), dtype=fine_counts.dtype)
    onehot[grouping.fine_to_group, np.arange(fine_counts.shape[-2])] = 1
    return np.einsum("gf,...fc->...gc", onehot, fine_counts)


def _value_label(v: Any) -> str:
    """A group value as text, numbers written one way (3, 3.0 and np.int64(3) -> '3')."""
    if isinstance(v, bool | np.bool_):
        return str(bool(v))
    if isinstance(v, int | float | np.integer | np.floating):
        return _num(float(v))
    return str(v)


def row_labels(
    columns: Mapping[str, Any], bins: Mapping[str, Sequence[float]] | None
) -> np.ndarray:
    """The finest group of every row as a label in the user's own values: ``'A'`` for one
    column, ``'sex=F, age=[25, 40)'`` for several (binned columns by band). Unlike
    :func:`build_groups` it needs no particular set of groups to be present, so a saved model
    labels new data exactly as it labelled its training data."""
    import pandas as pd

    bins = dict(bins or {})
    parts = []
    for name, values in columns.items():
        s = pd.Series(values).reset_index(drop=True)
        if s.isna().any():
            raise InputError(
                f"sensitive column {name!r} has {int(s.isna().sum())} missing values",
                hint="drop those rows or fill them with an explicit 'unknown' value",
            )
        if name in bins:
            if not pd.api.types.is_numeric_dtype(s):
                raise InputError(f"bins given for {name!r}, but the column is not numeric")
            codes = np.searchsorted(np.asarray(bins[name], float), s.to_numpy(float), "right")
            lab = np.asarray(band_labels(bins[name]), dtype=object)[codes]
        else:
            lab = np.asarray([_value_label(v) for v in s], dtype=object)
        parts.append((name, lab))
    if len(parts) == 1:
        return parts[0][1].astype(str)
    out = np.asarray([f"{n}=" for n, _ in parts[:1]], dtype=object)[0] + parts[0][1]
    for n, lab in parts[1:]:
        out = out + f", {n}=" + lab
    return out.astype(str)
