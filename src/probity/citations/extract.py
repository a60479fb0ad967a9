"""Reference extraction from free text, chat answers and BibTeX: pure Python, no model.

The text is cut into *blocks*: BibTeX entries (brace-matched), list items (``[1]``, ``1.``,
``-``, ``*``, ``•``; wrapped continuation lines join their item) and paragraphs. Each block that
looks like a reference (a year or an identifier plus a title-like segment) is parsed by style:

* quoted or emphasised title: ``"Title" by A, B and C (2021), Venue`` / ``**Title** (A et al.,
  2021)`` / ``A and B. "Title." Venue, 2021`` (IEEE, MLA, chat answers);
* APA / author-year: ``Last, F., & Last, F. (2021). Title. Venue.``;
* dot-separated: ``A, B, and C. Title. In Venue, 2021.`` (ACM, LNCS, DBLP);

Identifiers (DOI, arXiv id, URL) are taken from anywhere in the block; identifiers outside any
block and author-year mentions in prose (``Smith et al. (2020)``) become references of kind
``identifier`` / ``in_text``. Every reference keeps its character span in the input.
"""

from __future__ import annotations

import dataclasses
import re

from probity.types import Span

from ._authorlist import PROSE_WORDS as _PROSE
from ._authorlist import author_block
from ._bibtex import parse_bibtex
from ._norm import normalize_arxiv, normalize_doi, split_authors
from ._types import Reference

_YEAR = re.compile(r"(?<![\d./])((?:19|20)\d{2})[a-z]?(?![\d/])")
_DOI = re.compile(r"(?:https?://(?:dx\.)?doi\.org/|doi:\s*)?(10\.\d{4,9}/[^\s\"'<>{}\])]+)", re.I)
_ARXIV = re.compile(
    r"(?:arxiv(?:\.org/(?:abs|pdf)/|:\s*|\s+preprint\s+arxiv:\s*))"
    r"(\d{4}\.\d{4,5}(?:v\d+)?|[a-z\-]+/\d{7})",
    re.I,
)
_URL = re.compile(r"https?://[^\s<>\"')\]]+")
_ITEM = re.compile(
    r"^[ \t]*(?:\[[A-Za-z]{0,3}\d{1,5}\][ \t]*|\(\d{1,4}\)[ \t]+"
    r"|(?!(?:19|20)\d{2}\b)\d{1,4}[.):][ \t]+|[-*•‣◦·–][ \t]+)"
)
_QUOTED = re.compile(
    r"[\"“«„]([^\"“”«»„]{6,300}?)[\"”»“]|\*\*([^*\n]{6,300}?)\*\*"
    r"|(?<![\w*])\*([^*\n]{6,300}?)\*(?![\w*])|(?<!\w)_([^_\n]{6,300}?)_(?!\w)"
)
_BIB_HEAD = re.compile(r"@[A-Za-z]+\s*[{(]")
_ET_AL = re.compile(r"\bet\.?\s+al\b\.?|\band others\b", re.I)
_INITIAL_END = re.compile(
    r"(?:^|[\s\-.])[^\W\d_]$|(?:^|\s)(?:et al|al|Jr|Sr|St|Dr|Vol|vol|pp|No"
    r"|no|eds?)$"
)
_IN_TEXT = re.compile(
    r"\b([A-Z][\w'\-]+(?:\s+(?:et al\.?|and [A-Z][\w'\-]+|& [A-Z][\w'\-]+))?)"
    r",?\s+\(?((?:19|20)\d{2})[a-z]?\)?"
)
_HEADING = re.compile(
    r"^[ \t#*]*(?:references?|bibliography|works cited|sources|literature( cited)?|citations"
    r"|further reading|reading list)[ \t*]*:?[ \t]*$",
    re.I,
)
_IN_TEXT_NUMBERED = re.compile(
    r"\b([A-Z][\w'\-]+(?:\s+(?:et al\.?|and [A-Z][\w'\-]+|& [A-Z][\w'\-]+))?)[ \t]+\[(\d{1,4})\]"
)
_MARKER_LABEL = re.compile(r"^[ \t]*[\[(]?([A-Za-z]{0,3}\d{1,5})[\]).:]?[ \t]*$")
_VENUE_HINT = re.compile(
    r"\b(?:In|Proceedings|Proc\.|Conference|Journal|Transactions|Workshop|"
    r"Symposium|arXiv|NeurIPS|NIPS|ICML|ICLR|CVPR|ICCV|ECCV|ACL|EMNLP|NAACL|"
    r"AAAI|IJCAI|KDD|SIGIR|UAI|AISTATS|COLT|TMLR|JMLR|Nature|Science)\b"
)


