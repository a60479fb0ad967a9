"""Result types of the citation engine: frozen dataclasses with ``to_dict()``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from probity.types import Span, _plain

VerdictName = Literal[
    "verified",
    "not_found",
    "author_mismatch",
    "year_mismatch",
    "venue_mismatch",
    "bad_identifier",
    "incomplete",
]

#: Every verdict, in the order a report lists them.
VERDICTS: tuple[str, ...] = (
    "verified",
    "not_found",
    "author_mismatch",
    "year_mismatch",
    "venue_mismatch",
    "bad_identifier",
    "incomplete",
)
#: Verdicts that say "this reference is wrong" (``incomplete`` means "could not check").
PROBLEM_VERDICTS: frozenset[str] = frozenset(VERDICTS[1:6])


@dataclass(frozen=True)
class Reference:
    """One reference found in a text.

    ``authors`` are display names as written; ``et_al`` is True when the list was explicitly
    truncated ("et al.", "and others"), so missing authors are not held against it. ``span`` is
    the half-open character range of the whole reference in the source text; ``raw`` its text.
    """

    title: str | None = None
    authors: tuple[str, ...] = ()
    year: int | None = None
    venue: str | None = None
    doi: str | None = None
    arxiv: str | None = None
    url: str | None = None
    et_al: bool = False
    span: Span | None = None
    raw: str = ""
    kind: str = "reference"  # reference | bibtex | identifier | in_text
    #: the list marker of a numbered entry ("3" for "[3]"), or the number an in-text
    #: citation points to ("Chiang and Cholak [3]")
    label: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "authors": list(self.authors),
            "year": self.year,
            "venue": self.venue,
            "doi": self.doi,
            "arxiv": self.arxiv,
            "url": self.url,
            "et_al": self.et_al,
            "span": self.span.to_dict() if self.span else None,
            "raw": self.raw,
            "kind": self.kind,
            "label": self.label,
        }


@dataclass(frozen=True)
class Record:
    """One verified bibliographic record of the database."""

    id: int
    key: str
    title: str
    authors: tuple[str, ...]
    year: int | None
    venue: str | None
    doi: str | None = None
    arxiv: str | None = None
    url: str | None = None
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "key": self.key,
            "title": self.title,
            "authors": list(self.authors),
            "year": self.year,
            "venue": self.venue,
            "doi": self.doi,
            "arxiv": self.arxiv,
            "url": self.url,
            "source": self.source,
        }


@dataclass(frozen=True)
class CitationVerdict:
    """The verdict on one reference, with the evidence a person can act on.

    ``verdict`` is one of :data:`VERDICTS`. ``confidence`` in [0, 1] is the calibrated
    probability that the verdict is right (see :mod:`probity.citations.verify`). ``evidence``
    lists human-readable reasons; ``fields`` holds the per-field comparison (``title``,
    ``authors``, ``year``, ``venue``, ``doi``, ``arxiv``: ``match | mismatch | missing |
    unchecked``) and ``details`` the numbers (title similarity, missing/extra authors...).
    """

    reference: Reference
    verdict: str
    confidence: float
    evidence: tuple[str, ...] = ()
    closest: Record | None = None
    fields: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.verdict == "verified"

    @property
    def problem(self) -> bool:
        """True when the reference is shown to be wrong (not merely uncheckable)."""
        return self.verdict in PROBLEM_VERDICTS

    def to_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference.to_dict(),
            "verdict": self.verdict,
            "confidence": round(float(self.confidence), 4),
            "evidence": list(self.evidence),
            "closest": self.closest.to_dict() if self.closest else None,
            "fields": dict(self.fields),
            "details": _plain(self.details),
        }


@dataclass(frozen=True)
class ImportReport:
    """What one import did: records read, added, already present, skipped (with reasons)."""

    path: str
    format: str
    read: int
    added: int
    duplicates: int
    skipped: int
    resumed_from: int = 0
    seconds: float = 0.0
    rejects: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "format": self.format,
            "read": self.read,
            "added": self.added,
            "duplicates": self.duplicates,
            "skipped": self.skipped,
            "resumed_from": self.resumed_from,
            "seconds": round(self.seconds, 3),
            "rejects": [dict(r) for r in self.rejects],
        }


@dataclass(frozen=True)
class DBStats:
    """Size of the database: records, with DOI / arXiv id, distinct venues, file bytes."""

    path: str
    records: int
    with_doi: int
    with_arxiv: int
    venues: int
    year_min: int | None
    year_max: int | None
    bytes: int
    imports: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "records": self.records,
            "with_doi": self.with_doi,
            "with_arxiv": self.with_arxiv,
            "venues": self.venues,
            "year_min": self.year_min,
            "year_max": self.year_max,
            "bytes": self.bytes,
            "imports": [dict(i) for i in self.imports],
        }


@dataclass(frozen=True)
class Passage:
    """A window of a corpus document that may support a sentence."""

    doc: str
    start: int
    end: int
    text: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "doc": self.doc,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "score": round(float(self.score), 4),
        }


@dataclass(frozen=True)
class SentenceGrounding:
    """One answer sentence: ``status`` supported | contradicted | unsupported | no_evidence,
    its span, the
    best supporting passages, and ``support`` in [0, 1] (overlap or NLI entailment)."""

    span: Span
    text: str
    status: str
    support: float
    passages: tuple[Passage, ...] = ()
    #: for ``contradicted``: what differs ("'North Sea' in the claim, 'Black Sea' in the source")
    evidence: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "span": self.span.to_dict(),
            "text": self.text,
            "status": self.status,
            "support": round(float(self.support), 4),
            "passages": [p.to_dict() for p in self.passages],
            "evidence": self.evidence,
        }


@dataclass(frozen=True)
class GroundingResult:
    """Per-sentence grounding of an answer against a corpus, and the share supported."""

    sentences: tuple[SentenceGrounding, ...]
    method: str
    supported_fraction: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "sentences": [s.to_dict() for s in self.sentences],
            "method": self.method,
            "supported_fraction": round(float(self.supported_fraction), 4),
        }
