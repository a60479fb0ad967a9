"""``probity watermark generate|detect|verify`` and ``probity keys new|list|show|export``.

Shared options live in ``_watermark_options``; ``watermark calibrate`` and
``watermark c2pa-verify`` in ``watermark_calibrate`` and ``watermark_c2pa``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from probity.cli._groups import keys_app, watermark_app
from probity.cli._output import FILE_HELP, JSON_HELP, console, print_json, text_argument
from probity.cli._watermark_options import (
    BackendOpt,
    DeltaOpt,
    GammaOpt,
    HardOpt,
    HashKeyOpt,
    KeyOpt,
    NgramOpt,
    SchemeOpt,
    SeedingOpt,
    SynthKeysOpt,
    SynthScoreOpt,
    TokenIdsOpt,
    TokenizerOpt,
    VocabOpt,
    WidthOpt,
    _check_fpr,
    _encoder,
    _scheme,
    _tokenizer_folder,
    _with_vocab,
    parse_token_ids,
)
from probity.errors import InputError


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
    backend: BackendOpt = None,
    hashing_key: HashKeyOpt = None,
    synthid_keys: SynthKeysOpt = None,
    ngram_len: NgramOpt = 5,
    max_new_tokens: Annotated[
        int, typer.Option("--max-new-tokens", help="Tokens to generate.")
    ] = 64,
    temperature: Annotated[
        float, typer.Option("--temperature", help="Sampling temperature (> 0).")
    ] = 1.0,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed.")] = None,
    c2pa: Annotated[
        bool,
        typer.Option(
            "--c2pa",
            help="Embed signed C2PA content credentials (AI-generated, watermark parameters) "
            "in the text, signed with the Probity home's local C2PA identity; check them with "
            "`probity watermark c2pa-verify`.",
        ),
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Generate a watermarked continuation of PROMPT with a local model."""
    from probity.lm import GenerationParams, load_model
    from probity.watermark import generate

    text = text_argument(prompt, None, what="prompt")
    sch = _scheme(
        scheme,
        key,
        gamma,
        delta,
        hard,
        context_width,
        seeding,
        backend,
        hashing_key,
        synthid={"keys": synthid_keys, "ngram_len": ngram_len},
    )
    if temperature <= 0:
        raise InputError(f"--temperature must be > 0 for watermarked sampling, got {temperature}")
    params = GenerationParams(max_new_tokens=max_new_tokens, temperature=temperature, seed=seed)
    lm = load_model(model)
    with console.status("generating", spinner="dots") if not json_out else _null():
        out = generate(lm, [text], sch, params)[0]
    final = out.text
    if c2pa:
        from probity.watermark.content_credentials import attach_content_credentials

        final = attach_content_credentials(out.text, sch.public_params())
    if json_out:
        result = {"prompt": text, "completion": out.to_dict(), "params": sch.public_params()}
        if c2pa:
            result["text_with_content_credentials"] = final
        print_json(result)
    else:
        # the exact text, never re-wrapped (it is often redirected to a file and detected);
        # a final newline only on a terminal, so `> story.txt` holds exactly the completion
        sys.stdout.write(final)
        if sys.stdout.isatty():
            sys.stdout.write("\n")
        sys.stdout.flush()


class _null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *a: Any) -> None:
        return None


def _print_detection(d: Any, label: str = "") -> None:
    verdict = "WATERMARKED" if d.watermarked else "not watermarked"
    typer.echo(
        f"{label}{verdict} at FPR {d.fpr:g}: p-value {d.p_value:.3g}, z {d.z:.2f}, "
        f"{d.green}/{d.scored} green ({d.scheme})"
    )
    typer.echo(f"  null: {d.null}")
    if d.window:
        w = d.window
        typer.echo(
            f"  best window: tokens {w['start']}-{w['end']} "
            f"({w['green']}/{w['scored']} green, raw p {w['p_value_raw']:.3g}, "
            f"corrected for {w['windows_tried']} windows)"
        )


