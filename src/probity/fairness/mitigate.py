"""Training under a pairwise fairness constraint, certified on held-out data.

fairlearn's reductions bound each group's rate against the *overall* rate
(``|r_g - r| <= b``), so two groups may differ by up to ``2b``: its bound 0.01 allows gaps near
0.02. Users state fairness pairwise ("men and women within 1%"), so Probity tunes fairlearn's
own bound until the *pairwise* gap meets the tolerance on a validation split, refits on the
whole training split, and then certifies on a held-out test split with a bootstrap interval:
``certified`` means the interval's upper bound of the largest-minus-smallest gap is within the
tolerance on data the model never saw. When it is not, the result says so (``status``).

Two methods, both fairlearn underneath (not rewritten):

- ``"reduction"``: :class:`fairlearn.reductions.ExponentiatedGradient` with the moment that
  matches the metric (``TruePositiveRateParity`` for the false-rejection rate, which is one
  minus the TPR; ``FalsePositiveRateParity`` for false acceptance; ``DemographicParity`` for
  selection rate; ``ErrorRateParity`` for error rate). Candidate per-group bounds
  ``b = tolerance / 4 * 2**-k``; the model needs only ``X`` at prediction time.
- ``"threshold"``: :class:`fairlearn.postprocessing.ThresholdOptimizer`, whose ``tol`` is
  already a between-groups range; candidates ``tolerance / 2 * 2**-k`` then exact parity. The
  base model is fitted once; prediction needs the sensitive features.

Predictions are randomised by both methods; a fixed ``seed`` makes them deterministic, and
``predict_proba`` gives the probability of the favourable decision.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from probity.errors import InputError
from probity.fairness._groups import row_labels
from probity.fairness._metrics import metric_name, rates
from probity.fairness._stats import _range_critical
from probity.fairness.audit import AuditResult, FairnessAudit, _clean, tolerance_check
from probity.fairness.inputs import binarize

_MOMENTS = {
    "false_rejection_rate": "TruePositiveRateParity",
    "false_negative_rate": "TruePositiveRateParity",
    "true_positive_rate": "TruePositiveRateParity",
    "false_acceptance_rate": "FalsePositiveRateParity",
    "false_positive_rate": "FalsePositiveRateParity",
    "true_negative_rate": "FalsePositiveRateParity",
    "selection_rate": "DemographicParity",
    "error_rate": "ErrorRateParity",
    "equalized_odds": "EqualizedOdds",
}
_TO_CONSTRAINTS = {
    "false_rejection_rate": "true_positive_rate_parity",
    "false_negative_rate": "true_positive_rate_parity",
    "true_positive_rate": "true_positive_rate_parity",
    "false_acceptance_rate": "false_positive_rate_parity",
    "false_positive_rate": "false_positive_rate_parity",
    "true_negative_rate": "true_negative_rate_parity",
    "selection_rate": "demographic_parity",
    "equalized_odds": "equalized_odds",
}
#: Equalized odds constrains both error rates: false rejection (FNR) and false acceptance (FPR).
EQUALIZED_ODDS = "equalized_odds"
_EO_RATES = ("false_rejection_rate", "false_acceptance_rate")
METHODS = ("reduction", "threshold")


class FairClassifier:
    """A fitted mitigated classifier: features are standardised (numeric + one-hot), then the
    fairlearn model decides. Decisions are 1 (favourable) / 0; randomised predictions are made
    deterministic by ``seed``."""

    def __init__(
        self,
        method: str,
        columns: list[str],
        scaler: Any,
        model: Any,
        seed: int,
        sensitive_columns: list[str],
        bins: dict[str, list[float]] | None = None,
        groups: list[str] | None = None,
    ) -> None:
        self.method = method
        self.columns = columns
        self.scaler = scaler
        self.model = model
        self.seed = seed
        self.sensitive_columns = sensitive_columns
        self.bins = dict(bins or {})
        self.groups = list(groups or [])  # the group labels the model was fitted on
        self.classes_ = np.array([0, 1])

    def _x(self, X: Any) -> np.ndarray:
        return _design(X, self.columns, self.scaler)[0]

    def group_labels(self, sensitive_features: Any) -> np.ndarray:
        """The user's sensitive values as the group labels the model was fitted on.

        Accepts a DataFrame (its ``sensitive_columns``, crossed), or for one sensitive column
        a Series, array or list of its values, in the user's own labels (``'A'``, ``3``...).
        Unknown groups are an error: fairlearn would silently reject them all.
        """
        import pandas as pd

        if sensitive_features is None:
            raise InputError("the threshold method needs the sensitive features to predict")
        if isinstance(sensitive_features, pd.DataFrame):
            missing = [c for c in self.sensitive_columns if c not in sensitive_features.columns]
            if missing:
                raise InputError(
                    f"sensitive_features lacks column(s) {missing}",
                    hint=f"the model was fitted on {self.sensitive_columns}",
                )
            cols = {c: sensitive_features[c] for c in self.sensitive_columns}
        else:
            if len(self.sensitive_columns) != 1:
                raise InputError(
                    f"the model was fitted on {len(self.sensitive_columns)} sensitive columns",
                    hint=f"pass a DataFrame with columns {self.sensitive_columns}",
                )
            cols = {self.sensitive_columns[0]: np.asarray(sensitive_features, dtype=object)}
        labels = row_labels(cols, self.bins)
        if self.groups:
            unknown = sorted(set(np.unique(labels)) - set(self.groups))
            if unknown:
                raise InputError(
                    f"group(s) {', '.join(repr(u) for u in unknown[:5])} were not in the "
                    "training data",
                    hint=f"the model knows {', '.join(repr(g) for g in self.groups[:10])}",
                )
        return labels

    def predict(self, X: Any, sensitive_features: Any = None) -> np.ndarray:
        """0/1 decisions; ``sensitive_features`` is required by the threshold method."""
        x = self._x(X)
        if self.method == "threshold":
            g = self.group_labels(sensitive_features)
            return np.asarray(
                self.model.predict(x, sensitive_features=g, random_state=self.seed)
            ).astype(np.int64)
        return np.asarray(self.model.predict(x, random_state=self.seed)).astype(np.int64)

    def predict_proba(self, X: Any, sensitive_features: Any = None) -> np.ndarray:
        """``(n, 2)`` probabilities of the unfavourable / favourable decision."""
        x = self._x(X)
        if self.method == "threshold":
            g = self.group_labels(sensitive_features)
            return np.asarray(self.model._pmf_predict(x, sensitive_features=g))
        return np.asarray(self.model._pmf_predict(x))


@dataclass(frozen=True)
class MitigationResult:
    """Before/after on the held-out split, the bound chosen and whether it certifies."""

    method: str
    metric: str
    tolerance: float
    bound: float  # fairlearn's bound (reduction: per group vs overall; threshold: range)
    tried: tuple[dict[str, float], ...]  # bound, validation gap, validation error
    target_gap: float  # validation gap a bound had to reach (see ``mitigate``)
    expected_halfwidth: float  # predicted half-width of the held-out gap interval
    n_train: int
    n_test: int
    seed: int
    gap_before: float
    gap_after: float
    gap_after_ci_high: float
    error_before: float
    error_after: float
    accuracy_cost: float  # error_after - error_before (test split)
    certified: bool
    status: str  # pass / fail / inconclusive (see ToleranceCheck)
    baseline: AuditResult
    mitigated: AuditResult
    model: FairClassifier | None = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in asdict(self).items() if k not in ("model", "baseline", "mitigated")}
        d = _clean(d)
        d["baseline"] = self.baseline.to_dict()
        d["mitigated"] = self.mitigated.to_dict()
        return d


def _design(X: Any, columns: list[str] | None, scaler: Any) -> tuple[np.ndarray, list[str], Any]:
    """Numeric design matrix: one-hot for non-numeric columns, standardised."""
    import pandas as pd

    df = pd.DataFrame(X).copy()
    if df.isna().any().any():
        bad = [c for c in df.columns if df[c].isna().any()]
        raise InputError(f"feature column(s) {bad} contain NaNs", hint="fill or drop them first")
    df = pd.get_dummies(df, dtype=float)
    if columns is None:
        columns = [str(c) for c in df.columns]
    df.columns = [str(c) for c in df.columns]
    x = df.reindex(columns=columns, fill_value=0.0).to_numpy(float)
    if scaler is None:
        from sklearn.preprocessing import StandardScaler

        scaler = StandardScaler().fit(x)
    return scaler.transform(x), columns, scaler


def _default_estimator() -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=1000)


#: Each group needs this many rows of each label: fairlearn cannot fit a group without both
#: outcomes, and the validation and held-out splits need some of each.
MIN_ROWS_PER_LABEL = 10


def _check_group_sizes(labels: np.ndarray, y: np.ndarray) -> None:
    """An InputError naming the user's group when a group x label cell is too small."""
    names, codes = np.unique(labels, return_inverse=True)
    cells = np.bincount(codes.ravel() * 2 + y, minlength=2 * len(names)).reshape(-1, 2)
    small = np.flatnonzero(cells.min(1) < MIN_ROWS_PER_LABEL)
    if len(small):
        shown = "; ".join(
            f"{str(names[i])!r}: {int(cells[i].sum())} rows ({int(cells[i, 1])} favourable, "
            f"{int(cells[i, 0])} not)"
            for i in small[:5]
        )
        raise InputError(
            f"group(s) too small to mitigate: {shown}; each group needs at least "
            f"{MIN_ROWS_PER_LABEL} rows of each label",
            hint="merge small groups, drop them, or collect more data",
        )


