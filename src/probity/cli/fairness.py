"""``probity audit fairness`` and ``probity mitigate fairness``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from probity.cli._groups import audit_app, mitigate_app
from probity.cli._output import JSON_HELP, console, err_console, print_json
from probity.errors import InputError, ProbityError


class ToleranceNotMet(ProbityError):
    """``--strict``: the audit ran, but a grouping did not pass the tolerance (exit 3)."""

    exit_code = 3


_DATA = "Table to read: CSV, TSV, Parquet or JSONL."
_LABEL = "Column with the true outcome (two values)."
_FAV = "The favourable label value (e.g. 1 = repays); it is the positive class."
_SENS = "Sensitive column; repeat for several (their intersection is audited too)."
_BINS = "Cut a numeric sensitive column into bands: COLUMN=e1,e2,... (repeatable)."
_METRIC = (
    "Metric the tolerance applies to: false_rejection_rate (FNR), false_acceptance_rate "
    "(FPR), selection_rate, error_rate, true_positive_rate, ...; for mitigate also "
    "equalized_odds (both error rates)."
)
_TOL = "Largest acceptable gap between any two groups (the interval's upper bound must fit)."


def _split(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for v in values or []:
        out += [x.strip() for x in v.split(",") if x.strip()]
    return out


def _print_audit(res) -> None:
    from rich.table import Table

    from probity.fairness.report import metric_label

    for g in res.groupings:
        t = Table(title=f"by {g.name}", title_justify="left")
        t.add_column("group")
        t.add_column("count", justify="right")
        for m in res.metrics:
            t.add_column(metric_label(m), justify="right")
        for s in g.groups[:40]:
            t.add_row(
                s.group,
                str(s.count),
                *[f"{s.metrics[m]:.4f} [{s.ci[m][0]:.3f}, {s.ci[m][1]:.3f}]" for m in res.metrics],
            )
        console.print(t)
    gt = Table(
        title="gaps (largest - smallest, simultaneous interval); p adjusted by "
        f"{res.correction} within "
        + ("each metric x grouping" if res.family == "metric" else "the whole audit")
        + f" ({len(res.comparisons)} comparisons)",
        title_justify="left",
    )
    for c in ("grouping", "metric", "gap", "interval", "highest", "lowest", "p adj"):
        gt.add_column(c)
    for g in res.groupings:
        for gap in g.gaps:
            gt.add_row(
                gap.grouping,
                gap.metric,
                f"{gap.gap:.4f}",
                f"{gap.ci_low:.4f} to {gap.ci_high:.4f}",
                gap.max_group,
                gap.min_group,
                f"{gap.p_adjusted:.3g}",
            )
    console.print(gt)
    for g in res.groupings:
        for r in g.ratios:
            console.print(
                f"{g.name}: {r.metric} ratio {r.ratio:.3f} [{r.ci_low:.3f}, {r.ci_high:.3f}] "
                f"({r.min_group} / {r.max_group}); four-fifths rule: {r.four_fifths}",
                markup=False,
            )
    for c in res.checks:
        colour = {"pass": "green", "fail": "red"}.get(c.status, "yellow")
        console.print(
            f"[{colour}]{c.status.upper()}[/] {c.grouping}: {c.metric} gap "
            f"{c.gap:.4f} [{c.ci_low:.4f}, {c.ci_high:.4f}], tolerance {c.tolerance}: "
            f"{c.reason}"
        )
    for note in res.notes:
        err_console.print(f"note: {note}", markup=False)


@audit_app.command("fairness")
def audit_fairness(
    data: Annotated[Path, typer.Option("--data", help=_DATA)],
    label: Annotated[str, typer.Option("--label", help=_LABEL)],
    sensitive: Annotated[list[str], typer.Option("--sensitive", help=_SENS)],
    favourable: Annotated[str, typer.Option("--favourable", help=_FAV)] = "1",
    pred: Annotated[
        str | None,
        typer.Option(
            "--pred", help="Column with the model's decisions (same values as the label)."
        ),
    ] = None,
    score: Annotated[
        str | None,
        typer.Option(
            "--score", help="Column with a score; decision is favourable when score >= --threshold."
        ),
    ] = None,
    threshold: Annotated[
        float,
        typer.Option(
            "--threshold",
            help="Score threshold (also applied to --model's predict_proba when not 0.5).",
        ),
    ] = 0.5,
    model: Annotated[
        Path | None,
        typer.Option("--model", help="A saved scikit-learn model (joblib; trusted files only)."),
    ] = None,
    bins: Annotated[list[str] | None, typer.Option("--bins", help=_BINS)] = None,
    metric: Annotated[str, typer.Option("--metric", help=_METRIC)] = "false_rejection_rate",
    tolerance: Annotated[float | None, typer.Option("--tolerance", help=_TOL)] = None,
    metrics: Annotated[
        list[str] | None,
        typer.Option(
            "--metrics",
            help="Metrics to report (comma-separated or repeated); default: selection,"
            " error, false-rejection, false-acceptance rates and precision.",
        ),
    ] = None,
    n_boot: Annotated[int, typer.Option("--n-boot", help="Bootstrap replicates.")] = 1000,
    confidence: Annotated[float, typer.Option("--confidence", help="Interval level.")] = 0.95,
    test: Annotated[str, typer.Option("--test", help="z (two-proportion) or permutation.")] = "z",
    correction: Annotated[str, typer.Option("--correction", help="holm, bh or none.")] = "holm",
    family: Annotated[
        str,
        typer.Option(
            "--family",
            help="Multiple-testing family: metric (each metric x grouping on its own, the "
            "default) or audit (every comparison of the audit; stricter).",
        ),
    ] = "metric",
    min_group_size: Annotated[
        int,
        typer.Option(
            "--min-group-size",
            help="Groups with fewer rows in a metric's denominator are shown but left out of "
            "gaps and verdicts (a check with one is at best inconclusive).",
        ),
    ] = 30,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    no_intersections: Annotated[
        bool, typer.Option("--no-intersections", help="Skip the crossed groups.")
    ] = False,
    report: Annotated[Path | None, typer.Option("--report", help="Write an HTML report.")] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 3 when the tolerance is not met.")
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Audit a binary classifier's decisions for group fairness, with intervals and p-values.

    Reports per group the selection, error, false-rejection (FNR) and false-acceptance (FPR) rates, precision and counts, for each --sensitive column and their intersection; bootstrap intervals; largest-minus-smallest gaps with simultaneous intervals and Holm/BH-adjusted p-values; selection-rate ratios (four-fifths rule); per-group AUC and calibration with --score; and, with --tolerance, a verdict on the gap's interval: pass if it lies within the tolerance, fail if it lies above, else inconclusive.
    """
    from probity.fairness import DEFAULT_METRICS, FairnessAudit

    chosen = _split(metrics) or list(DEFAULT_METRICS)
    cfg = FairnessAudit(
        metrics=tuple(chosen),
        n_boot=n_boot,
        confidence=confidence,
        test=test,
        correction=correction,
        tolerance=tolerance,
        tolerance_metric=metric,
        intersections=not no_intersections,
        seed=seed,
        family=family,
        min_group_size=min_group_size,
    )
    res = cfg.run_table(
        data,
        label,
        _split(sensitive),
        favourable=favourable,
        pred=pred,
        score=score,
        threshold=threshold,
        model=model,
        bins=bins or None,
    )
    if report is not None:
        from probity.fairness.report import add_audit
        from probity.report import Report

        rep = Report("Fairness audit", subtitle=f"{data.name}, by {', '.join(sensitive)}")
        add_audit(
            rep,
            res,
            chart_metrics=[
                cfg.tolerance_metric,
                *[
                    m
                    for m in ("selection_rate", "false_acceptance_rate")
                    if m != cfg.tolerance_metric and m in cfg.metrics
                ],
            ][:3],
        )
        rep.write(report)
    if json_out:
        print_json(res)
    else:
        _print_audit(res)
        if report is not None:
            console.print(f"report written to {report}")
    if strict and res.passed is False:
        bad = [f"{c.grouping} ({c.status})" for c in res.checks if not c.passed]
        raise ToleranceNotMet(
            f"{cfg.tolerance_metric} tolerance {tolerance} not met for " + ", ".join(bad)
        )


