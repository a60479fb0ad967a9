"""``probity curate run``: scrub, filter and deduplicate a corpus from a job file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from probity.cli._groups import curate_app
from probity.cli._output import JSON_HELP, console, print_json, progress


@curate_app.command("run")
def curate_run(
    job: Annotated[Path, typer.Argument(help="Job YAML: inputs, stages, output, options.")],
    executor: Annotated[
        str | None, typer.Option("--executor", help="local (default) or ray.")
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="Worker processes / Ray CPUs.")
    ] = None,
    ray_address: Annotated[
        str | None, typer.Option("--ray-address", help="Join this Ray cluster.")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Run a curation job. A job killed mid-run resumes where it stopped when run again;
    outputs, dropped.jsonl, rejects.jsonl and report.json/html go to the job's output folder."""
    from probity.curate import load_job, run_job, write_html

    cfg, base = load_job(job)
    if ray_address:
        cfg = cfg.model_copy(
            update={
                "options": cfg.options.model_copy(
                    update={"ray_address": ray_address, "executor": "ray"}
                )
            }
        )
    with progress() as bar:
        tasks: dict[str, int] = {}

        def tick(stage: str, n: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=None)
            bar.advance(tasks[stage], n)

        report = run_job(cfg, base, executor=executor, workers=workers, progress=tick)
    out_dir = Path(report.sidecars["dropped"]).parent
    write_html(report, out_dir / "report.html")
    if json_out:
        print_json(report)
        return
    console.print(
        f"read {report.records_read} records, wrote {report.records_out}, dropped "
        f"{report.dropped}, {report.rejected} unreadable line(s)"
    )
    for st in report.stages:
        reasons = ", ".join(f"{k}: {v}" for k, v in list(st["reasons"].items())[:4])
        console.print(
            f"  {st['name']:16} {st['records_in']:>8} -> {st['records_out']:<8} {reasons}"
        )
    console.print(f"report: {out_dir / 'report.html'}")
