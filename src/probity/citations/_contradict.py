"""Claims, entities and numbers: what makes a fluent sentence contradict its source.

Word overlap cannot tell "The Danube empties into the Black Sea" from "... the North Sea": the
sentences share all but one word. The checks here compare the *facts* a claim carries with
the passages about the same subject:

* **entities** (runs of capitalised words, possessives removed): a claim entity missing from
  the passage contradicts it when the passage names another entity of the same kind (same
  head word: "North Sea" vs "Black Sea") or in the same slot (same two words before it: "rises
  in the Swiss Alps" vs "rises in the Black Forest");
* **numbers and dates** (digits or number words): a claim number missing from the passage
  contradicts it when the passage gives another number with the same unit or the same two
  words before it ("1,230 kilometres" vs "2,850 kilometres", "opened in 1965" vs "opened in
  1971").

Only passages that mention the claim's subject (its first entity) are compared, so a passage
about another river never contradicts a sentence about the Danube. Hand-written because the
alternative, an NLI model, is a download; with ``--nli`` both run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ENTITY = re.compile(r"(?<![\w'’-])[A-Z][\w'’-]*(?:\s+(?:of\s+|de\s+|del\s+)?[A-Z][\w'’-]*)*")
_LEAD = frozenset(
    [
        "The",
        "A",
        "An",
        "In",
        "On",
        "At",
        "It",
        "Its",
        "This",
        "That",
        "These",
        "Those",
        "He",
        "She",
        "They",
        "We",
        "I",
        "As",
        "By",
        "For",
        "From",
        "To",
        "And",
        "But",
        "Or",
        "If",
        "When",
        "While",
        "After",
        "Before",
        "Since",
        "Some",
        "Most",
        "Many",
        "Every",
        "Each",
        "Both",
        "According",
        "However",
    ]
)
_NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d{3})*(?:\.\d+)?(?![\w])")
_WORD = re.compile(r"[\w'’-]+")
_ARTICLES = frozenset({"the", "a", "an"})
_FUNCTION = frozenset(
    [
        "the",
        "a",
        "an",
        "in",
        "on",
        "at",
        "of",
        "and",
        "or",
        "to",
        "by",
        "for",
        "from",
        "with",
        "as",
        "is",
        "was",
        "are",
        "were",
        "than",
        "into",
    ]
)
_NUMBER_WORDS = {
    w: i
    for i, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        ]
    )
}
_NUMBER_WORD = re.compile(r"\b(?:" + "|".join(_NUMBER_WORDS) + r")\b", re.I)
_CLAUSE = re.compile(r";\s+|,\s+(?:and|but|while|whereas)\s+|\s+(?:but|whereas)\s+")


@dataclass(frozen=True)
class Facts:
    entities: tuple[tuple[str, tuple[str, ...], int], ...]  # (entity, 2 words before, start)
    numbers: tuple[tuple[str, tuple[str, ...], str], ...]  # (value, 2 words before, unit)


def _clean_entity(e: str) -> str:
    e = re.sub(r"['’]s$", "", e.strip())
    parts = e.split()
    while parts and parts[0] in _LEAD:
        parts = parts[1:]
    return " ".join(parts)


def _before(text: str, start: int) -> tuple[str, ...]:
    toks = [t.lower() for t in _WORD.findall(text[:start])]
    toks = [t for t in toks if t not in _ARTICLES]
    return tuple(toks[-2:])


def facts(text: str) -> Facts:
    """Entities (with the two words before each) and numbers (with their neighbours)."""
    ents = []
    for m in _ENTITY.finditer(text):
        # "Germany's Black Forest" names two things
        offset = m.start()
        for part in re.split(r"(?<=['’]s)\s+", m.group(0)):
            e = _clean_entity(part)
            if e:
                ents.append((e, _before(text, offset), offset))
            offset += len(part) + 1
    nums = []
    for m in _NUMBER.finditer(text):
        after = _WORD.findall(text[m.end() :])
        unit = after[0].lower() if after else ""
        nums.append(
            (
                m.group(0).replace(",", ""),
                _before(text, m.start()),
                "" if unit in _FUNCTION else unit,
            )
        )
    for m in _NUMBER_WORD.finditer(text):
        after = _WORD.findall(text[m.end() :])
        unit = after[0].lower() if after else ""
        nums.append((str(_NUMBER_WORDS[m.group(0).lower()]), _before(text, m.start()), unit))
    return Facts(tuple(ents), tuple(nums))


def claims(sentence: str) -> list[str]:
    """The clauses of a sentence that each state something ("A; B", "A, and B", "A but B")."""
    parts = [p.strip(" ,.") for p in _CLAUSE.split(sentence)]
    return [p for p in parts if len(_WORD.findall(p)) >= 3] or [sentence]


def _head(entity: str) -> str:
    return entity.split()[-1].lower()


def _mentions(passage: str, entity: str) -> bool:
    return re.search(r"(?<!\w)" + re.escape(entity) + r"(?!\w)", passage, re.I) is not None


def entity_coverage(sentence: str, passage: str) -> tuple[float, int] | None:
    """Share of the sentence's entities and numbers the passage states, and how many the
    sentence has (None: it has none)."""
    f = facts(sentence)
    items = [e for e, _, _ in f.entities] + [v for v, _, _ in f.numbers]
    if not items:
        return None
    pnums = {v for v, _, _ in facts(passage).numbers}
    hit = sum(1 for e, _, _ in f.entities if _mentions(passage, e))
    hit += sum(1 for v, _, _ in f.numbers if v in pnums)
    return hit / len(items), len(items)


def contradiction(claim: str, passage: str, subject: str | None) -> str | None:
    """Why ``passage`` contradicts ``claim`` (one line), or None.

    ``subject`` is the sentence's first entity: the passage must mention it (or the claim has
    none) for a difference to count as a contradiction rather than another topic.
    """
    if subject and not _mentions(passage, subject):
        return None
    cf, pf = facts(claim), facts(passage)
    for ent, ctx, _ in cf.entities:
        if ent == subject or _mentions(passage, ent):
            continue
        for other, octx, _ in pf.entities:
            if other == subject or _mentions(claim, other):
                continue
            if len(ent.split()) > 1 and _head(ent) == _head(other) and ent.lower() != other.lower():
                return f"'{ent}' in the claim, '{other}' in the source"
            if len(ctx) == 2 and ctx == octx:
                return f"'{' '.join(ctx)} {ent}' in the claim, '{' '.join(octx)} {other}' in the source"
    p_values = {v for v, _, _ in pf.numbers}
    for value, before, unit in cf.numbers:
        if value in p_values:
            continue
        for pv, pb, pu in pf.numbers:
            # the same unit ("kilometres") or the same two words before ("opened in")
            if (unit and unit == pu) or (len(before) == 2 and before == pb):
                return f"{value} in the claim, {pv} in the source"
    return None


def subject_of(sentence: str) -> str | None:
    """The first entity of a sentence (what it is about), if it names one."""
    f = facts(sentence)
    return f.entities[0][0] if f.entities else None
