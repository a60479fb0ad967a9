"""Read the author block that opens a reference, in whichever name style it is written.

Every reference style starts with (or, in chat prose, ends its lead-in with) a list of names
written one consistent way: ``Last, F.`` (APA, Harvard, Nature, LNCS), ``F. Last`` / ``First
M. Last`` (IEEE, ACL, ACM), ``Last, F., F. Last, and F. Last`` (Chicago, MLA), ``Last FM``
(Vancouver, AMA) or bare surnames (``Hanushek and Rivkin``). What ends the block says where
the title starts: ``(2021).``, ``. 2021.``, ``:``, an opening quote, or a period.

Hand-written on purpose: reference parsers that learn (GROBID, anystyle) need a JVM or Ruby
and a model download; this grammar is small, runs offline and is exercised by references
rendered with a real CSL processor in many styles (tests/citations/test_blackbox_styles.py).
Each name style is tried on the whole list and the one that reads the most names up to a
valid ending wins, because names in one list share their form: that is what tells ``Sun J.
Deep Learning.`` (Vancouver) from ``Aidan N. Gomez,`` (given names first).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_UP = "A-Z" + "".join(
    c
    for c in map(chr, [*range(0xC0, 0x250), *range(0x391, 0x3AA), *range(0x410, 0x430)])
    if c.isupper()
)
_LOW = "a-z" + "".join(
    c
    for c in map(chr, [*range(0xDF, 0x250), *range(0x3AC, 0x3CF), *range(0x430, 0x450)])
    if c.islower()
)
_PARTICLE = r"(?:van|von|der|den|de|del|della|da|di|du|la|le|ter|ten|dos|das|al|bin|ibn|St\.)"
_SURNAME = (
    rf"(?:{_PARTICLE}\s+)*(?:Mc|Mac|O'|O’|D'|D’)?[{_UP}][{_LOW}][{_LOW}{_UP}'’]*"
    rf"(?:-[{_UP}{_LOW}][{_LOW}{_UP}'’]+)*"
)
_INITS = rf"[{_UP}]\.(?:\s?-?[{_UP}]\.)*"
# "Ming-Wei", "MohammadTaghi"; a bare initial "J" inside a name ("Peter J Barclay")
_GIVEN = rf"[{_UP}][{_LOW}]+(?:[{_UP}][{_LOW}]+)?(?:-[{_UP}]?[{_LOW}]+)?"
_VINITS = rf"[{_UP}]{{1,3}}(?:-[{_UP}])?"
_CJK_NAME = r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]{2,4}"

_FOLLOW = r"(?=\s*(?:[,;&:(.]|\band\b|[“\"«]|\*et|\bet\b|$))"
_NAME = {
    # "Vaswani, A." / "Le, Q. V." / "Chang, M.-W."
    "last_init": rf"{_SURNAME},\s*{_INITS}",
    # "A. Vaswani" / "Aidan N. Gomez" / "H. Brendan McMahan" / "Laurens van der Maaten" /
    # "Blaise Agüera y Arcas"
    "given_last": (
        rf"(?:{_GIVEN}|{_INITS})(?:\s(?:{_GIVEN}|{_INITS}|[{_UP}](?=\s)|y|e|i))*\s{_SURNAME}{_FOLLOW}"
    ),
    # "Gomez AN" / "Chang M-W" (Vancouver, AMA)
    "vancouver": rf"{_SURNAME}\s{_VINITS}(?=[,.;:]|\s(?:et\b|and\b|&))",
    # "Kirsch, Andreas" (the inverted first name of Chicago and MLA)
    "last_given": rf"{_SURNAME},\s*{_GIVEN}(?:\s(?:{_GIVEN}|{_INITS}))*{_FOLLOW}",
    # "Hanushek" (bare surnames in prose)
    "surname": rf"(?:{_PARTICLE}\s+)*(?:Mc|Mac|O'|O’)?[{_UP}][{_LOW}][{_LOW}{_UP}'’]*(?:-[{_UP}][{_LOW}]+)?{_FOLLOW}",
    "cjk": rf"{_CJK_NAME}",
}
_COMPILED = {k: re.compile(v) for k, v in _NAME.items()}

#: name styles: (first name forms, later name forms)
_MODES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "last_init": (("last_init", "last_given"), ("last_init",)),
    "given_last": (("given_last", "cjk"), ("given_last", "cjk")),
    "chicago": (("last_init", "last_given"), ("given_last",)),
    "vancouver": (("vancouver",), ("vancouver",)),
    "surname": (("surname",), ("surname",)),
}
_SEP = re.compile(r"\s*(?:,\s*(?:and\s+|&\s*)?|;\s*|\s+and\s+|\s*&\s*)")
_ET_AL = re.compile(r",?\s*\*?(?:et\.?\s*al\b\.?|and others\b)\*?")
_YEAR = r"(?:19|20)\d{2}"
# what may end the author block, and whether it carries the year
_ENDS = (
    re.compile(rf"\.?,?\s*\((?P<y>{_YEAR})[a-z]?(?:,[^)]*)?\)\s*[.,:]?\s*"),
    re.compile(rf"[.,]?\s+(?P<y>{_YEAR})[a-z]?[.,]\s+"),
    re.compile(r"\s*:\s+"),
    re.compile(r"[.,]?\s*(?=[“\"«])"),
    re.compile(r"\.+\s+"),
)


@dataclass(frozen=True)
class AuthorBlock:
    """The names at the start of a reference, where they end, and the year right after them."""

    names: tuple[str, ...]
    et_al: bool
    end: int
    year: int | None
    mode: str


def _display(name: str, form: str) -> str:
    name = re.sub(r"\s+", " ", name).strip()
    if form == "vancouver":
        # "Gomez AN" -> "Gomez, A. N." so surname and initials are read as in every style
        last, inits = name.rsplit(" ", 1)
        return f"{last}, " + " ".join(f"{c}." for c in inits.replace("-", ""))
    return name


def _parse_mode(s: str, pos: int, mode: str) -> tuple[list[str], int] | None:
    first_forms, later_forms = _MODES[mode]
    names: list[str] = []
    forms = first_forms
    sep_start = pos
    while True:
        for form in forms:
            m = _COMPILED[form].match(s, pos)
            if m:
                names.append(_display(m.group(0), form))
                pos = m.end()
                break
        else:
            if not names:
                return None
            return names, sep_start
        forms = later_forms
        sep_start = pos
        sep = _SEP.match(s, pos)
        if not sep or sep.end() == pos:
            return names, pos
        # a separator leads to another name only if one follows it
        pos = sep.end()


_PRIORITY = {"last_init": 4, "chicago": 3, "vancouver": 2, "given_last": 1, "surname": 0}


# words that open a sentence before the names ("As Smith et al. (2020) showed")
PROSE_WORDS = frozenset(
    [
        "As",
        "See",
        "In",
        "On",
        "The",
        "This",
        "That",
        "These",
        "For",
        "And",
        "But",
        "By",
        "From",
        "Recent",
        "Following",
        "According",
        "Unlike",
        "Like",
        "While",
        "Since",
        "Earlier",
        "Later",
        "Then",
        "Here",
        "There",
        "Also",
        "Both",
        "Work",
        "Studies",
        "Papers",
    ]
)


def _score(block: AuthorBlock) -> tuple[int, bool, int, int]:
    # most names first, then an ending that carries the year ("Eric A. Hanushek. 2014." is
    # one given-name-first author, not "Eric A." and a title), then the stricter name form
    # ("Sun J. Deep Learning." is Vancouver "Sun J." and a title)
    return (len(block.names), block.year is not None, _PRIORITY[block.mode], block.end)


def author_block(s: str, start: int = 0) -> AuthorBlock | None:
    """The author list opening ``s`` at ``start``, or None when no style reads one there.

    Of the name styles that read a list ending at a valid boundary (a parenthesised year,
    ``. 2021.``, ``:``, an opening quote, or a period) the one reading the most names wins.
    """
    best: AuthorBlock | None = None
    first_word = re.match(r"[^\W\d_]+", s[start:])
    if first_word and first_word.group(0) in PROSE_WORDS:
        return None
    for mode in _MODES:
        got = _parse_mode(s, start, mode)
        if got is None:
            continue
        names, pos = got
        et_al = False
        m = _ET_AL.match(s, pos)
        if m and m.end() > pos:
            et_al, pos = True, m.end()
        for rx in _ENDS[:1] if mode == "surname" else _ENDS:
            # bare surnames are an author list only before a parenthesised year (prose)
            e = rx.match(s, pos)
            if e is None and s[pos - 1 : pos] == "." and rx is _ENDS[-1]:
                # the period of a final initial ("Sun, J. Deep ...") also ends the block
                e = re.compile(r"\s+").match(s, pos)
            if e is None:
                continue
            year = int(e.group("y")) if "y" in e.groupdict() and e.group("y") else None
            block = AuthorBlock(tuple(names), et_al, e.end(), year, mode)
            if best is None or _score(block) > _score(best):
                best = block
            break
    return best
