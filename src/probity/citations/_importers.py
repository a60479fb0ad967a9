"""Streaming readers for bibliographic files: BibTeX, CSL-JSON, JSONL, DBLP XML.

Each reader yields ``(position, fields_or_None, reason)`` one entry at a time: ``fields`` is a
flat dict (``title``, ``authors`` list, ``year``, ``venue``, ``doi``, ``arxiv``, ``url``,
``key``) or ``None`` with ``reason`` for an entry that cannot be read. Nothing loads a whole
file except CSL-JSON (a single JSON array by definition).
"""

from __future__ import annotations

import codecs
import html.entities
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from probity.errors import InputError
from probity.io import open_binary

from ._bibtex import bibtex_names, entry_to_record, iter_bibtex
from ._utf8 import decode_utf8

Entry = tuple[int, dict[str, Any] | None, str]
FORMATS = ("bibtex", "csl-json", "jsonl", "dblp")


def detect_format(path: Path) -> str:
    name = path.name.lower()
    for suffix in (".gz", ".zst"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    if name.endswith((".bib", ".bibtex")):
        return "bibtex"
    if name.endswith(".jsonl") or name.endswith(".ndjson"):
        return "jsonl"
    if name.endswith((".json", ".csl")):
        return "csl-json"
    if name.endswith(".xml"):
        return "dblp"
    raise InputError(
        f"cannot tell the format of {path.name!r} from its name",
        hint="pass format= one of " + ", ".join(FORMATS),
    )


def read_entries(path: Path, fmt: str) -> Iterator[Entry]:
    if fmt == "bibtex":
        return _bibtex(path)
    if fmt == "csl-json":
        return _csl(path)
    if fmt == "jsonl":
        return _jsonl(path)
    if fmt == "dblp":
        return _dblp(path)
    raise InputError(f"unknown citation format {fmt!r}", hint="use one of " + ", ".join(FORMATS))


# --- BibTeX ----------------------------------------------------------------------------------


def _bibtex(path: Path) -> Iterator[Entry]:
    with open_binary(path) as raw:
        lines = (decode_utf8(line, f"{path}:{n}") for n, line in enumerate(raw, 1))
        yield from iter_bibtex(lines)


def _year(value: Any) -> int | None:
    if value is None:
        return None
    m = re.search(r"\d{4}", str(value))
    return int(m.group(0)) if m else None


# --- CSL-JSON / JSONL ----------------------------------------------------------------------


def csl_to_record(item: dict[str, Any]) -> dict[str, Any]:
    names = []
    for a in item.get("author") or []:
        if isinstance(a, dict):
            if a.get("literal"):
                names.append(str(a["literal"]))
            else:
                names.append(" ".join(str(a[k]) for k in ("given", "family") if a.get(k)))
        else:
            names.append(str(a))
    year = None
    issued = item.get("issued")
    if isinstance(issued, dict) and issued.get("date-parts"):
        try:
            year = int(issued["date-parts"][0][0])
        except (TypeError, ValueError, IndexError):
            year = None
    title = item.get("title")
    if isinstance(title, list):
        title = title[0] if title else ""
    venue = item.get("container-title")
    if isinstance(venue, list):
        venue = venue[0] if venue else None
    return {
        "key": str(item.get("id") or ""),
        "title": title or "",
        "authors": names,
        "year": year or _year(item.get("year")),
        "venue": venue or None,
        "doi": item.get("DOI") or item.get("doi"),
        "arxiv": None,
        "url": item.get("URL") or item.get("url"),
    }


def _csl(path: Path) -> Iterator[Entry]:
    with open_binary(path) as raw:
        try:
            data = json.loads(decode_utf8(raw.read(), str(path)))
        except (UnicodeDecodeError, ValueError) as exc:
            raise InputError(f"{path}: not valid CSL-JSON ({exc})") from exc
    if isinstance(data, dict):
        data = data.get("items") or [data]
    for pos, item in enumerate(data, 1):
        if not isinstance(item, dict):
            yield pos, None, f"expected a JSON object, got {type(item).__name__}"
            continue
        rec = csl_to_record(item)
        yield (pos, rec, "") if rec["title"] else (pos, None, "no title")


def jsonl_to_record(obj: dict[str, Any]) -> dict[str, Any]:
    """A record from a JSON object: HALLMARK-style ``{"fields": {...}}``, CSL, or flat."""
    if isinstance(obj.get("fields"), dict):
        return entry_to_record(
            str(obj.get("bibtex_type") or ""),
            str(obj.get("bibtex_key") or ""),
            {str(k).lower(): v for k, v in obj["fields"].items()},
        )
    if "issued" in obj or "container-title" in obj:
        return csl_to_record(obj)
    authors = obj.get("authors", obj.get("author", []))
    if isinstance(authors, str):
        authors = bibtex_names(authors)  # "Kirsch, Andreas" is one person, as in BibTeX
    return {
        "key": str(obj.get("key") or obj.get("id") or ""),
        "title": obj.get("title") or "",
        "authors": [str(a) for a in authors],
        "year": _year(obj.get("year")),
        "venue": obj.get("venue") or obj.get("booktitle") or obj.get("journal"),
        "doi": obj.get("doi"),
        "arxiv": obj.get("arxiv"),
        "url": obj.get("url"),
    }


def _jsonl(path: Path) -> Iterator[Entry]:
    with open_binary(path) as raw:
        for lineno, line in enumerate(raw, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(decode_utf8(line, f"{path}:{lineno}"))
            except ValueError as exc:
                yield lineno, None, f"invalid JSON: {exc}"
                continue
            if not isinstance(obj, dict):
                yield lineno, None, f"expected a JSON object, got {type(obj).__name__}"
                continue
            rec = jsonl_to_record(obj)
            yield (lineno, rec, "") if rec["title"] else (lineno, None, "no title")


# --- DBLP XML --------------------------------------------------------------------------------

_DBLP_TYPES = {
    "article",
    "inproceedings",
    "proceedings",
    "book",
    "incollection",
    "phdthesis",
    "mastersthesis",
    "www",
}
_XML_KEEP = {"amp", "lt", "gt", "quot", "apos"}


class _EntityReader:
    """File wrapper that replaces HTML named entities (``&eacute;``), which dblp.xml takes
    from its DTD, by their characters, so the stdlib parser needs no DTD. Streams in chunks."""

    def __init__(self, raw: IO[bytes], source: str = "") -> None:
        self.raw = raw
        self.source = source
        self.tail = ""
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.warned = False

    def read(self, size: int = 1 << 16) -> bytes:
        data = self.raw.read(max(size, 1 << 12))
        # incremental: a chunk may end inside a multi-byte character
        chunk = self.decoder.decode(data, final=not data)
        if chunk.count("\ufffd") > data.count(b"\xef\xbf\xbd") and not self.warned:
            self.warned = True
            decode_utf8(data, self.source)  # the same warning as every other input
        text = self.tail + chunk
        self.tail = ""
        if chunk:
            amp = text.rfind("&")
            if amp != -1 and ";" not in text[amp:] and len(text) - amp < 12:
                text, self.tail = text[:amp], text[amp:]
        text = re.sub(r"&([A-Za-z][A-Za-z0-9]*);", self._sub, text)
        return text.encode("utf-8")

    @staticmethod
    def _sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name in _XML_KEEP:
            return m.group(0)
        ch = html.entities.html5.get(name + ";")
        return ch if ch is not None else ""


def _dblp(path: Path) -> Iterator[Entry]:
    import xml.etree.ElementTree as ET

    pos = 0
    with open_binary(path) as raw:
        stream = _EntityReader(raw, str(path))
        parser = ET.iterparse(stream, events=("start", "end"))
        root = None
        try:
            for event, elem in parser:
                if event == "start":
                    if root is None:
                        root = elem
                    continue
                if elem.tag not in _DBLP_TYPES:
                    continue
                pos += 1
                title = (
                    "".join(elem.find("title").itertext()).strip()
                    if elem.find("title") is not None
                    else ""
                )
                if not title or elem.tag == "www":
                    if elem.tag != "www":
                        yield pos, None, "no title"
                else:
                    ee = [e.text or "" for e in elem.findall("ee")]
                    doi = next((e for e in ee if "doi.org/" in e), None)
                    arx = next((e for e in ee if "arxiv.org/" in e), None)
                    yield (
                        pos,
                        {
                            "key": elem.get("key", ""),
                            "title": title.rstrip("."),
                            "authors": ["".join(a.itertext()) for a in elem.findall("author")],
                            "year": _year(elem.findtext("year")),
                            "venue": elem.findtext("booktitle") or elem.findtext("journal"),
                            "doi": doi,
                            "arxiv": arx,
                            "url": ee[0] if ee else None,
                        },
                        "",
                    )
                elem.clear()
                if root is not None:
                    root.clear()
        except ET.ParseError as exc:
            yield pos + 1, None, f"XML parse error: {exc}"
