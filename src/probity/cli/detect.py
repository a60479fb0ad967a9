"""``probity detect``: was this text machine-generated? Watermark proof, then zero-shot evidence."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from probity.cli import app
from probity.cli._output import FILE_HELP, JSON_HELP, console, print_json, text_argument, track
from probity.errors import InputError


@app.command("detect")
def detect_command(
    text: Annotated[str | None, typer.Argument(help="The text to check ('-' reads stdin).")] = None,
    file: Annotated[Path | None, typer.Option("--file", help=FILE_HELP)] = None,
    jsonl: Annotated[
        Path | None, typer.Option("--jsonl", help="Check every record of a JSONL file.")
    ] = None,
    field: Annotated[str, typer.Option("--field", help="Text field of --jsonl records.")] = "text",
    key: Annotated[
        list[str] | None,
        typer.Option(
            "--key",
            help="Watermark key id, name or key file to check (repeatable); --model must be "
            "the watermarking model (its tokenizer).",
        ),
    ] = None,
    scheme: Annotated[
        str, typer.Option("--scheme", help="Watermark scheme used at generation: kgw or gumbel.")
    ] = "kgw",
    gamma: Annotated[
        float | None,
        typer.Option("--gamma", help="kgw: green fraction used at generation (default 0.25)."),
    ] = None,
    context_width: Annotated[
        int | None,
        typer.Option("--context-width", help="Watermark context width (default: kgw 1, gumbel 2)."),
    ] = None,
    seeding: Annotated[
        str | None,
        typer.Option("--seeding", help="kgw: lefthash (default) or selfhash."),
    ] = None,
    backend: Annotated[
        str | None,
        typer.Option("--backend", help="kgw: fast (default) or hf-compat."),
    ] = None,
    windowed: Annotated[
        bool,
        typer.Option(
            "--windowed",
            help="Look for the best watermarked window (for partly edited or mixed text).",
        ),
    ] = False,
    method: Annotated[
        str,
        typer.Option(
            "--method", help="Zero-shot detector: fast-detectgpt, binoculars or perplexity."
        ),
    ] = "fast-detectgpt",
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="Scoring model (and watermark "
            "tokenizer): path or hub name; default: the embedded demo model.",
        ),
    ] = None,
    performer: Annotated[
        str | None,
        typer.Option("--performer", help="Binoculars' second model (same tokenizer as --model)."),
    ] = None,
    human: Annotated[
        Path | None,
        typer.Option(
            "--human",
            help="Calibrate on this file of human "
            "text first (JSONL with --field, or one text per blank-line-separated paragraph) and save the calibration.",
        ),
    ] = None,
    fpr: Annotated[
        float, typer.Option("--fpr", help="False-positive rate for the zero-shot verdict.")
    ] = 0.01,
    watermark_fpr: Annotated[
        float,
        typer.Option("--watermark-fpr", help="False-positive rate for the watermark verdict."),
    ] = 1e-4,
    certificate: Annotated[
        Path | None,
        typer.Option(
            "--certificate",
            help="Write the signed watermark certificate here when the text is proven "
            "watermarked (verify it with `probity watermark verify`).",
        ),
    ] = None,
    no_zero_shot: Annotated[
        bool, typer.Option("--no-zero-shot", help="Only check watermarks.")
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Check text for a Probity watermark (proof, with a certificate), then for zero-shot
    evidence of machine generation calibrated on human text (evidence, not proof)."""
    from probity.detect import ZeroShotDetector, calibration_path, find_calibration, provenance
    from probity.io import iter_texts, read_text

    if scheme not in ("kgw", "gumbel"):
        raise InputError(f"unknown watermark scheme {scheme!r}; use kgw or gumbel")
    params: dict[str, object] = {"scheme": scheme, "context_width": context_width}
    if scheme == "kgw":
        params.update(gamma=gamma, seeding=seeding, backend=backend)
    elif gamma is not None or seeding is not None or backend is not None:
        raise InputError("--gamma, --seeding and --backend are kgw settings; gumbel has none")
    if no_zero_shot and not key:
        raise InputError("--no-zero-shot leaves nothing to check: give --key as well")
    if certificate is not None and (not key or jsonl is not None):
        raise InputError("--certificate needs --key and a single text (TEXT or --file)")
    if jsonl is not None:
        if text is not None or file is not None:
            raise InputError("give TEXT, --file or --jsonl, not several")
        numbered = list(iter_texts(jsonl, field))
        texts = [t for _, t in numbered]
        if not texts:
            raise InputError(f"{jsonl} holds no records")
    else:
        texts = [text_argument(text, file)]
    if key:
        from probity.watermark import load_key

        for k in key:  # an unknown key fails before the model is loaded
            load_key(k)
    from probity.lm import load_model

    lm = load_model(model)
    detector = None
    if not no_zero_shot:
        detector = ZeroShotDetector(method, lm, performer=performer)
        if human is not None:
            if ".jsonl" in "".join(human.suffixes):
                human_texts = [t for _, t in iter_texts(human, field)]
            else:
                human_texts = [p for p in read_text(human).split("\n\n") if p.strip()]
            cal = detector.calibrate(human_texts, source=f"{human.name} ({len(human_texts)} texts)")
            cal.save(calibration_path(method, detector.models))
        else:
            detector.calibration = find_calibration(method, detector.models)
    # Batches of texts, so that a long --jsonl run shows a progress bar (on stderr) with an
    # ETA; each batch is still scored in a few tensor operations.
    chunk = 32
    starts = range(0, len(texts), chunk)
    reports = []
    for start in track(starts, "checking texts", total=len(starts), enabled=len(texts) > chunk):
        reports += provenance(
            texts[start : start + chunk],
            keys=key or (),
            detector=detector,
            tokenizer=lm,
            watermark_fpr=watermark_fpr,
            zero_shot_fpr=fpr,
            scheme_params=params,
            windowed=windowed,
        )
    if certificate is not None and reports[0].certificate is not None:
        from probity.io import write_json_atomic

        write_json_atomic(certificate, reports[0].certificate)
    if json_out:
        if jsonl is None:
            print_json(reports[0].to_dict())
            return
        from probity.io import dumps

        # JSON lines, one per record, as `probity watermark detect --jsonl --json` prints them
        for (record, _), rep in zip(numbered, reports, strict=True):
            sys.stdout.write(dumps({"record": record, **rep.to_dict()}) + "\n")
        sys.stdout.flush()
        return
    for i, rep in enumerate(reports):
        colour = {"proof": "green", "evidence": "yellow", "none": "cyan"}[rep.kind]
        prefix = f"[{i + 1}] " if len(reports) > 1 else ""
        console.print(f"{prefix}[bold {colour}]{rep.kind.upper()}[/]: {rep.conclusion}")
        for w in rep.watermark:
            console.print(
                f"    watermark key {w['key_id']} ({w['scheme']}): "
                f"{w['green']}/{w['scored']} scored tokens marked, p = {w['p_value']:.3g}, "
                + ("watermarked" if w["watermarked"] else "not watermarked")
            )
        if rep.zero_shot is not None:
            z = rep.zero_shot
            console.print(
                f"    zero-shot {z.method}: score {z.score:.3f} over {z.tokens} tokens, "
                f"verdict {z.verdict}" + (f", p = {z.p_value:.3g}" if z.p_value else "")
            )
    if certificate is not None:
        if reports[0].certificate is not None:
            console.print(f"certificate written to {certificate}")
        else:
            console.print("no watermark proven, so no certificate was written")
    console.print("[dim]Limits: " + " ".join(reports[0].limits) + "[/]")
