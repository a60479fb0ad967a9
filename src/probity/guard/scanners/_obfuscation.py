"""Undo the usual obfuscations of abusive words before a text is scored.

``deobfuscate(text)`` returns a lower-case text in which

- homoglyphs are Latin letters: NFKC first (fullwidth and mathematical letters), then the
  Unicode confusables table shipped with ``confusable-homoglyphs`` (Cyrillic ``і``, ``ѕ``,
  Greek ``ο`` ...), then accents are dropped;
- spaced-out letters are joined (``s t u p i d`` -> ``stupid``; two spaces separate words);
- dots, dashes and underscores inside a word are dropped (``s.t.u.p.i.d``);
- leetspeak is read in words that mix letters with digits or symbols (``1d10t`` -> ``idiot``,
  ``sh1t``, ``$tupid``), never in plain numbers;
- masked letters are filled in when one lexicon word fits (``st*pid`` -> ``stupid``);
- letters repeated three or more times are collapsed to the form a vocabulary knows
  (``stuuupid`` -> ``stupid``, ``sooo`` -> ``soo``);
- one swap of adjacent letters is undone when it yields a lexicon word (``stpuid``, ``idoit``);
- run-together words are split when the pieces are known words (``youareastupididiot``).

Hand-written because no maintained library does this normalisation for moderation; the
vocabulary is alt-profanity-check's (already a dependency) plus common function words, and the
lexicon is :data:`probity.guard.scanners._abuse.LEXICON`.
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import cache, lru_cache

from probity.guard.scanners._abuse import LEXICON

_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g",
     "@": "a", "$": "s", "!": "i", "|": "l", "+": "t", "€": "e", "£": "l"}
)  # fmt: skip
_FUNCTION_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "you",
        "your",
        "yours",
        "youre",
        "ya",
        "im",
        "ur",
        "u",
        "are",
        "is",
        "am",
        "be",
        "was",
        "were",
        "i",
        "me",
        "my",
        "we",
        "us",
        "our",
        "he",
        "him",
        "his",
        "she",
        "her",
        "they",
        "them",
        "their",
        "it",
        "its",
        "and",
        "or",
        "but",
        "not",
        "no",
        "so",
        "to",
        "of",
        "in",
        "on",
        "at",
        "for",
        "with",
        "as",
        "this",
        "that",
        "these",
        "those",
        "all",
        "any",
        "some",
        "what",
        "who",
        "why",
        "how",
        "go",
        "get",
        "got",
        "just",
        "like",
        "too",
        "very",
        "do",
        "does",
        "did",
        "have",
        "has",
        "had",
        "will",
        "would",
        "can",
        "could",
        "should",
        "must",
        "shall",
        "may",
        "might",
        "than",
        "then",
        "there",
        "here",
        "up",
        "out",
        "off",
    ]
)
_SPACED = re.compile(r"(?<!\S)(?:[^\W\d_][ \t]){2,}[^\W\d_](?!\S)")
_WORDISH = re.compile(r"[^\s]+")
_INNER_PUNCT = re.compile(r"(?<=[a-z])[._\-~](?=[a-z])")
_REPEAT = re.compile(r"([a-z])\1{2,}")


@cache
def _homoglyphs() -> dict[int, str]:
    """Code point -> ASCII letter for Unicode confusables of Latin letters."""
    table: dict[int, str] = {}
    try:
        from importlib.resources import files

        raw = files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8")
        data = json.loads(raw)
    except Exception:  # pragma: no cover - a core dependency; NFKC still applies
        return table
    for key, glyphs in data.items():
        if len(key) != 1:
            continue
        if key.isascii() and key.isalpha():
            for g in glyphs:
                c = g.get("c", "")
                if len(c) == 1 and not c.isascii():
                    table.setdefault(ord(c), key.lower())
        elif not key.isascii():
            for g in glyphs:
                c = g.get("c", "")
                if len(c) == 1 and c.isascii() and c.isalpha():
                    table.setdefault(ord(key), c.lower())
                    break
    return table


@cache
def vocabulary() -> frozenset[str]:
    """Known words: alt-profanity-check's vocabulary, function words and the lexicon."""
    try:
        from profanity_check import profanity_check as pc

        vocab = set(pc.vectorizer.vocabulary_)
    except Exception:  # pragma: no cover
        vocab = set()
    return frozenset(vocab | _FUNCTION_WORDS | set(LEXICON))