def _pair_gap(y: np.ndarray, yhat: np.ndarray, groups: np.ndarray, metric: str) -> float:
    codes = np.unique(groups, return_inverse=True)[1].ravel()
    n_g = int(codes.max()) + 1
    cell = codes * 4 + (y << 1) + yhat
    counts = np.bincount(cell, minlength=4 * n_g).reshape(n_g, 4)
    v = rates(counts, metric)
    return float(np.nanmax(v) - np.nanmin(v))


def mitigate(
    X: Any,
    y: Any,
    sensitive: Any,
    *,
    metric: str = "false_rejection_rate",
    tolerance: float = 0.01,
    method: str = "reduction",
    favourable: Any = 1,
    estimator: Any = None,
    test_size: float = 0.3,
    val_size: float = 0.25,
    max_tries: int = 4,
    max_iter: int = 50,
    n_boot: int = 1000,
    confidence: float = 0.95,
    bins: Any = None,
    seed: int = 0,
    progress: Any = None,
) -> MitigationResult:
    """Train a classifier whose pairwise ``metric`` gap across ``sensitive`` groups is within
    ``tolerance``, and certify it on a held-out split.

    ``X``: feature DataFrame (sensitive columns may or may not be among them; they are never
    added by Probity). ``y``: two-valued labels, ``favourable`` the good one. ``sensitive``:
    a Series/array or a DataFrame of sensitive columns (crossed into intersectional groups;
    ``bins`` cuts numeric ones, e.g. ``{"age": [25, 40, 60]}``). ``estimator``: any
    scikit-learn classifier accepting ``sample_weight`` (default logistic regression).
    ``progress``: optional callable ``progress(message)``.
    """
    import pandas as pd
    from sklearn.base import clone
    from sklearn.model_selection import train_test_split

    from probity.fairness._groups import build_groups, parse_bins

    eo = metric.strip().lower().replace("-", "_") in (EQUALIZED_ODDS, "equalised_odds", "eo")
    metric = EQUALIZED_ODDS if eo else metric_name(metric)
    rate_metrics = _EO_RATES if eo else (metric,)
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}", hint="use 'reduction' or 'threshold'")
    table = _MOMENTS if method == "reduction" else _TO_CONSTRAINTS
    if metric not in table:
        raise InputError(
            f"the {method} method cannot constrain {metric!r}",
            hint=f"constrainable: {', '.join(sorted(table))}",
        )
    if not 0 < tolerance < 1:
        raise InputError(f"tolerance must be in (0, 1), got {tolerance}")
    say = progress or (lambda _m: None)
    Xdf = pd.DataFrame(X).reset_index(drop=True)
    yb = binarize(y, favourable, "label")
    sdf = (
        sensitive
        if isinstance(sensitive, pd.DataFrame)
        else pd.DataFrame({getattr(sensitive, "name", None) or "group": np.asarray(sensitive)})
    )
    sdf = sdf.reset_index(drop=True)
    if not (len(Xdf) == len(yb) == len(sdf)):
        raise InputError(
            f"X ({len(Xdf)}), y ({len(yb)}) and sensitive ({len(sdf)}) differ in length"
        )
    parsed_bins = parse_bins(bins)
    index = build_groups({c: sdf[c].to_numpy() for c in sdf.columns}, parsed_bins)
    groups = index.fine_codes  # the finest (intersectional) groups are the constrained ones
    # fairlearn is fitted on the groups in the user's own values, so the saved model is given
    # the same labels at prediction time (FairClassifier.group_labels); internal codes would
    # not match them and fairlearn would silently reject every applicant
    glabels = row_labels({c: sdf[c] for c in sdf.columns}, parsed_bins)
    _check_group_sizes(glabels, yb)
    strat = groups * 2 + yb
    if np.bincount(strat).min() < 4:
        strat = None  # some group x label cell is too small to stratify on
    idx = np.arange(len(yb))
    tr, te = train_test_split(idx, test_size=test_size, random_state=seed, stratify=strat)
    x_tr, cols, scaler = _design(Xdf.iloc[tr], None, None)
    x_te = _design(Xdf.iloc[te], cols, scaler)[0]
    est = estimator if estimator is not None else _default_estimator()

    say("fitting the unconstrained baseline")
    base = clone(est).fit(x_tr, yb[tr])
    yhat_base = np.asarray(base.predict(x_te)).astype(np.int64)

    # tune fairlearn's bound on a validation part of the training split
    fit_i, val_i = train_test_split(
        np.arange(len(tr)),
        test_size=val_size,
        random_state=seed + 1,
        stratify=None if strat is None else strat[tr],
    )
    g_tr = glabels[tr]
    if method == "reduction":
        candidates = [tolerance / 4 * 2.0**-k for k in range(max_tries)]
    else:
        candidates = [tolerance / 2 * 2.0**-k for k in range(max_tries - 1)] + [0.0]
        if eo:
            candidates = [0.0]  # fairlearn's tol applies to single-rate constraints only
    # How wide will the held-out interval be? With m_a, m_b denominator rows (e.g. applicants
    # who repay) in the two smallest groups of the test split and the baseline rate p, the
    # gap's half-width is about z * sqrt(p (1 - p) (1/m_a + 1/m_b)). A bound is accepted when
    # its validation gap is within half of what that leaves of the tolerance (the other half
    # absorbs the validation noise); never looser than tolerance / 2, never tighter than / 8.
    from probity.fairness._metrics import confusion_counts, numerators

    base_counts = confusion_counts(
        groups[tr], yb[tr], np.asarray(base.predict(x_tr)).astype(np.int64), int(groups.max()) + 1
    )
    # the certification's critical value: Tukey's for all pairs of the constrained groups
    z = _range_critical(max(2, len(np.unique(groups))), float(confidence))
    widths = []
    for rm in rate_metrics:
        _, den = numerators(base_counts, rm)
        m_test = np.sort(den[den > 0] * test_size / (1 - test_size))[:2]
        p_rate = float(np.nan_to_num(rates(base_counts.sum(0), rm)))
        if len(m_test) == 2:
            widths.append(z * float(np.sqrt(p_rate * (1 - p_rate) * np.sum(1 / m_test))))
    halfwidth = max(widths) if widths else float("nan")
    val_target = (
        tolerance / 2
        if np.isnan(halfwidth)
        else float(np.clip((tolerance - halfwidth) / 2, tolerance / 8, tolerance / 2))
    )
    tried: list[dict[str, float]] = []
    chosen = None
    base_fit = clone(est).fit(x_tr[fit_i], yb[tr][fit_i]) if method == "threshold" else None
    for b in candidates:
        say(f"trying fairlearn bound {b:.5f}")
        m = _fit(
            method,
            metric,
            est,
            base_fit,
            b,
            x_tr[fit_i],
            yb[tr][fit_i],
            g_tr[fit_i],
            max_iter,
            seed,
        )
        pred = _predict(method, m, x_tr[val_i], g_tr[val_i], seed)
        gap = max(_pair_gap(yb[tr][val_i], pred, g_tr[val_i], rm) for rm in rate_metrics)
        err = float(np.mean(pred != yb[tr][val_i]))
        tried.append({"bound": b, "val_gap": gap, "val_error": err})
        if gap <= val_target:
            chosen = b
            break
    if chosen is None:
        chosen = min(tried, key=lambda t: (t["val_gap"], -t["bound"]))["bound"]

    say(f"refitting on the whole training split with bound {chosen:.5f}")
    full_base = clone(est).fit(x_tr, yb[tr]) if method == "threshold" else None
    model = _fit(method, metric, est, full_base, chosen, x_tr, yb[tr], g_tr, max_iter, seed)
    yhat_fair = _predict(method, model, x_te, glabels[te], seed)

    say("certifying on the held-out split")
    cfg = FairnessAudit(
        metrics=(*rate_metrics, "error_rate"),
        n_boot=n_boot,
        confidence=confidence,
        tolerance=tolerance,
        tolerance_metric=rate_metrics[0],
        seed=seed,
    )
    sens_te = {c: sdf[c].to_numpy()[te] for c in sdf.columns}
    before = cfg.run(yb[te], yhat_base, sens_te, parsed_bins)
    after = cfg.run(yb[te], yhat_fair, sens_te, parsed_bins)
    target = after.groupings[-1].name
    # the certified gap is the worst of the constrained rates (both for equalized odds)
    checks = [tolerance_check(after.gap(rm, target), tolerance) for rm in rate_metrics]
    check = max(checks, key=lambda c: (c.status == "fail", c.status != "pass", c.ci_high))
    gap_after = after.gap(check.metric, target)
    gap_before = max(before.gap(rm, target).gap for rm in rate_metrics)
    err_b, err_a = before.overall["error_rate"], after.overall["error_rate"]
    clf = FairClassifier(
        method,
        cols,
        scaler,
        model,
        seed,
        [str(c) for c in sdf.columns],
        bins=parsed_bins,
        groups=sorted(set(glabels.tolist())),
    )
    return MitigationResult(
        method=method,
        metric=metric,
        tolerance=tolerance,
        bound=chosen,
        tried=tuple(tried),
        target_gap=val_target,
        expected_halfwidth=halfwidth,
        n_train=len(tr),
        n_test=len(te),
        seed=seed,
        gap_before=gap_before,
        gap_after=gap_after.gap,
        gap_after_ci_high=gap_after.ci_high,
        error_before=err_b,
        error_after=err_a,
        accuracy_cost=err_a - err_b,
        certified=check.passed,
        status=check.status,
        baseline=before,
        mitigated=after,
        model=clf,
    )


