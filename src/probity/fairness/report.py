"""Report sections for fairness audits and mitigations (bar charts with intervals, gap tables)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from probity.fairness._metrics import METRICS
from probity.fairness.audit import AuditResult, GroupingResult
from probity.fairness.mitigate import MitigationResult
from probity.report import Report, Section, new_figure


def metric_label(name: str) -> str:
    """``false_rejection_rate`` -> ``false-rejection rate (FNR)``."""
    if name not in METRICS:  # a constraint such as equalized_odds
        return name.replace("_", " ")
    spec = METRICS[name]
    words = name.replace("_rate", " rate").replace("_", "-")
    return f"{words} ({spec.also})" if spec.also not in words else words


def _bars(
    ax: Any,
    grouping: GroupingResult,
    metric: str,
    *,
    offset: float = 0.0,
    width: float = 0.8,
    label: str | None = None,
    color: str | None = None,
) -> None:
    vals = np.array([g.metrics[metric] for g in grouping.groups], dtype=float)
    lo = np.array([g.ci[metric][0] for g in grouping.groups], dtype=float)
    hi = np.array([g.ci[metric][1] for g in grouping.groups], dtype=float)
    x = np.arange(len(vals)) + offset
    yerr = np.vstack([np.clip(vals - lo, 0, None), np.clip(hi - vals, 0, None)])
    yerr = np.nan_to_num(yerr)
    ax.bar(x, np.nan_to_num(vals), width=width, yerr=yerr, capsize=3, label=label, color=color)


def grouping_figure(grouping: GroupingResult, metrics: Sequence[str], confidence: float) -> Any:
    """One panel per metric: the group values with their bootstrap intervals."""
    n = len(metrics)
    fig, _axes = new_figure(min(4.2 * n, 14), 3.6)
    fig.clf()
    labels = [g.group for g in grouping.groups]
    for i, m in enumerate(metrics):
        ax = fig.add_subplot(1, n, i + 1)
        _bars(ax, grouping, m)
        ax.set_xticks(
            range(len(labels)),
            labels,
            rotation=60 if len(labels) > 4 else 0,
            ha="right" if len(labels) > 4 else "center",
            fontsize=7,
        )
        ax.set_title(metric_label(m), fontsize=9)
        ax.set_ylim(bottom=0)
    fig.suptitle(f"by {grouping.name} ({confidence:.0%} bootstrap intervals)", fontsize=10)
    fig.tight_layout()
    return fig


def add_audit(
    report: Report,
    result: AuditResult,
    *,
    title: str = "Fairness audit",
    chart_metrics: Sequence[str] | None = None,
) -> Section:
    """Add the audit: facts, tolerance checks, per-group charts and tables, the gap table."""
    sec = report.section(title)
    facts: dict[str, Any] = {
        "rows": result.n_rows,
        "favourable label": result.favourable,
        "bootstrap replicates": result.n_boot,
        "confidence": result.confidence,
        "test": "two-proportion z" if result.test == "z" else "permutation",
        "correction": result.correction,
        "correction family": "each metric x grouping"
        if result.family == "metric"
        else "the whole audit",
        "minimum group size": result.min_group_size,
    }
    for m, v in result.overall.items():
        facts[f"overall {metric_label(m)}"] = v
    sec.facts(facts)
    if result.checks:
        verdict = "PASS" if result.passed else "NOT PASSED"
        sec.text(
            f"Tolerance check: {verdict}. A grouping passes when the whole gap interval "
            "(simultaneous over all pairs of groups) is within the tolerance and fails when "
            "it lies above; 'inconclusive' means the data cannot tell, or a group is below "
            "the minimum group size."
        )
        sec.table(
            [
                {
                    "grouping": c.grouping,
                    "metric": metric_label(c.metric),
                    "tolerance": c.tolerance,
                    "gap": c.gap,
                    "lower bound": c.ci_low,
                    "upper bound": c.ci_high,
                    "status": c.status,
                    "why": c.reason,
                }
                for c in result.checks
            ]
        )
    charts = list(
        chart_metrics
        or [
            m
            for m in ("false_rejection_rate", "false_acceptance_rate", "selection_rate")
            if m in result.metrics
        ]
        or result.metrics[:3]
    )
    for g in result.groupings:
        sec.figure(
            grouping_figure(g, charts, result.confidence),
            caption=f"Rates by {g.name} with {result.confidence:.0%} intervals",
        )
        rows = []
        for s in g.groups[:60]:
            row: dict[str, Any] = {"group": s.group, "count": s.count}
            for m in result.metrics:
                row[m] = s.metrics[m]
                row[f"{m} CI"] = f"{s.ci[m][0]:.4f} to {s.ci[m][1]:.4f}"
            if s.auc is not None:
                row.update(AUC=s.auc, calibration=s.calibration_error, ECE=s.ece)
            rows.append(row)
        sec.table(
            rows, caption=f"Groups by {g.name}" + (" (first 60)" if len(g.groups) > 60 else "")
        )
    sec.table(
        [
            {
                "grouping": gap.grouping,
                "metric": metric_label(gap.metric),
                "gap": gap.gap,
                "CI low": gap.ci_low,
                "CI high": gap.ci_high,
                "highest": gap.max_group,
                "lowest": gap.min_group,
                "p": gap.p_value,
                "p adjusted": gap.p_adjusted,
            }
            for g in result.groupings
            for gap in g.gaps
        ],
        caption=f"Largest-minus-smallest gaps with simultaneous intervals; p-values of the "
        f"highest-vs-lowest comparison, adjusted ({result.correction}) within "
        + ("each metric x grouping" if result.family == "metric" else "the whole audit"),
    )
    ratios = [r for g in result.groupings for r in g.ratios]
    if ratios:
        sec.table(
            [
                {
                    "grouping": r.grouping,
                    "metric": metric_label(r.metric),
                    "ratio (lowest / highest)": r.ratio,
                    "CI low": r.ci_low,
                    "CI high": r.ci_high,
                    "lowest": r.min_group,
                    "highest": r.max_group,
                    "four-fifths rule": r.four_fifths,
                }
                for r in ratios
            ],
            caption="Ratios (four-fifths rule: pass when the interval is at or above 0.8)",
        )
    for note in result.notes:
        sec.text(f"Note: {note}")
    return sec


def before_after_figure(res: MitigationResult) -> Any:
    """The constrained metric per group before and after mitigation, with intervals."""
    fig, ax = new_figure(7.5, 3.6)
    before = res.baseline.groupings[-1]
    after = res.mitigated.groupings[-1]
    metric = res.metric if res.metric in res.mitigated.metrics else res.mitigated.metrics[0]
    _bars(ax, before, metric, offset=-0.2, width=0.4, label="before", color="#c0504d")
    _bars(ax, after, metric, offset=0.2, width=0.4, label="after", color="#4f81bd")
    labels = [g.group for g in before.groups]
    ax.set_xticks(range(len(labels)), labels, rotation=45 if len(labels) > 4 else 0, fontsize=8)
    ax.set_ylabel(metric_label(res.metric))
    ax.set_title(
        f"gap {res.gap_before:.4f} -> {res.gap_after:.4f} "
        f"(upper bound {res.gap_after_ci_high:.4f}, tolerance {res.tolerance})",
        fontsize=9,
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def add_mitigation(
    report: Report, res: MitigationResult, *, title: str = "Fairness mitigation"
) -> Section:
    """Add the mitigation: before/after facts, chart and the tuning trace."""
    sec = report.section(title)
    sec.facts(
        {
            "method": res.method,
            "constrained metric": metric_label(res.metric),
            "tolerance (pairwise)": res.tolerance,
            "fairlearn bound chosen": res.bound,
            "train / held-out rows": f"{res.n_train} / {res.n_test}",
            "held-out gap before": res.gap_before,
            "held-out gap after": res.gap_after,
            "upper bound of gap after": res.gap_after_ci_high,
            "error before": res.error_before,
            "error after": res.error_after,
            "accuracy cost": res.accuracy_cost,
            "certified": f"{res.certified} ({res.status})",
        }
    )
    sec.figure(before_after_figure(res), caption="Held-out rates per group before and after")
    sec.table([dict(t) for t in res.tried], caption="Bounds tried on the validation split")
    return sec
