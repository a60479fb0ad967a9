"""Fairness benchmark: Probity vs fairlearn in the same run.

Cases
1. Group metrics, 1M rows x 40 intersectional groups (sex x 4 age bands x 5 regions) x 5
   metrics, vs ``fairlearn.metrics.MetricFrame``; the numbers must be identical (asserted).
2. 1,000-replicate bootstrap intervals for those metrics (every group of sex, age, region and
   their intersection, plus gap intervals and corrected pairwise tests) vs MetricFrame's own
   bootstrap (``n_boot``), timed on a few replicates and scaled to 1,000 (labelled).
3. Constrained training on synthetic lending data (100k rows; 1M with ``--full``): Probity's
   pairwise-tuned mitigation vs fairlearn ExponentiatedGradient with
   ``TruePositiveRateParity(difference_bound=0.01)`` on the same split: time, held-out
   false-rejection gap between men and women (and its 95% upper bound), test error.
4. Real data: the credit sets in ../shared/data/credit (German, Taiwan), cross-validated
   logistic-regression decisions audited by sex and age; MetricFrame on the same inputs.
5. ``verdicts``: null fail rate over 200 simulated datasets in 3 group layouts, gap-interval
   coverage with ties and no gap, power at 1/2/5 points beside a single z-test
   (``bench/fairness_verdicts.py``).
6. ``fresh``: the threshold-mitigated model saved, loaded in a new process and scored on
   freshly drawn applicants, vs fairlearn's ThresholdOptimizer at the same constraint.

Run: ``python bench/fairness.py`` (``--quick`` for a small run, ``--full`` for 1M training).
Ratios: peer/ours for times and for gaps and errors (lower is better), so > 1 is better.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(1, str(Path(__file__).resolve().parent))

from probity.fairness import (  # noqa: E402
    LENDING_FEATURES,
    FairnessAudit,
    load_german,
    load_taiwan,
    make_lending,
    mitigate,
)
from probity.fairness._groups import band_labels  # noqa: E402

warnings.filterwarnings("ignore")
METRICS5 = (
    "selection_rate",
    "error_rate",
    "false_rejection_rate",
    "false_acceptance_rate",
    "precision",
)
ROWS: list[tuple[str, str, str, str]] = []
NOTES: list[str] = []


def row(case: str, ours: str, peer: str, ratio: float | None) -> None:
    ROWS.append(
        (
            case,
            ours,
            peer,
            "-" if ratio is None else f"{ratio:.1f}x" if ratio >= 10 else f"{ratio:.2f}",
        )
    )


def _mf_metrics():
    from fairlearn.metrics import false_negative_rate, false_positive_rate, selection_rate
    from sklearn.metrics import precision_score, zero_one_loss

    return {
        "selection_rate": selection_rate,
        "error_rate": zero_one_loss,
        "false_rejection_rate": false_negative_rate,
        "false_acceptance_rate": false_positive_rate,
        "precision": lambda t, p: precision_score(t, p, zero_division=0),
    }


def synthetic_predictions(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    sex = rng.choice(np.array(["F", "M"]), n)
    age = rng.integers(18, 80, n)
    region = rng.choice(np.array(["N", "S", "E", "W", "C"]), n)
    y = (rng.random(n) < 0.72).astype(np.int64)
    yhat = np.where(rng.random(n) < 0.85, y, 1 - y)
    yhat[(sex == "F") & (rng.random(n) < 0.03)] = 0
    return y, yhat, {"sex": sex, "age": age, "region": region}


def case_group_metrics(n: int, n_boot_peer: int) -> None:
    from fairlearn.metrics import MetricFrame

    y, yhat, sens = synthetic_predictions(n)
    bins = {"age": [25, 40, 60]}
    cfg = FairnessAudit(metrics=METRICS5, n_boot=0)
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        res = cfg.run(y, yhat, sens, bins)
        best = min(best, time.perf_counter() - t0)
    bands = np.array(band_labels(bins["age"]))[np.searchsorted(bins["age"], sens["age"], "right")]
    sf = pd.DataFrame({"sex": sens["sex"], "age": bands, "region": sens["region"]})
    t0 = time.perf_counter()
    mf = MetricFrame(metrics=_mf_metrics(), y_true=y, y_pred=yhat, sensitive_features=sf)
    peer = time.perf_counter() - t0
    inter = res.grouping("sex x age x region")
    assert len(inter.groups) == 40 == len(mf.by_group)
    for g in inter.groups:
        ref = mf.by_group.loc[(g.values["sex"], g.values["age"], g.values["region"])]
        for m in METRICS5:
            assert g.metrics[m] == ref[m], (g.group, m)
    row(
        f"group metrics, {n:,} rows x 40 groups x 5 metrics (s), identical",
        f"{best:.3f}",
        f"{peer:.2f}",
        peer / best,
    )

    # bootstrap: ours, 1,000 replicates of every grouping incl. gaps and corrected tests
    boot = FairnessAudit(metrics=METRICS5, n_boot=1000, seed=1)
    t0 = time.perf_counter()
    bres = boot.run(y, yhat, sens, bins)
    ours_boot = time.perf_counter() - t0
    t0 = time.perf_counter()
    MetricFrame(
        metrics=_mf_metrics(),
        y_true=y,
        y_pred=yhat,
        sensitive_features=sf,
        n_boot=n_boot_peer,
        ci_quantiles=[0.025, 0.975],
        random_state=1,
    )
    peer_each = (time.perf_counter() - t0 - peer) / n_boot_peer
    row(
        f"bootstrap CIs, 1,000 replicates, {n:,} rows (s; peer scaled from {n_boot_peer})",
        f"{ours_boot:.2f}",
        f"{peer_each * 1000:.0f}",
        peer_each * 1000 / ours_boot,
    )
    gap = bres.gap("false_rejection_rate", "sex")
    NOTES.append(
        f"synthetic 1M: sex false-rejection gap {gap.gap:.4f} "
        f"[{gap.ci_low:.4f}, {gap.ci_high:.4f}], Holm p {gap.p_adjusted:.2g}; "
        f"{len(bres.comparisons)} pairwise comparisons corrected"
    )


def case_mitigation(n: int, max_iter: int) -> None:
    from fairlearn.reductions import ExponentiatedGradient, TruePositiveRateParity
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    df = make_lending(n, bias=0.35, seed=7)
    X, y, s = df[LENDING_FEATURES], df["repaid"], df[["sex"]]
    tol = 0.01
    timings = {}
    results = {}
    for method in ("reduction", "threshold"):
        t0 = time.perf_counter()
        results[method] = mitigate(
            X, y, s, method=method, tolerance=tol, seed=0, max_iter=max_iter, n_boot=1000
        )
        timings[method] = time.perf_counter() - t0
    # fairlearn as users call it: the same split (Probity's mitigate uses seed 0, 30%
    # stratified by group x label), EG with its per-group bound set to the tolerance
    groups = (df["sex"].to_numpy() == "F").astype(int)
    strat = groups * 2 + y.to_numpy()
    tr, te = train_test_split(np.arange(n), test_size=0.3, random_state=0, stratify=strat)
    scaler = StandardScaler().fit(X.iloc[tr])
    t0 = time.perf_counter()
    eg = ExponentiatedGradient(
        LogisticRegression(max_iter=1000),
        constraints=TruePositiveRateParity(difference_bound=tol),
        max_iter=max_iter,
    )
    eg.fit(scaler.transform(X.iloc[tr]), y.iloc[tr], sensitive_features=df["sex"].iloc[tr])
    peer_t = time.perf_counter() - t0
    pred = eg.predict(scaler.transform(X.iloc[te]), random_state=0)
    audit = FairnessAudit(
        metrics=("false_rejection_rate", "error_rate"), n_boot=1000, tolerance=tol, seed=0
    ).run(y.to_numpy()[te], pred, {"sex": df["sex"].to_numpy()[te]})
    peer_gap = audit.gap("false_rejection_rate", "sex")
    peer_err = audit.overall["error_rate"]
    for method, r in results.items():
        label = f"{method} ({'EG' if method == 'reduction' else 'ThresholdOptimizer'})"
        row(
            f"mitigation {n:,} rows, {label}: time (s)",
            f"{timings[method]:.1f}",
            f"{peer_t:.1f}",
            peer_t / timings[method],
        )
        row(
            "  held-out men-women false-rejection gap [95% upper]",
            f"{r.gap_after:.4f} [{r.gap_after_ci_high:.4f}]",
            f"{peer_gap.gap:.4f} [{peer_gap.ci_high:.4f}]",
            peer_gap.gap / max(r.gap_after, 1e-9),
        )
        row(
            "  held-out test error",
            f"{r.error_after:.4f}",
            f"{peer_err:.4f}",
            peer_err / r.error_after,
        )
        NOTES.append(
            f"mitigation {n:,} {method}: target validation gap {r.target_gap:.4f} (expected "
            f"held-out half-width {r.expected_halfwidth:.4f}), chosen bound {r.bound:.5f}, gap "
            f"{r.gap_before:.4f} "
            f"-> {r.gap_after:.4f} (upper {r.gap_after_ci_high:.4f}), status "
            f"{r.status}, accuracy cost {r.accuracy_cost:+.4f}; tried "
            + ", ".join(f"{t['bound']:.5f}:{t['val_gap']:.4f}" for t in r.tried)
        )
    NOTES.append(
        f"fairlearn EG bound {tol} alone: held-out gap {peer_gap.gap:.4f} "
        f"(upper {peer_gap.ci_high:.4f}), status {audit.checks[0].status}, "
        f"error {peer_err:.4f}"
    )


def case_credit(shared: Path) -> None:
    from fairlearn.metrics import MetricFrame
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    credit = shared / "data" / "credit"
    sets = []
    if (credit / "german.data").is_file():
        g = load_german(credit / "german.data")
        X = pd.get_dummies(g.drop(columns=["a9", "a13", "sex", "age", "good"]), dtype=float)
        sets.append(("german", g, X, "good"))
    if (credit / "taiwan-default-of-credit-card-clients.csv").is_file():
        t = load_taiwan(credit / "taiwan-default-of-credit-card-clients.csv")
        X = t.drop(columns=["ID", "X2", "X5", "Y", "sex", "age", "repaid"])
        sets.append(("taiwan", t, X, "repaid"))
    if not sets:
        NOTES.append("credit data not found under ../shared: real-data case skipped")
        return
    for name, df, X, label in sets:
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        pred = cross_val_predict(model, X, df[label], cv=5)
        sens = {"sex": df["sex"].to_numpy(), "age": df["age"].to_numpy()}
        bins = {"age": [25, 40, 60]}
        t0 = time.perf_counter()
        res = FairnessAudit(n_boot=1000, tolerance=0.01, seed=0).run(
            df[label].to_numpy(), pred, sens, bins
        )
        ours = time.perf_counter() - t0
        bands = np.array(band_labels(bins["age"]))[
            np.searchsorted(bins["age"], sens["age"], "right")
        ]
        t0 = time.perf_counter()
        mf = MetricFrame(
            metrics=_mf_metrics(),
            y_true=df[label].to_numpy(),
            y_pred=pred,
            sensitive_features=pd.DataFrame({"sex": sens["sex"], "age": bands}),
        )
        peer = time.perf_counter() - t0
        for g in res.grouping("sex x age").groups:
            ref = mf.by_group.loc[(g.values["sex"], g.values["age"])]
            for m in METRICS5:
                assert g.metrics[m] == ref[m] or (np.isnan(g.metrics[m]) and np.isnan(ref[m]))
        row(
            f"{name} ({len(df):,} rows): full audit w/ 1,000-boot CIs vs MetricFrame points (s)",
            f"{ours:.2f}",
            f"{peer:.2f}",
            peer / ours,
        )
        for grouping in ("sex", "age"):
            gap = res.gap("false_rejection_rate", grouping)
            chk = next(c for c in res.checks if c.grouping == grouping)
            NOTES.append(
                f"{name} by {grouping}: false-rejection gap {gap.gap:.4f} "
                f"[{gap.ci_low:.4f}, {gap.ci_high:.4f}] ({gap.max_group} vs "
                f"{gap.min_group}), Holm p {gap.p_adjusted:.3g}; tolerance 0.01: "
                f"{chk.status}"
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes for a fast check")
    ap.add_argument("--full", action="store_true", help="also train at 1M rows (slow)")
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument(
        "--cases",
        default="metrics,mitigation,credit,verdicts,fresh",
        help="comma-separated subset of: metrics, mitigation, credit, verdicts, fresh",
    )
    args = ap.parse_args()
    if not args.shared.exists():
        args.shared = Path("/work/shared")
    n_rows = 50_000 if args.quick else 1_000_000
    cases = set(args.cases.split(","))
    if "metrics" in cases:
        case_group_metrics(n_rows, n_boot_peer=2 if not args.quick else 3)
    if "mitigation" in cases:
        case_mitigation(10_000 if args.quick else 100_000, max_iter=50)
        if args.full and not args.quick:
            case_mitigation(1_000_000, max_iter=50)
    if "credit" in cases:
        case_credit(args.shared)
    if cases & {"verdicts", "fresh"}:
        import fairness_verdicts

        found: list = []
        fairness_verdicts.run(found, quick=args.quick, cases=cases)
        for case, ours, peer, ratio in found:
            row(case, ours, peer, ratio)
    import sklearn

    width = max(len(r[0]) for r in ROWS)
    print(f"{'case':<{width}} | ours | peer | ratio")
    for case, ours, peer, ratio in ROWS:
        print(f"{case:<{width}} | {ours} | {peer} | {ratio}")
    print()
    for note in NOTES:
        print(f"- {note}")
    import fairlearn

    print(
        f"\nmachine: {os.cpu_count()} cpus, python {platform.python_version()}, numpy "
        f"{np.__version__}, pandas {pd.__version__}, scikit-learn {sklearn.__version__}, "
        f"fairlearn {fairlearn.__version__}"
    )


if __name__ == "__main__":
    main()
