"""``citations`` and ``grounding``: check the references and claims in a model's output.

``citations`` extracts every reference (:func:`probity.citations.extract_references`) and
verifies it against the verified database (default ``<probity home>/citations.db``). Each
reference that is not ``verified`` becomes a Finding whose ``category`` is the verdict
(``not_found``, ``author_mismatch``, ``year_mismatch``, ``venue_mismatch``,
``bad_identifier``, ``incomplete``), ``score`` the verdict's calibrated confidence (``incomplete``
scores 0.3: it could not be checked, which is not the same as fabricated), ``spans`` the
reference and ``details`` the evidence and the closest record. When the database is missing or
empty, a text with references gets one ``unverifiable`` Finding instead: nothing was checked.

``grounding`` attributes each sentence to a corpus (option ``corpus``: a folder or JSONL file,
or ``context.metadata["corpus"]``: a list of documents, e.g. a RAG context) and reports
``contradicted``, ``unsupported`` and ``no_evidence`` sentences. Without a corpus it finds nothing.
Both do nothing in ``creative`` mode.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from probity.guard.base import ScanContext, register_scanner
from probity.types import Finding, Span

_INCOMPLETE_SCORE = 0.3


@register_scanner("citations")
class CitationsScanner:
    """Verifies references against the local database.

    ``db``: database path (default: the Probity home's). ``min_confidence``: report a problem
    verdict only when its confidence is at least this (default 0.0). ``report_incomplete``:
    report references too incomplete to check (default True, score 0.3).
    """

    name = "citations"
    version = "1.0"

    def __init__(
        self,
        db: str | os.PathLike[str] | None = None,
        min_confidence: float = 0.0,
        report_incomplete: bool = True,
    ) -> None:
        self.db_path = Path(db) if db else None
        self.min_confidence = float(min_confidence)
        self.report_incomplete = bool(report_incomplete)
        self._db: Any = None

    def _database(self) -> Any:
        from probity.citations import CitationDB
        from probity.home import citations_db_path

        if self._db is not None:
            return self._db
        path = self.db_path or citations_db_path()
        if not path.exists():
            return None
        db = CitationDB(path, create=False)
        if len(db) == 0:
            db.close()
            return None
        self._db = db
        return db

    def _scan(self, text: str, verifier: Any) -> list[Finding]:
        from probity.citations import extract_references

        refs = extract_references(text)
        if not refs:
            return []
        spans = tuple(Span(r.span.start, r.span.end, "reference") for r in refs if r.span)
        if verifier is None:
            where = self.db_path or "the Probity home"
            return [
                Finding(
                    self.name,
                    "unverifiable",
                    0.5,
                    spans,
                    f"{len(refs)} reference(s) could not be checked: the citation "
                    f"database in {where} is missing or empty (import records with "
                    "`probity cite db import FILE`)",
                    details={"references": [r.to_dict() for r in refs]},
                )
            ]
        out: list[Finding] = []
        for ref in refs:
            v = verifier.verify(ref)
            if v.verdict == "verified":
                continue
            if v.verdict == "incomplete":
                if not self.report_incomplete:
                    continue
                score = _INCOMPLETE_SCORE
                msg = "reference too incomplete to check: " + "; ".join(v.evidence)
            else:
                if v.confidence < self.min_confidence:
                    continue
                score = v.confidence
                msg = f"{v.verdict.replace('_', ' ')}: " + "; ".join(v.evidence)
            span = (Span(ref.span.start, ref.span.end, v.verdict, score),) if ref.span else ()
            out.append(
                Finding(
                    self.name,
                    v.verdict,
                    score,
                    span,
                    msg[:500],
                    details={
                        "evidence": list(v.evidence),
                        "closest": v.closest.to_dict() if v.closest else None,
                        "reference": ref.to_dict(),
                        "fields": v.fields,
                    },
                )
            )
        return out

    def scan_many(
        self, texts: Sequence[str], context: ScanContext | None = None
    ) -> list[list[Finding]]:
        if context is not None and context.mode == "creative":
            return [[] for _ in texts]
        from probity.citations import Verifier

        db = self._database()
        verifier = Verifier(db) if db is not None else None
        return [self._scan(t, verifier) for t in texts]


@register_scanner("grounding")
class GroundingScanner:
    """Flags answer sentences the corpus does not support.

    ``corpus``: folder of .txt/.md files or JSONL (or pass ``context.metadata["corpus"]``);
    ``threshold``: support needed (default 0.6 overlap); ``nli_model``: local NLI model folder;
    ``report_no_evidence``: also report sentences with no related passage (default True).
    """

    name = "grounding"
    version = "1.0"

    def __init__(
        self,
        corpus: str | os.PathLike[str] | None = None,
        threshold: float | None = None,
        nli_model: str | None = None,
        report_no_evidence: bool = True,
    ) -> None:
        self.corpus = corpus
        self.threshold = threshold
        self.nli_model = nli_model
        self.report_no_evidence = bool(report_no_evidence)
        self._index: Any = None

    def scan_many(
        self, texts: Sequence[str], context: ScanContext | None = None
    ) -> list[list[Finding]]:
        if context is not None and context.mode == "creative":
            return [[] for _ in texts]
        from probity.citations import PassageIndex, ground, load_corpus

        docs = context.metadata.get("corpus") if context is not None else None
        if docs is not None:
            index = PassageIndex(load_corpus(docs))
        elif self.corpus is not None:
            if self._index is None:
                self._index = PassageIndex(load_corpus(self.corpus))
            index = self._index
        else:
            return [[] for _ in texts]
        out: list[list[Finding]] = []
        for text in texts:
            if not text.strip():
                out.append([])
                continue
            res = ground(text, index, threshold=self.threshold, nli_model=self.nli_model)
            found = []
            for s in res.sentences:
                if s.status == "supported" or (
                    s.status == "no_evidence" and not self.report_no_evidence
                ):
                    continue
                msg = {
                    "contradicted": f"the corpus says otherwise: {s.evidence}",
                    "unsupported": "no passage of the corpus supports this sentence",
                }.get(s.status, "nothing in the corpus is about this sentence")
                # a contradiction is a stated fact, not a missing one: it ranks first
                score = max(0.9, 1.0 - s.support) if s.status == "contradicted" else 1.0 - s.support
                found.append(
                    Finding(
                        self.name,
                        s.status,
                        score,
                        (Span(s.span.start, s.span.end, s.status, score),),
                        msg,
                        details={
                            "support": s.support,
                            "evidence": s.evidence,
                            "passages": [p.to_dict() for p in s.passages],
                        },
                    )
                )
            out.append(found)
        return out
