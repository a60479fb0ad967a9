"""``probity guard``: scan texts, batch-scan files, inspect policies, verify the audit log."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from probity.cli._groups import guard_app
from probity.cli._output import FILE_HELP, JSON_HELP, console, print_json, text_argument
from probity.errors import InputError

policy_app = typer.Typer(
    help="List, show and validate guard policies.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
log_app = typer.Typer(
    help="Inspect the hash-chained audit log.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
guard_app.add_typer(policy_app, name="policy")
guard_app.add_typer(log_app, name="log")

POLICY_HELP = (
    "Policy: a shipped name (default, factual, creative, focus-group, strict) or a YAML file."
)
DIRECTION_HELP = "Check the text as a prompt (input) or as a model's answer (output)."
AUDIT_HELP = "Append each verdict to this hash-chained audit log (use 'default' for the home log)."

_COLOURS = {"allow": "green", "flag": "yellow", "redact": "cyan", "block": "red"}


def _direction(value: str) -> str:
    if value not in ("input", "output"):
        raise InputError(f"unknown direction {value!r}; expected 'input' or 'output'")
    return value


def _texts(path: Path, field: str, sink):
    """``(record, text)`` pairs; in JSONL and Parquet a field that is not a string (null, a
    number, a list) is a reject with its type, never scanned as its ``str()``."""
    from probity.io import Reject, iter_jsonl, iter_texts

    suffixes = "".join(path.suffixes).lower()
    if ".parquet" in suffixes and path.is_file():
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(path)
        if field not in pf.schema_arrow.names:
            raise InputError(f"{path}: no column {field!r}; columns are {pf.schema_arrow.names}")
        row = 0
        for batch in pf.iter_batches(columns=[field]):
            for value in batch.column(0).to_pylist():
                row += 1
                if isinstance(value, str):
                    yield row, value
                else:
                    kind = "null" if value is None else type(value).__name__
                    sink.add(Reject(str(path), row, f"field {field!r} is {kind}, not text"))
        return
    if not any(s in suffixes for s in (".jsonl", ".ndjson")):
        yield from iter_texts(path, field, rejects=sink)
        return
    for lineno, obj in iter_jsonl(path, rejects=sink):
        value = obj.get(field, _MISSING) if isinstance(obj, dict) else _MISSING
        if value is _MISSING:
            fields = sorted(obj)[:10] if isinstance(obj, dict) else type(obj).__name__
            sink.add(Reject(str(path), lineno, f"no field {field!r} (fields: {fields})"))
        elif not isinstance(value, str):
            kind = "null" if value is None else type(value).__name__
            sink.add(Reject(str(path), lineno, f"field {field!r} is {kind}, not text"))
        else:
            yield lineno, value


_MISSING = object()


SIGN_HELP = (
    "Sign checkpoints of the audit log's chain head with this Ed25519 key (id, name or key "
    "file from `probity keys new`); verify with `probity guard log verify --key PUB`."
)
EVERY_HELP = "Write a signed checkpoint every N records (and always when the command ends)."


def _audit(path: str | None, sign_key: str | None = None, every: int = 100):
    if path is None:
        if sign_key is not None:
            raise InputError("--sign-key needs --audit (the log to sign)")
        return None
    from probity.guard import AuditLog

    return AuditLog(None if path == "default" else path, sign_key=sign_key, checkpoint_every=every)


@guard_app.command("scan")
def scan(
    text: Annotated[str | None, typer.Argument(help="The text to check ('-' reads stdin).")] = None,
    file: Annotated[Path | None, typer.Option("--file", "-f", help=FILE_HELP)] = None,
    policy: Annotated[str, typer.Option("--policy", "-p", help=POLICY_HELP)] = "default",
    direction: Annotated[str, typer.Option("--direction", "-d", help=DIRECTION_HELP)] = "input",
    audit: Annotated[str | None, typer.Option("--audit", help=AUDIT_HELP)] = None,
    sign_key: Annotated[str | None, typer.Option("--sign-key", help=SIGN_HELP)] = None,
    checkpoint_every: Annotated[int, typer.Option("--checkpoint-every", help=EVERY_HELP)] = 100,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Check one text against a policy and print the verdict: allow, flag, redact or block,
    the findings with their character spans and scores, and the text to pass on.

    Exit status 0 whatever the verdict; use --json to read the action in scripts.
    """
    from probity.guard import Guard

    # Empty text is a defined input (verdict allow), as in the API and the docs.
    value = "" if text == "" and file is None else text_argument(text, file)
    log = _audit(audit, sign_key, checkpoint_every)
    guard = Guard.from_policy(policy, audit=log)
    verdict = guard.check(value, _direction(direction))
    if log is not None:
        log.close()
    if json_out:
        print_json(verdict)
        return
    from rich.table import Table

    colour = _COLOURS[verdict.action]
    console.print(
        f"[bold {colour}]{verdict.action.upper()}[/] (policy {verdict.policy}, {verdict.direction})"
    )
    if verdict.findings:
        table = Table("scanner", "category", "score", "action", "span", "excerpt")
        for f in verdict.findings:
            sp = f.spans[0] if f.spans else None
            excerpt = value[sp.start : sp.end][:40].replace("\n", " ") if sp else ""
            table.add_row(
                f.source,
                f.category,
                f"{f.score:.2f}",
                f.action,
                f"{sp.start}-{sp.end}" if sp else "",
                excerpt,
            )
        console.print(table)
    if verdict.action == "redact":
        console.print("[bold]text to pass on:[/]", markup=True)
        console.print(verdict.text, markup=False)
    for d in verdict.disclaimers:
        console.print(f"[dim]disclaimer: {d}[/]")


