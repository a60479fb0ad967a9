"""``probity verify CERT --key PUB``: check any Probity certificate against a pinned key.

Registered as a top-level command in ``probity.cli`` (it belongs to no single area).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from probity.cli._output import JSON_HELP, console, print_json


def verify_cmd(
    cert: Annotated[Path, typer.Argument(help="Certificate JSON file (any Probity kind).")],
    key: Annotated[
        str,
        typer.Option(
            "--key",
            "-k",
            help="The signer's public key you trust: a `probity keys export` file or 64 hex "
            "digits. Required: an embedded key proves nothing about who signed.",
        ),
    ],
    model: Annotated[
        Path | None,
        typer.Option(
            "--model",
            "-m",
            help="For unlearning certificates: also check the certificate is in this SISA "
            "model's ledger.",
        ),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Verify a certificate's Ed25519 signature against a pinned public key (exit 1 if it was
    altered or signed by another key). Dispatches on the certificate's kind: watermark
    detection, unlearning, audit."""
    from probity.signing import verify_any

    res = verify_any(cert, key, model_dir=model)
    if json_out:
        print_json(res)
        return
    console.print(
        f"valid: {res['kind']} certificate signed by {res['key_id']} with the pinned key"
        + (f"; recorded in {model}'s ledger" if model is not None else ""),
        markup=False,
        highlight=False,
    )
