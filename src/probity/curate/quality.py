"""Web-text quality stages: the Gopher, C4 and FineWeb heuristic rule sets, language
identification (py3langid, which ships its model), text repair (ftfy) and URL/domain filters.

Each rule is a named check; a dropped record's reason names the set and the rule that failed
first, e.g. ``quality:gopher:mean_word_length``, so a report says which heuristic removes what.
Thresholds follow the papers (Rae et al. 2021 for Gopher, Raffel et al. 2020 for C4, Penedo et
al. 2024 for FineWeb) as datatrove implements them; each can be overridden by name.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from probity.errors import InputError

from .stages import MapStage, Outcome, Record

_STOP = frozenset({"the", "be", "to", "of", "and", "that", "have", "with"})
_BULLETS = ("•", "●", "○", "▪", "-", "*", "‣", "⁃", "◦")
_TERMINAL = (".", "!", "?", '"', "”", "'", "’")
_POLICY = ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies")
_WORD_RE = re.compile(r"\S+")

Stats = dict[str, Any]


def _stats(text: str) -> Stats:
    words = _WORD_RE.findall(text)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return {"text": text, "words": words, "lines": lines}


def _gopher(s: Stats, o: dict[str, float]) -> str:
    words, lines, text = s["words"], s["lines"], s["text"]
    n = len(words)
    if n < o.get("min_words", 50):
        return "too_few_words"
    if n > o.get("max_words", 100_000):
        return "too_many_words"
    mean = sum(map(len, words)) / n
    if not o.get("min_mean_word_length", 3) <= mean <= o.get("max_mean_word_length", 10):
        return "mean_word_length"
    symbols = text.count("#") + text.count("...") + text.count("…")
    if symbols / n > o.get("max_symbol_word_ratio", 0.1):
        return "symbol_word_ratio"
    if lines and sum(ln.startswith(_BULLETS) for ln in lines) / len(lines) > o.get(
        "max_bullet_lines_ratio", 0.9
    ):
        return "bullet_lines"
    if lines and sum(ln.endswith(("...", "…")) for ln in lines) / len(lines) > o.get(
        "max_ellipsis_lines_ratio", 0.3
    ):
        return "ellipsis_lines"
    if sum(any(c.isalpha() for c in w) for w in words) / n < o.get("min_alpha_words_ratio", 0.8):
        return "alpha_words"
    if len(_STOP.intersection(w.lower() for w in words)) < o.get("min_stop_words", 2):
        return "stop_words"
    return ""


def _c4(s: Stats, o: dict[str, float]) -> str:
    text, lines = s["text"], s["lines"]
    low = text.lower()
    if "lorem ipsum" in low:
        return "lorem_ipsum"
    if "{" in text:
        return "curly_bracket"
    if any("javascript" in ln.lower() for ln in lines):
        return "javascript"
    if any(p in low for p in _POLICY):
        return "policy"
    from probity.text import sentences

    if len(sentences(text)) < o.get("min_sentences", 3):
        return "too_few_sentences"
    return ""


def _fineweb(s: Stats, o: dict[str, float]) -> str:
    lines, words = s["lines"], s["words"]
    if not lines:
        return "empty"
    if sum(ln.endswith(_TERMINAL) for ln in lines) / len(lines) < o.get(
        "min_line_punct_ratio", 0.12
    ):
        return "line_punct_ratio"
    if sum(len(ln) <= 30 for ln in lines) / len(lines) > o.get("max_short_line_ratio", 0.67):
        return "short_line_ratio"
    counts = Counter(lines)
    dup_chars = sum(len(ln) * (c - 1) for ln, c in counts.items() if c > 1)
    if dup_chars / max(1, sum(map(len, lines))) > o.get("max_char_dup_ratio", 0.01):
        return "char_dup_ratio"
    if len(lines) / max(1, len(words)) > o.get("max_newline_word_ratio", 0.3):
        return "list_ratio"
    return ""


RULE_SETS: dict[str, Callable[[Stats, dict[str, float]], str]] = {
    "gopher": _gopher,
    "c4": _c4,
    "fineweb": _fineweb,
}


class FilterQuality(MapStage):
    """Drop records failing a heuristic rule set: ``rules: [gopher, c4, fineweb]`` (default
    all three, applied in that order); other options override thresholds by name (e.g.
    ``min_words: 20``). Reason ``quality:<set>:<rule>``."""

    name = "filter_quality"

    def __init__(self, text_field: str, **options: Any) -> None:
        super().__init__(text_field, **options)
        opts = dict(options)
        self.rules = list(opts.pop("rules", list(RULE_SETS)))
        unknown = [r for r in self.rules if r not in RULE_SETS]
        if unknown:
            raise InputError(
                f"filter_quality: unknown rule set(s) {unknown}; known {list(RULE_SETS)}"
            )
        self.thresholds = {k: float(v) for k, v in opts.items()}

    def process(self, records: Sequence[Record]) -> list[Outcome]:
        out: list[Outcome] = []
        for r in records:
            stats = _stats(r[self.text_field])
            reason = ""
            for name in self.rules:
                failed = RULE_SETS[name](stats, self.thresholds)
                if failed:
                    reason = f"quality:{name}:{failed}"
                    break
            out.append((None, reason) if reason else (r, ""))
        return out


class FilterLanguage(MapStage):
    """Keep records whose language (py3langid, model shipped with the package) is in
    ``languages`` (ISO 639-1 codes) with probability >= ``min_score`` (default 0.65); the
    language and its probability are added to the record (``language``, ``language_score``).
    Reason ``language:<code>`` or ``language:low_score``."""

    name = "filter_language"

    def __init__(self, text_field: str, **options: Any) -> None:
        super().__init__(text_field, **options)
        from probity.errors import require

        require("py3langid", "curate")
        from py3langid.langid import MODEL_FILE, LanguageIdentifier  # the shipped model

        langs = options.get("languages", ["en"])
        self.languages = {str(x) for x in ([langs] if isinstance(langs, str) else langs)}
        self.min_score = float(options.get("min_score", 0.65))
        self.ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)

    def process(self, records: Sequence[Record]) -> list[Outcome]:
        out: list[Outcome] = []
        for r in records:
            lang, score = self.ident.classify(r[self.text_field])
            score = float(score)
            if lang not in self.languages:
                out.append((None, f"language:{lang}"))
            elif score < self.min_score:
                out.append((None, "language:low_score"))
            else:
                out.append(({**r, "language": lang, "language_score": round(score, 4)}, "changed"))
        return out


class FixText(MapStage):
    """Repair mojibake, HTML entities and broken Unicode with ftfy (``fix_text``)."""

    name = "fix_text"

    def __init__(self, text_field: str, **options: Any) -> None:
        super().__init__(text_field, **options)
        from probity.errors import require

        self.ftfy = require("ftfy", "curate")

    def process(self, records: Sequence[Record]) -> list[Outcome]:
        out: list[Outcome] = []
        for r in records:
            fixed = self.ftfy.fix_text(r[self.text_field])
            out.append(
                (r, "")
                if fixed == r[self.text_field]
                else ({**r, self.text_field: fixed}, "changed")
            )
        return out


class FilterUrl(MapStage):
    """Drop records whose ``url_field`` (default ``url``) has a host in ``block_domains`` (a
    domain blocks its subdomains too) or, when ``allow_domains`` is given, outside it; or whose
    URL contains one of ``block_words``. Records without a URL are kept. Reason
    ``url:blocked_domain:<domain>``, ``url:not_allowed`` or ``url:blocked_word:<word>``."""

    name = "filter_url"

    def __init__(self, text_field: str, **options: Any) -> None:
        super().__init__(text_field, **options)
        self.field = str(options.get("url_field", "url"))
        self.block = {d.lower().lstrip(".") for d in options.get("block_domains", [])}
        allow = options.get("allow_domains")
        self.allow = None if allow is None else {d.lower().lstrip(".") for d in allow}
        self.words = [w.lower() for w in options.get("block_words", [])]

    @staticmethod
    def _suffixes(host: str) -> list[str]:
        parts = host.split(".")
        return [".".join(parts[i:]) for i in range(len(parts))]

    def process(self, records: Sequence[Record]) -> list[Outcome]:
        out: list[Outcome] = []
        for r in records:
            url = r.get(self.field)
            if not isinstance(url, str) or not url:
                out.append((r, ""))
                continue
            host = (urlsplit(url if "//" in url else "//" + url).hostname or "").lower()
            sufs = self._suffixes(host)
            hit = next((d for d in sufs if d in self.block), None)
            word = next((w for w in self.words if w in url.lower()), None)
            if hit:
                out.append((None, f"url:blocked_domain:{hit}"))
            elif self.allow is not None and not any(d in self.allow for d in sufs):
                out.append((None, "url:not_allowed"))
            elif word:
                out.append((None, f"url:blocked_word:{word}"))
            else:
                out.append((r, ""))
        return out
