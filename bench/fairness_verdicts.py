"""Are the fairness audit's verdicts error-controlled? Simulations with a known truth.

Cases (run by ``bench/fairness.py --cases verdicts,fresh`` or on their own)
1. Null fail rate: no true gap anywhere; with tolerance 0 every ``fail`` is a type-I error,
   so its rate must be <= alpha (+0.01). Three layouts: 2 groups; 4 age bands; sex x 4 bands
   (checks on sex, bands and the 8 crossed groups). The peer is the rule users write (and
   Probity 0.1 used): fail when the point gap exceeds the tolerance. Also the issue's case:
   30,000 rows, sex x 4 bands, tolerance 0.01.
2. Gap-interval coverage (95%) in null, tied and distinct layouts; peer: the percentile
   bootstrap of max - min (what ``MetricFrame(n_boot=...)``'s ``difference()`` quantiles are),
   on the same replicates.
3. Power to find a planted men-women false-rejection gap of 1, 2, 5 points in a sex x 4 bands
   audit of all five default metrics: Probity's default family (each metric x grouping) vs a
   single two-proportion z-test of that pair alone vs one Holm family over the whole audit.
4. Mitigation scored on fresh data: ``mitigate(method="threshold")`` model saved with joblib,
   loaded in a new process and applied to freshly drawn applicants with the user's own labels
   ('F'/'M'), vs fairlearn's ThresholdOptimizer (true-positive-rate parity) fitted on the
   same training rows.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from probity.fairness import LENDING_FEATURES, FairnessAudit, make_lending, mitigate  # noqa: E402
from probity.fairness._groups import aggregate, build_groups  # noqa: E402
from probity.fairness._metrics import confusion_counts, rates  # noqa: E402
from probity.fairness._stats import bootstrap_counts, two_proportion_z  # noqa: E402

ALPHA = 0.05
LAYOUTS = {
    "2 groups": {"sex": ["F", "M"]},
    "4 bands": {"band": ["<25", "25-40", "40-60", ">=60"]},
    "sex x 4 bands": {"sex": ["F", "M"], "band": ["<25", "25-40", "40-60", ">=60"]},
}


def draw(rng, groups: dict, n: int, tpr: dict | None = None) -> pd.DataFrame:
    """Sensitive columns uniform over their levels, label ~ Bern(0.6), approval given repaid
    with probability ``tpr`` of the first column's level (0.8 when None), else 0.3."""
    df = pd.DataFrame({c: rng.choice(np.array(v, dtype=object), size=n) for c, v in groups.items()})
    first = next(iter(groups))
    y = (rng.random(n) < 0.6).astype(int)
    t = np.full(n, 0.8) if tpr is None else df[first].map(tpr).to_numpy(float)
    df["repaid"] = y
    df["approved"] = (rng.random(n) < np.where(y == 1, t, 0.3)).astype(int)
    return df


def _binom_se(p: float, n: int) -> float:
    return float(np.sqrt(max(p * (1 - p), 1e-12) / n))


