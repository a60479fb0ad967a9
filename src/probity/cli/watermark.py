"""``probity watermark generate|detect|verify`` and ``probity keys new|list|show|export``."""

from __future__ import annotations

import json
import sys
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
        "--scheme",
        help="Watermark scheme: kgw (green/red lists), gumbel (distortion-free), unigram "
        "(kgw with one fixed green list, context width 0) or synthid (SynthID-Text tournament "
        "sampling, transformers-compatible).",
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
        help="Tokens of context that seed the green list (kgw default 1, gumbel 2; 0 = the "
        "unigram scheme, kgw lefthash fast only).",
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
    str | None,
    typer.Option(
        "--backend",
        help="kgw PRF: fast or hf-compat (bit-identical with transformers' "
        "WatermarkingConfig). Default: hf-compat for --hashing-key or a key made with "
        "--hf-hashing-key, else fast.",
    ),
]
HashKeyOpt = Annotated[
    int | None,
    typer.Option(
        "--hashing-key",
        help="hf-compat: transformers' integer hashing_key (instead of --key, not with it).",
    ),
]
SynthKeysOpt = Annotated[
    str | None,
    typer.Option(
        "--synthid-keys",
        help="synthid: transformers' SynthIDTextWatermarkingConfig keys, comma-separated "
        "(default: derived from --key).",
    ),
]
NgramOpt = Annotated[
    int, typer.Option("--ngram-len", help="synthid: n-gram length (transformers' ngram_len).")
]
SynthScoreOpt = Annotated[
    str,
    typer.Option("--synthid-score", help="synthid detection score: weighted_mean or mean."),
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
    backend: str | None,
    hashing_key: int | None,
    vocab_size: int | None = None,
    synthid: dict[str, Any] | None = None,
) -> Any:
    from probity.watermark import WatermarkKey, load_key, make_scheme

    if scheme == "synthid":
        return _synthid_scheme(key, hashing_key, context_width, synthid or {})
    if synthid and synthid.get("keys"):
        raise InputError("--synthid-keys needs --scheme synthid")
    if key is None and hashing_key is None:
        raise InputError(
            "no key given: pass --key (see `probity keys list`, or create one with "
            "`probity keys new`), or --hashing-key with --backend hf-compat"
        )
    if key is not None and hashing_key is not None:
        raise InputError(
            "give --key or --hashing-key, not both (store transformers' integer in a key with "
            "`probity keys new NAME --hf-hashing-key K`)"
        )
    if backend is not None and backend not in ("fast", "hf-compat"):
        raise InputError(f"unknown backend {backend!r}; use fast or hf-compat")
    if scheme != "kgw" and (hashing_key is not None or backend == "hf-compat"):
        raise InputError(
            f"--hashing-key and --backend hf-compat are transformers' KGW; not for --scheme {scheme}"
        )
    if hashing_key is not None and backend == "fast":
        raise InputError("--hashing-key is transformers' key: use it with --backend hf-compat")
    k: Any = hashing_key if hashing_key is not None else load_key(key)  # type: ignore[arg-type]
    if backend is None:  # a transformers key is checked the transformers way unless told
        hf_key = hashing_key is not None or (
            isinstance(k, WatermarkKey) and k.hf_hashing_key is not None
        )
        backend = "hf-compat" if hf_key and scheme == "kgw" else "fast"
    if scheme == "gumbel":
        return make_scheme("gumbel", k, context_width=2 if context_width is None else context_width)
    if scheme == "unigram":
        if context_width not in (None, 0):
            raise InputError("--scheme unigram has context width 0; drop --context-width")
        context_width = 0
    elif scheme != "kgw":
        raise InputError(f"unknown scheme {scheme!r}; use kgw, gumbel, unigram or synthid")
    return make_scheme(
        "kgw",
        k,
        gamma=gamma,
        delta=delta,
        hard=hard,
        context_width=1 if context_width is None else context_width,
        seeding=seeding,
        backend=backend,
        vocab_size=vocab_size,
    )


