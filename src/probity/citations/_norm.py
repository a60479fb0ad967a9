"""Normal forms for comparing bibliographic fields: titles, names, venues, DOIs, arXiv ids.

Titles are compared on :func:`probity.text.words` of their NFKC/case-folded form with LaTeX
braces and accents removed. A person is keyed by the ASCII-folded last token of the name
(``"Jan-Willem van de Meent" -> "meent"``, ``"Vaswani, A." -> "vaswani"``); a CJK name written
without spaces is its own key.
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache

from probity.text import normalize, words

_LATEX_CMD = re.compile(r"\\[a-zA-Z]+\s*|[{}\\]")
_LATEX_ACCENT = re.compile(r"\\[\"'`^~=.uvHckb]\s*\{?\\?([A-Za-z])\}?")
_DOI_RE = re.compile(r"10\.\d{4,9}/[^\s\"'<>{}]+", re.I)
_ARXIV_NEW = re.compile(r"(?<![\d.])(\d{4}\.\d{4,5})(v\d+)?(?![\d])")
_ARXIV_OLD = re.compile(r"\b([a-z\-]+(?:\.[A-Z]{2})?/\d{7})(v\d+)?\b")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_PARTICLES = {"jr", "sr", "ii", "iii", "iv"}
_INITIAL = re.compile(r"^(?:[A-Z]\.?-?){1,3}$|^[A-Z]\.(?:-[A-Z]\.)?$")


def fold(text: str) -> str:
    """Remove LaTeX markup, HTML entities and diacritics, NFKC-normalise and case-fold."""
    if "&" in text:
        text = html.unescape(text)  # DBLP and HALLMARK titles carry "D&apos;Hondt"
    if "\\" in text or "{" in text:
        text = _LATEX_ACCENT.sub(r"\1", text)
        text = _LATEX_CMD.sub("", text)
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c))
        text = text.replace("ß", "ss").replace("ø", "o").replace("ł", "l")
    return normalize(text)


@lru_cache(maxsize=65536)
def title_norm(title: str) -> str:
    """The comparable form of a title: folded words joined by single spaces."""
    return " ".join(words(fold(title)))


def title_words(title: str) -> list[str]:
    return words(fold(title))


@lru_cache(maxsize=65536)
def clean_name(name: str) -> str:
    """A display name without LaTeX markup or DBLP homonym numbers (``"Bo Dai 0002"``)."""
    name = name.strip()
    if name[-4:].isdigit():
        name = re.sub(r"\s+\d{4}$", "", name)
    if "\\" in name or "{" in name:
        name = _LATEX_CMD.sub("", _LATEX_ACCENT.sub(r"\1", name))
    if "  " in name or "\n" in name or "\t" in name:
        name = re.sub(r"\s+", " ", name)
    return name.strip(" ,;.")


def known_venue(key: str) -> bool:
    """Whether a venue key is one of the well-known venues of the alias table."""
    return key in _VENUES


@lru_cache(maxsize=65536)
def name_tokens(name: str) -> tuple[str, ...]:
    """Folded word tokens of a name (``"Boix-Adserà"`` -> ``["boix", "adsera"]``)."""
    return tuple(words(fold(name).replace("-", " ")))


@lru_cache(maxsize=65536)
def surname_key(name: str) -> str:
    """The key a person is matched by: the folded surname.

    ``"Last, First"`` gives ``last``; ``"First Middle Last"`` the last token that is not a
    suffix (Jr., III); a name in CJK script without spaces is kept whole.
    """
    name = clean_name(name)
    if not name:
        return ""
    if "," in name:
        head = name.split(",", 1)[0]
        toks = name_tokens(head)
        if toks:
            return toks[-1]
    if _CJK.search(name) and " " not in name.strip():
        return fold(name)
    raw = name.split()
    toks = [t for t in raw if t.strip(".").lower() not in _PARTICLES]
    while toks and _INITIAL.match(toks[-1]) and len(toks) > 1:
        # "Smith J." style: initials after the surname
        toks = toks[:-1]
    if not toks:
        return ""
    last = name_tokens(toks[-1].replace("-", " "))
    if not last:
        return ""
    # hyphenated surnames ("Boix-Adserà") keep their last part as the key: robust to
    # people dropping the first part.
    return last[-1]


@lru_cache(maxsize=65536)
def first_initial(name: str) -> str:
    """Folded first letter of the given name ('' when unknown)."""
    name = clean_name(name)
    if "," in name:
        rest = name.split(",", 1)[1]
        toks = name_tokens(rest)
    else:
        parts = name.split()
        while len(parts) > 1 and _INITIAL.match(parts[-1]):
            parts = parts[:-1]  # "Smith J." keeps its initials after the surname
        toks = name_tokens(" ".join(parts[:-1])) if len(parts) > 1 else []
        if not toks and len(name.split()) > len(parts):
            toks = name_tokens(name.split()[len(parts)])
    return toks[0][0] if toks else ""


def split_authors(text: str) -> tuple[list[str], bool]:
    """Split an author list into names; return ``(names, et_al)``.

    Handles ``A and B``, ``A, B, and C``, ``A & B``, ``A; B``, BibTeX ``Last, First and ...``,
    APA ``Last, F., Last, F., & Last, F.``, and ``et al.`` / ``and others``.
    """
    text = re.sub(r"\s+", " ", text).strip()
    et_al = False
    m = re.search(r",?\s*(?:et\.? al\.?|and others|et al\b|others)\s*\.?$", text, re.I)
    if m:
        et_al = True
        text = text[: m.start()]
    if not text:
        return [], et_al
    if " and " in text and ";" not in text and "&" not in text and "," in text:
        parts = re.split(r"\s+and\s+", text)
        if all(p.count(",") == 1 for p in parts):
            # BibTeX "Last, First and Last, First"
            names = [p.strip() for p in parts]
            return [n for n in (clean_name(x) for x in names) if n], et_al
    text = re.sub(r",?\s+(?:and|&)\s+", ", ", text)
    pieces = [p.strip() for p in re.split(r"\s*[;,]\s*", text) if p.strip()]
    names: list[str] = []
    i = 0
    while i < len(pieces):
        p = pieces[i]
        nxt = pieces[i + 1] if i + 1 < len(pieces) else None
        if nxt is not None and _is_initials(nxt) and not _is_initials(p) and " " not in p.strip():
            names.append(f"{p}, {nxt}")  # APA "Last, F."
            i += 2
            continue
        names.append(p)
        i += 1
    return [n for n in (clean_name(x) for x in names) if n], et_al


def _is_initials(s: str) -> bool:
    toks = s.replace("-", " ").split()
    return (
        bool(toks) and all(re.fullmatch(r"[A-Za-z]\.?", t) for t in toks) and toks[0][0].isupper()
    )


def normalize_doi(doi: str | None) -> str | None:
    """Lower-cased DOI without resolver prefix or trailing punctuation; None when absent."""
    if not doi:
        return None
    m = _DOI_RE.search(doi)
    if not m:
        return None
    return m.group(0).rstrip(".,;:)]").lower()


def normalize_arxiv(value: str | None) -> str | None:
    """arXiv id without version (``2301.01234``, ``hep-th/9901001``); also from arXiv DOIs."""
    if not value:
        return None
    m = _ARXIV_NEW.search(value) or _ARXIV_OLD.search(value)
    return m.group(1).lower() if m else None


def arxiv_from_doi(doi: str | None) -> str | None:
    if doi and doi.startswith("10.48550/arxiv."):
        return normalize_arxiv(doi.split("arxiv.", 1)[1])
    return None


# Canonical venue -> aliases (folded). Only well-known venues; anything else compares by its
# folded words and acronym.
_VENUES: dict[str, tuple[str, ...]] = {
    "neurips": (
        "nips",
        "neural information processing systems",
        "advances in neural information processing systems",
    ),
    "icml": ("international conference on machine learning",),
    "iclr": ("international conference on learning representations",),
    "aaai": ("aaai conference on artificial intelligence",),
    "ijcai": ("international joint conference on artificial intelligence",),
    "cvpr": (
        "computer vision and pattern recognition",
        "ieee/cvf conference on computer vision and pattern recognition",
        "ieee conference on computer vision and pattern recognition",
    ),
    "iccv": ("international conference on computer vision",),
    "eccv": ("european conference on computer vision",),
    "acl": (
        "annual meeting of the association for computational linguistics",
        "association for computational linguistics",
    ),
    "emnlp": ("empirical methods in natural language processing",),
    "naacl": ("north american chapter of the association for computational linguistics",),
    "uai": ("uncertainty in artificial intelligence",),
    "aistats": ("artificial intelligence and statistics",),
    "colt": ("conference on learning theory",),
    "kdd": ("knowledge discovery and data mining",),
    "www": ("the web conference", "world wide web"),
    "sigir": ("research and development in information retrieval",),
    "tmlr": ("transactions on machine learning research",),
    "jmlr": ("journal of machine learning research",),
    "tpami": (
        "ieee transactions on pattern analysis and machine intelligence",
        "transactions on pattern analysis and machine intelligence",
    ),
    "corr": ("arxiv", "arxiv preprint", "computing research repository"),
}
_ALIAS: dict[str, str] = {}
for _canon, _aliases in _VENUES.items():
    _ALIAS[_canon] = _canon
    for _a in _aliases:
        _ALIAS[_a] = _canon
_VENUE_NOISE = re.compile(
    r"\b(?:proceedings|proc|of|the|in|on|conference|conf|annual|international|intl|"
    r"workshop|symposium|ieee|cvf|acm|volume|vol|pp|pages|\d+(?:st|nd|rd|th)?)\b"
)


@lru_cache(maxsize=65536)
def venue_key(venue: str | None) -> str:
    """Canonical key of a venue: a known acronym (``neurips``) or its folded content words."""
    if not venue:
        return ""
    v = fold(venue)
    v = re.sub(r"\(([a-z]+)\)", r" \1 ", v)
    toks = words(v)
    joined = " ".join(toks)
    if joined in _ALIAS:
        return _ALIAS[joined]
    for t in toks:  # an acronym anywhere: "Proc. of NeurIPS 2021", "ICML'21"
        if t in _VENUES:
            return t
        if t.rstrip("0123456789") in _VENUES:
            return t.rstrip("0123456789")
    # longest alias phrase contained in the string
    best = ""
    for alias, canon in _ALIAS.items():
        if " " in alias and f" {alias} " in f" {joined} " and len(alias) > len(best):
            best, found = alias, canon
    if best:
        return found
    rest = _VENUE_NOISE.sub(" ", joined)
    return " ".join(rest.split())