@guard_app.command("batch")
def batch(
    input: Annotated[
        Path, typer.Option("--input", "-i", help="JSONL (or Parquet, text) file to scan.")
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="JSONL file of verdicts to write.")
    ],
    field: Annotated[str, typer.Option("--field", help="Field holding the text.")] = "text",
    policy: Annotated[str, typer.Option("--policy", "-p", help=POLICY_HELP)] = "default",
    direction: Annotated[str, typer.Option("--direction", "-d", help=DIRECTION_HELP)] = "input",
    batch_size: Annotated[int, typer.Option("--batch-size", help="Texts per scanner call.")] = 64,
    rejects: Annotated[
        Path | None,
        typer.Option(
            "--rejects", help="Where unreadable lines go (default: OUTPUT.rejects.jsonl)."
        ),
    ] = None,
    audit: Annotated[str | None, typer.Option("--audit", help=AUDIT_HELP)] = None,
    sign_key: Annotated[str | None, typer.Option("--sign-key", help=SIGN_HELP)] = None,
    checkpoint_every: Annotated[int, typer.Option("--checkpoint-every", help=EVERY_HELP)] = 100,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Scan every record of a file and write one verdict per line (record number, action,
    findings, text to pass on).

    Resumable: work is done in chunks; each chunk is written to OUTPUT.parts/ and recorded in a
    manifest, so a rerun after a crash or Ctrl-C skips the finished chunks and the final OUTPUT
    is assembled atomically. Unreadable lines (invalid JSON or UTF-8, missing field) are never
    dropped silently: they go to the reject file with the reason.
    """
    import json

    from probity.cli._output import progress
    from probity.guard import Guard
    from probity.io import Manifest, RejectSink, atomic_write, dumps, write_jsonl
    from probity.text import text_digest

    if batch_size < 1:
        raise InputError(f"--batch-size must be >= 1, got {batch_size}")
    d = _direction(direction)
    log = _audit(audit, sign_key, checkpoint_every)
    guard = Guard.from_policy(policy, audit=log)
    parts = Path(str(output) + ".parts")
    parts.mkdir(parents=True, exist_ok=True)
    fingerprint = text_digest(
        json.dumps(
            [
                str(input.resolve()),
                input.stat().st_size if input.exists() else 0,
                field,
                guard.policy.digest,
                d,
                batch_size,
            ]
        )
    )
    manifest = Manifest(parts / "manifest.json", fingerprint)
    sink = RejectSink()
    counts = {"allow": 0, "flag": 0, "redact": 0, "block": 0}
    n_chunks = 0
    resumed = 0

    def flush(chunk: list[tuple[int, str]], k: int) -> None:
        nonlocal resumed
        unit = f"chunk-{k:06d}"
        if manifest.is_done(unit):
            info = manifest.get(unit)
            for a, c in info.get("counts", {}).items():
                counts[a] += c
            resumed += 1
            return
        verdicts = guard.check_many([t for _, t in chunk], d)
        local = {"allow": 0, "flag": 0, "redact": 0, "block": 0}
        recs = []
        for (rec_no, _), v in zip(chunk, verdicts, strict=True):
            local[v.action] += 1
            recs.append({"record": rec_no, **v.to_dict()})
        write_jsonl(parts / f"{unit}.jsonl", recs)
        manifest.mark_done(unit, {"counts": local, "records": len(chunk)})
        for a, c in local.items():
            counts[a] += c

    with progress() as bar:
        task = bar.add_task("scanning", total=None)
        chunk: list[tuple[int, str]] = []
        for rec_no, text in _texts(input, field, sink):
            chunk.append((rec_no, text))
            if len(chunk) >= batch_size:
                flush(chunk, n_chunks)
                n_chunks += 1
                bar.advance(task, len(chunk))
                chunk = []
        if chunk:
            flush(chunk, n_chunks)
            n_chunks += 1
            bar.advance(task, len(chunk))
    missing = f"no field {field!r}"
    if n_chunks == 0 and sink.rejects and all(r.reason.startswith(missing) for r in sink.rejects):
        # a wrong --field must not pass as "every record rejected" with exit 0
        import shutil

        shutil.rmtree(parts, ignore_errors=True)
        first = sink.rejects[0]
        raise InputError(
            f"{input}: no record has the field {field!r} (line {first.line}: "
            f"{first.reason.removeprefix(missing).strip(' ()')}); choose it with --field"
        )
    with atomic_write(output) as fh:
        for k in range(n_chunks):
            with open(parts / f"chunk-{k:06d}.jsonl", encoding="utf-8") as part:
                for line in part:
                    fh.write(line)
    if log is not None:
        log.close()
    import shutil

    shutil.rmtree(parts, ignore_errors=True)  # the output is complete: no resume state left
    reject_path = rejects or Path(str(output) + ".rejects.jsonl")
    if len(sink):
        sink.write(reject_path)
    summary = {
        "input": str(input),
        "output": str(output),
        "policy": guard.policy.name,
        "direction": d,
        "records": sum(counts.values()),
        "actions": counts,
        "rejected": len(sink),
        "rejects": str(reject_path) if len(sink) else None,
        "chunks": n_chunks,
        "resumed_chunks": resumed,
    }
    if json_out:
        print_json(summary)
    else:
        console.print(dumps(summary, indent=2), markup=False)


@policy_app.command("list")
def policy_list(json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False) -> None:
    """List the shipped policies with their mode and description."""
    from probity.guard import load_policy, shipped_policies

    rows = []
    for name in shipped_policies():
        p = load_policy(name)
        rows.append(
            {
                "name": p.name,
                "mode": p.mode,
                "description": p.description,
                "input": [r.scanner for r in p.input],
                "output": [r.scanner for r in p.output],
                "digest": p.digest,
            }
        )
    if json_out:
        print_json(rows)
        return
    from rich.table import Table

    table = Table("name", "mode", "input scanners", "output scanners", "description")
    for r in rows:
        table.add_row(
            r["name"], r["mode"], ", ".join(r["input"]), ", ".join(r["output"]), r["description"]
        )
    console.print(table)


@policy_app.command("show")
def policy_show(
    policy: Annotated[str, typer.Argument(help=POLICY_HELP)] = "default",
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Print a policy as validated (every default filled in) with its digest."""
    import yaml

    from probity.guard import load_policy

    p = load_policy(policy)
    if json_out:
        print_json(p.to_dict())
        return
    console.print(f"# {p.source}  digest {p.digest}", markup=False)
    console.print(yaml.safe_dump(p.canonical(), sort_keys=False), markup=False)


