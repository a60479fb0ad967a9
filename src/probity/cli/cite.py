"""``probity cite``: extract and verify references, manage the verified database, ground answers."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Annotated

import typer

from probity.cli._groups import cite_app
from probity.cli._output import FILE_HELP, JSON_HELP, console, err_console, print_json, progress
from probity.errors import InputError, ProbityError


class FailOnVerdict(ProbityError):
    """``verify --fail-on``: a reference got one of the listed verdicts (exit 3)."""

    exit_code = 3


db_app = typer.Typer(
    help="Import, count and list the records of the verified citation database.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
cite_app.add_typer(db_app, name="db")

_DB_HELP = "Citation database file (default: <probity home>/citations.db)."
_COLOURS = {"verified": "green", "incomplete": "yellow"}


def _open_db(path: Path | None, *, must_exist: bool = True):
    from probity.citations import CitationDB

    db = CitationDB(path, create=not must_exist)
    return db


def _warnings_to_stderr(caught: list[warnings.WarningMessage]) -> None:
    from probity.citations._utf8 import InvalidUTF8Warning

    shown = [w for w in caught if issubclass(w.category, InvalidUTF8Warning)]
    for w in shown[:5]:
        err_console.print(f"warning: {w.message}", markup=False)
    if len(shown) > 5:
        err_console.print(f"warning: ... and {len(shown) - 5} more invalid UTF-8", markup=False)


def _read_input(text: str | None, file: Path | None) -> str:
    """TEXT, --file or stdin ('-'), with the citation rule for invalid UTF-8 (replace + warn)."""
    from probity.citations._utf8 import decode_utf8
    from probity.io import open_binary

    if text is not None and file is not None:
        raise InputError("give the text as an argument or with --file, not both")
    if file is not None:
        if not file.exists():
            raise InputError(f"no such file: {file}")
        with open_binary(file) as fh:
            value = decode_utf8(fh.read(), str(file))
    elif text == "-":
        value = decode_utf8(sys.stdin.buffer.read(), "stdin")
    elif text is not None:
        value = text
    else:
        raise InputError("no text given: pass it as an argument, with --file, or '-' for stdin")
    if not value.strip():
        raise InputError("the text is empty")
    return value


_FAIL_HELP = (
    "Comma-separated verdicts (e.g. not_found,author_mismatch) that make the command exit with "
    "code 3 when any reference gets one: for CI. 'problems' means every problem verdict."
)
_FORMAT_HELP = (
    "table (default), json (same as --json) or bibtex: the verified references written as "
    "BibTeX with the database's fields, so a bibliography can be corrected."
)


@cite_app.command("verify")
def verify(
    text: Annotated[
        str | None, typer.Argument(help="Text with references ('-' reads stdin).")
    ] = None,
    file: Annotated[Path | None, typer.Option("--file", "-f", help=FILE_HELP)] = None,
    bib: Annotated[
        Path | None, typer.Option("--bib", help="A BibTeX file: verify every entry.")
    ] = None,
    db: Annotated[Path | None, typer.Option("--db", help=_DB_HELP)] = None,
    fail_on: Annotated[str | None, typer.Option("--fail-on", help=_FAIL_HELP)] = None,
    fmt: Annotated[str, typer.Option("--format", help=_FORMAT_HELP)] = "table",
    online: Annotated[
        bool,
        typer.Option(
            "--online",
            help="Look up references the local database lacks in Crossref and OpenAlex "
            "(off by default; responses cached in the Probity home; a reference found online "
            "says so in its evidence).",
        ),
    ] = False,
    mailto: Annotated[
        str | None, typer.Option("--mailto", help="E-mail for Crossref's polite pool (--online).")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Extract every reference from TEXT (or --file, or a --bib file) and verify it against the
    local database. Each gets a verdict (verified, not_found, author_mismatch, year_mismatch,
    venue_mismatch, bad_identifier, incomplete), the evidence and the closest record. In-text
    citations ("(Chiang et al., 2023)", "Chiang and Cholak [3]") take the verdict of the
    reference-list entry they point to. Invalid UTF-8 is replaced with a warning. Exit code 0
    when every reference was read (read the verdicts), 2 when BibTeX entries were malformed
    (the others are still verified and printed), 3 when --fail-on matches a verdict."""
    from probity.citations import PROBLEM_VERDICTS, VERDICTS

    if fmt not in ("table", "json", "bibtex"):
        raise InputError(f"unknown --format {fmt!r}", hint="use table, json or bibtex")
    failing: set[str] = set()
    if fail_on:
        for item in (x.strip() for x in fail_on.split(",") if x.strip()):
            if item == "problems":
                failing |= set(PROBLEM_VERDICTS)
            elif item in VERDICTS:
                failing.add(item)
            else:
                raise InputError(
                    f"unknown verdict {item!r} in --fail-on",
                    hint="use " + ", ".join((*VERDICTS, "problems")),
                )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        verdicts, malformed = _verify(text, file, bib, db)
    _warnings_to_stderr(caught)
    if online:
        from probity.citations.online import OnlineResolver, resolve_online

        resolver = OnlineResolver(mailto=mailto)
        try:
            verdicts = resolve_online(verdicts, resolver)
        finally:
            resolver.close()
    if fmt == "bibtex":
        from probity.citations.bibtex_out import corrected_bibtex

        sys.stdout.write(corrected_bibtex(verdicts))
    elif json_out or fmt == "json":
        print_json({"references": [v.to_dict() for v in verdicts], "summary": _summary(verdicts)})
    elif not verdicts:
        console.print("no references found")
    else:
        _print_table(verdicts)
    if malformed:
        for why in malformed[1:10]:
            err_console.print(f"error: {why}", markup=False)
        raise InputError(
            f"{malformed[0]}"
            + (f" (and {len(malformed) - 1} more malformed entries)" if len(malformed) > 1 else "")
            + "; the other entries were verified"
        )
    hits = [v.verdict for v in verdicts if v.verdict in failing]
    if hits:
        raise FailOnVerdict(
            f"{len(hits)} reference(s) with a --fail-on verdict ({', '.join(sorted(set(hits)))})"
        )


