"""BibTeX through bibtexparser 2: one parser for ``db import``, ``verify --bib`` and BibTeX
entries pasted into a text.

bibtexparser reads what people really write (``author = {Kirsch, Andreas}`` is one person,
``{Google Brain}`` one corporate author, ``@string`` macros, LaTeX accents) and reports the
blocks it cannot parse; Probity turns each into a record or a named reject. Files are read in
batches of entries (split where a line opens a new ``@`` block) so a large file is never held
whole, and ``@string`` definitions carry over from batch to batch.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any

from ._norm import clean_name

Entry = tuple[int, dict[str, Any] | None, str]
_BATCH = 500
_HEAD = re.compile(r"\s*@\s*([A-Za-z]+)\s*[{(]\s*([^,\s]*)")


@lru_cache(maxsize=1)
def _latex() -> Any:
    from pylatexenc.latex2text import LatexNodes2Text

    return LatexNodes2Text()


def _decode(value: str) -> str:
    if "\\" in value or "{" in value:
        value = _latex().latex_to_text(value)
    return re.sub(r"\s+", " ", value).strip()


def _name(parts: Any) -> str:
    if isinstance(parts, str):
        return clean_name(_decode(parts))
    words = [*parts.first, *parts.von, *parts.last]
    name = " ".join(_decode(w) for w in words if w)
    if parts.jr:
        name += ", " + " ".join(_decode(w) for w in parts.jr)
    return clean_name(name)


def _resolve(value: str, strings: dict[str, str]) -> str:
    """Expand ``macro # "text"`` concatenations bibtexparser leaves unresolved."""
    if "#" not in value:
        return strings.get(value.strip().lower(), value)
    out = []
    for piece in value.split("#"):
        piece = piece.strip()
        if piece[:1] in '{"' and piece[-1:] in '}"':
            out.append(piece[1:-1])
        else:
            out.append(strings.get(piece.lower(), piece))
    return "".join(out)


def _year(value: Any) -> int | None:
    m = re.search(r"\d{4}", str(value or ""))
    return int(m.group(0)) if m else None


def bibtex_names(value: str) -> list[str]:
    """Display names of a BibTeX ``author`` field: ``and`` separates people, a comma only
    inverts one name (``Kirsch, Andreas`` is one person), braces protect (``{Google Brain}``)."""
    from bibtexparser.middlewares.names import (
        parse_single_name_into_parts,
        split_multiple_persons_names,
    )

    out = []
    for person in split_multiple_persons_names(value):
        try:
            out.append(_name(parse_single_name_into_parts(person, strict=False)))
        except Exception:
            out.append(_name(person))
    return [n for n in out if n]


def entry_to_record(etype: str, key: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The flat record of one entry: ``author`` is a BibTeX string, a list of strings or
    bibtexparser's split name parts. Shared by BibTeX files and JSONL ``fields`` objects."""
    authors = fields.get("author") or fields.get("authors") or fields.get("editor") or []
    if isinstance(authors, str):
        names = bibtex_names(authors)
    else:
        names = [n for n in (_name(a) for a in authors) if n]
    et_al = any(n.lower() == "others" for n in names)
    names = [n for n in names if n.lower() != "others"]  # "and others" is BibTeX's "et al."
    text = {
        k: _decode(str(v))
        for k, v in fields.items()
        if k not in ("author", "authors", "editor") and v is not None
    }
    venue = (
        text.get("howpublished")
        if etype == "misc"
        else text.get("booktitle") or text.get("journal") or text.get("venue")
    ) or text.get("publisher")
    arxiv = (
        text.get("eprint")
        if text.get("archiveprefix", "").lower() == "arxiv"
        else text.get("arxiv")
    )
    return {
        "key": key,
        "title": text.get("title", ""),
        "authors": names,
        "year": _year(text.get("year") or text.get("date")),
        "venue": venue or None,
        "doi": text.get("doi") or None,
        "arxiv": arxiv or None,
        "url": text.get("url") or None,
        "et_al": et_al,
    }


def parse_bibtex(text: str, strings: dict[str, str] | None = None) -> list[tuple[str, Any]]:
    """Parse BibTeX text: ``[(raw_or_key, record_or_error)]`` in file order.

    Each item is ``(key, record_dict)`` for an entry, or ``(first line, "error: ...")`` for a
    block bibtexparser could not read or an entry without a title. ``strings`` holds
    ``@string`` macros defined earlier (updated in place with the ones found here).
    """
    import bibtexparser
    from bibtexparser import middlewares as mw
    from bibtexparser.model import Entry as BibEntry
    from bibtexparser.model import ParsingFailedBlock, String

    strings = {} if strings is None else strings
    prefix = "".join(f"@string{{{k} = {{{v}}}}}\n" for k, v in strings.items())
    lib = bibtexparser.parse_string(
        prefix + text, append_middleware=[mw.SeparateCoAuthors(), mw.SplitNameParts()]
    )
    out: list[tuple[int, tuple[str, Any]]] = []
    for block in lib.blocks:
        line = block.start_line or 0
        if isinstance(block, String):
            strings[block.key.lower()] = str(block.value)
        elif isinstance(block, ParsingFailedBlock):
            head = block.raw.strip().splitlines()[0][:60] if block.raw.strip() else "?"
            why = str(block.error).strip().splitlines()
            detail = why[0] if why else "unbalanced braces or a field that never closes"
            out.append((line, (head, f"malformed entry {head!r} (line {line + 1}): {detail}")))
        elif isinstance(block, BibEntry):
            fields = {
                f.key.lower(): (
                    f.value
                    if f.key.lower() in ("author", "editor")
                    else _resolve(str(f.value), strings)
                )
                for f in block.fields
            }
            rec = entry_to_record(block.entry_type.lower(), block.key, fields)
            if not rec["title"]:
                out.append((line, (block.key, f"entry {block.key!r}: no title")))
            else:
                out.append((line, (block.key, rec)))
    return [item for _line, item in sorted(out, key=lambda t: t[0])]


def _chunks(lines: Iterable[str]) -> Iterator[str]:
    """Batches of whole blocks: cut only where a line opens a new ``@`` block."""
    buf: list[str] = []
    blocks = 0
    for line in lines:
        if line.lstrip().startswith("@"):
            blocks += 1
            if blocks > _BATCH:
                yield "".join(buf)
                buf, blocks = [], 1
        buf.append(line)
    if buf:
        yield "".join(buf)


def iter_bibtex(lines: Iterable[str]) -> Iterator[Entry]:
    """Stream ``(position, record_or_None, reason)`` for each entry of BibTeX lines."""
    strings: dict[str, str] = {}
    pos = 0
    for chunk in _chunks(lines):
        for _key, got in parse_bibtex(chunk, strings):
            pos += 1
            if isinstance(got, dict):
                yield pos, got, ""
            else:
                yield pos, None, got
