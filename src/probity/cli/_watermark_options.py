"""Options and resolution shared by the ``probity watermark`` commands: scheme flags, the
key/backend rules, token-id input and the tokenizer (``watermark``, ``watermark_calibrate``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

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
