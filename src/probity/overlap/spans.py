"""Verbatim span index: every word n-gram of a corpus, hashed, sorted and memory-mapped.

Every window of ``n`` consecutive normalised tokens (``probity.text``) of every indexed document
is hashed to 64 bits; the index is three parallel arrays sorted by hash: ``keys`` (uint64),
``docs`` (uint32 document row) and ``pos`` (uint32 token position), 16 bytes per indexed token,
saved as ``.npy`` files and opened with ``mmap_mode="r"`` so a large index costs page cache,
not heap. A query hashes its own windows, looks each up with one vectorised ``searchsorted``
(``O(W log N)`` for ``W`` windows and ``N`` indexed n-grams) and merges runs of consecutive
matching windows into maximal spans: a run of ``m`` windows is a verbatim match of
``m + n - 1`` tokens.

Errors: a 64-bit hash collision gives a false match with probability about ``W * N / 2^64``
per query (1e-9 for ``W = 200``, ``N = 1e8``). Matches are on normalised tokens, so case,
Unicode form, whitespace and punctuation differences do not hide a copy.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from probity.errors import CorruptIndexError, InputError
from probity.io import atomic_write
from probity.text import hash_strings, ngram_hashes, tokenize

U64 = np.uint64
#: Default verbatim span length in tokens: about one sentence (see docs/overlap.md's curve).
DEFAULT_NGRAM = 12


@dataclass(frozen=True)
class SpanMatch:
    """A maximal verbatim match: ``[start, end)`` characters of the query, ``tokens`` long,
    found in document ``doc`` (its id) at tokens ``[doc_token_start, doc_token_end)``.
    ``sources`` counts how many indexed documents contain the span's first n-gram; ``docs``
    lists every document (id, at most 64) that holds the whole span, ``doc`` first."""

    start: int
    end: int
    tokens: int
    doc: str
    doc_token_start: int
    doc_token_end: int
    text: str = ""
    sources: int = 1
    docs: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "tokens": self.tokens,
            "doc": self.doc,
            "doc_token_start": self.doc_token_start,
            "doc_token_end": self.doc_token_end,
            "text": self.text,
            "sources": self.sources,
            "docs": list(self.docs or (self.doc,)),
        }


def _doc_ngrams(text: str, n: int) -> np.ndarray:
    toks = tokenize(text)
    return ngram_hashes(hash_strings(toks.words), n) if len(toks) >= n else np.empty(0, U64)


def maximal_runs(hit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and (exclusive) end indices of the runs of True in a boolean array."""
    padded = np.concatenate([[False], np.asarray(hit, dtype=bool), [False]])
    d = np.diff(padded.astype(np.int8))
    return np.nonzero(d == 1)[0], np.nonzero(d == -1)[0]


