"""Shared CLI plumbing: consoles, JSON output, reading TEXT-or-file arguments, progress bars."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from probity.errors import InputError
from probity.io import dumps, read_text


def _console(*, stderr: bool = False) -> Console:
    """A console that wraps for a terminal but writes exact text to a pipe or file.

    Rich hard-wraps at 80 columns when it cannot see a terminal, which would change generated
    text, YAML and JSONL saved with ``>``; soft wrap leaves every line as printed.
    """
    c = Console(stderr=stderr)
    if not c.is_terminal:
        c.soft_wrap = True
    return c


console = _console()
err_console = _console(stderr=True)
T = TypeVar("T")

#: Help texts reused by many commands, so every command words them the same way.
JSON_HELP = "Print the result as JSON (the API's to_dict() shape) instead of a table."
FILE_HELP = "Read the text from this file (UTF-8; .gz and .zst are decompressed)."


def print_json(data: Any) -> None:
    """Print ``data`` (or its ``to_dict()``) as indented JSON on stdout."""
    if hasattr(data, "to_dict"):
        data = data.to_dict()
    sys.stdout.write(dumps(data, indent=2) + "\n")
    sys.stdout.flush()


def text_argument(text: str | None, file: Path | None, *, what: str = "text") -> str:
    """Return TEXT, or the contents of ``--file``, or stdin when TEXT is ``-``.

    Exactly one source must be given; empty text is an ``InputError``.
    """
    if text is not None and file is not None:
        raise InputError(f"give the {what} as an argument or with --file, not both")
    if file is not None:
        value = read_text(file)
    elif text == "-":
        value = sys.stdin.read()
    elif text is not None:
        value = text
    else:
        raise InputError(f"no {what} given: pass it as an argument, with --file, or '-' for stdin")
    if not value.strip():
        raise InputError(f"the {what} is empty")
    return value


def progress(*, transient: bool = True) -> Progress:
    """A rich progress bar on stderr (so ``--json`` output on stdout stays clean)."""
    return Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=transient,
    )


def track(
    items: Iterable[T], description: str, total: int | None = None, *, enabled: bool = True
) -> Iterator[T]:
    """Iterate ``items`` with a progress bar on stderr (disabled when not ``enabled``)."""
    if not enabled:
        yield from items
        return
    with progress() as bar:
        task = bar.add_task(description, total=total)
        for item in items:
            yield item
            bar.advance(task)
