"""Text normalisation, tokenisation, sentences and fast vectorised hashing.

Everything in Probity that compares text uses these functions, so two engines never disagree
on what a "token" or a "5-gram" is:

* a *word token* is a maximal run of word characters (``\\w``, Unicode-aware) with inner
  apostrophes kept (``don't``), or a single punctuation character when asked for;
* a token is normalised with NFKC and case-folding, so ``ＡＢＣ`` and ``abc`` compare equal;
* token hashes are 64-bit xxh3 values; n-gram hashes combine them with a polynomial over
  Z/2^64 computed with prefix sums (O(T) for any n) and are finished with the SplitMix64 mixer.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import xxhash

_WORD = r"\w+(?:['’]\w+)*"
_WORD_RE = re.compile(_WORD)
_WORD_OR_PUNCT_RE = re.compile(_WORD + r"|[^\w\s]")
_SPACE_RE = re.compile(r"\s+")
#: ASCII control characters that are neither whitespace nor visible (NUL, BEL, ESC, DEL ...).
ASCII_CONTROLS = "".join(chr(i) for i in [*range(0, 9), *range(14, 28), 127])
#: Characters that render as nothing: ASCII controls, soft hyphen, zero-width space/joiners,
#: word joiner and invisible operators, bidi embeddings/overrides/isolates, BOM, variation
#: selectors, tag characters. Removed before tokenising, so ``pay\u200bload`` is one word.
_INVISIBLE_RE = re.compile(
    "[" + re.escape(ASCII_CONTROLS) + "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e"
    "\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\u3164\ufe00-\ufe0f\ufeff"
    "\uffa0\U000e0000-\U000e007f]"
)
# ASCII characters that are not word characters, mapped to a space (fast path of words());
# invisible controls are deleted, as _INVISIBLE_RE does on the general path
_ASCII_NONWORD = str.maketrans(
    {
        i: (None if chr(i) in ASCII_CONTROLS else " ")
        for i in range(128)
        if not (chr(i).isalnum() or i == 95)
    }
)

# Latin look-alikes from Cyrillic, Greek and other scripts, folded after NFKC and case-folding
# (so upper-case look-alikes arrive here in lower case). Hand-written rather than Unicode's
# confusables.txt because that table maps to multi-character "skeletons" across all scripts;
# tokens need a one-to-one character map that str.translate applies in C, the same way on the
# index and the query side. Genuine Cyrillic/Greek words still match themselves (both sides are
# folded); two different words that fold alike become one token, a small loss of precision.
_CONFUSABLES = str.maketrans(
    {
        # Cyrillic
        "а": "a", "в": "b", "е": "e", "ё": "e", "з": "3", "і": "i", "ї": "i", "ј": "j",
        "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c", "т": "t", "у": "y",
        "х": "x", "ѕ": "s", "һ": "h", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l", "ɡ": "g",
        "ү": "y", "ҽ": "e", "ԍ": "g", "ь": "b",
        # Greek
        "α": "a", "β": "b", "γ": "y", "ε": "e", "ζ": "z", "η": "n", "ι": "i", "κ": "k",
        "μ": "u", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ϲ": "c",
        "ϳ": "j",
        # Armenian, Latin-extended and IPA look-alikes
        "օ": "o", "ս": "u", "ց": "g", "ı": "i", "ȷ": "j", "ɑ": "a", "ɩ": "i", "ʏ": "y",
    }
)  # fmt: skip

U64 = np.uint64
_MASK = (1 << 64) - 1


def strip_invisible(text: str) -> str:
    """``text`` without characters that render as nothing (zero-width, bidi controls, soft
    hyphens, NUL and other controls)."""
    return _INVISIBLE_RE.sub("", text)


def fold_confusables(token: str) -> str:
    """Fold Latin look-alike letters from other scripts (Cyrillic ``а``, Greek ``ο`` ...) to
    Latin; expects NFKC + case-folded input."""
    return token.translate(_CONFUSABLES)


def _mixed_script_fold(match: re.Match[str]) -> str:
    w = match.group()
    # fold only words that mix ASCII letters with look-alikes: genuine Cyrillic/Greek words
    # (no ASCII letters) are kept as written
    if w.isascii() or not any("a" <= c.lower() <= "z" for c in w):
        return w
    return "".join(
        fold_confusables(c.lower()) if c.lower() != fold_confusables(c.lower()) else c for c in w
    )


def normalize(text: str, *, casefold: bool = True, confusables: bool = False) -> str:
    """NFKC-normalise, remove invisible characters (zero-width, bidi controls, soft hyphens,
    NUL), optionally case-fold, and collapse runs of whitespace to one space.

    ``confusables=True`` also folds look-alike letters inside words that mix them with ASCII
    letters (``pаypal`` with a Cyrillic ``а`` becomes ``paypal``); words written wholly in
    another script are left alone.
    """
    out = strip_invisible(unicodedata.normalize("NFKC", text))
    if confusables and not out.isascii():
        out = _WORD_RE.sub(_mixed_script_fold, out)
    if casefold:
        out = out.casefold()
    return _SPACE_RE.sub(" ", out).strip()


def normalize_token(token: str) -> str:
    """Normalise one token (NFKC + case-fold + look-alike folding); used for every token
    Probity compares."""
    out = unicodedata.normalize("NFKC", token).casefold()
    return out if out.isascii() else fold_confusables(out)


@dataclass(frozen=True)
class Tokens:
    """Word tokens of a text: normalised strings and their character offsets in the original."""

    words: list[str]
    starts: np.ndarray  # int64, character offset of each token
    ends: np.ndarray  # int64, exclusive end offset

    def __len__(self) -> int:
        return len(self.words)


def tokenize(text: str, *, punctuation: bool = False) -> Tokens:
    """Split ``text`` into normalised word tokens with offsets into ``text``.

    With ``punctuation=True`` each punctuation character is a token too.
    """
    rx = _WORD_OR_PUNCT_RE if punctuation else _WORD_RE
    origin = None
    if _INVISIBLE_RE.search(text):
        # tokenise the text without invisible characters, then map offsets back to ``text``
        keep = np.ones(len(text) + 1, dtype=bool)
        for m in _INVISIBLE_RE.finditer(text):
            keep[m.start()] = False
        origin = np.flatnonzero(keep)  # cleaned position -> original position (+ the end)
        text = _INVISIBLE_RE.sub("", text)
    if text.isascii():
        # Fast path, same result: on ASCII, NFKC is the identity and case-folding is lower().
        found = list(rx.finditer(text.lower()))
        toks = Tokens(
            [m.group() for m in found],
            np.fromiter((m.start() for m in found), dtype=np.int64, count=len(found)),
            np.fromiter((m.end() for m in found), dtype=np.int64, count=len(found)),
        )
    else:
        words_: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        for m in rx.finditer(text):
            words_.append(normalize_token(m.group()))
            starts.append(m.start())
            ends.append(m.end())
        toks = Tokens(words_, np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64))
    if origin is None:
        return toks
    # an end maps to one past the original position of the token's last character
    return Tokens(toks.words, origin[toks.starts], origin[toks.ends - 1] + 1)


def words(text: str) -> list[str]:
    """Normalised word tokens of ``text`` (no offsets)."""
    if text.isascii():  # same result, faster: NFKC is the identity on ASCII
        if "'" not in text:  # no apostrophes: tokens are the runs of [a-z0-9_]
            return text.lower().translate(_ASCII_NONWORD).split()
        return _WORD_RE.findall(strip_invisible(text).lower())
    return [normalize_token(w) for w in _WORD_RE.findall(strip_invisible(text))]


# --- hashing -------------------------------------------------------------------------------


def mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser applied elementwise to a uint64 array (a bijection on 64 bits)."""
    z = np.asarray(x, dtype=U64)
    with np.errstate(over="ignore"):
        z = z + U64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> U64(30))) * U64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> U64(27))) * U64(0x94D049BB133111EB)
        return z ^ (z >> U64(31))


