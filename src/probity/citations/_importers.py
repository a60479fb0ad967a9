"""Streaming readers for bibliographic files: BibTeX, CSL-JSON, JSONL, DBLP XML.

Each reader yields ``(position, fields_or_None, reason)`` one entry at a time: ``fields`` is a
flat dict (``title``, ``authors`` list, ``year``, ``venue``, ``doi``, ``arxiv``, ``url``,
``key``) or ``None`` with ``reason`` for an entry that cannot be read. Nothing loads a whole
file except CSL-JSON (a single JSON array by definition).
"""

from __future__ import annotations

import html.entities
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from probity.errors import InputError
from probity.io import RejectSink, iter_jsonl, open_binary

from ._norm import split_authors

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
        text_lines = (line.decode("utf-8", "replace") for line in raw)
        yield from iter_bibtex(text_lines)


def iter_bibtex(lines: Any) -> Iterator[Entry]:
    """Split a stream of lines into BibTeX entries and parse each (streaming)."""
    buf: list[str] = []
    depth = 0
    pos = 0
    opened = False
    for line in lines:
        if line.lstrip().startswith("@") and buf:
            # a new entry starts while the previous one is still open: skip the broken one
            pos += 1
            yield pos, None, "unbalanced braces (entry never closed)"
            buf, depth, opened = [], 0, False
        if not buf and not line.lstrip().startswith("@"):
            continue
        buf.append(line)
        depth += _brace_delta(line)
        opened = opened or "{" in line or "(" in line
        if opened and depth <= 0:
            pos += 1
            entry = "".join(buf)
            buf, depth, opened = [], 0, False
            try:
                parsed = parse_bibtex_entry(entry)
            except ValueError as exc:
                yield pos, None, str(exc)
                continue
            if parsed is not None:
                yield pos, parsed, ""
    if buf:
        pos += 1
        yield pos, None, "unterminated entry at end of file"


def _brace_delta(line: str) -> int:
    line = line.replace("\\{", "").replace("\\}", "")
    return line.count("{") - line.count("}")


_ENTRY_HEAD = re.compile(r"\s*@\s*([A-Za-z]+)\s*[{(]\s*([^,\s]*)\s*,?", re.S)


def parse_bibtex_entry(entry: str) -> dict[str, Any] | None:
    """Parse one ``@type{key, field = value, ...}`` entry into flat fields.

    Returns ``None`` for ``@comment``/``@preamble``/``@string``; raises ``ValueError`` naming
    the problem for a malformed entry.
    """
    m = _ENTRY_HEAD.match(entry)
    if not m:
        raise ValueError("not a BibTeX entry (expected @type{key, ...})")
    etype, key = m.group(1).lower(), m.group(2)
    if etype in ("comment", "preamble", "string"):
        return None
    body = entry[m.end() :]
    fields: dict[str, str] = {}
    i, n = 0, len(body)
    while i < n:
        while i < n and body[i] in " \t\r\n,":
            i += 1
        if i >= n or body[i] in "})":
            break
        fm = re.match(r"([A-Za-z][\w\-:.]*)\s*=\s*", body[i:])
        if not fm:
            raise ValueError(f"entry {key!r}: expected 'field = value' near {body[i : i + 30]!r}")
        name = fm.group(1).lower()
        i += fm.end()
        value, i = _bib_value(body, i, key)
        fields[name] = re.sub(r"\s+", " ", value).strip()
    if not fields.get("title"):
        raise ValueError(f"entry {key!r}: no title")
    return bib_fields_to_record(fields, key=key, etype=etype)


def _bib_value(body: str, i: int, key: str) -> tuple[str, int]:
    parts: list[str] = []
    n = len(body)
    while i < n:
        c = body[i]
        if c == "{":
            depth, j = 1, i + 1
            while j < n and depth:
                if body[j] == "{" and body[j - 1] != "\\":
                    depth += 1
                elif body[j] == "}" and body[j - 1] != "\\":
                    depth -= 1
                j += 1
            if depth:
                raise ValueError(f"entry {key!r}: unbalanced braces in a field value")
            parts.append(body[i + 1 : j - 1])
            i = j
        elif c == '"':
            j = i + 1
            depth = 0
            while j < n and (body[j] != '"' or depth > 0):
                depth += {"{": 1, "}": -1}.get(body[j], 0)
                j += 1
            if j >= n:
                raise ValueError(f"entry {key!r}: unterminated quoted value")
            parts.append(body[i + 1 : j])
            i = j + 1
        else:
            m = re.match(r"[\w\-.:/]+", body[i:])
            if not m:
                raise ValueError(f"entry {key!r}: bad field value near {body[i : i + 20]!r}")
            parts.append(m.group(0))
            i += m.end()
        while i < n and body[i] in " \t\r\n":
            i += 1
        if i < n and body[i] == "#":
            i += 1
            while i < n and body[i] in " \t\r\n":
                i += 1
            continue
        break
    return "".join(parts), i


def bib_fields_to_record(
    fields: dict[str, Any], *, key: str = "", etype: str = ""
) -> dict[str, Any]:
    """Flat record from BibTeX-style fields (``author``, ``booktitle``/``journal``...)."""
    authors, _ = split_authors(str(fields.get("author") or fields.get("authors") or ""))
    venue = (
        fields.get("booktitle")
        or fields.get("journal")
        or fields.get("venue")
        or fields.get("publisher")
        if etype != "misc"
        else fields.get("howpublished")
    )
    arxiv = (
        fields.get("eprint")
        if str(fields.get("archiveprefix", "")).lower() == "arxiv"
        else fields.get("arxiv")
    )
    return {
        "key": key,
        "title": fields.get("title", ""),
        "authors": authors,
        "year": _year(fields.get("year")),
        "venue": venue or None,
        "doi": fields.get("doi") or None,
        "arxiv": arxiv or None,
        "url": fields.get("url") or None,
    }


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
            data = json.loads(raw.read().decode("utf-8"))
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
        return bib_fields_to_record(
            obj["fields"],
            key=str(obj.get("bibtex_key") or ""),
            etype=str(obj.get("bibtex_type") or ""),
        )
    if "issued" in obj or "container-title" in obj:
        return csl_to_record(obj)
    authors = obj.get("authors", obj.get("author", []))
    if isinstance(authors, str):
        authors, _ = split_authors(authors)
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
    sink = RejectSink()
    seen = 0
    for lineno, obj in iter_jsonl(path, rejects=sink):
        while seen < len(sink):  # a bad line before this one
            r = sink.rejects[seen]
            seen += 1
            yield r.line, None, r.reason
        rec = jsonl_to_record(obj)
        yield (lineno, rec, "") if rec["title"] else (lineno, None, "no title")
    for r in sink.rejects[seen:]:
        yield r.line, None, r.reason


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

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.tail = ""

    def read(self, size: int = 1 << 16) -> bytes:
        chunk = self.raw.read(max(size, 1 << 12)).decode("utf-8", "replace")
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
        stream = _EntityReader(raw)
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
