"""``probity curate dedup``: exact, near-duplicate and repeated-span deduplication of a JSONL."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from probity.cli._groups import curate_app
from probity.cli._output import JSON_HELP, console, print_json


@curate_app.command("dedup")
def dedup(
    input: Annotated[Path, typer.Option("--input", "-i", help="Input JSONL, one record a line.")],
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", help="Output JSONL of kept records (input order, unchanged)."
        ),
    ],
    exact: Annotated[
        bool,
        typer.Option(
            "--exact/--no-exact", help="Remove records whose normalised text is identical."
        ),
    ] = True,
    near: Annotated[
        float | None,
        typer.Option(
            "--near",
            help="Remove near-duplicates with word 5-gram Jaccard >= this (0, 1]; omit to skip.",
        ),
    ] = None,
    max_repeats: Annotated[
        int | None,
        typer.Option("--max-repeats", help="Keep at most k records sharing any long span."),
    ] = None,
    span_tokens: Annotated[
        int,
        typer.Option("--span-tokens", help="Length of the spans --max-repeats counts, in tokens."),
    ] = 50,
    field: Annotated[str, typer.Option("--field", help="Field holding the text.")] = "text",
    id_field: Annotated[
        str,
        typer.Option("--id-field", help="Field holding a unique id (default: the line number)."),
    ] = "id",
    report: Annotated[
        Path | None,
        typer.Option(
            "--report", help="Where to write the removal report (default OUTPUT.dedup.json)."
        ),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Keep one representative (the earliest record) per exact or near-duplicate cluster and
    cap repeated spans. Every input record is either written to OUTPUT or listed in the report
    with its reason and representative; unreadable lines and lines without the text field are
    listed as rejected."""
    from probity.cli._output import track
    from probity.curate.pipeline import ID, read_records
    from probity.errors import InputError
    from probity.io import RejectSink, write_json_atomic, write_jsonl
    from probity.overlap import dedup_records

    if input.resolve() == output.resolve():
        raise InputError("--output must differ from --input")
    rejects = RejectSink()
    records = []
    for obj in track(
        read_records([input], field, id_field, rejects, line_ids=True, reject_empty=True),
        "reading records",
        enabled=not json_out,
    ):
        rid = obj.pop(ID)
        records.append({"_id": rid, "_text": obj[field], "_rec": obj})
    with console.status("deduplicating", spinner="dots") if not json_out else _Null():
        result = dedup_records(
            records,
            exact=exact,
            near=near,
            max_repeats=max_repeats,
            text_field="_text",
            id_field="_id",
            span_tokens=span_tokens,
        )
    keep = set(result.kept)
    write_jsonl(output, (r["_rec"] for r in records if r["_id"] in keep))
    report_path = report or output.with_name(output.name + ".dedup.json")
    data = result.to_dict()
    data["input"] = str(input)
    data["output"] = str(output)
    data["rejected"] = [r.to_dict() for r in rejects.rejects]
    write_json_atomic(report_path, data)
    if json_out:
        print_json({**data, "report": str(report_path)})
        return
    counts = ", ".join(f"{k}: {v}" for k, v in result.counts.items()) or "none"
    console.print(
        f"kept {len(result.kept)} of {result.total} records; removed "
        f"{len(result.removed)} ({counts}); rejected {len(rejects)} unreadable lines"
    )
    console.print(f"report: {report_path}")


class _Null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