def extract_references(text: str) -> list[Reference]:
    """All references in ``text``, in order of appearance, with character spans.

    Returns structured fields (authors, title, year, venue, doi, arxiv, url). Robust to
    initials, diacritics, CJK names, "et al." and wrapped lines; never raises on odd input
    (a block that cannot be parsed is skipped).
    """
    refs: list[Reference] = []
    taken: list[tuple[int, int]] = []
    # 1. BibTeX entries (@string macros defined earlier in the text apply to later entries)
    strings: dict[str, str] = {}
    for m in _BIB_HEAD.finditer(text):
        if any(a <= m.start() < b for a, b in taken):
            continue
        end = _match_brace(text, m.end() - 1)
        if end < 0:
            continue
        raw = text[m.start() : end]
        parsed = [got for _key, got in parse_bibtex(raw, strings) if isinstance(got, dict)]
        if not parsed:
            continue
        rec = parsed[0]
        authors = tuple(rec["authors"])
        refs.append(
            Reference(
                title=_clean_title(rec["title"]),
                authors=authors,
                year=rec["year"],
                venue=rec["venue"],
                doi=normalize_doi(rec["doi"]),
                arxiv=normalize_arxiv(rec["arxiv"]),
                url=rec["url"],
                et_al=rec["et_al"] or _ET_AL.search(raw) is not None,
                span=Span(m.start(), end, "reference"),
                raw=raw,
                kind="bibtex",
            )
        )
        taken.append((m.start(), end))
    # 2. list items and paragraphs
    for start, end in _blocks(text, taken):
        block = text[start:end]
        marker = _MARKER_LABEL.match(text[text.rfind("\n", 0, start) + 1 : start])
        for a, b, ref in _parse_block(block):
            ref = _with_span(ref, start + a, start + b, text)
            if marker and a == 0:
                ref = dataclasses.replace(ref, label=marker.group(1))
            refs.append(ref)
            taken.append((start + a, start + b))
    # 3. identifiers and author-year mentions outside every reference
    for rx, kind in ((_DOI, "doi"), (_ARXIV, "arxiv")):
        for m in rx.finditer(text):
            if _inside(m.start(), taken):
                continue
            ref = Reference(
                doi=normalize_doi(m.group(1)) if kind == "doi" else None,
                arxiv=normalize_arxiv(m.group(1)) if kind == "arxiv" else None,
                url=None,
                kind="identifier",
            )
            refs.append(_with_span(ref, m.start(), m.end(), text))
            taken.append((m.start(), m.end()))
    for m in _IN_TEXT.finditer(text):
        opened = text[max(0, m.start() - 2) : m.start()].strip()[-1:] in ("(", ";")
        if _inside(m.start(), taken) or m.group(1).split()[0] in _PROSE:
            continue
        if not (_ET_AL.search(m.group(1)) or "(" in m.group(0) or opened):
            continue
        names, et_al = split_authors(m.group(1))
        ref = Reference(authors=tuple(names), year=int(m.group(2)), et_al=et_al, kind="in_text")
        refs.append(_with_span(ref, m.start(), m.end(), text))
        taken.append((m.start(), m.end()))
    for m in _IN_TEXT_NUMBERED.finditer(text):
        if _inside(m.start(), taken) or m.group(1).split()[0] in _PROSE:
            continue
        names, et_al = split_authors(m.group(1))
        ref = Reference(authors=tuple(names), et_al=et_al, kind="in_text", label=m.group(2))
        refs.append(_with_span(ref, m.start(), m.end(), text))
        taken.append((m.start(), m.end()))
    refs.sort(key=lambda r: r.span.start if r.span else 0)
    return refs