@policy_app.command("validate")
def policy_validate(
    path: Annotated[Path, typer.Argument(help="Policy YAML file to validate.")],
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Validate a policy file: YAML syntax, fields, thresholds, known scanners. Errors name
    the file, line and field; exit status 2 when invalid."""
    from probity.guard import Guard, load_policy

    p = load_policy(path)
    notes = Guard(p).notes
    result = {"ok": True, "name": p.name, "digest": p.digest, "notes": notes}
    if json_out:
        print_json(result)
    else:
        console.print(f"[green]ok[/] {path}: policy {p.name!r} (digest {p.digest[:16]}...)")
        for n in notes:
            console.print(f"[dim]note: {n}[/]")


@log_app.command("verify")
def log_verify(
    path: Annotated[Path | None, typer.Argument(help="Audit log (default: the home log).")] = None,
    key: Annotated[
        str | None,
        typer.Option(
            "--key",
            help="Public key (file from `probity keys export`, or a key id/name): also check "
            "the signed checkpoints, which catch an edit with every later hash recomputed and "
            "a truncated tail.",
        ),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Verify the audit log's hash chain. Exit status 1 and the first bad line when a line
    was edited, deleted, inserted or reordered; with --key, also when a signed checkpoint
    does not match (a re-chained edit) or records follow the last checkpoint (truncation)."""
    from probity.errors import TamperedError
    from probity.guard import AuditLog

    result = AuditLog.verify(path, key=key)
    if json_out:
        print_json(result)
    elif result.ok:
        console.print(
            f"[green]ok[/] {result.path}: {result.records} records, chain intact"
            + (", signed checkpoints valid" if key else "")
        )
    if not result.ok:
        raise TamperedError(
            f"{result.path}:{result.first_bad_line}: {result.reason} "
            f"({result.records} records verified before it)"
        )
