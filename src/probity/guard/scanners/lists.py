"""Ban lists: ``substrings`` (words or phrases), ``regex`` (named patterns) and ``topics``
(keyword lists per topic, with a few built in).

Each list compiles to one alternation regular expression, so a text is scanned once whatever
the list's length (C speed; no Python loop per word).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from probity.errors import ConfigError
from probity.guard.base import ScanContext, register_scanner
from probity.types import Finding, Span

#: Built-in topics for the ``topics`` scanner: keywords, matched as whole words.
BUILTIN_TOPICS: dict[str, list[str]] = {
    "weapons": [
        "bomb",
        "explosive",
        "explosives",
        "detonator",
        "gunpowder",
        "firearm",
        "firearms",
        "assault rifle",
        "silencer",
        "ammunition",
        "grenade",
        "pipe bomb",
        "nerve agent",
        "sarin",
        "ricin",
        "anthrax",
    ],
    "drugs": [
        "cocaine",
        "heroin",
        "methamphetamine",
        "meth lab",
        "fentanyl",
        "crack cocaine",
        "lsd",
        "mdma",
        "ecstasy pills",
        "drug dealer",
        "cook meth",
    ],
    "self_harm": [
        "suicide",
        "kill myself",
        "self-harm",
        "self harm",
        "cutting myself",
        "end my life",
        "overdose",
        "slit my wrists",
        "hang myself",
    ],
    "medical_advice": [
        "diagnose",
        "diagnosis",
        "dosage",
        "prescription",
        "prescribe",
        "medication",
        "symptoms",
        "side effects",
        "treatment for",
    ],
    "legal_advice": [
        "lawsuit",
        "sue",
        "attorney",
        "legal advice",
        "contract breach",
        "custody",
        "plea deal",
    ],
    "financial_advice": [
        "invest in",
        "stock tip",
        "which stocks",
        "crypto investment",
        "retirement savings",
        "financial advice",
        "buy shares",
    ],
    "politics": [
        "election",
        "democrat",
        "republican",
        "vote for",
        "political party",
        "candidate",
        "campaign",
        "parliament",
        "senator",
        "president",
    ],
    "violence": [
        "kill",
        "murder",
        "stab",
        "shoot",
        "torture",
        "massacre",
        "assault",
        "behead",
        "lynch",
        "rape",
    ],
}


def _alternation(items: Sequence[str], *, whole_words: bool, case_sensitive: bool) -> re.Pattern:
    parts = sorted({re.escape(w) for w in items if w}, key=len, reverse=True)
    if not parts:
        return re.compile(r"(?!x)x")
    body = "|".join(parts)
    if whole_words:
        body = rf"(?<!\w)(?:{body})(?!\w)"
    return re.compile(body, 0 if case_sensitive else re.IGNORECASE)


@register_scanner("substrings")
class SubstringsScanner:
    """Banned words or phrases. ``words``: the list; ``whole_words`` (default True);
    ``case_sensitive`` (default False); ``category`` of the findings (default ``banned``)."""

    name = "substrings"
    version = "1.0"

    def __init__(
        self,
        words: Sequence[str] = (),
        whole_words: bool = True,
        case_sensitive: bool = False,
        category: str = "banned",
    ) -> None:
        if isinstance(words, str):
            raise ConfigError("substrings: 'words' must be a list of strings, not one string")
        self.words = list(words)
        self.category = category
        self._rx = _alternation(self.words, whole_words=whole_words, case_sensitive=case_sensitive)

    def scan_many(
        self, texts: Sequence[str], context: ScanContext | None = None
    ) -> list[list[Finding]]:
        out = []
        for t in texts:
            spans = tuple(Span(m.start(), m.end(), self.category) for m in self._rx.finditer(t))
            out.append(
                [
                    Finding(
                        self.name,
                        self.category,
                        1.0,
                        spans[:100],
                        f"banned term(s): {sorted({t[s.start : s.end].lower() for s in spans})[:5]}",
                    )
                ]
                if spans
                else []
            )
        return out


@register_scanner("regex")
class RegexScanner:
    """Named regular expressions: ``patterns`` maps a category to a pattern (or give a list;
    categories are then ``pattern_0``, ``pattern_1``...). ``ignore_case`` (default True)."""

    name = "regex"
    version = "1.0"

    def __init__(
        self, patterns: Mapping[str, str] | Sequence[str] = (), ignore_case: bool = True
    ) -> None:
        items = (
            dict(patterns)
            if isinstance(patterns, Mapping)
            else {f"pattern_{i}": p for i, p in enumerate(patterns)}
        )
        flags = re.IGNORECASE if ignore_case else 0
        self.patterns: list[tuple[str, re.Pattern]] = []
        for cat, p in items.items():
            try:
                self.patterns.append((cat, re.compile(p, flags)))
            except re.error as exc:
                raise ConfigError(
                    f"regex scanner: pattern {cat!r} = {p!r} is invalid: {exc}"
                ) from exc

    def scan_many(
        self, texts: Sequence[str], context: ScanContext | None = None
    ) -> list[list[Finding]]:
        out = []
        for t in texts:
            found = []
            for cat, rx in self.patterns:
                spans = tuple(
                    Span(m.start(), m.end(), cat) for m in rx.finditer(t) if m.end() > m.start()
                )
                if spans:
                    found.append(
                        Finding(self.name, cat, 1.0, spans[:100], f"matches pattern {cat!r}")
                    )
            out.append(found)
        return out


@register_scanner("topics")
class TopicsScanner:
    """Banned topics by keyword. ``topics``: names of built-in topics (see ``BUILTIN_TOPICS``)
    or a mapping topic -> keywords. Score = min(1, distinct keywords matched / ``saturate``)
    (default 2: one keyword scores 0.5, two or more 1.0)."""

    name = "topics"
    version = "1.0"

    def __init__(
        self, topics: Sequence[str] | Mapping[str, Sequence[str]] = (), saturate: int = 2
    ) -> None:
        if isinstance(topics, Mapping):
            table = {k: list(v) for k, v in topics.items()}
        else:
            unknown = [t for t in topics if t not in BUILTIN_TOPICS]
            if unknown:
                raise ConfigError(
                    f"topics: unknown built-in topic(s) {unknown}; known: "
                    f"{sorted(BUILTIN_TOPICS)} (or give a mapping topic -> words)"
                )
            table = {t: BUILTIN_TOPICS[t] for t in topics}
        self.saturate = max(1, int(saturate))
        self._rx = [
            (t, _alternation(w, whole_words=True, case_sensitive=False)) for t, w in table.items()
        ]

    def scan_many(
        self, texts: Sequence[str], context: ScanContext | None = None
    ) -> list[list[Finding]]:
        out = []
        for t in texts:
            found = []
            for topic, rx in self._rx:
                ms = list(rx.finditer(t))
                if ms:
                    distinct = {m.group(0).lower() for m in ms}
                    score = min(1.0, len(distinct) / self.saturate)
                    found.append(
                        Finding(
                            self.name,
                            topic,
                            score,
                            tuple(Span(m.start(), m.end(), topic) for m in ms[:100]),
                            f"topic {topic!r}: {sorted(distinct)[:5]}",
                        )
                    )
            out.append(found)
        return out