@mitigate_app.command("fairness")
def mitigate_fairness(
    data: Annotated[Path, typer.Option("--data", help=_DATA)],
    label: Annotated[str, typer.Option("--label", help=_LABEL)],
    sensitive: Annotated[list[str], typer.Option("--sensitive", help=_SENS)],
    favourable: Annotated[str, typer.Option("--favourable", help=_FAV)] = "1",
    features: Annotated[
        list[str] | None,
        typer.Option(
            "--features",
            help="Feature columns (comma-separated or repeated); default: every "
            "column but the label, the sensitive ones and --drop.",
        ),
    ] = None,
    drop: Annotated[
        list[str] | None,
        typer.Option("--drop", help="Columns not to use as features (e.g. old scores)."),
    ] = None,
    bins: Annotated[list[str] | None, typer.Option("--bins", help=_BINS)] = None,
    metric: Annotated[str, typer.Option("--metric", help=_METRIC)] = "false_rejection_rate",
    tolerance: Annotated[float, typer.Option("--tolerance", help=_TOL)] = 0.01,
    method: Annotated[
        str,
        typer.Option(
            "--method",
            help="reduction (fairlearn "
            "ExponentiatedGradient) or threshold (fairlearn "
            "ThresholdOptimizer).",
        ),
    ] = "reduction",
    test_size: Annotated[
        float, typer.Option("--test-size", help="Held-out share used to certify the constraint.")
    ] = 0.3,
    n_boot: Annotated[int, typer.Option("--n-boot", help="Bootstrap replicates.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (deterministic).")] = 0,
    save: Annotated[
        Path | None, typer.Option("--save", help="Save the mitigated model (joblib).")
    ] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Write an HTML report.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Train a classifier whose gap between ANY two groups is within --tolerance.

    Uses fairlearn underneath with its bound tuned on a validation split so that the pairwise gap holds (fairlearn bounds each group against the overall rate), then certifies on a held-out split: certified only if the gap's upper interval bound is within tolerance.
    """
    from probity.fairness import mitigate
    from probity.fairness.inputs import load_frame

    df = load_frame(data)
    sens = _split(sensitive)
    missing = [c for c in [label, *sens, *_split(features), *_split(drop)] if c not in df.columns]
    if missing:
        raise InputError(
            f"column(s) {missing} not in the table", hint=f"available columns: {list(df.columns)}"
        )
    feats = _split(features) or [c for c in df.columns if c not in {label, *sens, *_split(drop)}]
    if not feats:
        raise InputError("no feature columns left", hint="pass --features")
    from probity.cli._output import progress as _progress

    with _progress() as bar:
        task = bar.add_task("mitigating", total=None)

        def say(msg: str) -> None:
            bar.update(task, description=msg)

        res = mitigate(
            df[feats],
            df[label],
            df[sens],
            metric=metric,
            tolerance=tolerance,
            method=method,
            favourable=favourable,
            test_size=test_size,
            n_boot=n_boot,
            bins=bins or None,
            seed=seed,
            progress=say,
        )
    if save is not None:
        import os

        import joblib

        tmp = save.with_name(save.name + ".part")
        joblib.dump(res.model, tmp)
        os.replace(tmp, save)  # atomic: a crash never leaves a half-written model
    if report is not None:
        from probity.fairness.report import add_audit, add_mitigation
        from probity.report import Report

        rep = Report("Fairness mitigation", subtitle=f"{data.name}, by {', '.join(sens)}")
        add_mitigation(rep, res)
        add_audit(
            rep,
            res.baseline,
            title="Held-out audit before mitigation",
            chart_metrics=list(res.mitigated.metrics[:-1]),
        )
        add_audit(
            rep,
            res.mitigated,
            title="Held-out audit after mitigation",
            chart_metrics=list(res.mitigated.metrics[:-1]),
        )
        rep.write(report)
    if json_out:
        print_json(res)
        return
    colour = {"pass": "green", "fail": "red"}.get(res.status, "yellow")
    console.print(
        f"method {res.method}, fairlearn bound {res.bound:.5f}; held-out {res.metric} "
        f"gap {res.gap_before:.4f} -> {res.gap_after:.4f} (upper bound "
        f"{res.gap_after_ci_high:.4f}); error {res.error_before:.4f} -> "
        f"{res.error_after:.4f}"
    )
    console.print(
        f"[{colour}]{res.status.upper()}[/]: tolerance {res.tolerance} "
        f"{'certified' if res.certified else 'not certified'} on {res.n_test} "
        "held-out rows"
    )
    if save is not None:
        console.print(f"model saved to {save}")
    if report is not None:
        console.print(f"report written to {report}")
