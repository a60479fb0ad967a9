"""The fairness audit: group metrics, bootstrap intervals, gap tests, tolerance checks."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from probity.errors import InputError, ModelError
from probity.fairness._groups import GroupIndex, aggregate, build_groups, parse_bins
from probity.fairness._metrics import (
    DEFAULT_METRICS,
    METRICS,
    confusion_counts,
    metric_name,
    numerators,
    rates,
)
from probity.fairness._stats import (
    CORRECTIONS,
    bootstrap_counts,
    percentile_interval,
    permutation_test,
    two_proportion_z,
)


def _clean(value: Any) -> Any:
    """JSON-ready: NaN -> None, tuples -> lists, numpy scalars -> Python."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


@dataclass(frozen=True)
class GroupStats:
    """One group's size, confusion counts, metric values and their bootstrap intervals."""

    group: str
    values: dict[str, str]
    count: int
    counts: dict[str, int]  # tn, fp, fn, tp (favourable = positive)
    metrics: dict[str, float]
    ci: dict[str, tuple[float, float]]


@dataclass(frozen=True)
class Gap:
    """Largest minus smallest group value of a metric within a grouping."""

    grouping: str
    metric: str
    gap: float
    ci_low: float
    ci_high: float
    max_group: str
    min_group: str
    p_value: float  # of the max-vs-min pairwise comparison
    p_adjusted: float  # corrected across every comparison of the audit


@dataclass(frozen=True)
class Comparison:
    """A pairwise test of one metric between two groups."""

    grouping: str
    metric: str
    group_a: str
    group_b: str
    value_a: float
    value_b: float
    difference: float
    p_value: float
    p_adjusted: float
    significant: bool


@dataclass(frozen=True)
class ToleranceCheck:
    """Whether a metric's gap is within ``tolerance``, judged on its interval.

    ``pass``: the whole interval is within tolerance (upper bound <= tolerance).
    ``fail``: the point estimate exceeds tolerance.
    ``inconclusive``: the point estimate is within tolerance but the interval is not, so the
    data cannot show the model meets it (more data, or a fairer model, is needed).
    """

    grouping: str
    metric: str
    tolerance: float
    gap: float
    ci_high: float
    status: str
    passed: bool


@dataclass(frozen=True)
class GroupingResult:
    """The audit of one grouping (a sensitive column, or the intersection of several)."""

    name: str
    columns: tuple[str, ...]
    groups: tuple[GroupStats, ...]
    gaps: tuple[Gap, ...]


@dataclass(frozen=True)
class AuditResult:
    """Everything an audit found; ``to_dict()`` is the CLI's ``--json`` shape."""

    n_rows: int
    favourable: str
    metrics: tuple[str, ...]
    overall: dict[str, float]
    groupings: tuple[GroupingResult, ...]
    comparisons: tuple[Comparison, ...]
    checks: tuple[ToleranceCheck, ...]
    passed: bool | None
    confidence: float
    n_boot: int
    test: str
    correction: str
    alpha: float
    seed: int
    notes: tuple[str, ...] = field(default_factory=tuple)

    def grouping(self, name: str) -> GroupingResult:
        """The grouping called ``name`` (``"sex"``, ``"sex x age"``)."""
        for g in self.groupings:
            if g.name == name:
                return g
        raise InputError(f"no grouping {name!r}; have {[g.name for g in self.groupings]}")

    def gap(self, metric: str, grouping: str | None = None) -> Gap:
        """The gap of ``metric`` in ``grouping`` (default: the first grouping)."""
        metric = metric_name(metric)
        g = self.grouping(grouping) if grouping else self.groupings[0]
        for gap in g.gaps:
            if gap.metric == metric:
                return gap
        raise InputError(f"metric {metric!r} was not audited; audited: {list(self.metrics)}")

    def to_dict(self) -> dict[str, Any]:
        return _clean(asdict(self))


