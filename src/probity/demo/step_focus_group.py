"""Demo step: a small virtual focus group with the focus-group guard policy."""

from __future__ import annotations

from typing import Any

ORDER = 95
TITLE = "Virtual focus group"


def run(ctx: Any) -> dict[str, Any]:
    from probity.focus import load_study, run_study, write_report
    from probity.lm.embedded import demo_model_path

    path = demo_model_path().parent / "focus-group" / "example-study.yaml"
    cfg = load_study(path).model_copy(
        update={"samples": 1 if ctx.quick else 2, "max_new_tokens": 24}
    )
    res = run_study(cfg, ctx.model(), base_dir=path.parent)
    c = res.counts
    ctx.say(
        f"{c['prompts']} prompts to {c['prompts'] // cfg.samples} personas: {c['kept']} kept, "
        f"{c['removed']} removed by the focus-group policy, {c['unparseable']} unparseable."
    )
    ctx.say(
        "[dim]The Shakespeare demo model cannot answer a product question, so most answers are "
        "counted as unparseable, never guessed. Point --model or --base-url at a chat model "
        "for a real study.[/]"
    )
    out = ctx.out_dir / "focus-group.html"
    write_report(res, out)
    sec = ctx.report.section(TITLE)
    sec.facts(c)
    sec.text(
        f"Full study report: {out.name}. With the demo model most answers are unparseable "
        "and are reported as such; the statistics need a model that answers."
    )
    return {"counts": c, "report": str(out)}
