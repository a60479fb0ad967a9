"""``probity watermark c2pa-verify``: C2PA content credentials embedded in a text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from probity.cli._groups import watermark_app
from probity.cli._output import FILE_HELP, JSON_HELP, print_json, text_argument


@watermark_app.command("c2pa-verify")
def c2pa_verify_cmd(
    text: Annotated[str | None, typer.Argument(help="Text to check ('-' reads stdin).")] = None,
    file: Annotated[Path | None, typer.Option("--file", "-f", help=FILE_HELP)] = None,
    trust: Annotated[
        Path | None,
        typer.Option(
            "--trust",
            help="PEM trust anchors (default: the Probity home's local C2PA CA, if any).",
        ),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Verify C2PA content credentials embedded in a text with the c2pa library.

    Exit 1 if the text or manifest was altered or the signer is not trusted.
    """
    from probity.errors import InputError
    from probity.home import keys_dir
    from probity.io import read_text
    from probity.watermark.content_credentials import verify_content_credentials

    if file is not None and text is None:
        if not file.is_file():
            raise InputError(f"file not found: {str(file)!r}")
        with open(file, encoding="utf-8", newline="") as fh:  # keep the bytes as written
            body = fh.read()
    else:
        body = text_argument(text, file)
    anchors = None
    if trust is not None:
        anchors = read_text(trust)
    elif (keys_dir() / "c2pa" / "ca.pem").is_file():
        anchors = (keys_dir() / "c2pa" / "ca.pem").read_text()
    cred = verify_content_credentials(body, trust_anchors=anchors)
    if json_out:
        print_json(cred)
        return
    who = cred.signer.get("common_name", "?")
    typer.echo(
        f"valid C2PA manifest: signed by {who!r} ({'trusted' if cred.trusted else 'NOT trusted'})"
    )
    typer.echo(f"  AI-generated (trainedAlgorithmicMedia): {cred.ai_generated}")
    typer.echo(f"  watermark: {json.dumps(cred.watermark, sort_keys=True)}")
    for f in cred.accepted_failures:
        typer.echo(f"  accepted limitation: {f}")