@cache
def _swaps() -> dict[str, str]:
    """Every single adjacent-letter swap of a lexicon word -> the word."""
    out: dict[str, str] = {}
    for w in LEXICON:
        for i in range(len(w) - 1):
            if w[i] != w[i + 1]:
                out.setdefault(w[:i] + w[i + 1] + w[i] + w[i + 2 :], w)
    return out


def _fold(text: str) -> str:
    if text.isascii():  # NFKC, homoglyphs and accents change nothing in ASCII
        return text.lower()
    text = unicodedata.normalize("NFKC", text).translate(_homoglyphs())
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in text if not unicodedata.combining(c))


def _join_spaced(text: str) -> str:
    def join(m: re.Match[str]) -> str:
        return m.group(0).replace(" ", "").replace("\t", "")

    if re.search(r"(?:\b[^\W\d_] ){3,}", text) and "  " in text:
        # "y o u  a r e  a  s t u p i d": two spaces separate words, one separates letters
        words = re.split(r" {2,}", text)
        return " ".join(_SPACED.sub(join, w) if len(w) > 2 else w for w in words)
    return _SPACED.sub(join, text)


@lru_cache(maxsize=65536)
def _word(tok: str) -> str:
    vocab = vocabulary()
    core = tok.strip(".,;:!?\"'()[]{}<>")
    if not core or core in vocab:
        return tok
    lead = tok[: tok.index(core)] if core else ""
    tail = tok[len(lead) + len(core) :]
    w = core
    if any(c.isalpha() for c in w) and any(not c.isalpha() for c in w):
        w = _INNER_PUNCT.sub("", w)
        if "*" in w and w.strip("*"):
            rx = re.compile("^" + re.escape(w).replace(r"\*", "[a-z]") + "$")
            fits = [x for x in LEXICON if len(x) == len(w) and rx.match(x)]
            if len(fits) == 1:
                w = fits[0]
        if w not in vocab:
            leet = w.translate(_LEET)
            if leet.isalpha() or leet.translate(_LEET) in vocab:
                w = leet
    if w not in vocab and _REPEAT.search(w):
        two = _REPEAT.sub(r"\1\1", w)
        one = _REPEAT.sub(r"\1", w)
        w = one if one in vocab or two not in vocab else two
    if w not in vocab:
        w = _swaps().get(w, w)
    if w not in vocab and w.isalpha() and len(w) >= 9:
        w = _segment(w) or w
    return lead + w + tail


def _segment(w: str) -> str | None:
    """Split a run-together word into known words, when it holds a lexicon word; None when
    it cannot be split. Cost: 1 per function or lexicon word, 2.5 per other word, so
    "youareastupididiot" reads "you are a stupid idiot", not "you area stupid idiot"."""
    vocab = vocabulary()
    cheap = _FUNCTION_WORDS | LEXICON
    n = len(w)
    cost: list[float] = [0.0] + [float("inf")] * n
    back: list[int] = [0] * (n + 1)
    for i in range(1, n + 1):
        for j in range(max(0, i - 20), i):
            piece = w[j:i]
            if cost[j] == float("inf") or not (piece in vocab or piece in ("a", "i", "u")):
                continue
            c = cost[j] + (1.0 if piece in cheap or len(piece) == 1 else 2.5)
            if c < cost[i]:
                cost[i], back[i] = c, j
    if cost[n] == float("inf"):
        return None
    parts, i = [], n
    while i > 0:
        parts.append(w[back[i] : i])
        i = back[i]
    parts.reverse()
    # plausible only: a lexicon word of 4+ letters, and every other piece a function word or
    # 3+ letters ("restaurateurs" must not read "rest a u rat eu rs")
    if not any(p in LEXICON and len(p) >= 4 for p in parts):
        return None
    if any(len(p) < 3 and p not in cheap for p in parts) or " ".join(parts).count(" u ") > 0:
        return None
    return " ".join(parts)


def deobfuscate(text: str) -> str:
    """The lower-case, de-obfuscated form of ``text`` (see the module docstring)."""
    folded = _join_spaced(_fold(text))
    return _WORDISH.sub(lambda m: _word(m.group(0)), folded)