def _detect_one(value: Any, sch: Any, encoder: Any, kw: dict[str, Any], ids: bool, where: str):
    from probity.watermark import detect_text

    if ids:
        prompt = kw.get("prompt")
        prompt_ids = encoder.encode(prompt) if prompt and encoder else None
        if prompt and encoder is None:
            raise InputError("--prompt with --token-ids needs --tokenizer (to encode the prompt)")
        return sch.detect(
            parse_token_ids(value, where),
            fpr=kw["fpr"],
            prompt_ids=prompt_ids,
            windowed=kw["windowed"],
            ignore_repeated=kw["ignore_repeated"],
        )
    if not isinstance(value, str):
        raise InputError(f"{where}: expected text (a string); for token ids add --token-ids")
    return detect_text(value, sch, encoder, **kw)


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
    tokenizer: TokenizerOpt = None,
    token_ids: TokenIdsOpt = False,
    scheme: SchemeOpt = "kgw",
    gamma: GammaOpt = 0.25,
    delta: DeltaOpt = 2.0,
    hard: HardOpt = False,
    context_width: WidthOpt = None,
    seeding: SeedingOpt = "lefthash",
    backend: BackendOpt = None,
    hashing_key: HashKeyOpt = None,
    synthid_keys: SynthKeysOpt = None,
    ngram_len: NgramOpt = 5,
    synthid_score: SynthScoreOpt = "weighted_mean",
    vocab_size: VocabOpt = None,
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
    uncalibrated: Annotated[
        bool,
        typer.Option(
            "--uncalibrated",
            help="Ignore the key's stored calibration (`probity watermark calibrate`) and use "
            "the i.i.d. binomial/Gamma null.",
        ),
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Detect a watermark in TEXT, --file or every record of --jsonl, with a p-value.

    Someone who watermarked with transformers' WatermarkingConfig detects with
    `--backend hf-compat --hashing-key K --gamma R --seeding S --context-width W`.
    A key calibrated with `probity watermark calibrate` is tested against that calibration
    (the output's `null` says which null the p-value used). Exit 0 whatever the verdict.
    """
    from probity.watermark import attach_calibration, strip_prompt

    synthid = {"keys": synthid_keys, "ngram_len": ngram_len, "score": synthid_score}
    sch = _scheme(
        scheme,
        key,
        gamma,
        delta,
        hard,
        context_width,
        seeding,
        backend,
        hashing_key,
        vocab_size,
        synthid=synthid,
    )
    if not uncalibrated:
        sch = attach_calibration(sch)
    _check_fpr(fpr)
    encoder = _encoder(tokenizer, token_ids, sch)
    sch = _with_vocab(sch, encoder)
    kw = dict(prompt=prompt, fpr=fpr, windowed=windowed, ignore_repeated=not keep_repeats)
    if jsonl is not None:
        if text is not None or file is not None:
            raise InputError("give --jsonl alone, not with TEXT or --file")
        _detect_jsonl(jsonl, field, sch, encoder, kw, json_out, token_ids)
        return
    body = text_argument(text, file)
    det = _detect_one(body, sch, encoder, kw, token_ids, "the input")
    cert = None
    if certificate is not None:
        from probity.io import write_json_atomic
        from probity.watermark import certify, load_key

        if key is None:
            raise InputError("--certificate needs --key (the key that signs it)")
        from probity.watermark.certificates import model_digest, tokenizer_digest

        ids = parse_token_ids(body) if token_ids else encoder.encode(strip_prompt(body, prompt))
        folder = _tokenizer_folder(tokenizer)
        cert = certify(
            det,
            load_key(key),
            body,
            token_ids=ids,
            tokenizer_sha256=tokenizer_digest(folder) if folder else None,
            model_sha256=model_digest(folder) if folder else None,
        )
        write_json_atomic(certificate, cert.to_dict())
    if json_out:
        print_json(det)
    else:
        _print_detection(det)
        if cert is not None:
            typer.echo(f"certificate written to {certificate}")


def _detect_jsonl(
    path: Path,
    field: str,
    sch: Any,
    encoder: Any,
    kw: dict[str, Any],
    json_out: bool,
    token_ids: bool = False,
) -> None:
    from probity.cli._output import track
    from probity.io import dumps, iter_jsonl

    rows = []
    for lineno, obj in track(iter_jsonl(path), "detecting", enabled=not json_out):
        value = obj.get(field)
        if value is None:
            raise InputError(
                f"{path}:{lineno}: record has no field {field!r}; choose it with --field"
            )
        det = _detect_one(value, sch, encoder, kw, token_ids, f"{path}:{lineno}")
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
    token_ids_file: Annotated[
        Path | None,
        typer.Option(
            "--token-ids-file",
            help="Token ids you re-scored (a JSON list or whitespace-separated integers), to "
            "check against the certified token ids hash.",
        ),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Verify a watermark certificate's Ed25519 signature (exit 1 if tampered).

    Exit 1 also when the given text or token ids do not match; 2 for unreadable input.
    """
    from probity.io import read_text
    from probity.watermark import verify_certificate

    body = text_argument(text, file) if (text is not None or file is not None) else None
    ids = None
    if token_ids_file is not None:
        ids = parse_token_ids(read_text(token_ids_file), str(token_ids_file))
    res = verify_certificate(cert, public_key, text=body, token_ids=ids)
    if json_out:
        print_json(res)
        return
    c = res.claims
    who = "the given public key" if res.key_matched else "its embedded key (not a trusted key)"
    typer.echo(f"valid: signed by {res.key_id} with {who}")
    typer.echo(
        f"  {c.get('scheme')}: p-value {c.get('p_value'):.3g}, "
        f"{c.get('green')}/{c.get('scored')} green, watermarked={c.get('watermarked')}, "
        f"issued {c.get('issued_at')}"
    )
    if ids is not None:
        typer.echo("  the token ids match the certified token ids hash")
    if res.text_matched:
        typer.echo("  the text matches the certified hash")
    else:
        typer.echo(
            "  text not checked: give --file or --text to check that the certificate is about "
            "your text"
        )


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
    """List every signing key in the Probity home, by purpose (watermark, unlearning, audit)."""
    from probity.signing import list_signing_keys

    keys = list_signing_keys()
    if json_out:
        print_json([k.to_dict() for k in keys])
        return
    if not keys:
        console.print("no keys yet; create one with `probity keys new NAME`")
        return
    from rich.table import Table

    table = Table("key id", "purpose", "name", "created", "public key")
    for k in keys:
        table.add_row(k.key_id, k.purpose, k.name, k.created, k.public_key[:16] + "...")
    console.print(table)


@keys_app.command("show")
def keys_show(
    key: Annotated[str, typer.Argument(help="Key id, name or key file.")],
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Show a key's public details (never its secret)."""
    from probity.signing.keystore import PURPOSE_FILES, purpose_public_export
    from probity.watermark import load_key

    if key in PURPOSE_FILES:  # the unlearning / audit signing key
        data = purpose_public_export(key)
        if json_out:
            print_json(data)
        else:
            for name, value in data.items():
                console.print(f"{name}: {value}", markup=False, highlight=False)
        return
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
    from probity.signing.keystore import PURPOSE_FILES, purpose_public_export
    from probity.watermark import load_key

    if key in PURPOSE_FILES and not secret:  # the unlearning / audit signing key
        data = purpose_public_export(key)
        if out is None:
            print_json(data)
            return
        write_json_atomic(out, data)
        if json_out:
            print_json({"written": str(out), **data})
        else:
            console.print(f"wrote public key {data['key_id']} to {out}")
        return
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
