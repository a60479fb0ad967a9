"""``probity serve``: run the OpenAI-compatible gateway; ``probity serve keys new``: mint a key."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from probity.cli._groups import serve_app
from probity.cli._output import JSON_HELP, console, err_console, print_json
from probity.errors import InputError

serve_keys_app = typer.Typer(
    help="Mint, add, rotate and revoke the gateway's API keys (stored only as hashes).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
serve_app.add_typer(serve_keys_app, name="keys")
serve_audit_app = typer.Typer(
    help="Look after the gateway's audit log.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
serve_app.add_typer(serve_audit_app, name="audit")


def _audit_path(config: Path | None, path: Path | None) -> str:
    if path is not None:
        return str(path)
    if config is None:
        raise InputError("give the gateway's --config or the log's --path")
    from probity.home import audit_log_path
    from probity.serve.config import load_gateway_config

    return load_gateway_config(config).audit.path or str(audit_log_path())


@serve_app.callback(invoke_without_command=True)
def serve_main(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", "-c", help="The gateway's YAML configuration (see docs/gateway.md)."
        ),
    ] = None,
    host: Annotated[
        str | None,
        typer.Option(
            "--host",
            help="Address to bind (overrides the config). Anything but loopback needs "
            "API keys in the config.",
        ),
    ] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port (overrides the config).")] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Validate the configuration and exit without serving.")
    ] = False,
    log_level: Annotated[str, typer.Option("--log-level", help="uvicorn log level.")] = "info",
) -> None:
    """Run the gateway: OpenAI-compatible /v1/chat/completions and /v1/completions that apply
    the caller's policy to prompts and answers, watermark a local model's output, and append
    every decision to the hash-chained audit log (`probity guard log verify` checks it).

    Example: probity serve --config gateway.yaml --port 8080
    """
    if ctx.invoked_subcommand is not None:
        return
    if config is None:
        raise InputError(
            "no configuration given: pass --config gateway.yaml "
            "(see docs/gateway.md for an example)"
        )
    from probity.home import audit_log_path
    from probity.serve.audit import check_tail
    from probity.serve.config import load_gateway_config

    cfg = load_gateway_config(config)
    cfg.check_bind(host)
    check_tail(cfg.audit.path or audit_log_path())
    if check:
        from probity.serve.keyfile import load_keys_file

        n_keys = len(cfg.keys) + (len(load_keys_file(cfg.keys_file)) if cfg.keys_file else 0)
        console.print(
            f"{config}: ok ({cfg.backend.kind} backend {cfg.backend.name!r}, "
            f"policy {cfg.policy!r}, {n_keys} API key(s))"
        )
        return
    from probity.serve.runner import serve

    err_console.print(
        f"probity gateway on http://{host or cfg.host}:"
        f"{cfg.port if port is None else port}/v1 ({cfg.backend.kind} backend)"
    )
    serve(cfg, host=host, port=port, log_level=log_level)


@serve_keys_app.command("new")
def keys_new(
    key_id: Annotated[
        str,
        typer.Option(
            "--id",
            help="A name for the key (letters, digits, '_', '.', '-'); goes into the audit log.",
        ),
    ],
    policy: Annotated[str | None, typer.Option("--policy", help="The key's policy.")] = None,
    allow: Annotated[
        list[str] | None,
        typer.Option(
            "--allow",
            help="A policy this key may choose with the X-Probity-Policy header (repeatable).",
        ),
    ] = None,
    scrypt: Annotated[
        bool,
        typer.Option(
            "--scrypt",
            help="Store an scrypt hash instead of SHA-256 (slower to check; SHA-256 "
            "is enough for these random 256-bit keys).",
        ),
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Mint a random API key; print the key (shown once) and the entry for the config's
    `keys:` list, which holds only its hash."""
    from probity.serve.auth import hash_api_key, new_api_key

    key = new_api_key(key_id)
    entry: dict[str, object] = {
        "id": key_id,
        "hash": hash_api_key(key, algo="scrypt" if scrypt else "sha256"),
    }
    if policy:
        entry["policy"] = policy
    if allow:
        entry["allowed_policies"] = list(allow)
    if json_out:
        print_json({"key": key, "entry": entry})
        return
    import yaml

    console.print(f"API key (shown once, give it to the client): [bold]{key}[/]", soft_wrap=True)
    console.print("Add this to the `keys:` list of gateway.yaml:")
    console.print(
        yaml.safe_dump([entry], sort_keys=False).rstrip(),
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


@serve_audit_app.command("repair")
def audit_repair(
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="The gateway's YAML configuration.")
    ] = None,
    path: Annotated[
        Path | None, typer.Option("--path", help="The audit log (instead of --config's).")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Move a torn last record (a crash mid-write) out of the audit log into
    `<log>.torn-<time>` so the gateway can start again, then verify the chain.

    Nothing is deleted; a log damaged anywhere but at its end is left alone (exit 2).
    """
    from probity.serve.audit import repair_tail

    rep = repair_tail(_audit_path(config, path))
    if json_out:
        print_json(rep.to_dict())
    elif rep.removed_bytes:
        console.print(
            f"moved a torn record ({rep.removed_bytes} bytes) to {rep.saved_to}; "
            f"{rep.records} records remain",
            soft_wrap=True,
        )
    else:
        console.print(f"{rep.path}: no torn record; {rep.records} records", soft_wrap=True)
    if not rep.ok:
        raise InputError(
            f"the audit log's chain is broken before its end: {rep.reason}",
            hint="`probity guard log verify` shows the first bad line",
        )


def _keys_path(config: Path | None, file: Path | None) -> str:
    if file is not None:
        return str(file)
    if config is None:
        raise InputError("give the keys file with --file, or the gateway's --config")
    from probity.serve.config import load_gateway_config

    cfg = load_gateway_config(config)
    if not cfg.keys_file:
        raise InputError(
            f"{config} has no keys_file: add `keys_file: gateway-keys.yaml` to it "
            "(keys there can change while the gateway runs)"
        )
    return cfg.keys_file


_FILE_OPT = typer.Option("--file", "-f", help="The keys file (the config's keys_file).")
_CONFIG_OPT = typer.Option("--config", "-c", help="The gateway config naming the keys_file.")


def _print_key(key: str, entry: object, path: str, json_out: bool, verb: str) -> None:
    if json_out:
        print_json({"key": key, "entry": entry, "file": path})
        return
    console.print(f"API key (shown once, give it to the client): [bold]{key}[/]", soft_wrap=True)
    console.print(
        f"{verb} in {path}; a running gateway picks it up within a second.", soft_wrap=True
    )


@serve_keys_app.command("add")
def keys_add(
    key_id: Annotated[
        str, typer.Option("--id", help="A name for the key (goes into the audit log).")
    ],
    file: Annotated[Path | None, _FILE_OPT] = None,
    config: Annotated[Path | None, _CONFIG_OPT] = None,
    policy: Annotated[str | None, typer.Option("--policy", help="The key's policy.")] = None,
    allow: Annotated[
        list[str] | None,
        typer.Option(
            "--allow", help="A policy the key may pick with X-Probity-Policy (repeatable)."
        ),
    ] = None,
    findings: Annotated[
        str | None, typer.Option("--findings", help="What clients see: full, summary or none.")
    ] = None,
    rpm: Annotated[
        int | None, typer.Option("--requests-per-minute", help="Request rate limit (HTTP 429).")
    ] = None,
    tpd: Annotated[
        int | None, typer.Option("--tokens-per-day", help="Daily token budget (HTTP 429).")
    ] = None,
    scrypt: Annotated[bool, typer.Option("--scrypt", help="Store an scrypt hash.")] = False,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Mint a key and add its hash to the keys file (no restart needed)."""
    from probity.serve.keyfile import add_key

    path = _keys_path(config, file)
    key, entry = add_key(
        path,
        key_id,
        scrypt=scrypt,
        policy=policy,
        allowed_policies=tuple(allow or ()),
        findings=findings,
        requests_per_minute=rpm,
        tokens_per_day=tpd,
    )
    _print_key(key, entry.model_dump(exclude_none=True), path, json_out, f"added {key_id!r}")


@serve_keys_app.command("rotate")
def keys_rotate(
    key_id: Annotated[str, typer.Option("--id", help="The key to give a new secret.")],
    file: Annotated[Path | None, _FILE_OPT] = None,
    config: Annotated[Path | None, _CONFIG_OPT] = None,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Give a key a new secret (same id and settings); the old secret stops working."""
    from probity.serve.keyfile import rotate_key

    path = _keys_path(config, file)
    key, entry = rotate_key(path, key_id)
    _print_key(key, entry.model_dump(exclude_none=True), path, json_out, f"rotated {key_id!r}")


@serve_keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Option("--id", help="The key to remove.")],
    file: Annotated[Path | None, _FILE_OPT] = None,
    config: Annotated[Path | None, _CONFIG_OPT] = None,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Remove a key from the keys file; a running gateway refuses it within a second."""
    from probity.serve.keyfile import revoke_key

    path = _keys_path(config, file)
    revoke_key(path, key_id)
    if json_out:
        print_json({"revoked": key_id, "file": path})
    else:
        console.print(f"revoked {key_id!r} in {path}", soft_wrap=True)


@serve_keys_app.command("list")
def keys_list(
    file: Annotated[Path | None, _FILE_OPT] = None,
    config: Annotated[Path | None, _CONFIG_OPT] = None,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """The keys in the keys file: ids and settings (hash algorithms, never secrets)."""
    from probity.serve.keyfile import load_keys_file

    path = _keys_path(config, file)
    if file is not None and not Path(path).is_file():
        # a keys file the user named must exist; only the default one may not exist yet
        raise InputError(f"keys file not found: {str(path)!r}")
    rows = [
        {**k.model_dump(exclude_none=True, exclude={"hash"}), "algo": k.hash.split(":")[0]}
        for k in load_keys_file(path)
    ]
    if json_out:
        print_json({"file": path, "keys": rows})
        return
    for r in rows:
        console.print(
            f"{r['id']}: {r['algo']}, policy {r.get('policy') or '(default)'}", soft_wrap=True
        )
    if not rows:
        console.print(f"{path}: no keys", soft_wrap=True)