def hash_strings(items: Sequence[str], seed: int = 0) -> np.ndarray:
    """64-bit xxh3 hash of each string (UTF-8), as a uint64 array."""
    h = xxhash.xxh3_64_intdigest
    if seed == 0:  # same values, faster: C-level map(), no Python frame per item
        try:
            return np.fromiter(map(h, map(str.encode, items)), dtype=U64, count=len(items))
        except UnicodeEncodeError:  # lone surrogates: encode them with surrogatepass below
            pass
    return np.fromiter(
        (h(s.encode("utf-8", "surrogatepass"), seed) for s in items), dtype=U64, count=len(items)
    )


def hash_tokens(text: str, seed: int = 0) -> tuple[np.ndarray, Tokens]:
    """Tokenise ``text`` and hash each normalised token; returns ``(hashes, tokens)``."""
    toks = tokenize(text)
    return hash_strings(toks.words, seed), toks


_BASE = 0x100000001B3  # odd, so invertible modulo 2**64
_BASE_INV = pow(_BASE, -1, 1 << 64)


def _powers(base: int, count: int) -> np.ndarray:
    out = np.full(count, base, dtype=U64)
    out[0] = 1
    with np.errstate(over="ignore"):
        return np.cumprod(out, dtype=U64)


def ngram_hashes(token_hashes: np.ndarray, n: int) -> np.ndarray:
    """Hash of every window of ``n`` consecutive token hashes (``len - n + 1`` values, uint64).

    The window ``t[i:i+n]`` maps to ``mix64(sum_k t[i+k] * B^(n-1-k) mod 2^64)``. Prefix sums
    of ``t[k] * B^-k`` make this O(len) whatever ``n`` is: no per-window Python loop.
    """
    if n < 1:
        raise ValueError(f"n-gram size must be >= 1, got {n}")
    t = np.asarray(token_hashes, dtype=U64)
    count = len(t)
    if count < n:
        return np.empty(0, dtype=U64)
    if n == 1:
        return mix64(t)
    pw = _powers(_BASE, count)
    ipw = _powers(_BASE_INV, count)
    with np.errstate(over="ignore"):
        prefix = np.zeros(count + 1, dtype=U64)
        np.cumsum(t * ipw, dtype=U64, out=prefix[1:])
        windows = (prefix[n:] - prefix[:-n]) * pw[n - 1 :]
        return mix64(windows ^ U64(n))


