"""HTML report of a focus-group study."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from probity.focus.runner import FocusGroupResult
from probity.report import Report, new_figure


def _share_chart(res: FocusGroupResult, factor: str):
    rows = res.by_factor[factor]
    fig, ax = new_figure(6.5, 0.5 + 0.45 * len(rows))
    y = np.arange(len(rows))
    share = np.array([r["share"] for r in rows], dtype=float)
    lo = np.array([r["ci_low"] for r in rows], dtype=float)
    hi = np.array([r["ci_high"] for r in rows], dtype=float)
    ax.barh(y, np.nan_to_num(share), color="#5b8fd1")
    ax.errorbar(
        np.nan_to_num(share),
        y,
        xerr=[np.nan_to_num(share - lo), np.nan_to_num(hi - share)],
        fmt="none",
        ecolor="black",
        capsize=3,
    )
    ax.axvline(0.5, color="grey", ls="--", lw=1)
    ax.set_yticks(y, [f"{r['level']} (n={r['n']})" for r in rows])
    ax.set_xlim(0, 1)
    ax.set_xlabel(f"share preferring {res.products[0]} (95% Wilson interval)")
    ax.set_title(factor)
    return fig


def write_report(res: FocusGroupResult, path: str | Path) -> Path:
    """Write the study's HTML report with one chart per factor."""
    rep = Report(
        f"Virtual focus group: {res.study}",
        subtitle=f"{res.products[0]} vs {res.products[1]} · model {res.model} · "
        f"policy {res.policy}",
    )
    s = rep.section("Summary")
    s.facts(
        {
            **res.counts,
            f"overall share preferring {res.products[0]}": res.overall["share"],
            "95% interval": f"{res.overall['ci_low']:.3f} to {res.overall['ci_high']:.3f}",
        }
    )
    s.text(
        "Answers removed by the focus-group policy and unparseable answers are counted, "
        "never guessed. Option order was randomised per sample; the position effect below "
        "measures how much the order alone moved answers."
    )
    pos = res.position
    rep.section("Position effect").facts(
        {
            "share choosing the option shown first": pos["share"],
            "95% interval": f"{pos['ci_low']:.3f} to {pos['ci_high']:.3f}",
            "binomial test p-value (vs 0.5)": pos["p_value"]
            if pos["p_value"] is not None
            else "n/a",
        }
    )
    for factor, rows in res.by_factor.items():
        sec = rep.section(f"By {factor}")
        a = res.association[factor]
        sec.facts(
            {
                "chi-square": a["chi2"] if a["chi2"] is not None else "n/a",
                "p-value": a["p_value"] if a["p_value"] is not None else "n/a",
                "Cramér's V": a["cramers_v"] if a["cramers_v"] is not None else "n/a",
                "note": a["note"] or "—",
            }
        )
        if any(r["n"] for r in rows):
            sec.figure(_share_chart(res, factor), caption=f"Preference share by {factor}")
        sec.table(rows, ["level", "n", "count", "share", "ci_low", "ci_high"])
    for name, rows in res.interactions.items():
        if rows:
            rep.section(f"Interaction {name}").table(rows)
    if res.removed_by_persona:
        rep.section("Outputs removed by the policy, per persona").table(res.removed_by_persona)
    return rep.write(path)