def null_fail_rate(rows: list, n_sets: int, n: int, n_boot: int) -> None:
    for name, groups in LAYOUTS.items():
        fails: dict[str, int] = {}
        naive: dict[str, int] = {}
        t0 = time.perf_counter()
        for i in range(n_sets):
            df = draw(np.random.default_rng(1000 + i), groups, n)
            res = FairnessAudit(
                metrics=("false_rejection_rate",), n_boot=n_boot, tolerance=0.0, seed=i
            ).run_table(df, "repaid", list(groups), pred="approved")
            for c in res.checks:
                fails[c.grouping] = fails.get(c.grouping, 0) + (c.status == "fail")
                naive[c.grouping] = naive.get(c.grouping, 0) + (c.gap > 0.0)
        secs = time.perf_counter() - t0
        for g in fails:
            ours, peer = fails[g] / n_sets, naive[g] / n_sets
            rows.append(
                (
                    f"null fail rate, tolerance 0, {name}: {g} ({n_sets} sets x {n:,} rows)",
                    f"{ours:.3f} (+-{_binom_se(ours, n_sets):.3f})",
                    f"{peer:.3f} (point gap > tol)",
                    peer / max(ours, 1 / n_sets),
                )
            )
        print(f"  null {name}: {secs:.1f}s", file=sys.stderr)
    # the case: 30k rows, sex x 4 bands, tolerance 0.01
    groups = LAYOUTS["sex x 4 bands"]
    fails = naive_f = 0
    k = max(n_sets // 4, 20)
    for i in range(k):
        df = draw(np.random.default_rng(5000 + i), groups, 30_000)
        res = FairnessAudit(
            metrics=("false_rejection_rate",), n_boot=n_boot, tolerance=0.01, seed=i
        ).run_table(df, "repaid", list(groups), pred="approved")
        c = res.checks[-1]
        fails += c.status == "fail"
        naive_f += c.gap > 0.01
    rows.append(
        (
            f"null fail rate, tolerance 0.01, 30,000 rows, sex x age check ({k} sets)",
            f"{fails / k:.3f}",
            f"{naive_f / k:.3f} (point gap > tol)",
            (naive_f / k) / max(fails / k, 1 / k),
        )
    )


def coverage(rows: list, n_sets: int, n: int, n_boot: int) -> None:
    cases = {
        "null, 4 groups": {"A": 0.8, "B": 0.8, "C": 0.8, "D": 0.8},
        "null, 8 groups": {k: 0.8 for k in "ABCDEFGH"},
        "tied at the top": {"A": 0.75, "B": 0.8, "C": 0.8},
        "ties at both ends": {"A": 0.75, "B": 0.75, "C": 0.8, "D": 0.8},
        "distinct (gap 0.05)": {"A": 0.75, "B": 0.78, "C": 0.8},
    }
    for name, tpr in cases.items():
        truth = max(tpr.values()) - min(tpr.values())
        ours = peer = 0
        for i in range(n_sets):
            rng = np.random.default_rng(9000 + i)
            df = draw(rng, {"g": list(tpr)}, n, tpr=tpr)
            cfg = FairnessAudit(metrics=("false_rejection_rate",), n_boot=n_boot, seed=i)
            gap = cfg.run_table(df, "repaid", ["g"], pred="approved").gap(
                "false_rejection_rate", "g"
            )
            ours += gap.ci_low <= truth + 1e-12 and truth <= gap.ci_high + 1e-12
            # peer: percentile interval of max - min over the same kind of replicates
            index = build_groups({"g": df["g"].to_numpy()})
            y = df["repaid"].to_numpy()
            yhat = df["approved"].to_numpy()
            fine = confusion_counts(index.fine_codes, y, yhat, index.n_fine)
            reps = np.concatenate(
                [
                    rates(aggregate(ch, index.groupings[0]), "false_rejection_rate")
                    for ch in bootstrap_counts(fine, n_boot, np.random.default_rng(i))
                ]
            )
            g = np.nanmax(reps, 1) - np.nanmin(reps, 1)
            lo, hi = np.quantile(g, [0.025, 0.975])
            peer += lo <= truth <= hi
        rows.append(
            (
                f"gap interval coverage (95%), {name}, {n_sets} sets x {n:,} rows",
                f"{ours / n_sets:.3f}",
                f"{peer / n_sets:.3f} (percentile of max-min)",
                None,
            )
        )


def power(rows: list, n_sets: int, n: int) -> None:
    groups = LAYOUTS["sex x 4 bands"]
    for pts in (1, 2, 5):
        d = pts / 100
        tpr = {"F": 0.8 - d, "M": 0.8}
        hits = {"default": 0, "single": 0, "audit": 0}
        for i in range(n_sets):
            df = draw(np.random.default_rng(20_000 + 100 * pts + i), groups, n, tpr=tpr)
            for fam in ("metric", "audit"):
                res = FairnessAudit(n_boot=0, family=fam).run_table(
                    df, "repaid", list(groups), pred="approved"
                )
                p = res.gap("false_rejection_rate", "sex").p_adjusted
                hits["default" if fam == "metric" else "audit"] += p <= ALPHA
            pos = df[df.repaid == 1]
            x = [int((pos.sex == s).sum() - pos[pos.sex == s].approved.sum()) for s in "FM"]
            m = [int((pos.sex == s).sum()) for s in "FM"]
            hits["single"] += two_proportion_z(x[0], m[0], x[1], m[1]) <= ALPHA
        rows.append(
            (
                f"power, {pts}-point men-women FRR gap, {n:,} rows, sex x 4 bands, 5 metrics "
                f"({n_sets} sets)",
                f"{hits['default'] / n_sets:.3f} (family: metric x grouping)",
                f"{hits['single'] / n_sets:.3f} single z-test; "
                f"{hits['audit'] / n_sets:.3f} whole-audit family",
                (hits["default"] + 0.5) / (hits["audit"] + 0.5),
            )
        )


SCORE = """
import json, sys
import joblib, pandas as pd
m = joblib.load(sys.argv[1])
df = pd.read_parquet(sys.argv[2])
pred = m.predict(df[json.loads(sys.argv[3])], sensitive_features=df["sex"])
print(json.dumps([int(p) for p in pred]))
"""


def fresh_mitigation(rows: list, n_train: int, n_fresh: int, tol: float = 0.01) -> None:
    import joblib
    from fairlearn.postprocessing import ThresholdOptimizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    train = make_lending(n_train, bias=0.35, seed=7)
    fresh = make_lending(n_fresh, bias=0.35, seed=123)
    t0 = time.perf_counter()
    r = mitigate(
        train[LENDING_FEATURES], train["repaid"], train[["sex"]], method="threshold",
        tolerance=tol, seed=0, n_boot=1000,
    )  # fmt: skip
    secs = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "m.joblib"
        joblib.dump(r.model, path)
        fresh.to_parquet(Path(d) / "fresh.parquet")
        (Path(d) / "score.py").write_text(SCORE)
        out = subprocess.run(
            [sys.executable, str(Path(d) / "score.py"), str(path), str(Path(d) / "fresh.parquet"),
             json.dumps(LENDING_FEATURES)],
            capture_output=True, text=True, check=True,
            env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
        )  # fmt: skip
    ours = np.asarray(json.loads(out.stdout))
    t0 = time.perf_counter()
    to = ThresholdOptimizer(
        estimator=make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
        constraints="true_positive_rate_parity",
        predict_method="predict_proba",
    ).fit(train[LENDING_FEATURES], train["repaid"], sensitive_features=train["sex"])
    peer_t = time.perf_counter() - t0
    peer = np.asarray(
        to.predict(fresh[LENDING_FEATURES], sensitive_features=fresh["sex"], random_state=0)
    )
    y = fresh["repaid"].to_numpy()

    def frr_gap(pred: np.ndarray) -> float:
        v = [float((pred[(fresh.sex == s).to_numpy() & (y == 1)] == 0).mean()) for s in "FM"]
        return abs(v[0] - v[1])

    acc_o, acc_p = float((ours == y).mean()), float((peer == y).mean())
    rows.append(
        (
            f"mitigation threshold, trained on {n_train:,}, saved, new process, {n_fresh:,} "
            "fresh rows: men-women FRR gap",
            f"{frr_gap(ours):.4f}",
            f"{frr_gap(peer):.4f} (ThresholdOptimizer TPR parity)",
            frr_gap(peer) / max(frr_gap(ours), 1e-9),
        )
    )
    rows.append(
        (
            "  same, accuracy on fresh rows",
            f"{acc_o:.4f} (certified: {r.status})",
            f"{acc_p:.4f}",
            acc_o / acc_p,
        )
    )
    rows.append(("  same, fit time (s)", f"{secs:.1f}", f"{peer_t:.1f}", peer_t / secs))


def run(rows: list, *, quick: bool, cases: set[str]) -> None:
    n_sets = 40 if quick else 200
    if "verdicts" in cases:
        null_fail_rate(rows, n_sets, 6000 if quick else 30_000, 300 if quick else 1000)
        coverage(rows, n_sets, 6000 if quick else 20_000, 300 if quick else 1000)
        power(rows, n_sets, 30_000)
    if "fresh" in cases:
        fresh_mitigation(rows, 20_000 if quick else 100_000, 50_000 if quick else 200_000)


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="40 datasets and small sizes")
    ap.add_argument("--cases", default="verdicts,fresh", help="verdicts, fresh")
    args = ap.parse_args()
    rows: list = []
    run(rows, quick=args.quick, cases=set(args.cases.split(",")))
    for case, ours, peer, ratio in rows:
        r = "-" if ratio is None else f"{ratio:.2f}"
        print(f"{case} | {ours} | {peer} | {r}")


if __name__ == "__main__":
    main()
