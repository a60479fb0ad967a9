"""The ``probity`` command line: one typer app, ``probity <area> <verb>``.

Area modules in this package (``probity.cli.watermark``, ``probity.cli.guard``, ...) add
their commands to the groups in ``_groups``; they are imported here automatically, so an area
never edits this file. Heavy libraries are imported inside commands, so ``probity --help``
stays fast.

Errors: a :class:`~probity.errors.ProbityError` becomes one line on stderr and exit code 2
(bad usage or input) or 1 (runtime failure); ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path
from typing import Annotated

import typer

from probity import __version__
from probity.cli._groups import GROUPS
from probity.cli._output import JSON_HELP, console, err_console, print_json
from probity.errors import ProbityError, missing_dependency

try:  # typer >= 0.22 vendors click
    from typer._click import exceptions as _cx
except ImportError:  # pragma: no cover - older typer uses click itself
    from click import exceptions as _cx

app = typer.Typer(
    name="probity",
    help="Probity: measure and enforce the responsible use of generative AI.\n\n"
    "Watermarks, guardrails, overlap and citation checks, fairness and privacy audits, "
    "unlearning, an OpenAI-compatible gateway and dataset curation, offline by default.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version_callback(value: bool) -> None:
    if value:
        console.print(f"probity {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_version_callback,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks on errors.")] = False,
) -> None:
    """Probity: measure and enforce the responsible use of generative AI."""


@app.command()
def doctor(json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False) -> None:
    """Report Python, package and optional-engine versions, the Probity home, and what works
    offline. Never fails: problems are reported, not raised."""
    from probity.doctor import collect

    report = collect()
    if json_out:
        print_json(report)
        return
    from rich.markup import escape
    from rich.table import Table

    console.print(
        f"[bold]Probity {report.probity}[/] on Python {report.python} ({report.platform})"
    )
    where = "from $PROBITY_HOME" if report.home_from_env else "set $PROBITY_HOME to change"
    writable = "writable" if report.home_writable else "NOT writable"
    console.print(f"home: {report.home} ({writable}; {where})", markup=False, highlight=False)
    table = Table("package", "version", "extra", "used for")
    for name, info in report.packages.items():
        table.add_row(
            name, info["version"] or "[red]not installed[/]", info["extra"], info["used_for"]
        )
    console.print(table)
    off = report.offline
    console.print(
        f"embedded demo model: {'present' if off['demo_model_present'] else 'MISSING'}"
        f" ({off['demo_model']})"
    )
    console.print(
        f"spaCy models: {', '.join(off['spacy_models']) or 'none (PII uses patterns only)'}"
    )
    for note in report.notes:  # notes hold `[hf]`-style text: never parse them as markup
        console.print("[yellow]note:[/] " + escape(note))


@app.command()
def demo(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for the report and demo files.")
    ] = Path("probity-demo"),
    quick: Annotated[
        bool, typer.Option("--quick", help="Smaller inputs, for a fast tour.")
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Tour every capability on embedded defaults (offline) and write OUT/report.html."""
    from probity.demo import run_demo

    result = run_demo(out, quick=quick, quiet=json_out)
    if json_out:
        print_json(result)


for _name, _group in GROUPS:
    app.add_typer(_group, name=_name)

from probity.cli.verify import verify_cmd as _verify_cmd  # noqa: E402 - after the groups

app.command("verify")(_verify_cmd)


def _load_area_modules() -> None:
    for mod in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if not mod.name.startswith("_"):
            importlib.import_module(f"{__name__}.{mod.name}")


_load_area_modules()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``probity`` console script; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    try:
        app(args=args, prog_name="probity", standalone_mode=False)
    except ProbityError as exc:
        if debug:
            raise
        err_console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        return exc.exit_code
    except _cx.UsageError as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # help was printed: not an error
            return 0
        where = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
        err_console.print(
            f"error: {exc.format_message()}{where}", markup=False, highlight=False, soft_wrap=True
        )
        return 2
    except typer.Exit as exc:
        return exc.exit_code
    except SystemExit as exc:  # typer exits by itself on a broken pipe
        return exc.code if isinstance(exc.code, int) else 1
    except (typer.Abort, KeyboardInterrupt):
        err_console.print("interrupted", markup=False)
        return 130
    except _cx.ClickException as exc:
        err_console.print(f"error: {exc.format_message()}", markup=False, soft_wrap=True)
        return exc.exit_code
    except Exception as exc:
        if debug:
            raise
        missing = missing_dependency(exc) if isinstance(exc, ImportError) else None
        if missing is not None:  # an optional extra imported inside a command
            err_console.print(f"error: {missing}", markup=False, highlight=False, soft_wrap=True)
            return missing.exit_code
        err_console.print(
            f"error: unexpected {type(exc).__name__}: {exc} "
            "(run again with --debug for the traceback)",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        return 1
    return 0


def run() -> None:  # pragma: no cover - console script shim
    sys.exit(main())