@dataclass(frozen=True)
class FairnessAudit:
    """Configuration of an audit; :meth:`run` audits arrays, :meth:`run_table` a DataFrame.

    - ``metrics``: names from :data:`METRICS` (aliases such as ``fnr`` accepted).
    - ``n_boot``: bootstrap replicates (0 disables intervals); ``confidence`` in (0, 1).
    - ``test``: ``"z"`` (pooled two-proportion z-test) or ``"permutation"``
      (``n_perm`` Monte-Carlo label permutations, exact hypergeometric draws).
    - ``correction``: ``"holm"`` (family-wise), ``"bh"`` (false-discovery rate) or ``"none"``,
      applied across every pairwise comparison of every metric in every grouping.
    - ``tolerance`` / ``tolerance_metric``: check that the gap's upper bound is <= tolerance.
    - ``stratified``: bootstrap within groups (group sizes fixed) instead of over all rows.
    """

    metrics: tuple[str, ...] = DEFAULT_METRICS
    n_boot: int = 1000
    confidence: float = 0.95
    test: str = "z"
    n_perm: int = 2000
    correction: str = "holm"
    alpha: float = 0.05
    tolerance: float | None = None
    tolerance_metric: str = "false_rejection_rate"
    intersections: bool = True
    stratified: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "metrics", tuple(dict.fromkeys(metric_name(m) for m in self.metrics))
        )
        object.__setattr__(self, "tolerance_metric", metric_name(self.tolerance_metric))
        if self.tolerance is not None and self.tolerance_metric not in self.metrics:
            object.__setattr__(self, "metrics", (*self.metrics, self.tolerance_metric))
        if not 0 < self.confidence < 1:
            raise InputError(f"confidence must be in (0, 1), got {self.confidence}")
        if self.n_boot < 0:
            raise InputError(f"n_boot must be >= 0, got {self.n_boot}")
        if self.test not in ("z", "permutation"):
            raise InputError(f"unknown test {self.test!r}", hint="use 'z' or 'permutation'")
        if self.correction.lower() not in CORRECTIONS:
            raise InputError(
                f"unknown correction {self.correction!r}", hint="use 'holm', 'bh' or 'none'"
            )
        if self.tolerance is not None and not 0 <= self.tolerance <= 1:
            raise InputError(f"tolerance must be in [0, 1], got {self.tolerance}")

    # -- arrays -------------------------------------------------------------------------------

    def run(
        self,
        y_true: Any,
        y_pred: Any,
        sensitive: Mapping[str, Any],
        bins: Mapping[str, Sequence[float]] | Sequence[str] | None = None,
        *,
        favourable: Any = 1,
    ) -> AuditResult:
        """Audit binary labels and decisions grouped by the ``sensitive`` columns.

        ``y_true`` / ``y_pred`` hold two values each; ``favourable`` names the good one (it
        becomes the positive class). ``sensitive`` maps column names to values (a DataFrame
        works); ``bins`` cuts numeric columns at the given edges.
        """
        y = binarize(y_true, favourable, "label")
        yhat = binarize(y_pred, favourable, "prediction", require_both=False)
        if len(y) != len(yhat):
            raise InputError(f"labels ({len(y)}) and predictions ({len(yhat)}) differ in length")
        cols = {str(k): sensitive[k] for k in sensitive}
        for k, v in cols.items():
            if len(v) != len(y):
                raise InputError(f"sensitive column {k!r} has {len(v)} rows, labels {len(y)}")
        index = build_groups(
            cols,
            parse_bins(bins),
            intersections=self.intersections,
        )
        return self._run_codes(y, yhat, index, favourable=str(favourable))

    def run_table(
        self,
        data: Any,
        label: str,
        sensitive: Sequence[str],
        *,
        favourable: Any = 1,
        pred: str | None = None,
        score: str | None = None,
        threshold: float = 0.5,
        model: Any = None,
        bins: Mapping[str, Sequence[float]] | Sequence[str] | None = None,
    ) -> AuditResult:
        """Audit a table (DataFrame or path to CSV/Parquet/JSONL) with one decision source:
        a prediction column ``pred``, a ``score`` column (favourable when ``>= threshold``),
        or a fitted scikit-learn ``model`` (object or path to a joblib file)."""
        df = load_frame(data)
        y_pred = decisions(
            df,
            label=label,
            favourable=favourable,
            pred=pred,
            score=score,
            threshold=threshold,
            model=model,
        )
        missing = [c for c in [label, *sensitive] if c not in df.columns]
        if missing:
            raise InputError(
                f"column(s) {missing} not in the table",
                hint=f"available columns: {list(df.columns)}",
            )
        return self.run(
            df[label].to_numpy(),
            y_pred,
            {c: df[c].reset_index(drop=True) for c in sensitive},
            bins,
            favourable=favourable,
        )

    # -- the engine ----------------------------------------------------------------------------

    def _run_codes(
        self, y: np.ndarray, yhat: np.ndarray, index: GroupIndex, *, favourable: str
    ) -> AuditResult:
        rng = np.random.default_rng(self.seed)
        fine = confusion_counts(index.fine_codes, y, yhat, index.n_fine)
        overall_counts = fine.sum(0)
        overall = {m: float(rates(overall_counts, m)) for m in self.metrics}
        notes: list[str] = []
        per_grouping = [aggregate(fine, g) for g in index.groupings]
        # bootstrap: the metric of every group in every replicate, and each gap per replicate
        boot_vals: list[dict[str, list[np.ndarray]]] = [
            {m: [] for m in self.metrics} for _ in index.groupings
        ]
        if self.n_boot:
            for chunk in bootstrap_counts(fine, self.n_boot, rng, stratified=self.stratified):
                for gi, g in enumerate(index.groupings):
                    agg = aggregate(chunk, g)
                    for m in self.metrics:
                        boot_vals[gi][m].append(rates(agg, m))
        results: list[GroupingResult] = []
        comparisons: list[dict[str, Any]] = []
        gap_rows: list[dict[str, Any]] = []
        for gi, g in enumerate(index.groupings):
            counts = per_grouping[gi]
            values = {m: rates(counts, m) for m in self.metrics}
            cis: dict[str, tuple[np.ndarray, np.ndarray]] = {}
            gap_ci: dict[str, tuple[float, float]] = {}
            for m in self.metrics:
                if self.n_boot:
                    samples = np.concatenate(boot_vals[gi][m], axis=0)  # (B, G)
                    cis[m] = percentile_interval(samples, self.confidence, axis=0)
                    with np.errstate(invalid="ignore"):
                        defined = ~np.isnan(values[m])
                        sub = samples[:, defined]
                        gaps = (
                            (np.nanmax(sub, 1) - np.nanmin(sub, 1))
                            if sub.shape[1]
                            else np.full(len(samples), np.nan)
                        )
                    lo, hi = percentile_interval(gaps, self.confidence)
                    gap_ci[m] = (float(lo), float(hi))
                else:
                    nan = np.full(len(g.labels), np.nan)
                    cis[m] = (nan, nan)
                    gap_ci[m] = (math.nan, math.nan)
                undefined = [g.labels[i] for i in np.flatnonzero(np.isnan(values[m]))]
                if undefined:
                    notes.append(
                        f"{g.name}: {m} undefined (no denominator rows) for "
                        f"{', '.join(undefined[:5])}{' ...' if len(undefined) > 5 else ''}"
                    )
            groups = tuple(
                GroupStats(
                    group=g.labels[i],
                    values=dict(zip(g.columns, g.values[i], strict=True)),
                    count=int(counts[i].sum()),
                    counts=dict(
                        zip(("tn", "fp", "fn", "tp"), (int(c) for c in counts[i]), strict=True)
                    ),
                    metrics={m: float(values[m][i]) for m in self.metrics},
                    ci={m: (float(cis[m][0][i]), float(cis[m][1][i])) for m in self.metrics},
                )
                for i in range(len(g.labels))
            )
            # pairwise tests
            ia, ib = np.triu_indices(len(g.labels), 1)
            for m in self.metrics:
                x, n = numerators(counts, m)
                if self.test == "z":
                    p = two_proportion_z(x[ia], n[ia], x[ib], n[ib])
                else:
                    p = permutation_test(x[ia], n[ia], x[ib], n[ib], rng, self.n_perm)
                v = values[m]
                for k in range(len(ia)):
                    comparisons.append(
                        dict(
                            grouping=g.name,
                            metric=m,
                            a=int(ia[k]),
                            b=int(ib[k]),
                            labels=g.labels,
                            va=float(v[ia[k]]),
                            vb=float(v[ib[k]]),
                            p=float(p[k]),
                        )
                    )
                if np.all(np.isnan(v)):
                    gap_rows.append(
                        dict(
                            grouping=g.name,
                            metric=m,
                            gap=math.nan,
                            hi=-1,
                            lo=-1,
                            gi=gi,
                            ci=gap_ci[m],
                            labels=g.labels,
                        )
                    )
                    continue
                hi, lo = int(np.nanargmax(v)), int(np.nanargmin(v))
                gap_rows.append(
                    dict(
                        grouping=g.name,
                        metric=m,
                        gap=float(v[hi] - v[lo]),
                        hi=hi,
                        lo=lo,
                        gi=gi,
                        ci=gap_ci[m],
                        labels=g.labels,
                    )
                )
            results.append(GroupingResult(name=g.name, columns=g.columns, groups=groups, gaps=()))
        # multiple-testing correction across every comparison made
        raw = np.array([c["p"] for c in comparisons], dtype=float)
        adjusted = CORRECTIONS[self.correction.lower()](raw) if len(raw) else raw
        lookup = {
            (c["grouping"], c["metric"], c["a"], c["b"]): (c["p"], float(adjusted[i]))
            for i, c in enumerate(comparisons)
        }
        comp_objs = tuple(
            Comparison(
                grouping=c["grouping"],
                metric=c["metric"],
                group_a=c["labels"][c["a"]],
                group_b=c["labels"][c["b"]],
                value_a=c["va"],
                value_b=c["vb"],
                difference=c["va"] - c["vb"],
                p_value=c["p"],
                p_adjusted=float(adjusted[i]),
                significant=bool(adjusted[i] <= self.alpha),
            )
            for i, c in enumerate(comparisons)
        )
        gaps_by_grouping: dict[int, list[Gap]] = {}
        for r in gap_rows:
            if r["hi"] < 0:
                p_raw = p_adj = math.nan
                max_g = min_g = ""
            else:
                a, b = sorted((r["hi"], r["lo"]))
                p_raw, p_adj = lookup.get((r["grouping"], r["metric"], a, b), (1.0, 1.0))
                max_g, min_g = r["labels"][r["hi"]], r["labels"][r["lo"]]
            gaps_by_grouping.setdefault(r["gi"], []).append(
                Gap(
                    grouping=r["grouping"],
                    metric=r["metric"],
                    gap=r["gap"],
                    ci_low=r["ci"][0],
                    ci_high=r["ci"][1],
                    max_group=max_g,
                    min_group=min_g,
                    p_value=p_raw,
                    p_adjusted=p_adj,
                )
            )
        results = [
            GroupingResult(
                name=g.name,
                columns=g.columns,
                groups=g.groups,
                gaps=tuple(gaps_by_grouping.get(i, [])),
            )
            for i, g in enumerate(results)
        ]
        checks: list[ToleranceCheck] = []
        if self.tolerance is not None:
            for g in results:
                gap = next(x for x in g.gaps if x.metric == self.tolerance_metric)
                checks.append(tolerance_check(gap, self.tolerance))
        passed = None if not checks else all(c.passed for c in checks)
        return AuditResult(
            n_rows=len(y),
            favourable=favourable,
            metrics=self.metrics,
            overall=overall,
            groupings=tuple(results),
            comparisons=comp_objs,
            checks=tuple(checks),
            passed=passed,
            confidence=self.confidence,
            n_boot=self.n_boot,
            test=self.test,
            correction=self.correction,
            alpha=self.alpha,
            seed=self.seed,
            notes=tuple(notes),
        )