def _synthid_scheme(
    key: str | None, hashing_key: int | None, context_width: int | None, opts: dict[str, Any]
) -> Any:
    from probity.watermark import load_key, make_scheme

    if hashing_key is not None:
        raise InputError("--hashing-key is for kgw hf-compat; synthid takes --synthid-keys")
    if context_width is not None:
        raise InputError("synthid's context is --ngram-len minus one; drop --context-width")
    raw = opts.get("keys")
    keys = None
    if raw:
        try:
            keys = [int(x) for x in raw.replace(" ", "").split(",") if x]
        except ValueError as exc:
            raise InputError(f"--synthid-keys must be comma-separated integers: {exc}") from exc
    if key is None and keys is None:
        raise InputError("no key given: pass --key, or --synthid-keys (transformers' keys)")
    return make_scheme(
        "synthid",
        load_key(key) if key is not None else None,
        keys=keys,
        ngram_len=opts.get("ngram_len", 5),
        score=opts.get("score", "weighted_mean"),
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


TokenIdsOpt = Annotated[
    bool,
    typer.Option(
        "--token-ids",
        help="The input is token ids, not text: a JSON list or whitespace/comma-separated "
        "integers (with --jsonl: the field holds such a list). No tokenizer is needed "
        "(hf-compat still needs --vocab-size or --tokenizer).",
    ),
]
VocabOpt = Annotated[
    int | None,
    typer.Option(
        "--vocab-size",
        help="hf-compat: the model config's vocab_size (default: read from --tokenizer).",
    ),
]
TokenizerOpt = Annotated[
    str | None,
    typer.Option(
        "--tokenizer",
        "-t",
        help="Tokenizer/model path or name used to generate: a model folder or a "
        "tokenizer-only folder (default: the embedded demo model).",
    ),
]


def parse_token_ids(value: Any, where: str = "input") -> list[int]:
    """Token ids from a JSON list, a list object, or whitespace/comma-separated integers."""
    if isinstance(value, str):
        raw = value.strip()
        try:
            value = json.loads(raw) if raw.startswith("[") else raw.replace(",", " ").split()
        except ValueError as exc:
            raise InputError(f"{where}: not a JSON list of token ids: {exc}") from exc
    if not isinstance(value, list) or not value:
        raise InputError(f"{where}: expected a non-empty list of token ids")
    try:
        ids = [int(x) for x in value]
    except (TypeError, ValueError) as exc:
        raise InputError(f"{where}: token ids must be integers ({exc})") from exc
    if any(isinstance(x, float) and not float(x).is_integer() for x in value) or min(ids) < 0:
        raise InputError(f"{where}: token ids must be non-negative integers")
    return ids


def _encoder(tokenizer: str | None, token_ids: bool, sch: Any) -> Any:
    """The tokenizer (or None with --token-ids and no --tokenizer); sets hf-compat's vocab."""
    from probity.watermark.api import _resolve_tokenizer

    if token_ids and tokenizer is None:
        if getattr(sch, "backend", None) == "hf-compat" and sch.vocab_size is None:
            raise InputError(
                "hf-compat needs the vocabulary size: give --vocab-size or --tokenizer"
            )
        return None
    tok_ref: Any = tokenizer
    if tokenizer is None:
        from probity.lm import load_model

        tok_ref = load_model(None)
    return _Encoder(_resolve_tokenizer(tok_ref))


def _with_vocab(sch: Any, encoder: Any) -> Any:
    if getattr(sch, "backend", None) == "hf-compat" and sch.vocab_size is None and encoder:
        return sch.with_vocab_size(encoder.vocab_size)
    return sch


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


def _tokenizer_folder(tokenizer: str | None) -> Path | None:
    """The local folder of --tokenizer (the embedded demo model when not given), if any."""
    if tokenizer is None:
        from probity.lm import demo_model_path

        return demo_model_path()
    p = Path(tokenizer).expanduser()
    return p if p.is_dir() else None


def _check_fpr(fpr: float) -> None:
    if not 0 < fpr < 1:
        raise InputError(f"--fpr must be in (0, 1), got {fpr}")


class _Encoder:
    """A resolved tokenizer passed to detect_text (so a path is loaded once)."""

    def __init__(self, resolved: tuple[Any, int | None]) -> None:
        self._encode, self.vocab_size = resolved

    def encode(self, text: str) -> list[int]:
        return self._encode(text)

    def next_token_logits(self, ids: Any) -> Any:  # marks it as model-like for the resolver
        raise NotImplementedError


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
    """Verify a watermark certificate's Ed25519 signature (exit 1 if tampered or if the text
    or token ids do not match; exit 2 for unreadable input)."""
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
    """Verify C2PA content credentials embedded in a text with the c2pa library (exit 1 if
    the text or manifest was altered or the signer is not trusted)."""
    from probity.home import keys_dir
    from probity.io import read_text
    from probity.watermark.content_credentials import verify_content_credentials

    if file is not None and text is None:
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
        write_json_atomic(out, data)
        if secret:
            out.chmod(0o600)
        if json_out:
            print_json({"written": str(out), **k.public_export()})
        else:
            console.print(f"wrote {'secret' if secret else 'public'} key {k.key_id} to {out}")
    else:
        print_json(data)