class SpanIndex:
    """Sorted n-gram hash table of a corpus; :meth:`query` returns maximal verbatim spans.

    ``n`` is the span length in tokens (default 12: a quoted sentence; 50 finds only long
    regurgitated passages, see docs/overlap.md for the measured trade-off). Document ids are strings kept in ``ids``.
    """

    def __init__(self, n: int = DEFAULT_NGRAM) -> None:
        if int(n) < 2:
            raise InputError(f"span length n must be >= 2 tokens, got {n}")
        self.n = int(n)
        self.ids: list[str] = []
        self.keys = np.empty(0, dtype=U64)
        self.docs = np.empty(0, dtype=np.uint32)
        self.pos = np.empty(0, dtype=np.uint32)

    @classmethod
    def build(
        cls, docs: Iterable[str] | Iterable[tuple[str, str]], n: int = DEFAULT_NGRAM
    ) -> SpanIndex:
        """Index ``docs``: texts (ids are their positions) or ``(id, text)`` pairs."""
        idx = cls(n)
        idx.add(docs)
        return idx

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def ngrams(self) -> int:
        """Number of indexed n-grams."""
        return len(self.keys)

    def add(self, docs: Iterable[str] | Iterable[tuple[str, str]]) -> int:
        """Add documents (texts or ``(id, text)`` pairs); returns how many were added."""
        keys, rows, poss = [], [], []
        added = 0
        for item in docs:
            if isinstance(item, str):
                doc_id, text = str(len(self.ids)), item
            else:
                doc_id, text = str(item[0]), item[1]
            row = len(self.ids)
            self.ids.append(doc_id)
            added += 1
            h = _doc_ngrams(text, self.n)
            if len(h):
                keys.append(h)
                rows.append(np.full(len(h), row, dtype=np.uint32))
                poss.append(np.arange(len(h), dtype=np.uint32))
        if keys:
            k = np.concatenate([np.asarray(self.keys), *keys])
            d = np.concatenate([np.asarray(self.docs), *rows])
            p = np.concatenate([np.asarray(self.pos), *poss])
            order = np.argsort(k, kind="stable")
            self.keys, self.docs, self.pos = k[order], d[order], p[order]
        return added

    def query(self, text: str, *, min_tokens: int | None = None) -> list[SpanMatch]:
        """Maximal spans of ``text`` found verbatim (>= ``n`` tokens) in the indexed corpus.

        ``min_tokens`` (>= n; below n is an ``InputError``: such spans are not indexed) drops
        shorter matches. A run of matching windows copied from
        several places is split into one span per source (see :meth:`_attribute`), so the
        answer is attribution span by span.
        """
        if min_tokens is not None and min_tokens < self.n:
            raise InputError(
                f"min_tokens {min_tokens} is below the index's n-gram length {self.n}",
                hint=f"rebuild the index with --ngram {max(2, min_tokens)} to find shorter spans",
            )
        toks = tokenize(text)
        if len(toks) < self.n or len(self.keys) == 0:
            return []
        q = ngram_hashes(hash_strings(toks.words), self.n)
        left = np.searchsorted(self.keys, q, side="left")
        right = np.searchsorted(self.keys, q, side="right")
        hit = right > left
        out: list[SpanMatch] = []
        for s, e in zip(*maximal_runs(hit), strict=True):
            for w0, w1, row, dpos, count, rows in self._attribute(left, right, int(s), int(e)):
                tok_len = w1 - w0 + self.n  # windows w0..w1 inclusive
                if min_tokens is not None and tok_len < min_tokens:
                    continue
                a, b = int(toks.starts[w0]), int(toks.ends[w0 + tok_len - 1])
                docs = tuple(self.ids[r] for r in rows)
                out.append(
                    SpanMatch(
                        a, b, tok_len, self.ids[row], dpos, dpos + tok_len, text[a:b], count, docs
                    )
                )
        return out

    def _attribute(
        self, left: np.ndarray, right: np.ndarray, s: int, e: int, cap: int = 256
    ) -> list[tuple[int, int, int, int, int, list[int]]]:
        """Split the run of matching windows ``[s, e)`` into segments copied from one place.

        Every index entry of a window is a (document, position); it continues the copy of the
        previous window when the same document has the next position, so entries sharing
        ``(document, position - window)`` and consecutive windows form one source run. Greedily
        from ``s``: take the source run covering the current window that reaches furthest
        (ties: the lowest document row), emit it, continue after it. Returns
        ``(first window, last window, row, source token start, documents at the first window,
        rows of every document holding the whole segment: the chosen row first, then by row)``.
        At most ``cap`` entries per window are considered (an n-gram shared by more documents
        is boilerplate; its first ``cap`` occurrences are enough to attribute it).
        """
        lo = left[s:e].astype(np.int64)
        hi = np.minimum(right[s:e], left[s:e] + cap).astype(np.int64)
        counts = hi - lo
        which = np.repeat(np.arange(s, e, dtype=np.int64), counts)
        starts = np.cumsum(counts) - counts
        idx = np.arange(int(counts.sum())) - np.repeat(starts, counts) + np.repeat(lo, counts)
        doc = np.asarray(self.docs[idx], dtype=np.int64)
        diag = np.asarray(self.pos[idx], dtype=np.int64) - which
        order = np.lexsort((which, diag, doc))
        doc, diag, which = doc[order], diag[order], which[order]
        new_run = np.ones(len(doc), dtype=bool)
        new_run[1:] = (
            (doc[1:] != doc[:-1]) | (diag[1:] != diag[:-1]) | (which[1:] != which[:-1] + 1)
        )
        first = np.nonzero(new_run)[0]
        r_start = which[first]
        r_end = np.maximum.reduceat(which, first)
        r_doc, r_diag = doc[first], diag[first]
        segments = []
        w = s
        while w < e:
            cover = np.nonzero((r_start <= w) & (r_end >= w))[0]
            best = cover[np.lexsort((r_doc[cover], -r_end[cover]))[0]]
            end = int(r_end[best])
            best_row = int(r_doc[best])
            holders = np.unique(r_doc[cover[r_end[cover] >= end]])
            rows = [best_row] + [int(r) for r in holders[:64] if r != best_row]
            segments.append(
                (w, end, best_row, int(r_diag[best]) + w, int(right[w] - left[w]), rows)
            )
            w = end + 1
        return segments

    # -- persistence -------------------------------------------------------------------------

    def save(self, folder: str | os.PathLike[str]) -> None:
        """Write ``keys.npy``, ``docs.npy``, ``pos.npy`` into ``folder`` (each atomically)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("keys", "docs", "pos"):
            with atomic_write(folder / f"span_{name}.npy", "wb") as fh:
                np.save(fh, np.asarray(getattr(self, name)), allow_pickle=False)

    @classmethod
    def load(
        cls, folder: str | os.PathLike[str], n: int, ids: Sequence[str], *, mmap: bool = True
    ) -> SpanIndex:
        """Open a saved index (memory-mapped by default); damage is a ``CorruptIndexError``."""
        folder = Path(folder)
        idx = cls(n)
        idx.ids = list(ids)
        try:
            for name in ("keys", "docs", "pos"):
                arr = np.load(
                    folder / f"span_{name}.npy", mmap_mode="r" if mmap else None, allow_pickle=False
                )
                setattr(idx, name, arr)
        except (OSError, ValueError, EOFError) as exc:
            raise CorruptIndexError(
                f"span index in {str(folder)!r} is unreadable: {exc}", hint="rebuild the index"
            ) from exc
        if not (len(idx.keys) == len(idx.docs) == len(idx.pos)):
            raise CorruptIndexError(
                f"span index in {str(folder)!r} has inconsistent arrays", hint="rebuild the index"
            )
        if len(idx.docs) and int(np.max(idx.docs[: min(len(idx.docs), 1 << 20)])) >= len(ids):
            raise CorruptIndexError(
                f"span index in {str(folder)!r} refers to unknown documents",
                hint="rebuild the index",
            )
        return idx

    def nbytes(self) -> int:
        return int(self.keys.nbytes + self.docs.nbytes + self.pos.nbytes)
