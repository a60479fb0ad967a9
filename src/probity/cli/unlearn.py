"""``probity unlearn``: train SISA ensembles, forget records, verify the ledger, show status."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from probity.cli._groups import unlearn_app
from probity.cli._output import JSON_HELP, console, err_console, print_json
from probity.errors import InputError

MODEL_HELP = "The SISA model directory (written by `probity unlearn train`)."


@unlearn_app.command("train")
def train(
    config: Annotated[
        Path,
        typer.Option(
            "--config",
            "-c",
            help="sisa.yaml: data, label, estimator, shards, slices, aggregation, backend, out.",
        ),
    ],
    out: Annotated[
        Path | None, typer.Option("--out", help="Model directory (overrides the config's `out`).")
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an existing model directory.")
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Train a SISA ensemble: S shards x R slices with checkpoints, a manifest and a ledger."""
    from probity.unlearning import SISAModel
    from probity.unlearning.config import load_column, load_sisa_config, load_xy, make_estimator

    cfg = load_sisa_config(config)
    base = config.resolve().parent
    data = Path(cfg.data) if Path(cfg.data).is_absolute() else base / cfg.data
    target = out or (Path(cfg.out) if Path(cfg.out).is_absolute() else base / cfg.out)
    X, y, ids, feats = load_xy(data, cfg.label, cfg.id, cfg.features, cfg.subject)
    subjects = load_column(data, cfg.subject) if cfg.subject else None
    est = make_estimator(cfg.estimator, cfg.params)
    with err_console.status(
        f"training {cfg.shards} shards x {cfg.slices} slices on {len(ids)} records ({cfg.backend})"
    ):
        model = SISAModel.train(
            est,
            X,
            y,
            target,
            ids=ids,
            shards=cfg.shards,
            slices=cfg.slices,
            aggregation=cfg.aggregation,
            backend=cfg.backend,
            n_jobs=cfg.n_jobs,
            random_state=cfg.random_state,
            overwrite=overwrite,
            subjects=subjects,
        )
    st = model.status()
    tomb = int(model.state.get("tombstoned", 0))
    if json_out:
        print_json({**st.to_dict(), "features": feats, "tombstoned": tomb})
        return
    console.print(
        f"trained {st.shards} shards x {st.slices} slices of {st.estimator} on "
        f"{st.records} records -> {st.model_dir}"
        + (f" ({tomb} forgotten records left out)" if tomb else "")
    )


def _read_ids(path: Path) -> list[str]:
    from probity.io import read_text

    text = read_text(path).strip()
    if not text:
        raise InputError(f"{path}: no ids in the file")
    if text.startswith("["):
        import json

        try:
            return [str(v) for v in json.loads(text)]
        except ValueError as exc:
            raise InputError(f"{path}: invalid JSON list of ids") from exc
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("{"):
            import json

            obj = json.loads(line)
            if "id" not in obj:
                raise InputError(f"{path}: JSON line without an 'id' field: {line[:80]}")
            out.append(str(obj["id"]))
        else:
            out.append(line)
    return out


def _request_from_json(obj: Any, where: str) -> dict[str, Any]:
    """One forget request of a batch file or of `serve`: ids / subjects / content_sha256."""
    if not isinstance(obj, dict):
        raise InputError(
            f"{where}: a request must be a JSON object with 'ids', 'subjects' or 'content_sha256'"
        )
    unknown = set(obj) - {"ids", "subjects", "content_sha256", "reason"}
    if unknown:
        raise InputError(f"{where}: unknown field {sorted(unknown)[0]!r}")
    req = {k: [str(v) for v in obj.get(k, [])] for k in ("ids", "subjects", "content_sha256")}
    if not any(req.values()):
        raise InputError(f"{where}: the request names no ids, subjects or content hashes")
    req["reason"] = str(obj.get("reason", ""))
    return req


