"""``probity watermark calibrate``: a key's empirical null on the deployer's human text."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from probity.cli._groups import watermark_app
from probity.cli._output import JSON_HELP, print_json
from probity.cli._watermark_options import (
    BackendOpt,
    GammaOpt,
    KeyOpt,
    NgramOpt,
    SchemeOpt,
    SeedingOpt,
    SynthScoreOpt,
    TokenIdsOpt,
    TokenizerOpt,
    VocabOpt,
    WidthOpt,
    _encoder,
    _scheme,
    _with_vocab,
    parse_token_ids,
)
from probity.errors import InputError


def _corpus_docs(path: Path, field: str, token_ids: bool, encoder: Any) -> list[list[int]]:
    """Token-id documents of a calibration corpus: JSONL records (``field``: text, or token
    ids with --token-ids), Parquet, or plain text split at blank lines into paragraphs."""
    import re

    from probity.io import iter_jsonl, iter_texts, read_text

    suffixes = "".join(path.suffixes).lower()
    docs: list[list[int]] = []
    if token_ids:
        if ".jsonl" not in suffixes and ".ndjson" not in suffixes:
            raise InputError(f"--token-ids needs a JSONL corpus (field {field!r}), got {path}")
        for lineno, obj in iter_jsonl(path):
            if field not in obj:
                raise InputError(f"{path}:{lineno}: record has no field {field!r}; use --field")
            docs.append(parse_token_ids(obj[field], f"{path}:{lineno}"))
        return docs
    if any(x in suffixes for x in (".jsonl", ".ndjson", ".parquet")):
        texts = [t for _, t in iter_texts(path, field)]
    else:
        texts = [t for t in re.split(r"\n\s*\n", read_text(path)) if t.strip()]
    from probity.cli._output import track

    for t in track(texts, "tokenising", total=len(texts)):
        if t.strip():
            docs.append(encoder.encode(t))
    return docs


@watermark_app.command("calibrate")
def calibrate_cmd(
    corpus: Annotated[
        Path,
        typer.Argument(
            help="Human text of the domain you deploy on: JSONL (--field), Parquet, or plain "
            "text (paragraphs separated by blank lines; .gz/.zst decompressed)."
        ),
    ],
    key: KeyOpt = None,
    tokenizer: TokenizerOpt = None,
    token_ids: TokenIdsOpt = False,
    field: Annotated[str, typer.Option("--field", help="JSONL field / Parquet column.")] = "text",
    scheme: SchemeOpt = "kgw",
    gamma: GammaOpt = 0.25,
    context_width: WidthOpt = None,
    seeding: SeedingOpt = "lefthash",
    backend: BackendOpt = None,
    ngram_len: NgramOpt = 5,
    synthid_score: SynthScoreOpt = "weighted_mean",
    vocab_size: VocabOpt = None,
    skip_frequent: Annotated[
        int,
        typer.Option(
            "--skip-frequent",
            help="Never score the N most frequent (context, token) pairs of --reference "
            "(default: of CORPUS): their colour is fixed for a key, so they carry no evidence "
            "and most of the per-key bias. 0 = no skip list.",
        ),
    ] = 0,
    reference: Annotated[
        Path | None,
        typer.Option(
            "--reference", help="Reference corpus for the skip list (same formats as CORPUS)."
        ),
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="Name of the calibration (default: the file).")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Measure KEY's null distribution on your own human text and store it with the key.

    For one fixed key the i.i.d. null is wrong on a given domain: frequent token pairs are
    green (or red) in every document, so one key can flag several times its nominal rate.
    Afterwards `probity watermark detect --key KEY` (same scheme settings) takes p-values
    from these empirical quantiles and says so in its `null` field.
    """
    from probity.watermark import calibrate, save_calibration

    if key is None:
        raise InputError("calibrate needs --key (the calibration is stored with it)")
    if skip_frequent < 0:
        raise InputError(f"--skip-frequent must be >= 0, got {skip_frequent}")
    synthid = {"ngram_len": ngram_len, "score": synthid_score}
    sch = _scheme(
        scheme, key, gamma, 2.0, False, context_width, seeding, backend, None, vocab_size, synthid
    )
    encoder = _encoder(tokenizer, token_ids, sch)
    sch = _with_vocab(sch, encoder)
    docs = _corpus_docs(corpus, field, token_ids, encoder)
    ref = _corpus_docs(reference, field, token_ids, encoder) if reference else None
    cal = calibrate(sch, docs, name=name or corpus.name, skip_frequent=skip_frequent, reference=ref)
    path = save_calibration(sch.key_id, cal)
    if json_out:
        print_json({**cal.summary(), "path": str(path)})
        return
    drift = (cal.mu - getattr(sch, "gamma", 1.0)) / max(cal.var, 1e-12) ** 0.5
    typer.echo(
        f"calibrated key {sch.key_id} on {cal.documents} documents ({cal.tokens} scored "
        f"tokens): per-token mean {cal.mu:.4f} ({drift:+.3f} sd from the i.i.d. null), "
        f"{len(cal.skip)} pairs skipped; stored at {path}"
    )
