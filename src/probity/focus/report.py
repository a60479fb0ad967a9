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
    key = "share" if res.answer == "choice" else "mean"
    share = np.array([np.nan if r[key] is None else r[key] for r in rows], dtype=float)
    lo = np.array([np.nan if r["ci_low"] is None else r["ci_low"] for r in rows], dtype=float)
    hi = np.array([np.nan if r["ci_high"] is None else r["ci_high"] for r in rows], dtype=float)
    ax.barh(y, np.nan_to_num(share), color="#5b8fd1")
    ax.errorbar(
        np.nan_to_num(share),
        y,
        xerr=[np.nan_to_num(share - lo), np.nan_to_num(hi - share)],
        fmt="none",
        ecolor="black",
        capsize=3,
    )
    lim, mid = {"choice": ((0, 1), 0.5), "likert": ((1, 5), 3.0), "open": ((-1, 1), 0.0)}[
        res.answer
    ]
    ax.axvline(mid, color="grey", ls="--", lw=1)
    ax.set_yticks(y, [f"{r['level']} (n={r['n']})" for r in rows])
    ax.set_xlim(*lim)
    ax.set_xlabel(
        f"share preferring {res.products[0]} (95% Wilson interval)"
        if res.answer == "choice"
        else f"{res.overall['measure']} (95% t interval)"
    )
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
    o = res.overall
    headline = (
        {f"overall share preferring {res.products[0]}": o["share"]}
        if res.answer == "choice"
        else {f"overall {o['measure']}": o["mean"]}
    )
    s.facts(
        {
            **res.counts,
            **headline,
            "95% interval": "n/a"
            if o["ci_low"] is None
            else f"{o['ci_low']:.3f} to {o['ci_high']:.3f}",
        }
    )
    s.text(
        "Answers removed by the focus-group policy and unparseable answers are counted, "
        "never guessed. Option order was randomised per sample; the position effect below "
        "measures how much the order alone moved answers."
    )
    pos = res.position
    if res.answer == "choice":
        rep.section("Position effect").facts(
            {
                "share choosing the option shown first": pos["share"],
                "95% interval": "n/a"
                if pos["ci_low"] is None
                else f"{pos['ci_low']:.3f} to {pos['ci_high']:.3f}",
                "binomial test p-value (vs 0.5)": pos["p_value"]
                if pos["p_value"] is not None
                else "n/a",
            }
        )
    elif pos:
        rep.section("Position effect").facts(
            {k: ("n/a" if v is None else v) for k, v in pos.items() if k != "note"}
        )
    for factor, rows in res.by_factor.items():
        sec = rep.section(f"By {factor}")
        a = res.association[factor]
        sec.facts({k: ("n/a" if v is None else v) for k, v in a.items() if k != "note"})
        if a.get("note"):
            sec.text(a["note"])
        if any(r["n"] for r in rows):
            sec.figure(_share_chart(res, factor), caption=f"Answers by {factor}")
        cols = (
            ["level", "n", "count", "share", "ci_low", "ci_high"]
            if res.answer == "choice"
            else ["level", "n", "mean", "sd", "ci_low", "ci_high"]
        )
        sec.table(rows, cols)
    terms = res.joint_model.get("terms") or []
    if terms:
        rep.section("Joint model (all factors at once)").table(
            terms, caption=res.joint_model.get("model", "logistic regression")
        )
    for name, rows in res.interactions.items():
        if rows:
            rep.section(f"Interaction {name}").table(rows)
    if res.removed_by_persona:
        rep.section("Outputs removed by the policy, per persona").table(res.removed_by_persona)
    return rep.write(path)
