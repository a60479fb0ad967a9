"""``probity demo``: a tour of every capability on embedded defaults, offline.

Each capability contributes one step module here named ``step_<area>.py`` with ``ORDER``
(int), ``TITLE`` (str) and ``run(ctx: DemoContext) -> dict``. A step prints a short part of the
tour through ``ctx.say``/``ctx.console``, adds a section to ``ctx.report``, and returns a small
JSON-ready summary. Steps are discovered automatically, so a new area adds a file and edits
nothing else. A failing step is reported as failed (with the error) and the tour goes on.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from probity.errors import ProbityError, missing_dependency
from probity.home import ENV_VAR
from probity.report import Report


@dataclass
class DemoContext:
    """What a demo step gets: the output folder, the shared report, a console and caches."""

    out_dir: Path
    report: Report
    console: Console
    quick: bool = False
    quiet: bool = False
    cache: dict[str, Any] = field(default_factory=dict)

    def say(self, message: str) -> None:
        if not self.quiet:
            self.console.print(message)

    def model(self) -> Any:
        """The embedded demo language model, loaded once for all steps."""
        if "model" not in self.cache:
            from probity.lm import load_model

            self.cache["model"] = load_model(None)
        return self.cache["model"]


def steps() -> list[ModuleType]:
    """The demo step modules, in ``ORDER``."""
    mods = []
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if info.name.startswith("step_"):
            mods.append(importlib.import_module(f"{__name__}.{info.name}"))
    return sorted(mods, key=lambda m: (getattr(m, "ORDER", 100), m.__name__))


def run_demo(
    out_dir: str | Path = "probity-demo", *, quick: bool = False, quiet: bool = False
) -> dict[str, Any]:
    """Run every step, write ``out_dir/report.html`` and return a summary per step."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    # The tour writes keys, indexes, databases and logs: keep them in OUT/home, never in the
    # user's own Probity home.
    previous_home = os.environ.get(ENV_VAR)
    os.environ[ENV_VAR] = str((out / "home").resolve())
    try:
        return _run(out, quick=quick, quiet=quiet)
    finally:
        if previous_home is None:
            os.environ.pop(ENV_VAR, None)
        else:
            os.environ[ENV_VAR] = previous_home


def _run(out: Path, *, quick: bool, quiet: bool) -> dict[str, Any]:
    console = Console(stderr=quiet)
    report = Report(
        "Probity demo", subtitle="A tour of every capability on embedded defaults, offline."
    )
    ctx = DemoContext(out_dir=out, report=report, console=console, quick=quick, quiet=quiet)
    summary: dict[str, Any] = {"out_dir": str(out), "steps": []}
    for mod in steps():
        title = getattr(mod, "TITLE", mod.__name__)
        if not quiet:
            console.print(Panel.fit(f"[bold]{title}[/]", border_style="cyan"))
        t0 = time.perf_counter()
        try:
            result = mod.run(ctx)
            status = "ok"
            error = None
        except ProbityError as exc:
            result, status, error = {}, "failed", str(exc)
            ctx.say(f"[red]step failed:[/] {escape(str(exc))}")
            report.section(f"{title} (failed)").text(str(exc))
        except ImportError as exc:
            # An extra that is not installed (a core install): skip the step, say how to add
            # it, and finish the tour and its report.
            missing = missing_dependency(exc)
            if missing is None:
                raise
            result, status, error = {}, "skipped", str(missing)
            ctx.say(f"[yellow]step skipped:[/] {escape(str(missing))}")
            report.section(f"{title} (skipped)").text(str(missing))
        summary["steps"].append(
            {
                "step": mod.__name__.rsplit(".", 1)[-1].removeprefix("step_"),
                "title": title,
                "status": status,
                "error": error,
                "seconds": round(time.perf_counter() - t0, 2),
                "result": result,
            }
        )
    path = report.write(out / "report.html")
    summary["report"] = str(path)
    if not quiet:
        console.print(f"\n[bold green]Report written to {path}[/]")
    return summary
