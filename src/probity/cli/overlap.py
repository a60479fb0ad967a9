"""``probity overlap``: build protected-content indexes and check texts against them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from probity.cli._groups import overlap_app
from probity.cli._output import FILE_HELP, JSON_HELP, console, print_json, text_argument

index_app = typer.Typer(
    help="Build, extend, inspect and drop overlap indexes (in the Probity home).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
overlap_app.add_typer(index_app, name="index")

NameOpt = Annotated[str, typer.Option("--name", "-n", help="Index name (letters, digits, . _ -).")]
InputOpt = Annotated[
    Path,
    typer.Option(
        "--input",
        "-i",
        help="Corpus: JSONL (one record per line), Parquet, a text file, or a folder of files.",
    ),
]
FieldOpt = Annotated[str, typer.Option("--field", help="JSONL/Parquet field holding the text.")]
IdOpt = Annotated[
    str,
    typer.Option(
        "--id-field", help="JSONL field holding the document id (default: the line number)."
    ),
]


def _records(path: Path, field: str, id_field: str, rejects):
    from probity.cli._output import track
    from probity.overlap import iter_records

    return list(track(iter_records(path, field, id_field, rejects=rejects), "reading documents"))


def _report(st, rejects, json_out: bool, **extra: int) -> None:
    """Print the index stats with the rejected input records (and ``extra`` counts)."""
    rejected = [r.to_dict() for r in rejects.rejects]
    if json_out:
        print_json({**extra, **st.to_dict(), "rejected": rejected})
        return
    for key, value in extra.items():
        console.print(f"{key.replace('_', ' ')}: {value}")
    _show_stats(st, False)
    for r in rejected[:5]:
        console.print(f"rejected line {r['line']}: {r['reason']}", markup=False)
    if len(rejected) > 5:
        console.print(f"... and {len(rejected) - 5} more rejected lines")


@index_app.command("build")
def build(
    name: NameOpt,
    input: InputOpt,
    field: FieldOpt = "text",
    id_field: IdOpt = "id",
    kind: Annotated[
        str,
        typer.Option(
            "--kind",
            help="text (verbatim spans + near-duplicates) "
            "or code (winnowing clones + verbatim spans).",
        ),
    ] = "text",
    ngram: Annotated[
        int | None,
        typer.Option(
            "--ngram",
            help="Verbatim span length in tokens (default 12 for text: a quoted sentence; 30 "
            "for code; >= 2).",
        ),
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option(
            "--threshold", help="Near-duplicate Jaccard threshold in (0, 1) (default 0.8)."
        ),
    ] = None,
    language: Annotated[
        str | None,
        typer.Option(
            "--language",
            help="--kind code: python, javascript, typescript, java, c, cpp, go or rust are "
            "parsed into syntax trees (tree-sitter); any other pygments lexer name is "
            "tokenised; 'auto' picks by each file's extension (default python).",
        ),
    ] = None,
    tokens: Annotated[
        str | None,
        typer.Option(
            "--tokens",
            help="--kind code: 'syntax' (syntax-tree node sequences, default) or 'lexical' "
            "(pygments tokens).",
        ),
    ] = None,
    k: Annotated[
        int | None,
        typer.Option(
            "--k",
            help="Code: k-gram length in tokens of the fingerprints (noise "
            "threshold: no shorter match counts).",
        ),
    ] = None,
    window: Annotated[
        int | None,
        typer.Option(
            "--window",
            help="Code: winnowing window; every match of window + k - 1 tokens is found.",
        ),
    ] = None,
    code_threshold: Annotated[
        float | None,
        typer.Option(
            "--code-threshold",
            help="Code: report a file when a containment "
            "(source in query or query in source) is >= this (default 0.5).",
        ),
    ] = None,
    code_min_tokens: Annotated[
        int | None,
        typer.Option(
            "--code-min-tokens",
            help="Code: or when one span of the query has this many tokens matched (default 50).",
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing index.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Build index NAME from a corpus. Written to a temp folder and swapped in atomically, so a
    killed build never leaves a half-written index in use (rerun it to rebuild)."""
    from probity.io import RejectSink
    from probity.overlap import OverlapIndex

    rejects = RejectSink()
    records = _records(input, field, id_field, rejects)
    with console.status("building index", spinner="dots") if not json_out else _null():
        idx = OverlapIndex.build(
            name,
            records,
            kind=kind,
            overwrite=force,
            ngram=ngram,
            threshold=threshold,
            language=language,
            tokens=tokens,
            k=k,
            w=window,
            code_min_similarity=code_threshold,
            code_min_span_tokens=code_min_tokens,
        )
    _report(idx.stats(), rejects, json_out)


