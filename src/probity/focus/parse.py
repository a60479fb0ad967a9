"""Robust parsing of a focus-group answer into option 1, option 2, neither, or unparseable.

Unparseable answers are counted, never guessed: an answer that names both options, or
neither in a recognisable way, is not assigned to one.
"""

from __future__ import annotations

import re

_FIRST = re.compile(
    r"\b(?:option|choice|product)\s*(?:1|one|#1)\b|\bthe first (?:one|option|product)\b"
    r"|^\s*(?:1|one)\b",
    re.I | re.M,
)
_SECOND = re.compile(
    r"\b(?:option|choice|product)\s*(?:2|two|#2)\b|\bthe second (?:one|option|product)\b"
    r"|^\s*(?:2|two)\b",
    re.I | re.M,
)
_NEITHER = re.compile(
    r"\b(?:neither|none of (?:them|these|the two)|no preference|"
    r"i (?:would|'d) not (?:buy|choose) either)\b",
    re.I,
)


def parse_choice(answer: str, first_name: str = "", second_name: str = "") -> str:
    """``"first"``, ``"second"``, ``"neither"`` or ``"unparseable"``.

    Looks at the first sentence first (where models state their choice), then the whole
    answer; product names count as mentions of their option.
    """
    text = answer.strip()
    if not text:
        return "unparseable"
    head = re.split(r"(?<=[.!?])\s|\n", text, maxsplit=1)[0]
    for part in (head, text):
        if _NEITHER.search(part):
            return "neither"
        first = bool(_FIRST.search(part)) or _mentions(part, first_name)
        second = bool(_SECOND.search(part)) or _mentions(part, second_name)
        if first and not second:
            return "first"
        if second and not first:
            return "second"
        if first and second:
            return "unparseable"
    return "unparseable"


def _mentions(text: str, name: str) -> bool:
    return bool(name) and re.search(rf"\b{re.escape(name)}\b", text, re.I) is not None


_RATING = re.compile(r"(?<![\d.])([1-5])(?!\d|\.\d|\s*%)")


def parse_likert(answer: str) -> int | None:
    """The first rating 1-5 in the answer (``"4 - I like..."``, ``"I'd say 2."``), or None
    when there is none (counted as unparseable, never guessed)."""
    m = _RATING.search(answer or "")
    return int(m.group(1)) if m else None
