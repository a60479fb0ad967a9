"""``probity watermark generate|detect|verify`` and ``probity keys new|list|show|export``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from probity.cli._groups import keys_app, watermark_app
from probity.cli._output import FILE_HELP, JSON_HELP, console, print_json, text_argument
from probity.errors import InputError

# -- shared scheme options ---------------------------------------------------------------------

SchemeOpt = Annotated[
    str,
    typer.Option(
        "--scheme", help="Watermark scheme: kgw (green/red lists) or gumbel (distortion-free)."
    ),
]
GammaOpt = Annotated[
    float,
    typer.Option(
        "--gamma",
        help="kgw: green fraction of the vocabulary, in (0, 1) (transformers: greenlist_ratio).",
    ),
]
DeltaOpt = Annotated[
    float,
    typer.Option("--delta", help="kgw: logit bias added to green tokens (transformers: bias)."),
]
HardOpt = Annotated[bool, typer.Option("--hard", help="kgw: sample from green tokens only.")]
WidthOpt = Annotated[
    int | None,
    typer.Option(
        "--context-width",
        help="Tokens of context that seed the green list (kgw default 1, gumbel 2).",
    ),
]
SeedingOpt = Annotated[
    str,
    typer.Option(
        "--seeding",
        help="kgw: lefthash (previous tokens) or "
        "selfhash (min-hash over a window incl. the token).",
    ),
]
BackendOpt = Annotated[
    str,
    typer.Option(
        "--backend",
        help="kgw PRF: fast (default) or "
        "hf-compat (bit-identical with transformers' "
        "WatermarkingConfig).",
    ),
]
HashKeyOpt = Annotated[
    int | None,
    typer.Option(
        "--hashing-key", help="hf-compat: transformers' integer hashing_key (instead of --key)."
    ),
]
KeyOpt = Annotated[
    str | None, typer.Option("--key", "-k", help="Key id, name or key file (`probity keys list`).")
]


def _scheme(
    scheme: str,
    key: str | None,
    gamma: float,
    delta: float,
    hard: bool,
    context_width: int | None,
    seeding: str,
    backend: str,
    hashing_key: int | None,
    vocab_size: int | None = None,
) -> Any:
    from probity.watermark import load_key, make_scheme

    if key is None and hashing_key is None:
        raise InputError(
            "no key given: pass --key (see `probity keys list`, or create one with "
            "`probity keys new`), or --hashing-key with --backend hf-compat"
        )
    if hashing_key is not None and backend != "hf-compat":
        raise InputError("--hashing-key is transformers' key: use it with --backend hf-compat")
    k: Any = hashing_key if hashing_key is not None else load_key(key)  # type: ignore[arg-type]
    if scheme == "gumbel":
        return make_scheme("gumbel", k, context_width=context_width or 2)
    if scheme != "kgw":
        raise InputError(f"unknown scheme {scheme!r}; use kgw or gumbel")
    return make_scheme(
        "kgw",
        k,
        gamma=gamma,
        delta=delta,
        hard=hard,
        context_width=context_width or 1,
        seeding=seeding,
        backend=backend,
        vocab_size=vocab_size,
    )


@watermark_app.command("generate")
def generate_cmd(
    prompt: Annotated[str, typer.Argument(help="The prompt ('-' reads stdin).")],
    model: Annotated[
        str | None,
        typer.Option(
            "--model", "-m", help="Model path or hub name (default: the embedded demo model)."
        ),
    ] = None,
    key: KeyOpt = None,
    scheme: SchemeOpt = "kgw",
    gamma: GammaOpt = 0.25,
    delta: DeltaOpt = 2.0,
    hard: HardOpt = False,
    context_width: WidthOpt = None,
    seeding: SeedingOpt = "lefthash",
    backend: BackendOpt = "fast",
    hashing_key: HashKeyOpt = None,
    max_new_tokens: Annotated[
        int, typer.Option("--max-new-tokens", help="Tokens to generate.")
    ] = 64,
    temperature: Annotated[
        float, typer.Option("--temperature", help="Sampling temperature (> 0).")
    ] = 1.0,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Generate a watermarked continuation of PROMPT with a local model."""
    from probity.lm import GenerationParams, load_model
    from probity.watermark import generate

    text = text_argument(prompt, None, what="prompt")
    sch = _scheme(scheme, key, gamma, delta, hard, context_width, seeding, backend, hashing_key)
    if temperature <= 0:
        raise InputError(f"--temperature must be > 0 for watermarked sampling, got {temperature}")
    params = GenerationParams(max_new_tokens=max_new_tokens, temperature=temperature, seed=seed)
    lm = load_model(model)
    with console.status("generating", spinner="dots") if not json_out else _null():
        out = generate(lm, [text], sch, params)[0]
    if json_out:
        print_json({"prompt": text, "completion": out.to_dict(), "params": sch.public_params()})
    else:
        console.print(out.text, markup=False, highlight=False)


