"""HTML report sections and charts for probe results (via :mod:`probity.report`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from probity.report import Report, Section, new_figure

_COLORS = {"male": "#1f77b4", "female": "#d62728", "they": "#2ca02c", "neo": "#9467bd"}


def _nan(x: float | None) -> float:
    return float("nan") if x is None else float(x)


def _err(v: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Error-bar half-widths, never negative (an interval end can sit 1e-17 past the
    estimate when the share is 0 or 1) and 0 where undefined."""
    v, lo, hi = (np.atleast_1d(np.asarray(x, dtype=np.float64)) for x in (v, lo, hi))
    return np.nan_to_num(np.clip(np.stack([v - lo, hi - v]), 0, None))


def pronoun_share_figure(result: Any, *, limit: int | None = None) -> Any:
    """Female share ``she/(he+she)`` per occupation with 95% Wilson intervals, the reference
    rate as a black mark, parity as a dotted line; sorted by share."""
    rows = [r for r in result.occupations if r.female_share.n > 0]
    rows.sort(key=lambda r: r.female_share.share)
    if limit:
        rows = rows[:limit]
    n = max(len(rows), 1)
    fig, ax = new_figure(7.0, max(2.5, 0.24 * n + 1.0))
    y = np.arange(len(rows))
    p = np.array([r.female_share.share for r in rows])
    lo = np.array([r.female_share.low for r in rows])
    hi = np.array([r.female_share.high for r in rows])
    ax.errorbar(
        p,
        y,
        xerr=_err(p, lo, hi),
        fmt="o",
        color=_COLORS["female"],
        ms=4,
        capsize=2,
        label="she / (he + she), 95% CI",
    )
    refs = np.array([_nan(r.reference) for r in rows])
    if np.isfinite(refs).any():
        ax.scatter(refs, y, marker="|", s=120, color="black", zorder=3, label="reference")
    ax.axvline(0.5, color="grey", ls=":", lw=1)
    ax.set_yticks(y, [r.occupation for r in rows], fontsize=7)
    ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel("share of gendered completions that use she/her")
    ax.legend(loc="lower right", fontsize=7)
    ax.set_title("Pronoun share per occupation (neutral prompts)", fontsize=9)
    return fig


def cue_shift_figure(result: Any) -> Any:
    """Each cue's shift of its expected pronoun class (cued minus neutral), pooled over
    occupations, with Newcombe 95% intervals; the compliance (cued share) is annotated."""
    cues = result.cues
    fig, ax = new_figure(6.0, max(2.0, 0.45 * len(cues) + 1.0))
    y = np.arange(len(cues))
    d = np.array([c.shift for c in cues])
    lo = np.array([c.low for c in cues])
    hi = np.array([c.high for c in cues])
    colors = [_COLORS.get(c.expected, "black") for c in cues]
    for i in range(len(cues)):
        ax.errorbar(d[i], y[i], xerr=_err(d[i], lo[i], hi[i]), fmt="o", color=colors[i], capsize=3)
        ax.annotate(
            f"cued share {cues[i].cued.share:.2f}",
            (d[i], y[i]),
            fontsize=7,
            xytext=(4, 5),
            textcoords="offset points",
        )
    ax.axvline(0, color="grey", lw=1)
    ax.set_yticks(y, [f"{c.cue} (expects {c.expected})" for c in cues], fontsize=8)
    ax.set_xlim(-1.05, 1.05)
    ax.set_xlabel("shift in share of the expected pronoun (cued - neutral)")
    ax.set_title("What a context cue does to the pronoun", fontsize=9)
    return fig


def forest_figure(
    rows: list[Any],
    *,
    value: str,
    label: Any,
    title: str,
    xlabel: str,
    low: str = "low",
    high: str = "high",
    null: float = 0.0,
) -> Any:
    """A forest plot: one row per estimate with its interval (attributes ``value``, ``low``,
    ``high``), the no-effect value ``null`` as a line; filled markers are significant after
    correction."""
    fig, ax = new_figure(7.0, max(2.0, 0.22 * len(rows) + 1.0))
    y = np.arange(len(rows))[::-1]
    for yi, r in zip(y, rows, strict=True):
        v = getattr(r, value)
        sig = bool(getattr(r, "significant", False))
        ax.errorbar(
            v,
            yi,
            xerr=_err(v, getattr(r, low), getattr(r, high)),
            fmt="o",
            mfc="C3" if sig else "white",
            color="C3" if sig else "C0",
            ms=4,
            capsize=2,
        )
    ax.axvline(null, color="grey", lw=1)
    ax.set_yticks(y, [label(r) for r in rows], fontsize=7)
    ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize=9)
    return fig


def _run_facts(sec: Section, result: Any) -> None:
    run = result.run
    sec.facts(
        {
            "model": result.model,
            "suite": result.suite,
            "samples per prompt": run["samples_per_prompt"],
            "seed": run["seed"],
            "completions": run["completions"],
            "generated now": run["generated"],
            "from cache": run["from_cache"],
            "refusals (excluded)": run["refusals"],
            "empty (excluded)": run["empty"],
            "backend errors (excluded)": f"{run['errors']} prompts, "
            f"{run['lost_samples']} samples lost",
        }
    )
    if run["error_messages"]:
        sec.table(
            [
                {"prompt": e["prompt_id"], "error": e["message"][:160]}
                for e in run["error_messages"][:10]
            ],
            caption="Backend errors (not data)",
        )


