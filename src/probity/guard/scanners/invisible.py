"""``invisible``: zero-width characters, bidirectional overrides (Trojan Source), tag
characters (ASCII smuggling), other format/control characters and private-use code points.

One compiled character class finds them all in a single pass (C speed); runs of adjacent hits
become one finding span. Scores: tags and bidi overrides 1.0 (they hide or reorder text),
zero-width and other format characters 0.8, control characters 0.9 (ESC starts terminal
escape sequences that rewrite what an operator sees, NUL truncates strings in C code: both are
reported by the default policies; tab, newline and carriage return are not control findings).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from probity.guard.base import ScanContext, register_scanner
from probity.types import Finding, Span

_BIDI = "\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c"
_ZERO = "\u200b-\u200d\u2060-\u2064\ufeff\u180e\u00ad\u034f\u115f\u1160\u3164\uffa0"
_TAGS = "\U000e0000-\U000e007f"
_CTRL = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
_PUA = "\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd"
_VARSEL = "\ufe00-\ufe0f\U000e0100-\U000e01ef"

_CATS = [
    ("bidi", _BIDI, 1.0),
    ("tag", _TAGS, 1.0),
    ("zero_width", _ZERO, 0.8),
    ("variation_selector", _VARSEL, 0.5),
    ("control", _CTRL, 0.9),
    ("private_use", _PUA, 0.5),
]
_ANY = re.compile("[" + "".join(c for _, c, _ in _CATS) + "]+")
_ONE = [(name, re.compile("[" + chars + "]"), score) for name, chars, score in _CATS]


@register_scanner("invisible")
class InvisibleScanner:
    """Finds invisible and text-reordering characters. ``ignore``: categories to skip
    (``variation_selector`` is skipped by default because emoji use it)."""

    name = "invisible"
    version = "1.0"

    def __init__(self, ignore: Sequence[str] = ("variation_selector",), min_run: int = 1) -> None:
        self.ignore = set(ignore)
        self.min_run = int(min_run)

    def scan_many(
        self, texts: Sequence[str], context: ScanContext | None = None
    ) -> list[list[Finding]]:
        out: list[list[Finding]] = []
        for text in texts:
            found: dict[str, list[Span]] = {}
            scores: dict[str, float] = {}
            for m in _ANY.finditer(text):
                run = m.group(0)
                for name, rx, score in _ONE:
                    if name in self.ignore or len(run) < self.min_run:
                        continue
                    if rx.search(run):
                        found.setdefault(name, []).append(Span(m.start(), m.end(), name, score))
                        scores[name] = score
            out.append(
                [
                    Finding(
                        self.name,
                        cat,
                        scores[cat],
                        tuple(spans[:100]),
                        f"{len(spans)} run(s) of {cat.replace('_', ' ')} characters",
                    )
                    for cat, spans in found.items()
                ]
            )
        return out
