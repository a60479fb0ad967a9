"""Code clone detection: normalised pygments tokens, winnowing fingerprints, an inverted index.

Tokenisation uses pygments for any language it knows (by ``language`` name, file name, or a
guess from the text). Comments and whitespace are dropped; identifiers become ``V``
(``F`` for function names, ``C`` for class names), strings ``S`` and numbers ``N``; keywords,
operators and punctuation stay. So reformatting, renaming variables and changing literals do
not change the token stream.

Fingerprints (Schleimer, Wilkerson and Aiken 2003): hash every ``k``-gram of tokens
(``probity.text.ngram_hashes``) and keep, in every window of ``w`` consecutive k-gram hashes,
the minimum (rightmost on ties). *Guarantee threshold* ``t = w + k - 1``: any match of at least
``t`` tokens shares a fingerprint; *noise threshold* ``k``: no match shorter than ``k`` tokens
does. The density is about ``2 / (w + 1)`` of the k-grams.

The :class:`CodeIndex` maps fingerprint hash -> (file row, token position) in sorted arrays, so a
query touches only files that share fingerprints with it. Scores: for each source file, the
share of *its* fingerprints found in the query (``source_containment``: finds a copied function
inside a new file) and the share of the query's found in it (``query_containment``); spans are
runs of matched fingerprints merged when closer than ``t`` tokens.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from probity.errors import CorruptIndexError, InputError
from probity.io import atomic_write
from probity.text import hash_strings, ngram_hashes

U64 = np.uint64
#: default k-gram length and winnowing window (chosen on real standard-library clones, see
#: docs/overlap.md)
DEFAULT_K = 10
DEFAULT_W = 6


@dataclass(frozen=True)
class CodeTokens:
    """Normalised code tokens with character offsets into the original text."""

    tokens: list[str]
    starts: np.ndarray
    ends: np.ndarray

    def __len__(self) -> int:
        return len(self.tokens)


@lru_cache(maxsize=64)
def _lexer(language: str | None, filename: str | None):
    from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
    from pygments.util import ClassNotFound

    try:
        if language:
            return get_lexer_by_name(language)
        if filename:
            return get_lexer_for_filename(filename)
    except ClassNotFound as exc:
        raise InputError(
            f"pygments knows no language {language or filename!r}",
            hint="pass --language with a pygments lexer name, e.g. python",
        ) from exc
    return None


def code_tokens(
    text: str,
    language: str | None = "python",
    *,
    filename: str | None = None,
    tokens: str = "lexical",
) -> CodeTokens:
    """Tokenise code and normalise identifiers and literals (see module doc).

    ``tokens="syntax"`` gives the syntax-tree node sequence (``probity.overlap.syntax``) when
    tree-sitter parses the language (from ``language``, else ``filename``'s extension);
    otherwise, and with ``tokens="lexical"``, pygments tokens. ``language=None`` with no
    ``filename`` guesses the pygments lexer from the text.
    """
    if tokens == "syntax":
        from .syntax import EXTENSIONS, syntax_language, syntax_tokens

        lang = syntax_language(language)
        if lang is None and language is None and filename:
            lang = EXTENSIONS.get(Path(filename).suffix.lower())
        if lang is not None:
            return CodeTokens(*syntax_tokens(text, lang))
    elif tokens != "lexical":
        raise InputError(f"code tokens must be 'syntax' or 'lexical', got {tokens!r}")
    from pygments.lexers import guess_lexer
    from pygments.token import Comment, Keyword, Literal, Name, String, Text, Whitespace

    lexer = _lexer(language, filename)
    if lexer is None:
        lexer = guess_lexer(text)
    toks: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for pos, ttype, value in lexer.get_tokens_unprocessed(text):
        if ttype in Whitespace or ttype in Comment or ttype in Text or not value.strip():
            continue
        if ttype in String or ttype in String.Doc:
            norm = "S"
        elif ttype in Literal.Number:
            norm = "N"
        elif ttype in Name.Function:
            norm = "F"
        elif ttype in Name.Class:
            norm = "C"
        elif ttype in Name and ttype not in Name.Builtin and ttype not in Keyword:
            norm = "V"
        else:
            norm = value.strip()
        # pygments splits a string literal into several tokens; keep one S per literal
        if norm == "S" and toks and toks[-1] == "S" and ends and ends[-1] == pos:
            ends[-1] = pos + len(value)
            continue
        toks.append(norm)
        starts.append(pos)
        ends.append(pos + len(value))
    return CodeTokens(toks, np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64))


def winnow(kgram_hashes: np.ndarray, w: int) -> np.ndarray:
    """Positions of the winnowing fingerprints of ``kgram_hashes`` (window ``w``).

    In each window of ``w`` consecutive hashes the rightmost minimum is selected; consecutive
    windows selecting the same position record it once. Sequences shorter than ``w`` keep their
    minimum. Vectorised with a sliding-window view.
    """
    h = np.asarray(kgram_hashes, dtype=U64)
    if len(h) == 0:
        return np.empty(0, dtype=np.int64)
    if len(h) <= w:
        rev = h[::-1]
        return np.array([len(h) - 1 - int(np.argmin(rev))], dtype=np.int64)
    win = np.lib.stride_tricks.sliding_window_view(h, w)
    # rightmost minimum: argmin over the reversed window
    sel = np.arange(len(win)) + (w - 1 - np.argmin(win[:, ::-1], axis=1))
    return np.unique(sel)


@dataclass(frozen=True)
class CodeMatch:
    """A source file that shares code with the query.

    ``similarity = max(source_containment, query_containment)``; ``spans`` are
    ``(start, end, score)`` character ranges of the query (score: share of the span's tokens
    covered by matching k-grams), ``source_token_spans`` token ranges of the source file and
    ``longest_span_tokens`` the most query tokens covered by matching k-grams in one span.
    """

    doc: str
    similarity: float
    source_containment: float
    query_containment: float
    matched_fingerprints: int
    spans: tuple[tuple[int, int, float], ...] = ()
    source_token_spans: tuple[tuple[int, int], ...] = ()
    longest_span_tokens: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "doc": self.doc,
            "similarity": round(float(self.similarity), 4),
            "source_containment": round(float(self.source_containment), 4),
            "query_containment": round(float(self.query_containment), 4),
            "matched_fingerprints": self.matched_fingerprints,
            "spans": [
                {"start": a, "end": b, "score": round(float(s), 4)} for a, b, s in self.spans
            ],
            "source_token_spans": [list(x) for x in self.source_token_spans],
            "longest_span_tokens": self.longest_span_tokens,
        }


class CodeIndex:
    """Inverted winnowing-fingerprint index of code files.

    ``k`` (noise threshold, tokens) and ``w`` (window) set the guarantee ``t = w + k - 1``;
    ``language`` is the pygments lexer name (``None`` guesses per file).
    """

    def __init__(
        self,
        k: int = DEFAULT_K,
        w: int = DEFAULT_W,
        language: str | None = "python",
        tokens: str = "syntax",
    ) -> None:
        if int(k) < 2 or int(w) < 1:
            raise InputError(f"need k >= 2 and w >= 1, got k={k}, w={w}")
        if tokens not in ("syntax", "lexical"):
            raise InputError(f"code tokens must be 'syntax' or 'lexical', got {tokens!r}")
        self.k = int(k)
        self.w = int(w)
        #: ``None`` (or ``"auto"``): by each file's extension, else guessed from the text
        self.language = None if language == "auto" else language
        self.tokens = tokens
        #: fingerprints in more than this share of the files (and more than
        #: ``boilerplate_min_files`` of them) are boilerplate and ignored by queries
        self.boilerplate = 0.1
        self.boilerplate_min_files = 5
        #: matched k-grams closer than this many tokens join one span (a copy keeps one
        #: fingerprint in every window of ``w``, so ``w`` tolerates small edits)
        self.merge_gap = self.w
        self.ids: list[str] = []
        self.fp_counts = np.empty(0, dtype=np.int64)  # fingerprints per file (unique hashes)
        self.keys = np.empty(0, dtype=U64)
        self.docs = np.empty(0, dtype=np.uint32)
        self.pos = np.empty(0, dtype=np.uint32)

    @property
    def guarantee(self) -> int:
        """Matches of at least this many tokens are always detected."""
        return self.w + self.k - 1

    def __len__(self) -> int:
        return len(self.ids)

    def fingerprints(
        self, text: str, filename: str | None = None
    ) -> tuple[np.ndarray, np.ndarray, CodeTokens]:
        """``(hashes, token_positions, tokens)`` of the winnowing fingerprints of ``text``
        (``filename`` picks the language when the index has none)."""
        toks = code_tokens(text, self.language, filename=filename, tokens=self.tokens)
        if len(toks) < self.k:
            if len(toks) == 0:
                return np.empty(0, U64), np.empty(0, np.int64), toks
            h = ngram_hashes(hash_strings(toks.tokens), len(toks))
            return h, np.zeros(1, dtype=np.int64), toks
        kh = ngram_hashes(hash_strings(toks.tokens), self.k)
        sel = winnow(kh, self.w)
        return kh[sel], sel, toks

    @classmethod
    def build(
        cls,
        docs: Iterable[str] | Iterable[tuple[str, str]],
        k: int = DEFAULT_K,
        w: int = DEFAULT_W,
        language: str | None = "python",
        tokens: str = "syntax",
    ) -> CodeIndex:
        idx = cls(k, w, language, tokens)
        idx.add(docs)
        return idx

    def add(self, docs: Iterable[str] | Iterable[tuple[str, str]]) -> int:
        """Add files (texts or ``(id, text)`` pairs); returns how many were added."""
        keys, rows, poss, counts = [], [], [], []
        added = 0
        for item in docs:
            doc_id, text = (
                (str(len(self.ids)), item) if isinstance(item, str) else (str(item[0]), item[1])
            )
            row = len(self.ids)
            self.ids.append(doc_id)
            added += 1
            h, p, _ = self.fingerprints(text, doc_id)
            counts.append(len(np.unique(h)))
            keys.append(h)
            rows.append(np.full(len(h), row, dtype=np.uint32))
            poss.append(p.astype(np.uint32))
        if added:
            k = np.concatenate([np.asarray(self.keys), *keys])
            d = np.concatenate([np.asarray(self.docs), *rows])
            p = np.concatenate([np.asarray(self.pos), *poss])
            order = np.argsort(k, kind="stable")
            self.keys, self.docs, self.pos = k[order], d[order], p[order]
            self.fp_counts = np.concatenate(
                [np.asarray(self.fp_counts), np.asarray(counts, dtype=np.int64)]
            )
        return added

    def query(
        self,
        text: str,
        *,
        min_similarity: float = 0.5,
        min_span_tokens: int | None = 50,
        top: int = 10,
        filename: str | None = None,
    ) -> list[CodeMatch]:
        """Indexed files sharing code with ``text``, best first.

        A file is reported when ``similarity >= min_similarity`` (whole-file clones) or when one
        span of the query has at least ``min_span_tokens`` tokens covered by k-grams matching
        that file (a copied function inside an otherwise new file; ``None`` disables it).
        """
        h, qpos, toks = self.fingerprints(text, filename)
        if len(h) == 0 or len(self.keys) == 0:
            return []
        uq = np.unique(h)
        left = np.searchsorted(self.keys, uq, side="left")
        right = np.searchsorted(self.keys, uq, side="right")
        counts = right - left
        which = np.repeat(np.arange(len(uq)), counts)
        starts = np.cumsum(counts) - counts
        idx = np.arange(int(counts.sum())) - np.repeat(starts, counts) + np.repeat(left, counts)
        rows = np.asarray(self.docs[idx], dtype=np.int64)
        if len(rows) == 0:
            return []
        spos = np.asarray(self.pos[idx], dtype=np.int64)
        # unique (row, query fingerprint) pairs -> matched fingerprints per row
        pair = np.unique(rows * len(uq) + which)
        prow, pfp = pair // len(uq), pair % len(uq)
        # Boilerplate exclusion: a fingerprint found in more than `boilerplate` of the indexed
        # files (licence headers, generated imports, common scaffolding) is not evidence of
        # copying any one of them, so it neither scores nor forms spans.
        df = np.bincount(pfp, minlength=len(uq))
        limit = max(self.boilerplate_min_files, self.boilerplate * len(self.ids))
        common = df > limit
        # containments are measured without the boilerplate fingerprints on either side
        src_total = np.asarray(self.fp_counts, dtype=np.int64)
        qry_total = len(uq)
        if common.any():
            keep = ~common[pfp]
            src_total = src_total - np.bincount(prow[~keep], minlength=len(self.ids))
            qry_total -= int(common.sum())
            prow, pfp = prow[keep], pfp[keep]
            if len(prow) == 0:
                return []
        per_row = np.bincount(prow, minlength=len(self.ids))
        cand = np.nonzero(per_row)[0]
        src_cont = per_row[cand] / np.maximum(src_total[cand], 1)
        qry_cont = per_row[cand] / max(qry_total, 1)
        sim = np.maximum(src_cont, qry_cont)
        # span check only for files sharing a few fingerprints (a span of min_span_tokens
        # tokens carries about 2 * min_span_tokens / (w + 1) of them)
        span_min_fps = 2 if min_span_tokens is None else max(2, min_span_tokens // (self.w + 1))
        look = (sim >= min_similarity) | (
            (per_row[cand] >= span_min_fps) if min_span_tokens is not None else False
        )
        out = []
        for i in np.nonzero(look)[0]:
            r = int(cand[i])
            matched = uq[pfp[prow == r]]
            qsel = np.isin(h, matched)
            spans, covered = self._spans(qpos[qsel], toks)
            if sim[i] < min_similarity and (min_span_tokens is None or covered < min_span_tokens):
                continue
            ssel = rows == r
            src_spans = _merge_token_runs(np.sort(spos[ssel]), self.k, self.guarantee)
            out.append(
                CodeMatch(
                    self.ids[r],
                    float(sim[i]),
                    float(src_cont[i]),
                    float(qry_cont[i]),
                    int(per_row[r]),
                    spans,
                    tuple((int(a), int(b)) for a, b in src_spans),
                    int(covered),
                )
            )
        out.sort(key=lambda c: (-max(c.similarity, min(1.0, c.longest_span_tokens / 100)), c.doc))
        return out[:top]

    def _spans(
        self, positions: np.ndarray, toks: CodeTokens
    ) -> tuple[tuple[tuple[int, int, float], ...], int]:
        """Query spans ``(start, end, coverage)`` and the most tokens covered in one span."""
        runs = _merge_token_runs(np.sort(positions), self.k, self.merge_gap)
        out = []
        best = 0
        n = len(toks)
        cover = np.zeros(n + self.k + 1, dtype=np.int32)
        p = positions.astype(np.int64)
        np.add.at(cover, p, 1)
        np.add.at(cover, p + self.k, -1)
        covered = np.cumsum(cover)[:n] > 0  # tokens inside a matched k-gram
        for a, b in runs:
            b = min(b, n)
            c = int(covered[a:b].sum())
            best = max(best, c)
            # syntax tokens may be reordered (canonical statement order): take the extremes
            start, end = int(toks.starts[a:b].min()), int(toks.ends[a:b].max())
            out.append((start, end, c / max(b - a, 1)))
        return tuple(out), best

    # -- persistence -------------------------------------------------------------------------

    def save(self, folder: str | os.PathLike[str]) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("keys", "docs", "pos", "fp_counts"):
            with atomic_write(folder / f"code_{name}.npy", "wb") as fh:
                np.save(fh, np.asarray(getattr(self, name)), allow_pickle=False)

    @classmethod
    def load(
        cls,
        folder: str | os.PathLike[str],
        ids: Sequence[str],
        *,
        k: int,
        w: int,
        language: str | None,
        tokens: str = "lexical",
    ) -> CodeIndex:
        folder = Path(folder)
        idx = cls(k, w, language, tokens)
        idx.ids = list(ids)
        try:
            for name in ("keys", "docs", "pos", "fp_counts"):
                setattr(
                    idx,
                    name,
                    np.load(folder / f"code_{name}.npy", mmap_mode="r", allow_pickle=False),
                )
        except (OSError, ValueError, EOFError) as exc:
            raise CorruptIndexError(
                f"code index in {str(folder)!r} is unreadable: {exc}", hint="rebuild the index"
            ) from exc
        if not (len(idx.keys) == len(idx.docs) == len(idx.pos)) or len(idx.fp_counts) != len(ids):
            raise CorruptIndexError(
                f"code index in {str(folder)!r} has inconsistent arrays", hint="rebuild the index"
            )
        return idx

    def nbytes(self) -> int:
        return int(self.keys.nbytes + self.docs.nbytes + self.pos.nbytes + self.fp_counts.nbytes)


def _merge_token_runs(positions: np.ndarray, k: int, gap: int) -> list[tuple[int, int]]:
    """Merge k-gram start positions into token ranges ``[a, b)``; gaps under ``gap`` join."""
    if len(positions) == 0:
        return []
    p = np.unique(positions)
    breaks = np.nonzero(np.diff(p) > gap)[0]
    starts = np.concatenate([[p[0]], p[breaks + 1]])
    ends = np.concatenate([p[breaks], [p[-1]]]) + k
    return list(zip(starts.tolist(), ends.tolist(), strict=True))