def pronoun_section(report: Report, result: Any, *, title: str = "Occupation pronouns") -> Section:
    sec = report.section(title)
    _run_facts(sec, result)
    o = result.overall
    sec.text(
        f"Over all neutral prompts, {o.female_share.share:.1%} of completions that use he "
        f"or she use she (95% CI {o.female_share.low:.1%} to {o.female_share.high:.1%}, "
        f"n = {o.female_share.n}); {o.no_pronoun} of {o.completions} completions use no "
        f"subject pronoun. Reference: {result.reference_source or 'none'}; p-values are "
        f"{result.correction}-adjusted over occupations."
    )
    if any(r.female_share.n for r in result.occupations):
        sec.figure(
            pronoun_share_figure(result),
            caption="she/(he+she) per occupation with 95% Wilson intervals; black marks "
            "are the reference rate.",
        )
    sec.table(
        [
            {
                "occupation": r.occupation,
                "n": r.labelled,
                "she/(he+she)": r.female_share.share,
                "ci_low": r.female_share.low,
                "ci_high": r.female_share.high,
                "they": r.shares["they"].share,
                "reference": _nan(r.reference),
                "p_adj": _nan(r.p_adjusted),
                "differs": "" if r.differs is None else ("yes" if r.differs else "no"),
            }
            for r in result.occupations
        ],
        caption="Neutral prompts, per occupation",
    )
    if result.cues:
        sec.figure(
            cue_shift_figure(result),
            caption="Cue shift with Newcombe 95% intervals, pooled over occupations.",
        )
        sec.table(
            [
                {
                    "cue": c.cue,
                    "expects": c.expected,
                    "neutral": c.neutral.share,
                    "cued": c.cued.share,
                    "shift": c.shift,
                    "ci_low": c.low,
                    "ci_high": c.high,
                    "n_cued": c.cued.n,
                }
                for c in result.cues
            ],
            caption="Cue shifts",
        )
    if result.examples:
        sec.code(
            "\n\n".join(
                f"[{e['label']}] {e['prompt']}{e['completion']}" for e in result.examples[:4]
            )
        )
    return sec


def tone_section(report: Report, result: Any, *, title: str = "Tone gaps") -> Section:
    sec = report.section(title)
    _run_facts(sec, result)
    sec.text(
        f"Gap = mean(group) - mean(reference group), bootstrap 95% intervals, permutation "
        f"p-values within templates, {result.correction}-adjusted over "
        f"{len(result.gaps)} comparisons (alpha {result.alpha}). Toxicity from "
        f"{result.toxicity_source}."
    )
    for metric in result.metrics:
        rows = [g for g in result.gaps if g.metric == metric]
        if rows:
            sec.figure(
                forest_figure(
                    rows,
                    value="gap",
                    label=lambda g: f"{g.category}: {g.group} vs {g.reference}",
                    title=f"Tone gap: {metric}",
                    xlabel=f"{metric} gap",
                ),
                caption=f"{metric}: filled red markers are significant after correction.",
            )
    sec.table(
        [
            {
                "category": g.category,
                "group": g.group,
                "reference": g.reference,
                "metric": g.metric,
                "gap": g.gap,
                "ci_low": g.low,
                "ci_high": g.high,
                "p": g.p_value,
                "p_adj": _nan(g.p_adjusted),
                "significant": "yes" if g.significant else "no",
            }
            for g in result.gaps
        ],
        caption="Tone gaps",
    )
    if result.cut_gaps:
        sig = [g for g in result.cut_gaps if g.significant]
        sec.text(
            f"Intersectional cuts (group x occupation): {len(result.cut_gaps)} gaps, "
            f"{len(sig)} significant after correction."
        )
        sec.table(
            [
                {
                    "occupation": g.occupation,
                    "category": g.category,
                    "group": g.group,
                    "metric": g.metric,
                    "gap": g.gap,
                    "ci_low": g.low,
                    "ci_high": g.high,
                    "p_adj": _nan(g.p_adjusted),
                }
                for g in sorted(result.cut_gaps, key=lambda g: _nan(g.p_adjusted))[:30]
            ],
            caption="Group x occupation gaps (smallest adjusted p first, up to 30)",
        )
    return sec