def tolerance_check(gap: Gap, tolerance: float) -> ToleranceCheck:
    """Judge ``gap`` against ``tolerance`` using its interval's upper bound (see class)."""
    upper = gap.ci_high if not math.isnan(gap.ci_high) else gap.gap
    if math.isnan(gap.gap):
        status = "inconclusive"
    elif upper <= tolerance:
        status = "pass"
    elif gap.gap > tolerance:
        status = "fail"
    else:
        status = "inconclusive"
    return ToleranceCheck(
        grouping=gap.grouping,
        metric=gap.metric,
        tolerance=tolerance,
        gap=gap.gap,
        ci_high=upper,
        status=status,
        passed=status == "pass",
    )


# -- inputs -------------------------------------------------------------------------------------


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
        shown = ", ".join(repr(u) for u in list(uniques)[:6])
        raise InputError(
            f"the {what} column is not binary: {len(uniques)} distinct values "
            f"({shown}{', ...' if len(uniques) > 6 else ''})",
            hint="audits need two outcomes; map the column to two values first",
        )
    mask = _matches(s.to_numpy(), favourable)
    if require_both and not mask.any():
        raise InputError(
            f"favourable value {favourable!r} does not occur in the {what} column",
            hint=f"its values are {[u.item() if hasattr(u, 'item') else u for u in uniques]}",
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


def audit(
    data: Any,
    label: str,
    sensitive: Sequence[str] | str,
    *,
    favourable: Any = 1,
    pred: str | None = None,
    score: str | None = None,
    threshold: float = 0.5,
    model: Any = None,
    bins: Mapping[str, Sequence[float]] | Sequence[str] | None = None,
    metrics: Sequence[str] = DEFAULT_METRICS,
    tolerance: float | None = None,
    tolerance_metric: str = "false_rejection_rate",
    n_boot: int = 1000,
    confidence: float = 0.95,
    test: str = "z",
    correction: str = "holm",
    alpha: float = 0.05,
    seed: int = 0,
    intersections: bool = True,
    stratified: bool = False,
) -> AuditResult:
    """Audit a table's decisions by ``sensitive`` columns; see :class:`FairnessAudit`.

    >>> res = audit(df, "repaid", ["sex", "age"], pred="approved", bins={"age": [25, 40, 60]},
    ...             tolerance=0.01)
    >>> res.gap("false_rejection_rate", "sex").ci_high
    """
    if isinstance(sensitive, str):
        sensitive = [sensitive]
    cfg = FairnessAudit(
        metrics=tuple(metrics),
        n_boot=n_boot,
        confidence=confidence,
        test=test,
        correction=correction,
        alpha=alpha,
        tolerance=tolerance,
        tolerance_metric=tolerance_metric,
        intersections=intersections,
        stratified=stratified,
        seed=seed,
    )
    return cfg.run_table(
        data,
        label,
        list(sensitive),
        favourable=favourable,
        pred=pred,
        score=score,
        threshold=threshold,
        model=model,
        bins=bins,
    )


def group_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, groups: Any, metrics: Sequence[str] = DEFAULT_METRICS
) -> tuple[list[str], dict[str, np.ndarray]]:
    """Just the point metrics per group (0/1 arrays, favourable = 1): the fast path.

    ``groups`` is one array of group values (any hashable; intersections pre-combined) or a
    mapping of columns to cross. Returns the group labels and ``{metric: values}``.
    """
    cols = groups if isinstance(groups, Mapping) else {"group": groups}
    index = build_groups(cols, None, intersections=True)
    g = index.groupings[-1]
    counts = aggregate(
        confusion_counts(index.fine_codes, np.asarray(y_true), np.asarray(y_pred), index.n_fine), g
    )
    return list(g.labels), {metric_name(m): rates(counts, metric_name(m)) for m in metrics}


__all__ = [
    "METRICS",
    "AuditResult",
    "Comparison",
    "FairnessAudit",
    "Gap",
    "GroupStats",
    "GroupingResult",
    "ToleranceCheck",
    "audit",
    "group_metrics",
]