def shingles(text: str, n: int, seed: int = 0) -> np.ndarray:
    """Hashes of the word ``n``-grams of ``text`` (normalised tokens), uint64."""
    hashes, _ = hash_tokens(text, seed)
    return ngram_hashes(hashes, n)


def text_digest(text: str) -> str:
    """SHA-256 hex digest of ``text`` encoded as UTF-8 (used in certificates and audit logs)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


# --- sentences -----------------------------------------------------------------------------

_ABBREV = {
    "dr",
    "mr",
    "mrs",
    "ms",
    "prof",
    "st",
    "jr",
    "sr",
    "vs",
    "etc",
    "e.g",
    "i.e",
    "al",
    "fig",
    "no",
    "vol",
    "pp",
    "eq",
    "inc",
    "ltd",
    "co",
    "mt",
    "approx",
    "cf",
    "ch",
    "sec",
    "ed",
    "eds",
}
_BOUNDARY_RE = re.compile(r"([.!?…]+)([\"'”’)\]]*)(\s+)|\n\s*\n|\n(?=\s*(?:[-*•]|\d+[.)])\s)")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans ``[start, end)`` of the sentences of ``text`` (trimmed of whitespace).

    Splits after ``.``, ``!``, ``?`` followed by whitespace (not after common abbreviations or
    single initials), at blank lines and before list items. A rule-based splitter: fast,
    deterministic and good enough for guard streaming, grounding and citation extraction.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _BOUNDARY_RE.finditer(text):
        if m.group(1):
            before = text[start : m.start(1)]
            last = before.rsplit(None, 1)[-1] if before.strip() else ""
            stem = last.rstrip(".").lower()
            if m.group(1) == "." and (stem in _ABBREV or (len(stem) == 1 and stem.isalpha())):
                continue
            end = m.end(2)
        else:
            end = m.start()
        _push(text, start, end, spans)
        start = m.end()
    _push(text, start, len(text), spans)
    return spans


def _push(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


def sentences(text: str) -> list[str]:
    """The sentences of ``text`` as strings (see :func:`sentence_spans`)."""
    return [text[a:b] for a, b in sentence_spans(text)]
