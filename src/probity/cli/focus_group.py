"""``probity focus-group``: a virtual focus group over any language model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from probity.cli import app
from probity.cli._output import JSON_HELP, console, print_json, progress
from probity.errors import InputError


def _study_path(study: str) -> Path:
    if study == "example":
        from probity.lm.embedded import demo_model_path

        return demo_model_path().parent / "focus-group" / "example-study.yaml"
    p = Path(study)
    if not p.exists():
        raise InputError(
            f"study file not found: {study!r}",
            hint="give a YAML file, or 'example' for the shipped example",
        )
    return p


@app.command("focus-group")
def focus_group_command(
    study: Annotated[
        str,
        typer.Option(
            "--study",
            help="Study YAML (factors and levels or a CSV "
            "of personas, two products, samples), or 'example'.",
        ),
    ] = "example",
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="Local model path or hub name "
            "(default: the embedded demo model), or the model "
            "name at --base-url.",
        ),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url", help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1."
        ),
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option("--api-key", envvar="PROBITY_API_KEY", help="API key for --base-url."),
    ] = None,
    samples: Annotated[
        int | None,
        typer.Option("--samples", min=1, help="Answers per persona (overrides the study file)."),
    ] = None,
    policy: Annotated[
        str | None,
        typer.Option(
            "--policy",
            help="Guard policy for the outputs (default: the study's, normally focus-group).",
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed",
            help="Study seed (overrides the study file): option order and every sample's "
            "request seed derive from it.",
        ),
    ] = None,
    chat: Annotated[
        bool,
        typer.Option(
            "--chat", help="Use the chat endpoint (/chat/completions; for chat-only servers)."
        ),
    ] = False,
    concurrency: Annotated[
        int,
        typer.Option("--concurrency", min=1, help="Requests in flight at once (--base-url)."),
    ] = 4,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, help="Seconds per request (--base-url).")
    ] = 60.0,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write an HTML report here.")
    ] = None,
    answers: Annotated[
        bool, typer.Option("--answers", help="Include every answer in --json.")
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Ask each persona of a grid which of two products it prefers, remove even mildly toxic
    outputs (focus-group policy), and report preference shares with Wilson intervals, chi-square
    tests per factor, a joint logistic model across factors and the position effect of option
    order. Every sample is its own request with its own seed (recorded with --answers)."""
    from probity.focus import load_study, personas, run_study, write_report
    from probity.lm import open_generator

    path = _study_path(study)
    cfg = load_study(path)
    updates = {}
    if samples is not None:
        updates["samples"] = samples
    if policy is not None:
        updates["policy"] = policy
    if seed is not None:
        updates["seed"] = seed
    if chat:
        updates["chat"] = True
    if updates:
        cfg = cfg.model_copy(update=updates)
    total = len(personas(cfg, path.parent)) * cfg.samples
    gen = open_generator(
        model, base_url=base_url, api_key=api_key, concurrency=concurrency, timeout=timeout
    )
    with progress() as bar:
        task = bar.add_task("asking personas", total=total)
        result = run_study(
            cfg,
            gen,
            base_dir=path.parent,
            progress=lambda n: bar.advance(task, n),
            concurrency=concurrency if base_url else 1,
        )
    if report is not None:
        write_report(result, report)
    if json_out:
        print_json(result.to_dict(include_answers=answers))
        return
    d = result.to_dict()  # strict values: None where a cell is empty
    c, o = d["counts"], d["overall"]
    console.print(
        f"[bold]{result.study}[/]: {c['prompts']} prompts, {c['kept']} kept, "
        f"{c['removed']} removed by policy {result.policy}, {c['unparseable']} unparseable, "
        f"{c.get('neither', 0)} neither, {c['errors']} errors"
    )

    def num(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.3f}"

    what = f"share preferring {result.products[0]}" if result.answer == "choice" else o["measure"]
    value = o["share"] if result.answer == "choice" else o["mean"]
    console.print(
        f"{what}: {num(value)} (95% CI {num(o['ci_low'])}-{num(o['ci_high'])}, n={o['n']})",
        markup=False,
    )
    test = "chi-square" if result.answer == "choice" else "Kruskal-Wallis"
    for factor, a in d["association"].items():
        console.print(f"  {factor}: {test} p = {num(a['p_value'])}", markup=False)
    for t in d["joint_model"].get("terms", [])[1:]:
        effect = (
            f"odds ratio {np.exp(t['coef']):.2f} (95% CI {np.exp(t['ci_low']):.2f}-"
            f"{np.exp(t['ci_high']):.2f}"
            if result.answer == "choice"
            else f"difference {t['coef']:+.3f} (95% CI {t['ci_low']:+.3f} to {t['ci_high']:+.3f}"
        )
        console.print(
            f"  joint model {t['term']}: {effect}, p = {num(t['p_value'])})", markup=False
        )
    pos = result.position
    if result.answer == "choice" and pos["n"]:
        console.print(
            f"position effect: {pos['share']:.3f} chose the option shown first "
            f"(p = {pos['p_value']:.3g})"
        )
    if report is not None:
        console.print(f"report: {report}")