def _verify(text: str | None, file: Path | None, bib: Path | None, db: Path | None):
    from probity.citations import Reference, verify_references
    from probity.citations._importers import read_entries

    malformed: list[str] = []
    if bib is not None:
        if text is not None or file is not None:
            raise InputError("give TEXT, --file or --bib, not several")
        if not bib.exists():
            raise InputError(f"no such file: {bib}")
        refs = []
        for _, r, why in read_entries(bib, "bibtex"):
            if r is None:
                malformed.append(f"{bib}: {why}")
                continue
            refs.append(
                Reference(
                    title=r["title"],
                    authors=tuple(r["authors"]),
                    year=r["year"],
                    venue=r["venue"],
                    doi=r["doi"],
                    arxiv=r["arxiv"],
                    url=r["url"],
                    et_al=r.get("et_al", False),
                    raw=r.get("key") or "",
                    kind="bibtex",
                    label=r.get("key") or None,
                )
            )
        source: object = refs
    else:
        source = _read_input(text, file)
    database = _open_db(db, must_exist=True)
    try:
        verdicts = verify_references(source, database)  # type: ignore[arg-type]
    finally:
        database.close()
    return verdicts, malformed


def _print_table(verdicts) -> None:
    from rich.table import Table

    t = Table("#", "verdict", "conf", "reference", "evidence")
    for i, v in enumerate(verdicts, 1):
        ref = v.reference
        label = ref.title or ref.doi or ref.arxiv or ", ".join(ref.authors) or ref.raw[:60]
        colour = _COLOURS.get(v.verdict, "red")
        t.add_row(
            str(i),
            f"[{colour}]{v.verdict}[/]",
            f"{v.confidence:.2f}",
            f"{label[:70]} ({ref.year or '?'})",
            "\n".join(v.evidence)[:400],
        )
    console.print(t)
    console.print(" ".join(f"{k}: {n}" for k, n in _summary(verdicts).items() if n))


def _summary(verdicts) -> dict[str, int]:
    from probity.citations import VERDICTS

    return {k: sum(v.verdict == k for v in verdicts) for k in VERDICTS}


@db_app.command("import")
def db_import(
    files: Annotated[
        list[Path], typer.Argument(help="BibTeX, CSL-JSON, JSONL or DBLP XML files (.gz/.zst too).")
    ],
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format", help="bibtex | csl-json | jsonl | dblp (default: from the file name)."
        ),
    ] = None,
    db: Annotated[Path | None, typer.Option("--db", help=_DB_HELP)] = None,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Import verified records. Streams the file; importing twice adds nothing, an interrupted
    import resumes, and malformed entries are skipped and reported (nothing else is lost) with
    exit code 2. Invalid UTF-8 is replaced with a warning."""
    database = _open_db(db, must_exist=False)
    reports = []
    caught: list[warnings.WarningMessage] = []
    try:
        with progress() as bar, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for f in files:
                task = bar.add_task(f"importing {f.name}", total=None)
                rep = database.import_file(
                    f, fmt, progress=lambda n, t=task: bar.update(t, completed=n)
                )
                reports.append(rep)
    finally:
        database.close()
    _warnings_to_stderr(caught)
    if json_out:
        print_json({"imports": [r.to_dict() for r in reports]})
    else:
        _print_imports(reports)
    skipped = sum(r.skipped for r in reports)
    if skipped:
        raise InputError(
            f"{skipped} malformed entr{'y' if skipped == 1 else 'ies'} skipped "
            "(the rest were imported)"
        )


def _print_imports(reports) -> None:
    for r in reports:
        console.print(
            f"{r.path}: read {r.read}, added {r.added}, already present "
            f"{r.duplicates}, skipped {r.skipped}"
            + (f" (resumed after {r.resumed_from})" if r.resumed_from else "")
            + f" in {r.seconds:.1f}s"
        )
        for rej in r.rejects[:10]:
            err_console.print(f"  skipped entry {rej['position']}: {rej['reason']}", markup=False)
        if len(r.rejects) > 10:
            err_console.print(f"  ... and {len(r.rejects) - 10} more skipped", markup=False)


@db_app.command("stats")
def db_stats(
    db: Annotated[Path | None, typer.Option("--db", help=_DB_HELP)] = None,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Count the records (with DOI, with arXiv id, venues, years) and the file size."""
    database = _open_db(db, must_exist=db is not None)
    try:
        st = database.stats()
    finally:
        database.close()
    if json_out:
        print_json(st)
        return
    console.print(
        f"{st.path}: {st.records} records ({st.with_doi} with DOI, {st.with_arxiv} "
        f"with arXiv id), {st.venues} venues, years {st.year_min}-{st.year_max}, "
        f"{st.bytes / 1e6:.1f} MB"
    )
    for i in st.imports:
        console.print(
            f"  imported {i['path']} ({i['format']}, {i['entries']} entries"
            f"{'' if i['finished'] else ', unfinished'})"
        )


