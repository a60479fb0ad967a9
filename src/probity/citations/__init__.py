"""Citations: extract references, verify them against a local verified database, ground answers.

No LLM and no network: references are parsed by rules (:func:`extract_references`), looked up
in a SQLite FTS5 database of verified records (:class:`CitationDB`), and given a verdict with
evidence and a calibrated confidence (:func:`verify_references`). :func:`ground` attributes the
sentences of an answer to passages of a user corpus (BM25 + overlap, or a local NLI model).
"""

from ._types import (
    PROBLEM_VERDICTS,
    VERDICTS,
    CitationVerdict,
    DBStats,
    GroundingResult,
    ImportReport,
    Passage,
    Record,
    Reference,
    SentenceGrounding,
)
from .db import CitationDB
from .extract import extract_references, parse_reference
from .ground import PassageIndex, ground, load_corpus
from .verify import Verifier, calibrate, compare_authors, verify_references, word_difference

__all__ = [
    "PROBLEM_VERDICTS",
    "VERDICTS",
    "CitationDB",
    "CitationVerdict",
    "DBStats",
    "GroundingResult",
    "ImportReport",
    "Passage",
    "PassageIndex",
    "Record",
    "Reference",
    "SentenceGrounding",
    "Verifier",
    "calibrate",
    "compare_authors",
    "extract_references",
    "ground",
    "load_corpus",
    "parse_reference",
    "verify_references",
    "word_difference",
]