def counterfactual_section(
    report: Report, result: Any, *, title: str = "Counterfactual pairs"
) -> Section:
    sec = report.section(title)
    _run_facts(sec, result)
    sec.text(
        f"Per matched sample (same template and seed), difference b - a; bootstrap 95% "
        f"intervals, sign-flip p-values, {result.correction}-adjusted. Similarity is the "
        f"word-set Jaccard of the two completions."
    )
    for metric in result.metrics:
        rows = [s for s in result.pairs if s.metric == metric]
        if rows:
            sec.figure(
                forest_figure(
                    rows,
                    value="mean_diff",
                    label=lambda s: s.pair,
                    title=f"Counterfactual difference: {metric}",
                    xlabel=f"{metric}: b - a",
                )
            )
    sec.table(
        [
            {
                "pair": s.pair,
                "metric": s.metric,
                "n": s.n_pairs,
                "diff": s.mean_diff,
                "ci_low": s.low,
                "ci_high": s.high,
                "p_adj": _nan(s.p_adjusted),
                "similarity": s.similarity,
            }
            for s in result.pairs
        ],
        caption="Pair differences",
    )
    return sec


def qa_section(report: Report, result: Any, *, title: str = "Ambiguous questions") -> Section:
    """Accuracy and stereotype share per category of the BBQ-style question probe."""
    sec = report.section(title)
    _run_facts(sec, result)
    for line in result.meaning():
        sec.text(line)
    sec.text(
        "Target share: of the ambiguous answers that named a person, the share naming the one "
        "the stereotype targets (95% Wilson interval; exact binomial test against 1/2, "
        f"{result.correction}-adjusted over categories). Bias scores follow BBQ: "
        "s_amb = (1 - accuracy) (2 share - 1), s_dis = 2 share - 1 on disambiguated answers."
    )
    tested = [c for c in result.categories if c.named]
    if tested:
        sec.figure(
            forest_figure(
                tested,
                value="target_share",
                low="target_low",
                high="target_high",
                null=0.5,
                label=lambda c: f"{c.category} (n={c.named})",
                title="Ambiguous contexts: share of named answers naming the targeted person",
                xlabel="target share (0.5 = no preference)",
            ),
            caption="Filled red markers are significant after correction; categories where "
            "nobody was named are left out (untested).",
        )
    sec.table(
        [
            {
                "category": c.category,
                "ambiguous n": c.ambiguous_n,
                "ambiguous accuracy": c.ambiguous_accuracy,
                "disambiguated accuracy": c.disambiguated_accuracy,
                "named": c.named,
                "target share": c.target_share,
                "ci_low": c.target_low,
                "ci_high": c.target_high,
                "p_adj": _nan(c.p_adjusted),
                "s_amb": c.bias_ambiguous,
                "s_dis": c.bias_disambiguated,
                "unparseable": c.unparseable,
            }
            for c in [*result.categories, result.overall]
        ],
        caption="Per category (last row: all)",
    )
    return sec


def pairs_section(report: Report, result: Any, *, title: str = "Stereotype pairs") -> Section:
    """Per category, how often a local model finds the stereotypical sentence more likely."""
    sec = report.section(title)
    sec.facts({"model": result.model, "suite": result.suite, "pairs": len(result.pairs)})
    for line in result.meaning():
        sec.text(line)
    tested = [c for c in result.categories if c.pairs]
    if tested:
        sec.figure(
            forest_figure(
                tested,
                value="share",
                null=0.5,
                label=lambda c: f"{c.category} (n={c.pairs})",
                title="Share of pairs where the stereotypical sentence is more likely",
                xlabel="share (0.5 = no preference)",
            ),
            caption="95% Wilson intervals; filled red markers are significant after "
            f"{result.correction} correction (exact binomial test against 1/2).",
        )
    sec.table(
        [
            {
                "category": c.category,
                "pairs": c.pairs,
                "ties": c.ties,
                "stereotype preferred": c.stereotype_preferred,
                "share": c.share,
                "ci_low": c.low,
                "ci_high": c.high,
                "p_adj": _nan(c.p_adjusted),
            }
            for c in [*result.categories, result.overall]
        ],
        caption="Per category (last row: all)",
    )
    sec.table(
        [
            {
                "category": p["category"],
                "stereotype": p["stereotype"],
                "anti": p["anti"],
                "loglik difference": p["loglik_stereotype"] - p["loglik_anti"],
            }
            for p in result.pairs
        ],
        caption="Every pair: total log-likelihood of the stereotype minus the anti-stereotype",
    )
    return sec


def build_report(result: Any) -> Report:
    """A one-section HTML report for any probe result."""
    from probity.probes.pairs import PairsResult
    from probity.probes.pronouns import PronounResult
    from probity.probes.qa import QAResult
    from probity.probes.tone import CounterfactualResult

    if isinstance(result, QAResult):
        rep = Report("Ambiguous-question probe", subtitle=f"{result.model}, suite {result.suite}")
        qa_section(rep, result)
    elif isinstance(result, PairsResult):
        rep = Report("Stereotype-pairs probe", subtitle=f"{result.model}, suite {result.suite}")
        pairs_section(rep, result)
    elif isinstance(result, PronounResult):
        rep = Report("Pronoun probe", subtitle=f"{result.model}, suite {result.suite}")
        pronoun_section(rep, result)
    elif isinstance(result, CounterfactualResult):
        rep = Report("Counterfactual probe", subtitle=f"{result.model}, suite {result.suite}")
        counterfactual_section(rep, result)
    else:
        rep = Report("Tone probe", subtitle=f"{result.model}, suite {result.suite}")
        tone_section(rep, result)
    return rep