@index_app.command("add")
def add(
    name: NameOpt,
    input: InputOpt,
    field: FieldOpt = "text",
    id_field: IdOpt = "id",
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Add documents to index NAME; ids already in it are skipped (rerunning an add is
    harmless). The bundle is rewritten atomically."""
    from probity.io import RejectSink
    from probity.overlap import OverlapIndex

    idx = OverlapIndex.open(name)
    rejects = RejectSink()
    records = _records(input, field, id_field, rejects)
    added = idx.add(records)
    _report(idx.stats(), rejects, json_out, added=added, skipped_existing=len(records) - added)


@index_app.command("stats")
def stats(
    name: NameOpt, json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False
) -> None:
    """Documents, parameters and size on disk of index NAME (verifies it opens cleanly)."""
    from probity.overlap import OverlapIndex

    _show_stats(OverlapIndex.open(name).stats(), json_out)


@index_app.command("drop")
def drop(
    name: NameOpt, json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False
) -> None:
    """Delete index NAME (and leftovers of unfinished builds)."""
    from probity.errors import UnknownKeyError
    from probity.overlap import OverlapIndex

    if not OverlapIndex.drop(name):
        raise UnknownKeyError(f"no overlap index named {name!r}")
    if json_out:
        print_json({"dropped": name})
    else:
        console.print(f"dropped index {name}")


@overlap_app.command("check")
def check(
    text: Annotated[str | None, typer.Argument(help="Text to check ('-' reads stdin).")] = None,
    index: Annotated[str, typer.Option("--index", help="Index name to check against.")] = "",
    file: Annotated[Path | None, typer.Option("--file", "-f", help=FILE_HELP)] = None,
    min_tokens: Annotated[
        int | None,
        typer.Option("--min-tokens", help="Only report verbatim spans at least this long."),
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option(
            "--threshold", help="Near-duplicate Jaccard threshold (default: the index's)."
        ),
    ] = None,
    code_threshold: Annotated[
        float | None,
        typer.Option(
            "--code-threshold",
            help="Code clone containment threshold (default: the index's, 0.5).",
        ),
    ] = None,
    code_min_tokens: Annotated[
        int | None,
        typer.Option(
            "--code-min-tokens",
            help="Report a code clone when one query span has this many matched tokens "
            "(default: the index's, 50).",
        ),
    ] = None,
    html_out: Annotated[
        Path | None,
        typer.Option(
            "--html",
            help="Also write a side-by-side HTML view: the text and each source, matched "
            "regions highlighted.",
        ),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Report verbatim spans, near-duplicate documents (exact Jaccard) and code clones that TEXT
    shares with an index. Indexing a training corpus makes this attribution: which documents an
    output draws on, span by span."""
    from probity.errors import InputError
    from probity.overlap import OverlapIndex

    if not index:
        raise InputError(
            "no index given", hint="pass --index NAME (see `probity overlap index build`)"
        )
    value = text_argument(text, file)
    idx = OverlapIndex.open(index)
    report = idx.check(
        value,
        min_tokens=min_tokens,
        threshold=threshold,
        code_threshold=code_threshold,
        code_min_tokens=code_min_tokens,
    )
    if html_out is not None:
        from probity.overlap.sidebyside import write_side_by_side

        write_side_by_side(report, idx, value, html_out)
    if json_out:
        print_json(report)
        return
    from rich.table import Table

    if not report.found:
        console.print(f"no overlap with index {index!r}")
        return
    if report.verbatim:
        t = Table("chars", "tokens", "source", "source tokens", "text", title="verbatim spans")
        for s in report.verbatim:
            t.add_row(
                f"{s.start}-{s.end}",
                str(s.tokens),
                s.doc,
                f"{s.doc_token_start}-{s.doc_token_end}",
                _clip(s.text),
            )
        console.print(t)
    if report.near_duplicates:
        t = Table("document", "jaccard", "estimate", title="near-duplicates")
        for d in report.near_duplicates:
            t.add_row(d.doc, f"{d.jaccard:.3f}", f"{d.estimated:.3f}")
        console.print(t)
    if report.code_clones:
        t = Table(
            "source",
            "similarity",
            "source in query",
            "query in source",
            "spans",
            title="code clones",
        )
        for c in report.code_clones:
            t.add_row(
                c.doc,
                f"{c.similarity:.2f}",
                f"{c.source_containment:.2f}",
                f"{c.query_containment:.2f}",
                ", ".join(f"{a}-{b} ({s:.2f})" for a, b, s in c.spans),
            )
        console.print(t)


def _clip(s: str, n: int = 60) -> str:
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 1] + "…"


def _show_stats(st, json_out: bool) -> None:
    if json_out:
        print_json(st)
        return
    console.print(
        f"index [bold]{st.name}[/] ({st.kind}): {st.documents} documents, "
        f"{st.bytes_on_disk / 1e6:.2f} MB at {st.path}"
    )
    console.print(", ".join(f"{k}={v}" for k, v in st.params.items()), markup=False)


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