class _null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *a: Any) -> None:
        return None


def _print_detection(d: Any, label: str = "") -> None:
    verdict = "[bold green]WATERMARKED[/]" if d.watermarked else "[bold]not watermarked[/]"
    console.print(
        f"{label}{verdict} at FPR {d.fpr:g}: p-value {d.p_value:.3g}, z {d.z:.2f}, "
        f"{d.green}/{d.scored} green ({d.scheme})"
    )
    if d.window:
        w = d.window
        console.print(
            f"  best window: tokens {w['start']}-{w['end']} "
            f"({w['green']}/{w['scored']} green, raw p {w['p_value_raw']:.3g}, "
            f"corrected for {w['windows_tried']} windows)"
        )


@watermark_app.command("detect")
def detect_cmd(
    text: Annotated[str | None, typer.Argument(help="Text to check ('-' reads stdin).")] = None,
    file: Annotated[Path | None, typer.Option("--file", "-f", help=FILE_HELP)] = None,
    jsonl: Annotated[
        Path | None,
        typer.Option("--jsonl", help="Check every record of a JSONL file (see --field)."),
    ] = None,
    field: Annotated[str, typer.Option("--field", help="JSONL field holding the text.")] = "text",
    key: KeyOpt = None,
    tokenizer: Annotated[
        str | None,
        typer.Option(
            "--tokenizer",
            "-t",
            help="Tokenizer/model "
            "path or name used to generate (default: "
            "the embedded demo model).",
        ),
    ] = None,
    scheme: SchemeOpt = "kgw",
    gamma: GammaOpt = 0.25,
    delta: DeltaOpt = 2.0,
    hard: HardOpt = False,
    context_width: WidthOpt = None,
    seeding: SeedingOpt = "lefthash",
    backend: BackendOpt = "fast",
    hashing_key: HashKeyOpt = None,
    vocab_size: Annotated[
        int | None,
        typer.Option(
            "--vocab-size",
            help="hf-compat: the model config's vocab_size (default: read from --tokenizer).",
        ),
    ] = None,
    prompt: Annotated[
        str | None,
        typer.Option(
            "--prompt", help="The prompt: stripped from the text and used as context only."
        ),
    ] = None,
    fpr: Annotated[
        float, typer.Option("--fpr", help="False-positive rate of the verdict, in (0, 1).")
    ] = 1e-4,
    windowed: Annotated[
        bool,
        typer.Option(
            "--windowed", help="Find the most watermarked window (mixed text); p-value corrected."
        ),
    ] = False,
    keep_repeats: Annotated[
        bool,
        typer.Option(
            "--keep-repeats", help="Score repeated (context, token) pairs (not recommended)."
        ),
    ] = False,
    certificate: Annotated[
        Path | None,
        typer.Option(
            "--certificate",
            help="Write a signed certificate of the result to this file (needs --key).",
        ),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Detect a watermark in TEXT, --file or every record of --jsonl, with a p-value.

    Someone who watermarked with transformers' WatermarkingConfig detects with
    `--backend hf-compat --hashing-key K --gamma R --seeding S --context-width W`.
    """
    from probity.watermark import detect_text
    from probity.watermark.api import _resolve_tokenizer

    sch = _scheme(
        scheme, key, gamma, delta, hard, context_width, seeding, backend, hashing_key, vocab_size
    )
    tok_ref: Any = tokenizer
    if tokenizer is None:
        from probity.lm import load_model

        tok_ref = load_model(None)
    encoder = _Encoder(_resolve_tokenizer(tok_ref))
    kw = dict(prompt=prompt, fpr=fpr, windowed=windowed, ignore_repeated=not keep_repeats)
    if jsonl is not None:
        if text is not None or file is not None:
            raise InputError("give --jsonl alone, not with TEXT or --file")
        _detect_jsonl(jsonl, field, sch, encoder, kw, json_out)
        return
    body = text_argument(text, file)
    det = detect_text(body, sch, encoder, **kw)
    cert = None
    if certificate is not None:
        from probity.io import write_json_atomic
        from probity.watermark import certify, load_key

        if key is None:
            raise InputError("--certificate needs --key (the key that signs it)")
        cert = certify(det, load_key(key), body)
        write_json_atomic(certificate, cert.to_dict())
    if json_out:
        print_json(det)
    else:
        _print_detection(det)
        if cert is not None:
            console.print(f"certificate written to {certificate}")


class _Encoder:
    """A resolved tokenizer passed to detect_text (so a path is loaded once)."""

    def __init__(self, resolved: tuple[Any, int | None]) -> None:
        self._encode, self.vocab_size = resolved

    def encode(self, text: str) -> list[int]:
        return self._encode(text)

    def next_token_logits(self, ids: Any) -> Any:  # marks it as model-like for the resolver
        raise NotImplementedError


def _detect_jsonl(
    path: Path, field: str, sch: Any, encoder: Any, kw: dict[str, Any], json_out: bool
) -> None:
    from probity.cli._output import track
    from probity.io import dumps, iter_jsonl
    from probity.watermark import detect_text

    rows = []
    for lineno, obj in track(iter_jsonl(path), "detecting", enabled=not json_out):
        value = obj.get(field)
        if not isinstance(value, str):
            raise InputError(
                f"{path}:{lineno}: field {field!r} is missing or not a string; "
                "choose it with --field"
            )
        det = detect_text(value, sch, encoder, **kw)
        rows.append((lineno, det))
        if json_out:
            print(dumps({"line": lineno, **det.to_dict()}), flush=True)
    if not json_out:
        from rich.table import Table

        table = Table("line", "verdict", "p-value", "z", "green/scored")
        for lineno, det in rows:
            table.add_row(
                str(lineno),
                "watermarked" if det.watermarked else "-",
                f"{det.p_value:.3g}",
                f"{det.z:.2f}",
                f"{det.green}/{det.scored}",
            )
        console.print(table)


@watermark_app.command("verify")
def verify_cmd(
    cert: Annotated[Path, typer.Argument(help="Certificate JSON file.")],
    public_key: Annotated[
        str | None,
        typer.Option(
            "--public-key",
            help="The signer's public "
            "key: export file, hex or key id. Without "
            "it the embedded key is used (integrity "
            "only).",
        ),
    ] = None,
    text: Annotated[
        str | None, typer.Option("--text", help="The certified text, to check its hash.")
    ] = None,
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help="Read the certified text from this file.")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Verify a watermark certificate's Ed25519 signature (exit 1 if tampered)."""
    from probity.watermark import verify_certificate

    body = text_argument(text, file) if (text is not None or file is not None) else None
    res = verify_certificate(cert, public_key, text=body)
    if json_out:
        print_json(res)
        return
    c = res.claims
    who = "the given public key" if res.key_matched else "its embedded key (not a trusted key)"
    console.print(f"[bold green]valid[/]: signed by {res.key_id} with {who}")
    console.print(
        f"  {c.get('scheme')}: p-value {c.get('p_value'):.3g}, "
        f"{c.get('green')}/{c.get('scored')} green, watermarked={c.get('watermarked')}, "
        f"issued {c.get('issued_at')}"
    )
    if res.text_matched:
        console.print("  the text matches the certified hash")


# -- keys ---------------------------------------------------------------------------------------


@keys_app.command("new")
def keys_new(
    name: Annotated[
        str | None, typer.Argument(help="A name for the key (default: its id).")
    ] = None,
    hf_hashing_key: Annotated[
        int | None,
        typer.Option(
            "--hf-hashing-key",
            help="Store transformers' integer hashing_key for the hf-compat backend.",
        ),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Create a watermark key (secret + Ed25519 signing keypair) in the Probity home."""
    from probity.watermark import new_key

    k = new_key(name, hf_hashing_key=hf_hashing_key)
    if json_out:
        print_json(k)
    else:
        console.print(f"created key [bold]{k.key_id}[/] ({k.name}) at {k.path}")


@keys_app.command("list")
def keys_list(json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False) -> None:
    """List the keys in the Probity home."""
    from probity.watermark import list_keys

    keys = list_keys()
    if json_out:
        print_json([k.to_dict() for k in keys])
        return
    if not keys:
        console.print("no keys yet; create one with `probity keys new NAME`")
        return
    from rich.table import Table

    table = Table("key id", "name", "created", "public key")
    for k in keys:
        table.add_row(k.key_id, k.name, k.created, k.public_key_hex[:16] + "...")
    console.print(table)


@keys_app.command("show")
def keys_show(
    key: Annotated[str, typer.Argument(help="Key id, name or key file.")],
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Show a key's public details (never its secret)."""
    from probity.watermark import load_key

    k = load_key(key)
    if json_out:
        print_json(k)
        return
    for name, value in k.to_dict().items():
        console.print(f"{name}: {value}", markup=False, highlight=False)


@keys_app.command("export")
def keys_export(
    key: Annotated[str, typer.Argument(help="Key id, name or key file.")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write to this file instead of stdout.")
    ] = None,
    secret: Annotated[
        bool,
        typer.Option(
            "--secret",
            help="Export the full key, secret included (for another detector you control).",
        ),
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Export a key's public part (for third parties who verify certificates), or with
    --secret the whole key."""
    from probity.io import write_json_atomic
    from probity.watermark import load_key

    k = load_key(key)
    data = k.secret_export() if secret else k.public_export()
    if out is not None:
        write_json_atomic(out, data, permissions=0o600 if secret else None)
        if json_out:
            print_json({"written": str(out), **k.public_export()})
        else:
            console.print(f"wrote {'secret' if secret else 'public'} key {k.key_id} to {out}")
    else:
        print_json(data)
