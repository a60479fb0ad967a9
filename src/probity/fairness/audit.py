"""The fairness audit: group metrics, bootstrap intervals, gap tests, tolerance checks."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from probity.errors import InputError
from probity.fairness._groups import GroupIndex, aggregate, build_groups, parse_bins
from probity.fairness._metrics import (
    DEFAULT_METRICS,
    METRICS,
    confusion_counts,
    metric_name,
    numerators,
    rates,
)
from probity.fairness._scores import group_score_stats
from probity.fairness._stats import (
    CORRECTIONS,
    bootstrap_counts,
    percentile_interval,
    permutation_test,
    simultaneous_pairs,
    two_proportion_z,
)
from probity.fairness.inputs import binarize, decisions, load_frame
from probity.stats import json_ready

#: Multiple-testing families: each metric x grouping on its own, or the whole audit.
FAMILIES = ("metric", "audit")


_clean = json_ready  # JSON-ready: NaN/inf -> None, numpy -> Python, tuples -> lists


@dataclass(frozen=True)
class GroupStats:
    """One group's size, confusion counts, metric values and their bootstrap intervals."""

    group: str
    values: dict[str, str]
    count: int
    counts: dict[str, int]  # tn, fp, fn, tp (favourable = positive)
    metrics: dict[str, float]
    ci: dict[str, tuple[float, float]]
    auc: float | None = None  # with scores: ROC AUC within the group
    calibration_error: float | None = None  # with scores: mean(score) - mean(label)
    ece: float | None = None  # with scores: expected calibration error, 10 equal-width bins


@dataclass(frozen=True)
class Gap:
    """Largest minus smallest group value of a metric within a grouping.

    ``ci_low``/``ci_high`` come from simultaneous (max-t bootstrap) intervals of all pairwise
    differences, so they cover the true gap at the stated confidence also when groups are tied
    or there is no gap at all. Groups with fewer than ``min_group_size`` rows in the metric's
    denominator are listed in ``excluded`` and left out of the gap (their rates are too noisy
    to compare; the tolerance check is then at best ``inconclusive``).
    """

    grouping: str
    metric: str
    gap: float
    ci_low: float
    ci_high: float
    max_group: str
    min_group: str
    p_value: float  # of the max-vs-min pairwise comparison
    p_adjusted: float  # corrected within the audit's family (see AuditResult.family)
    excluded: tuple[str, ...] = ()  # groups below the minimum group size


