"""``probity serve``: run the OpenAI-compatible gateway; ``probity serve keys new``: mint a key."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from probity.cli._groups import serve_app
from probity.cli._output import JSON_HELP, console, err_console, print_json
from probity.errors import InputError

serve_keys_app = typer.Typer(
    help="Mint API keys for the gateway (stored only as hashes).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
serve_app.add_typer(serve_keys_app, name="keys")


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
    from probity.serve.config import load_gateway_config

    cfg = load_gateway_config(config)
    cfg.check_bind(host)
    if check:
        console.print(
            f"{config}: ok ({cfg.backend.kind} backend {cfg.backend.name!r}, "
            f"policy {cfg.policy!r}, {len(cfg.keys)} API key(s))"
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
