"""Demo step: audit a lending model for a false-rejection gap, then train it away."""

from __future__ import annotations

from typing import Any

ORDER = 50
TITLE = "Fairness: audit a lending model by sex and age, then mitigate the gap"


def run(ctx: Any) -> dict[str, Any]:
    from probity.fairness import LENDING_FEATURES, audit, make_lending, mitigate
    from probity.fairness.report import add_audit, add_mitigation

    n = 30_000
    df = make_lending(n, bias=0.5, seed=0)
    ctx.say(
        f"Synthetic lending data: {n:,} applicants; planted bias: half of the women have their "
        "credit history recorded as empty (a 'thin file'), though they repay like everyone."
    )
    res = audit(
        df,
        "repaid",
        ["sex", "age"],
        favourable=1,
        pred="approved",
        bins={"age": [25, 40, 60]},
        tolerance=0.01,
        n_boot=500 if ctx.quick else 1000,
        seed=0,
    )
    gap = res.gap("false_rejection_rate", "sex")
    ctx.say(
        f"Legacy scorecard: false-rejection rate gap {gap.max_group} vs {gap.min_group} "
        f"{gap.gap:.3f} (95% CI {gap.ci_low:.3f} to {gap.ci_high:.3f}, Holm-adjusted p "
        f"{gap.p_adjusted:.2g}) -> tolerance 0.01: {res.checks[0].status.upper()}"
    )
    add_audit(ctx.report, res, title=f"{TITLE}: audit of the legacy scorecard")

    mit = mitigate(
        df[LENDING_FEATURES],
        df["repaid"],
        df[["sex"]],
        metric="false_rejection_rate",
        tolerance=0.01,
        method="threshold",
        seed=0,
        n_boot=500 if ctx.quick else 1000,
    )
    ctx.say(
        f"Mitigation (fairlearn ThresholdOptimizer, bound tuned for the pairwise gap): held-out "
        f"gap {mit.gap_before:.3f} -> {mit.gap_after:.3f} (upper bound "
        f"{mit.gap_after_ci_high:.3f}), error {mit.error_before:.3f} -> {mit.error_after:.3f}; "
        f"{'certified' if mit.certified else 'not certified'} ({mit.status}) on "
        f"{mit.n_test:,} held-out rows"
    )
    add_mitigation(ctx.report, mit, title=f"{TITLE}: mitigation")
    return {
        "rows": n,
        "legacy_gap": round(gap.gap, 4),
        "legacy_status": res.checks[0].status,
        "gap_before": round(mit.gap_before, 4),
        "gap_after": round(mit.gap_after, 4),
        "gap_after_upper": round(mit.gap_after_ci_high, 4),
        "accuracy_cost": round(mit.accuracy_cost, 4),
        "certified": mit.certified,
    }
