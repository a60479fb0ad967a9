"""Corrected BibTeX for verified references: what ``probity cite verify --format bibtex``
writes so a user can fix a bibliography with the database's fields."""

from __future__ import annotations

import re
from collections.abc import Sequence

from ._norm import fold, surname_key
from ._types import CitationVerdict, Record


def _key(v: CitationVerdict, rec: Record, used: set[str]) -> str:
    if v.reference.kind == "bibtex" and v.reference.label:
        base = v.reference.label
    else:
        first = surname_key(rec.authors[0]) if rec.authors else "anon"
        word = next((w for w in fold(rec.title).split() if len(w) > 3), "paper")
        base = re.sub(r"[^a-z0-9]", "", f"{first}{rec.year or ''}{word}") or "ref"
    key, n = base, 1
    while key in used:
        n += 1
        key = f"{base}{chr(ord('a') + n - 2)}" if n < 28 else f"{base}{n}"
    used.add(key)
    return key


def _escape(value: str) -> str:
    # the writer encloses values in braces; a lone brace or backslash would break the entry
    return value.replace("\\", "\\\\").replace("{", "\\{").replace("}", "\\}")


def corrected_bibtex(verdicts: Sequence[CitationVerdict]) -> str:
    """BibTeX text: one entry with the database's fields for every reference whose paper was
    found (verified, or the same paper with a wrong author list, year, venue or identifier);
    a ``%`` comment line for each reference that could not be matched to a record. In-text
    citations are left out (their list entry is written)."""
    import bibtexparser
    from bibtexparser.library import Library
    from bibtexparser.model import Entry, ExplicitComment, Field

    lib = Library()
    used: set[str] = set()
    seen: set[int] = set()
    for v in verdicts:
        if v.reference.kind == "in_text":
            continue
        rec = v.closest
        if rec is None or v.fields.get("title") != "match":
            what = v.reference.title or v.reference.doi or v.reference.raw[:80]
            lib.add(ExplicitComment(f"{v.verdict}: {what} (no matching record, left out)"))
            continue
        if rec.id in seen:
            continue
        seen.add(rec.id)
        # double braces keep the title's capitalisation in every BibTeX style
        fields = [Field("title", "{" + _escape(rec.title) + "}")]
        if rec.authors:
            fields.append(Field("author", _escape(" and ".join(rec.authors))))
        if rec.year:
            fields.append(Field("year", str(rec.year)))
        journal = bool(
            rec.venue and re.search(r"journal|transactions|letters|review", rec.venue, re.I)
        )
        if rec.venue:
            fields.append(Field("journal" if journal else "booktitle", _escape(rec.venue)))
        if rec.doi:
            fields.append(Field("doi", rec.doi))
        if rec.arxiv:
            fields.extend([Field("eprint", rec.arxiv), Field("archiveprefix", "arXiv")])
        etype = "article" if journal else "inproceedings" if rec.venue else "misc"
        lib.add(Entry(etype, _key(v, rec, used), fields))
    return bibtexparser.write_string(lib)