@db_app.command("list")
def db_list(
    query: Annotated[str | None, typer.Argument(help="Only records whose title matches.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="How many records.")] = 20,
    offset: Annotated[int, typer.Option("--offset", min=0, help="Skip this many.")] = 0,
    db: Annotated[Path | None, typer.Option("--db", help=_DB_HELP)] = None,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """List records (in import order, or the best title matches for QUERY)."""
    database = _open_db(db, must_exist=db is not None)
    try:
        recs = database.list(limit=limit, offset=offset, query=query)
    finally:
        database.close()
    if json_out:
        print_json({"records": [r.to_dict() for r in recs]})
        return
    for r in recs:
        authors = ", ".join(r.authors[:3]) + (" et al" if len(r.authors) > 3 else "")
        console.print(
            f"[bold]{r.title}[/] ({r.year}) {authors}. {r.venue or ''}"
            + (f" doi:{r.doi}" if r.doi else ""),
            highlight=False,
        )


@cite_app.command("ground")
def ground_cmd(
    corpus: Annotated[
        Path,
        typer.Option(
            "--corpus", help="Folder of .txt/.md files or a JSONL file with a 'text' field."
        ),
    ],
    answer: Annotated[
        str | None, typer.Argument(help="The answer to ground ('-' reads stdin).")
    ] = None,
    file: Annotated[Path | None, typer.Option("--file", "-f", help=FILE_HELP)] = None,
    nli: Annotated[
        str | None,
        typer.Option(
            "--nli", help="Local NLI model folder (transformers); default: lexical overlap."
        ),
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option("--threshold", min=0.0, max=1.0, help="Support needed to count as supported."),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Split ANSWER into sentences and attribute each to the corpus passages that support it:
    supported, contradicted (a passage about the same subject gives another entity, number
    or date), unsupported (related passages, no support) or no_evidence."""
    from probity.citations import ground
    from probity.cli._output import text_argument

    text = text_argument(answer, file, what="answer")
    res = ground(text, corpus, threshold=threshold, nli_model=nli)
    if json_out:
        print_json(res)
        return
    colours = {
        "supported": "green",
        "contradicted": "red",
        "unsupported": "red",
        "no_evidence": "yellow",
    }
    for s in res.sentences:
        src = f" <- {s.passages[0].doc}" if s.passages and s.status == "supported" else ""
        console.print(
            f"[{colours[s.status]}]{s.status:>11}[/] {s.support:.2f} {s.text}{src}", highlight=False
        )
    console.print(
        f"supported: {res.supported_fraction:.0%} of {len(res.sentences)} sentences ({res.method})"
    )


@db_app.command("calibrate")
def db_calibrate(
    cases: Annotated[
        int, typer.Option("--cases", min=20, help="Synthetic citations to fit on.")
    ] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    db: Annotated[Path | None, typer.Option("--db", help=_DB_HELP)] = None,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Fit the confidence calibration (Platt scaling per verdict group) on noisy and corrupted
    citations generated from the database's own records, and store it in the database."""
    from probity.citations import calibrate

    database = _open_db(db, must_exist=db is not None)
    try:
        if len(database) < 10:
            raise InputError(
                f"the citation database {database.path} has {len(database)} "
                "records; calibration needs at least 10",
                hint="import records first: probity cite db import FILE",
            )
        with progress() as bar:
            task = bar.add_task("verifying synthetic citations", total=cases)
            out = calibrate(
                database,
                n=cases,
                seed=seed,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    finally:
        database.close()
    if json_out:
        print_json(out)
        return
    console.print(
        f"calibrated on {out['cases']} synthetic citations: Brier score "
        f"{out['brier_before']:.3f} -> {out['brier_after']:.3f}"
    )