def _read_batch(path: Path) -> list[dict[str, Any]]:
    import json

    from probity.io import read_text

    out = []
    for lineno, line in enumerate(read_text(path).splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise InputError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from exc
        out.append(_request_from_json(obj, f"{path}:{lineno}"))
    if not out:
        raise InputError(f"{path}: no requests in the batch file")
    return out


@unlearn_app.command("forget")
def forget(
    model: Annotated[Path, typer.Option("--model", "-m", help=MODEL_HELP)],
    ids: Annotated[
        Path | None,
        typer.Option(
            "--ids",
            help="File of record ids to forget: one per "
            "line, a JSON list, or JSONL with an 'id' field.",
        ),
    ] = None,
    subjects: Annotated[
        Path | None,
        typer.Option(
            "--subjects",
            help="File of data subjects (the config's `subject` column): every record of each "
            "is forgotten. Same formats as --ids.",
        ),
    ] = None,
    hashes: Annotated[
        Path | None,
        typer.Option(
            "--content-hashes",
            help="File of record content SHA-256s (as in the manifest): every record with that "
            "content is forgotten, whatever its id.",
        ),
    ] = None,
    batch: Annotated[
        Path | None,
        typer.Option(
            "--batch",
            help='JSONL file of requests, one per line: {"ids": [...], "subjects": [...], '
            '"content_sha256": [...], "reason": "..."}. Each is its own request with '
            "its own certificate, in one process (start-up paid once).",
        ),
    ] = None,
    reason: Annotated[str, typer.Option("--reason", help="Why (stored in the certificate).")] = "",
    keep_duplicates: Annotated[
        bool,
        typer.Option(
            "--keep-duplicates",
            help="Do not also forget other records with the same content as a forgotten one.",
        ),
    ] = False,
    cert_out: Annotated[
        Path | None,
        typer.Option(
            "--certificate",
            help="Also write the signed certificate here (with --batch: a JSONL of them).",
        ),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Forget records: retrain only their shards, log the request, print a signed certificate.

    Each affected shard restarts from the last checkpoint before its first affected slice.
    Records are named by id, data subject or content hash; records with the same content as
    a forgotten one go too.
    """
    import json

    from probity.io import write_json_atomic, write_text_atomic
    from probity.unlearning import SISAModel
    from probity.unlearning.lock import model_lock

    if batch is not None:
        if ids or subjects or hashes:
            raise InputError("--batch takes the requests from the file; drop --ids/--subjects")
        requests = _read_batch(batch)
    else:
        requests = [
            {
                "ids": _read_ids(ids) if ids else [],
                "subjects": _read_ids(subjects) if subjects else [],
                "content_sha256": _read_ids(hashes) if hashes else [],
                "reason": reason,
            }
        ]
        if not any(requests[0][k] for k in ("ids", "subjects", "content_sha256")):
            raise InputError(
                "nothing to forget: pass --ids, --subjects, --content-hashes or --batch"
            )
    results = []
    # the lock is taken before opening, so a concurrent `train --overwrite` finishes first
    with model_lock(model), err_console.status(f"forgetting ({len(requests)} requests)"):
        m = SISAModel.open(model)
        for req in requests:
            results.append(
                m.forget(
                    req["ids"],
                    subjects=req["subjects"],
                    content_sha256=req["content_sha256"],
                    reason=req["reason"],
                    duplicates=not keep_duplicates,
                )
            )
    if cert_out is not None:
        if batch is None:
            write_json_atomic(cert_out, results[0].certificate.to_dict())
        else:
            write_text_atomic(
                cert_out,
                "".join(json.dumps(r.certificate.to_dict()) + "\n" for r in results),
            )
    if json_out:
        print_json(results[0] if batch is None else {"requests": [r.to_dict() for r in results]})
        return
    for res in results:
        console.print(
            f"forgot {res.forgotten} records; retrained shards "
            f"{ {int(k): v for k, v in res.retrained.items()} } (shard: first slice), "
            f"{res.records_retrained}/{res.records_total} record-visits "
            f"({res.records_retrained / max(res.records_total, 1):.1%} of full SISA "
            f"training) in {res.seconds:.2f} s"
        )
        console.print(
            f"certificate {res.request_id} signed by {res.certificate.key_id}; "
            f"ledger entry {res.ledger_entry[:16]}..."
        )


@unlearn_app.command("serve")
def serve(
    model: Annotated[Path, typer.Option("--model", "-m", help=MODEL_HELP)],
) -> None:
    """Serve forget requests from stdin, one JSON object per line, until end of input.

    Each line is a request like a --batch line; each answer is one JSON line on stdout:
    {"ok": true, ...result with the certificate} or {"ok": false, "error": "..."}. The model
    stays open, so requests pay no start-up; each takes the model's lock, so other writers
    can interleave.
    """
    import json
    import sys

    from probity.errors import ProbityError
    from probity.unlearning import SISAModel

    m = SISAModel.open(model)
    for lineno, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        try:
            req = _request_from_json(json.loads(line), f"request {lineno}")
            res = m.forget(
                req["ids"],
                subjects=req["subjects"],
                content_sha256=req["content_sha256"],
                reason=req["reason"],
            )
            out = {"ok": True, **res.to_dict()}
        except ValueError as exc:
            out = {"ok": False, "error": f"request {lineno}: not valid JSON ({exc})"}
        except ProbityError as exc:
            out = {"ok": False, "error": str(exc)}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


@unlearn_app.command("status")
def status(
    model: Annotated[Path, typer.Option("--model", "-m", help=MODEL_HELP)],
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Show shards, records per shard, manifest version and forget requests of a model."""
    from probity.unlearning import SISAModel

    st = SISAModel.open(model).status()
    if json_out:
        print_json(st)
        return
    console.print(
        f"{st.model_dir}: {st.estimator}, {st.shards} shards x {st.slices} slices, "
        f"{st.records} records (per shard {st.records_per_shard}), aggregation "
        f"{st.aggregation}, manifest v{st.manifest_version}, "
        f"{st.forget_requests} forget requests"
    )
    if st.extra.get("needs_repair"):
        err_console.print(
            f"a forget was interrupted: run `probity unlearn repair --model {model}`",
            markup=False,
        )


ledger_app = typer.Typer(
    help="Verify the hash-chained forget ledger and certificates.",
    no_args_is_help=True,
    add_completion=False,
)
unlearn_app.add_typer(ledger_app, name="ledger")


@ledger_app.command("verify")
def ledger_verify(
    model: Annotated[Path, typer.Option("--model", "-m", help=MODEL_HELP)],
    key: Annotated[
        str | None,
        typer.Option(
            "--key",
            help="Pin the unlearning public key (a `probity keys export unlearning` file or "
            "hex). Without it the key recorded in the ledger's training entry is used.",
        ),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Verify the ledger chain, manifest, model files and certificates; exit 1 on the first
    problem."""
    from probity.unlearning import SISAModel

    out = SISAModel.open(model).verify_ledger(public_key=key)
    if json_out:
        print_json(out)
        return
    console.print(
        f"ledger OK: {out['entries']} entries, head {out['head'][:16]}..., "
        f"manifest v{out['manifest_version']}, model files match, "
        f"{out['certificates']} certificates verified against key {out['public_key'][:16]}..."
        if out["public_key"]
        else f"ledger OK: {out['entries']} entries, no certificates yet"
    )


@unlearn_app.command("repair")
def repair_cmd(
    model: Annotated[Path, typer.Option("--model", "-m", help=MODEL_HELP)],
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Finish or undo a forget interrupted by a crash (write-ahead journal).

    If the forget reached the ledger it is rolled forward (its certificate stands); otherwise
    its new files are deleted and the model is as before the request.
    """
    from probity.unlearning.wal import repair

    out = repair(model)
    if json_out:
        print_json(out)
        return
    msg = {
        "clean": "nothing to repair",
        "rolled_forward": f"forget {out['request_id']} completed (rolled forward)",
        "rolled_back": f"forget {out['request_id']} undone (rolled back); request it again",
    }[out["action"]]
    console.print(msg)