@dataclass(frozen=True)
class Ratio:
    """Smallest over largest group value of a metric (e.g. the selection-rate ratio of the
    four-fifths rule), with a simultaneous interval from the max-t bootstrap of pairwise log
    ratios. ``four_fifths``: ``pass`` when the interval's lower end is >= 0.8, ``fail`` when
    its upper end is below 0.8, otherwise ``inconclusive``."""

    grouping: str
    metric: str
    ratio: float
    ci_low: float
    ci_high: float
    min_group: str
    max_group: str
    four_fifths: str


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

    ``pass``: the whole gap interval is within tolerance (upper bound <= tolerance).
    ``fail``: the evidence shows a violation: the interval's lower bound exceeds tolerance
    (with no true violation this happens at most ``1 - confidence`` of the time).
    ``inconclusive``: neither, or a group is below the minimum group size; the data cannot
    show either way (more data, or a fairer model, is needed). ``reason`` says which.
    """

    grouping: str
    metric: str
    tolerance: float
    gap: float
    ci_high: float
    status: str
    passed: bool
    ci_low: float = float("nan")
    reason: str = ""


@dataclass(frozen=True)
class GroupingResult:
    """The audit of one grouping (a sensitive column, or the intersection of several)."""

    name: str
    columns: tuple[str, ...]
    groups: tuple[GroupStats, ...]
    gaps: tuple[Gap, ...]
    ratios: tuple[Ratio, ...] = ()


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
    family: str = "metric"  # Holm/BH family: "metric" (each metric x grouping) or "audit"
    min_group_size: int = 30

    def grouping(self, name: str) -> GroupingResult:
        """The grouping called ``name`` (``"sex"``, ``"sex x age"``)."""
        for g in self.groupings:
            if g.name == name:
                return g
        raise InputError(f"no grouping {name!r}; have {[g.name for g in self.groupings]}")

    def gap(self, metric: str, grouping: str | None = None) -> Gap:
        """The gap of ``metric`` in ``grouping`` (default: the first grouping)."""
        return self._find("gaps", metric, grouping)

    def ratio(self, metric: str = "selection_rate", grouping: str | None = None) -> Ratio:
        """The smallest-over-largest ratio of ``metric`` in ``grouping`` (default: first)."""
        return self._find("ratios", metric, grouping)

    def _find(self, what: str, metric: str, grouping: str | None) -> Any:
        metric = metric_name(metric)
        g = self.grouping(grouping) if grouping else self.groupings[0]
        items = getattr(g, what)
        for item in items:
            if item.metric == metric:
                return item
        raise InputError(f"no {what} of {metric!r}; have {[i.metric for i in items]}")

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
      applied within ``family``: ``"metric"`` (default: the pairs of one metric in one
      grouping, so a question about one metric keeps its power) or ``"audit"`` (every pair of
      every metric in every grouping: stricter, for a claim about the whole audit).
    - ``tolerance`` / ``tolerance_metric``: ``pass`` if the gap interval's upper bound is
      <= tolerance, ``fail`` if its lower bound is above (see :class:`ToleranceCheck`).
    - ``min_group_size``: groups with fewer rows in a metric's denominator are reported but
      left out of its gap, with a note; a check with such a group is at best inconclusive.
    - ``ratio_metrics``: metrics whose smallest-over-largest ratio is reported (four-fifths).
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
    family: str = "metric"
    min_group_size: int = 30
    ratio_metrics: tuple[str, ...] = ("selection_rate",)

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
        if self.family not in FAMILIES:
            raise InputError(f"unknown family {self.family!r}", hint="use 'metric' or 'audit'")
        if self.min_group_size < 1:
            raise InputError(f"min_group_size must be >= 1, got {self.min_group_size}")
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
        scores: Any = None,
    ) -> AuditResult:
        """Audit binary labels and decisions grouped by the ``sensitive`` columns.

        ``y_true`` / ``y_pred`` hold two values each; ``favourable`` names the good one (it
        becomes the positive class). ``sensitive`` maps column names to values (a DataFrame
        works); ``bins`` cuts numeric columns at the given edges. ``scores`` (optional, the
        probability of the favourable outcome) adds per-group AUC and calibration.
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
        sc = None
        if scores is not None:
            sc = np.asarray(scores, dtype=np.float64)
            if len(sc) != len(y) or np.isnan(sc).any():
                raise InputError("scores must have one non-missing number per row")
        return self._run_codes(y, yhat, index, favourable=str(favourable), scores=sc)

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
            scores=df[score].to_numpy(float) if score is not None else None,
        )

    # -- the engine ----------------------------------------------------------------------------

    def _run_codes(
        self,
        y: np.ndarray,
        yhat: np.ndarray,
        index: GroupIndex,
        *,
        favourable: str,
        scores: np.ndarray | None = None,
    ) -> AuditResult:
        rng = np.random.default_rng(self.seed)
        fine = confusion_counts(index.fine_codes, y, yhat, index.n_fine)
        overall = {m: float(rates(fine.sum(0), m)) for m in self.metrics}
        notes: list[str] = []
        per_grouping = [aggregate(fine, g) for g in index.groupings]
        # bootstrap: the metric of every group in every replicate, all groupings from the same
        # resampled fine cells
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
        for gi, g in enumerate(index.groupings):
            counts = per_grouping[gi]
            values = {m: rates(counts, m) for m in self.metrics}
            samples = {
                m: np.concatenate(boot_vals[gi][m], axis=0) if self.n_boot else None
                for m in self.metrics
            }
            cis = {
                m: percentile_interval(samples[m], self.confidence, axis=0)
                if self.n_boot
                else (np.full(len(g.labels), np.nan),) * 2
                for m in self.metrics
            }
            score_stats = (
                group_score_stats(g.fine_to_group[index.fine_codes], y, scores, len(g.labels))
                if scores is not None
                else None
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
                    **({k: float(v[i]) for k, v in score_stats.items()} if score_stats else {}),
                )
                for i in range(len(g.labels))
            )
            gaps, ratios = [], []
            small: dict[str, int] = {}
            for m in self.metrics:
                undefined = [g.labels[i] for i in np.flatnonzero(np.isnan(values[m]))]
                if undefined:
                    notes.append(
                        f"{g.name}: {m} undefined (no denominator rows) for "
                        f"{', '.join(undefined[:5])}{' ...' if len(undefined) > 5 else ''}"
                    )
                x, n = numerators(counts, m)
                for i in np.flatnonzero((n > 0) & (n < self.min_group_size)):
                    small[g.labels[i]] = min(small.get(g.labels[i], n[i]), int(n[i]))
                usable = np.flatnonzero((n >= self.min_group_size) & ~np.isnan(values[m]))
                gap = self._gap(g, m, values[m], (x, n), usable)
                gaps.append(gap)
                if m in self.ratio_metrics:
                    ratios.append(self._ratio(g, m, values[m], (x, n), usable))
                ia, ib = np.triu_indices(len(g.labels), 1)
                if self.test == "z":
                    p = two_proportion_z(x[ia], n[ia], x[ib], n[ib])
                else:
                    p = permutation_test(x[ia], n[ia], x[ib], n[ib], rng, self.n_perm)
                v = values[m]
                comparisons += [
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
                    for k in range(len(ia))
                ]
            if small:
                shown = ", ".join(f"{k} ({v} rows)" for k, v in list(small.items())[:5])
                notes.append(
                    f"{g.name}: below the minimum group size of {self.min_group_size} rows in a "
                    f"metric's denominator, left out of gaps and verdicts: {shown}"
                    f"{' ...' if len(small) > 5 else ''}"
                )
            results.append(
                GroupingResult(
                    name=g.name,
                    columns=g.columns,
                    groups=groups,
                    gaps=tuple(gaps),
                    ratios=tuple(ratios),
                )
            )
        comp_objs = self._correct(comparisons)
        results = [self._with_gap_p(r, comp_objs) for r in results]
        checks: list[ToleranceCheck] = []
        if self.tolerance is not None:
            for r in results:
                gap = next(x for x in r.gaps if x.metric == self.tolerance_metric)
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
            family=self.family,
            min_group_size=self.min_group_size,
        )

    def _gap(
        self,
        g: Any,
        metric: str,
        values: np.ndarray,
        counts: tuple[np.ndarray, np.ndarray],
        usable: np.ndarray,
    ) -> Gap:
        """Largest-minus-smallest among ``usable`` groups, its simultaneous interval."""
        keep = set(usable.tolist())
        excluded = tuple(
            g.labels[i] for i in range(len(g.labels)) if i not in keep and not np.isnan(values[i])
        )
        if len(usable) < 2:
            return Gap(g.name, metric, math.nan, math.nan, math.nan, "", "", math.nan,
                       math.nan, excluded)  # fmt: skip
        v = values[usable]
        hi, lo = usable[int(np.argmax(v))], usable[int(np.argmin(v))]
        x, n = counts
        ci = simultaneous_pairs(x[usable], n[usable], self.confidence)[4]
        gap = Gap(
            grouping=g.name,
            metric=metric,
            gap=float(values[hi] - values[lo]),
            ci_low=float(ci[0]),
            ci_high=float(ci[1]),
            max_group=g.labels[hi],
            min_group=g.labels[lo],
            p_value=math.nan,
            p_adjusted=math.nan,
            excluded=excluded,
        )
        return gap

    def _ratio(
        self,
        g: Any,
        metric: str,
        values: np.ndarray,
        counts: tuple[np.ndarray, np.ndarray],
        usable: np.ndarray,
    ) -> Ratio:
        """Smallest over largest, with an interval from simultaneous log-ratio intervals."""
        if len(usable) < 2:
            return Ratio(g.name, metric, math.nan, math.nan, math.nan, "", "", "inconclusive")
        v = values[usable]
        hi, lo = usable[int(np.argmax(v))], usable[int(np.argmin(v))]
        ratio = float(values[lo] / values[hi]) if values[hi] > 0 else math.nan
        x, n = counts
        gap_lo, gap_hi = simultaneous_pairs(x[usable], n[usable], self.confidence, log=True)[4]
        ci_low, ci_high = float(np.exp(-gap_hi)), float(np.exp(-gap_lo))
        if ci_low >= FOUR_FIFTHS:
            verdict = "pass"
        elif ci_high < FOUR_FIFTHS:
            verdict = "fail"
        else:
            verdict = "inconclusive"
        return Ratio(
            grouping=g.name,
            metric=metric,
            ratio=ratio,
            ci_low=ci_low,
            ci_high=ci_high,
            min_group=g.labels[lo],
            max_group=g.labels[hi],
            four_fifths=verdict,
        )

    def _correct(self, comparisons: list[dict[str, Any]]) -> tuple[Comparison, ...]:
        """Adjust p-values within each family (one metric in one grouping, or the audit)."""
        raw = np.array([c["p"] for c in comparisons], dtype=float)
        adjusted = np.full(len(raw), np.nan)
        correct = CORRECTIONS[self.correction.lower()]
        keys = [
            (c["grouping"], c["metric"]) if self.family == "metric" else () for c in comparisons
        ]
        for key in dict.fromkeys(keys):
            idx = np.array([i for i, k in enumerate(keys) if k == key], dtype=np.int64)
            adjusted[idx] = correct(raw[idx])
        return tuple(
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

    @staticmethod
    def _with_gap_p(r: GroupingResult, comps: tuple[Comparison, ...]) -> GroupingResult:
        """Each gap carries the (adjusted) p-value of its largest-vs-smallest comparison."""
        by_pair = {(c.grouping, c.metric, frozenset((c.group_a, c.group_b))): c for c in comps}
        gaps = []
        for gap in r.gaps:
            c = by_pair.get((gap.grouping, gap.metric, frozenset((gap.max_group, gap.min_group))))
            if c is not None:
                gap = replace(gap, p_value=c.p_value, p_adjusted=c.p_adjusted)
            elif gap.max_group and gap.max_group == gap.min_group:
                gap = replace(gap, p_value=1.0, p_adjusted=1.0)
            gaps.append(gap)
        return replace(r, gaps=tuple(gaps))


#: The four-fifths (80%) rule of thumb for selection-rate ratios (US EEOC guidelines).
FOUR_FIFTHS = 0.8


def tolerance_check(gap: Gap, tolerance: float) -> ToleranceCheck:
    """Judge ``gap`` against ``tolerance`` on its simultaneous interval (see the class)."""
    if math.isnan(gap.gap):
        status, reason = "inconclusive", "fewer than two groups large enough to compare"
    elif math.isnan(gap.ci_low):
        status, reason = "inconclusive", "no interval"
    elif gap.ci_low > tolerance:
        status, reason = "fail", "the gap's interval lies above the tolerance"
    elif gap.excluded:
        status = "inconclusive"
        reason = f"groups below the minimum group size: {', '.join(gap.excluded[:5])}"
    elif gap.ci_high <= tolerance:
        status, reason = "pass", "the gap's interval lies within the tolerance"
    else:
        status, reason = "inconclusive", "the gap's interval straddles the tolerance"
    return ToleranceCheck(
        grouping=gap.grouping,
        metric=gap.metric,
        tolerance=tolerance,
        gap=gap.gap,
        ci_high=gap.ci_high,
        status=status,
        passed=status == "pass",
        ci_low=gap.ci_low,
        reason=reason,
    )


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
    family: str = "metric",
    min_group_size: int = 30,
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
        family=family,
        min_group_size=min_group_size,
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
    "Ratio",
    "ToleranceCheck",
    "audit",
    "group_metrics",
]