def _with_span(ref: Reference, a: int, b: int, text: str) -> Reference:
    return Reference(
        title=ref.title,
        authors=ref.authors,
        year=ref.year,
        venue=ref.venue,
        doi=ref.doi,
        arxiv=ref.arxiv,
        url=ref.url,
        et_al=ref.et_al,
        span=Span(a, b, "reference"),
        raw=text[a:b],
        kind=ref.kind,
        label=ref.label,
    )


def _inside(pos: int, spans: list[tuple[int, int]]) -> bool:
    return any(a <= pos < b for a, b in spans)


def _match_brace(text: str, i: int) -> int:
    depth = 0
    for j in range(i, min(len(text), i + 20000)):
        c = text[j]
        if c in "{(":
            depth += 1
        elif c in "})":
            depth -= 1
            if depth == 0:
                return j + 1
    return -1


def _blocks(text: str, taken: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """List items (with wrapped continuation lines) and paragraphs, as spans."""
    blocks: list[tuple[int, int]] = []
    cur: list[int] | None = None
    pos = 0
    for line in text.splitlines(keepends=True):
        a, b = pos, pos + len(line.rstrip("\r\n"))
        pos += len(line)
        if _inside(a, taken) or not line.strip() or _HEADING.match(line):
            if cur:
                blocks.append((cur[0], cur[1]))
            cur = None
            continue
        m = _ITEM.match(line)
        if m:
            if cur:
                blocks.append((cur[0], cur[1]))
            cur = [a + m.end(), b]
        elif cur is not None and not _starts_new_reference(text, cur, line):
            cur[1] = b  # continuation of the current item or paragraph
        elif cur is not None:
            # one reference per line, no markers and no blank lines between them
            blocks.append((cur[0], cur[1]))
            cur = [a, b]
        else:
            cur = [a + len(line) - len(line.lstrip()), b]
    if cur:
        blocks.append((cur[0], cur[1]))
    return blocks


def _starts_new_reference(text: str, cur: list[int], line: str) -> bool:
    """Whether an unindented line after a complete reference starts the next one."""
    if line[:1].isspace():
        return False
    prev = text[cur[0] : cur[1]].rstrip()
    if prev.endswith(":") and "\n" not in prev:
        # a lead-in line ("Here are the papers you asked for:") ends before the list
        return _author_first(_strip_identifiers(line.strip())[0]) is not None
    if not prev or not (prev[-1] in ".)]" or _URL.search(prev[-60:]) or _DOI.search(prev[-60:])):
        return False
    if not _looks_like_reference(prev.replace("\n", " ")):
        return False
    head = line.strip()
    return (
        bool(_YEAR.search(head) or _DOI.search(head))
        and _author_first(_strip_identifiers(head)[0]) is not None
    )


def _parse_block(block: str) -> list[tuple[int, int, Reference]]:
    """References inside one block: the whole block, or quoted-title references in prose."""
    flat = block.replace("\n", " ")  # same length, so offsets in flat are offsets in block
    quoted = list(_QUOTED.finditer(flat))
    whole = quoted and _author_first(_strip_identifiers(flat)[0]) is not None
    if len(quoted) > 1 and not whole:
        # several quoted titles in one paragraph: one reference per sentence-ish segment
        out = []
        cuts = [q.start() for q in quoted] + [len(flat)]
        prev = 0
        for i, q in enumerate(quoted):
            seg_start = max(prev, _segment_start(flat, q.start()))
            seg_end = _segment_end(flat, q.end(), cuts[i + 1])
            ref = parse_reference(flat[seg_start:seg_end])
            if ref is not None:
                out.append((seg_start, seg_end, ref))
            prev = seg_end
        return out
    if not _looks_like_reference(flat):
        return []
    ref = parse_reference(flat)
    if ref is None:
        return []
    return [(0, len(block), ref)]


def _segment_start(s: str, q: int) -> int:
    cut = max(s.rfind(". ", 0, q), s.rfind("; ", 0, q), s.rfind(": ", 0, q))
    return cut + 2 if cut >= 0 else 0


def _segment_end(s: str, q: int, limit: int) -> int:
    m = re.compile(r"\)[.;,]?\s|[.;]\s+(?=[A-Z\"“*])").search(s, q, limit)
    return min(m.end(), limit) if m else limit


def _looks_like_reference(s: str) -> bool:
    if len(s) < 15 or len(s) > 2000:
        return False
    has_year = _YEAR.search(s) is not None
    has_id = bool(_DOI.search(s) or _ARXIV.search(s))
    s = _URL.sub(" ", _ARXIV.sub(" ", _DOI.sub(" ", s)))  # hints must come from the rest
    quoted = _QUOTED.search(s) is not None
    author_start = bool(
        re.match(
            r"^[A-Z][\w'\-]+,\s+[A-Z]\.|^(?:[A-Z]\.\s?)+[A-Z][\w'\-]+"
            r"(?:[,.]| and | et al)|^[A-Z][\w'\-]+ [A-Z][\w'\-]+"
            r"(?:,| and | et al)",
            s,
        )
    )
    # an author list followed by at least two '. '-separated parts (title, venue or year)
    author_start = author_start and s.count(". ") >= 2
    if has_id and (quoted or _VENUE_HINT.search(s) or author_start):
        return True
    if not has_year:
        return False
    if quoted:
        return True
    if _VENUE_HINT.search(s) and (s.count(",") >= 1 or ". " in s):
        return True
    # "Last, F." / "F. Last" author lists followed by a period-separated title, or any
    # author block the name grammar reads (Vancouver, ACL, one author) followed by a title
    return author_start or _author_first(_strip_identifiers(s)[0]) is not None


def _strip_identifiers(s: str) -> tuple[str, str | None, str | None, str | None]:
    """``s`` without its DOI, arXiv id, URL and their labels; and those identifiers."""
    s = s.strip()
    doi_m = _DOI.search(s)
    arx_m = _ARXIV.search(s)
    url_m = _URL.search(s)
    doi = normalize_doi(doi_m.group(1)) if doi_m else None
    arxiv = normalize_arxiv(arx_m.group(1)) if arx_m else None
    url = url_m.group(0).rstrip(".,;") if url_m else None
    work = _URL.sub(" ", _ARXIV.sub(" ", _DOI.sub(" ", s)))
    work = re.sub(
        r"\[Online\]\.?|\b(?:doi|DOI|arXiv|URL|url|Available(?: at| online)?|Retrieved from)"
        r"\s*:?\s*(?=[\s.,;]|$)",
        " ",
        work,
    )
    work = re.sub(r"\s+", " ", work).strip(" .,;")
    return work, doi, arxiv, url


_TITLE_QUOTED = re.compile(r"[\"“«„]([^\"“”«»„]{4,400}?)[,.]?[\"”»“]")
_TITLE_EMPH = re.compile(r"(\*\*?|_)([^*_]{4,400}?)\1(?!\w)")
_TITLE_END = re.compile(
    r"\.\s+|\.$|,\s+(?=in\s)|\s+In:?\s"
    r"|\s*\((?:19|20)\d{2}[a-z]?\)|$"
)


def _author_first(work: str) -> tuple[str, tuple[str, ...], bool, int | None, str] | None:
    """Title, authors, et al., year and the rest, for a reference that opens with its authors.

    The author block (any name style, see ``_authorlist``) says where the title starts; the
    title is then the quoted or emphasised text there, or the text up to the next sentence
    boundary. None when no author block or no title is found.
    """
    blk = author_block(work)
    if blk is None:
        return None
    tail = work[blk.end :]
    m = _TITLE_QUOTED.match(tail) or _TITLE_EMPH.match(tail)
    if m:
        title, rest = m.group(m.lastindex or 1), tail[m.end() :]
    else:
        e = _TITLE_END.search(tail)
        cut = e.start() if e else len(tail)
        title, rest = tail[:cut], tail[cut:]
        # "?" and "!" end a title only when nothing but the venue follows ("Is X? ICML
        # 2021."); before a subtitle they are part of it ("Power up! Robust ...")
        ask = list(re.finditer(r"[?!]\s+", title))
        if ask and not rest.strip(" .") and len(title[ask[-1].end() :].split()) <= 4:
            title, rest = title[: ask[-1].start() + 1], title[ask[-1].end() :] + rest
    trailing_year = re.search(r"\s+((?:19|20)\d{2})[a-z]?$", title)
    if trailing_year:  # Vancouver without a venue: "Title 2023."
        rest = trailing_year.group(1) + " " + rest
        title = title[: trailing_year.start()]
    title = _clean_title(title)
    if len(title) < 4 or not re.search(r"[^\W\d_]{2}", title) or title[0].islower():
        return None  # titles start with a capital: "(2020) showed, the ..." is prose
    year = blk.year
    if year is None:
        years = _YEAR.findall(rest)
        year = int(years[-1]) if years else None
    return title, blk.names, blk.et_al, year, rest


def _prose_authors(before: str) -> str | None:
    """The author list that ends a lead-in (``As Hanushek and Rivkin (2012),``), if any."""
    probe = before + " “"
    for m in re.finditer(r"(?<![\w'’-])[A-Z]", before):
        blk = author_block(probe, m.start())
        if blk is not None and blk.end >= len(before):
            return "; ".join(blk.names) + (" et al." if blk.et_al else "")
    return None


def parse_reference(s: str) -> Reference | None:
    """Parse one reference string (one list item, one bibliography line)."""
    work, doi, arxiv, url = _strip_identifiers(s)
    s = s.strip()
    title = authors_s = rest = None
    first = _author_first(work)
    q = _QUOTED.search(work) if first is None else None
    if first is not None:
        title, names, et_al, year_found, rest = first
        return _finish(s, title, tuple(names), et_al, year_found, rest, work, doi, arxiv, url)
    if q:
        title = next(g for g in q.groups() if g)
        before, after = work[: q.start()].strip(" ,.;:—–-"), work[q.end() :].strip()
        by = re.match(
            r"^[,.]?\s*by\s+(.+?)(?=\s*\([^()]*(?:19|20)\d{2}[a-z]?\)|,\s*(?:in\s|"
            r"(?:19|20)\d{2})|(?<!\s\w)(?<!^\w)\.\s|;|\s+—|\s+-\s|$)",
            after,
            re.I,
        )
        paren = re.match(r"^[,.]?\s*\(([^()]*?(?:19|20)\d{2}[a-z]?[^()]*)\)", after)
        if by:
            authors_s = by.group(1)
            rest = after[by.end() :]
        elif paren and re.search(r"[A-Za-z]{2}", paren.group(1)):
            inner = paren.group(1)
            ym = _YEAR.search(inner)
            authors_s = inner[: ym.start()].strip(" ,;") if ym else inner
            tail = inner[ym.end() :].strip(" ,;") if ym else ""
            rest = after[paren.end() :] + " " + tail + " " + (ym.group(0) if ym else "")
        else:
            authors_s = _prose_authors(before) if before else None
            rest = after
        if authors_s and not re.search(r"[A-Z]", authors_s):
            authors_s = None
    else:
        apa = re.match(
            r"^(?P<a>.+?)\s*\((?P<y>(?:19|20)\d{2})[a-z]?(?:, [^)]*)?\)\.?\s+"
            r"(?P<t>.+)$",
            work,
        )
        if apa:
            segs = _dot_segments(apa.group("t"))
            authors_s, title = apa.group("a"), segs[0] if segs else ""
            rest = " ".join(segs[1:]) + " " + apa.group("y")
        else:
            segs = _dot_segments(work)
            if len(segs) >= 2:
                authors_s, title, rest = segs[0], segs[1], " ".join(segs[2:])
                if not _authorish(authors_s) and _authorish(segs[1]) and len(segs) >= 3:
                    title, authors_s, rest = segs[0], segs[1], " ".join(segs[2:])
            elif segs:
                title, rest = segs[0], ""
    names: tuple[str, ...] = ()
    et_al = False
    if authors_s:
        authors_s = re.sub(r"^(?:by|from)\s+", "", authors_s.strip(" .,;:"), flags=re.I)
        authors_s = re.sub(r"\s*[—–]\s*.*$", "", authors_s)
        found, et_al = split_authors(authors_s)
        names = tuple(n for n in found if not _YEAR.fullmatch(n.strip()) and len(n) < 80)
    return _finish(s, title, names, et_al, None, rest, work, doi, arxiv, url)


def _finish(
    raw: str,
    title: str | None,
    authors: tuple[str, ...],
    et_al: bool,
    year: int | None,
    rest: str | None,
    work: str,
    doi: str | None,
    arxiv: str | None,
    url: str | None,
) -> Reference | None:
    if title is not None:
        title = _clean_title(title)
        if len(title) < 4:
            title = None
    if year is None:
        years = _YEAR.findall(rest or "") or _YEAR.findall(work)
        if years:
            year = int(years[-1] if rest and _YEAR.findall(rest) else years[0])
    venue = _venue(rest or "")
    if title is None and not doi and not arxiv:
        return None
    return Reference(
        title=title,
        authors=authors,
        year=year,
        venue=venue,
        doi=doi,
        arxiv=arxiv,
        url=url,
        et_al=et_al,
        raw=raw,
    )


def _dot_segments(s: str) -> list[str]:
    """Split at '. ' boundaries that do not follow an initial or abbreviation."""
    segs: list[str] = []
    start = 0
    # "?" and "!" stay inside a segment: titles ask questions ("Is X all you need?")
    for m in re.finditer(r"\.\s+", s):
        before = s[start : m.start()]
        if _INITIAL_END.search(before):
            continue
        segs.append(s[start : m.start()].strip())
        start = m.end()
    if start < len(s):
        segs.append(s[start:].strip())
    return [x for x in segs if x]


def _authorish(s: str) -> bool:
    names, _et_al = split_authors(s)
    if not names:
        return False
    caps = sum(1 for n in names if all(w[:1].isupper() or not w[:1].isalpha() for w in n.split()))
    return caps >= max(1, int(0.8 * len(names))) and all(len(n.split()) <= 5 for n in names)


def _clean_title(t: str) -> str:
    t = re.sub(r"[{}]", "", t)
    t = re.sub(r"\s+", " ", t).strip(" .,;:\"“”'*_")
    return t


def _venue(rest: str) -> str | None:
    r = re.sub(
        r"\[[^\]]*\]|\*|\bhttps?://\S*|\b(?:Published online|ahead of print|in press|forthcoming"
        r"|Preprint(?: at| posted online)?|posted online|Edition)\b",
        " ",
        rest,
        flags=re.I,
    )
    r = re.sub(r"\(\s*(?:19|20)\d{2}[a-z]?\s*\)", " ", r)
    r = re.sub(r"\s+", " ", r).strip(" .,;()")
    if not r:
        return None
    r = re.sub(r"^(?:In:?|in|at|published (?:in|at)|presented at|appeared in)\s+", "", r)
    r = re.sub(r"\b(?:pp?\.|pages)\s*[\d\-–]+", "", r)
    r = re.sub(r"\b(?:vol(?:ume)?\.?|no\.?)\s*\d+", "", r, flags=re.I)
    r = _YEAR.sub("", r)
    r = re.sub(r"\(\s*\)", "", r)
    r = re.sub(r"^[\s,.;:—–-]+|[\s,.;:—–-]+$", "", r)
    r = re.sub(r"\s+", " ", r)
    if not re.search(r"[A-Za-z]{2}", r):
        return None
    return r[:200]