def _fit(
    method: str,
    metric: str,
    est: Any,
    prefit: Any,
    bound: float,
    x: np.ndarray,
    y: np.ndarray,
    g: np.ndarray,
    max_iter: int,
    seed: int,
) -> Any:
    from sklearn.base import clone

    if method == "threshold":
        from fairlearn.postprocessing import ThresholdOptimizer

        to = ThresholdOptimizer(
            estimator=prefit,
            constraints=_TO_CONSTRAINTS[metric],
            prefit=True,
            predict_method="predict_proba" if hasattr(prefit, "predict_proba") else "auto",
            tol=bound if bound > 0 else None,
        )
        return to.fit(x, y, sensitive_features=g)
    import fairlearn.reductions as red

    moment = getattr(red, _MOMENTS[metric])(difference_bound=bound)
    np.random.seed(seed)  # fairlearn's linear-programming step is deterministic; belt and braces
    eg = red.ExponentiatedGradient(
        clone(est), constraints=moment, eps=max(bound, 1e-4), max_iter=max_iter
    )
    return eg.fit(x, y, sensitive_features=g)


def _predict(method: str, model: Any, x: np.ndarray, g: np.ndarray, seed: int) -> np.ndarray:
    if method == "threshold":
        return np.asarray(model.predict(x, sensitive_features=g, random_state=seed)).astype(
            np.int64
        )
    return np.asarray(model.predict(x, random_state=seed)).astype(np.int64)
