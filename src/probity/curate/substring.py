"""Exact-substring deduplication with a suffix array (Lee et al., 2021, "Deduplicating
Training Data Makes Language Models Better"), the ``dedup_substring`` curation stage.

The surviving texts are encoded as UTF-8 and concatenated with a ``0xFF`` byte after each
(a byte no UTF-8 text contains, so no match crosses a document boundary). ``pydivsufsort``
builds the suffix array and Kasai's LCP array; the rest is numpy over those arrays:

* a suffix whose document has at least ``min_bytes`` bytes left starts an *L-byte window*;
* windows with equal content are a contiguous run of the suffix array whose neighbouring LCPs
  are all >= ``min_bytes``; the smallest position of a run is the window's first occurrence;
* every other window of a run is marked ``[p, p + min_bytes)`` (a difference array and a
  cumulative sum), so a repeated span of any length >= ``min_bytes`` is removed whole, from
  every occurrence after the first (also a repeat later in the same document).

That is exactly "remove every byte lying in an L-byte window that already occurred earlier in
the corpus", the rule a hash of every L-gram gives (``bench/curate.py --substring`` checks the
two agree and times them). A byte match may end inside a multi-byte character; only whole
characters are removed, so the output is valid text and the spans are byte-exact otherwise.
A document with bytes removed that is left with fewer than ``min_doc_bytes`` bytes is dropped
(reason ``substring_too_short``); documents nothing was removed from are never dropped.

Memory: the text, the suffix array (int32 under 2 GiB, else int64), the LCP array and a few
masks: about ``BYTES_PER_INPUT_BYTE`` bytes per input byte (int32 positions). Above
``max_corpus_bytes`` (default 256 MB, so about 9 GB of memory) the stage refuses with an
error naming the option instead of running the machine out of memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from probity.errors import InputError

SEPARATOR = 0xFF
DEFAULT_MIN_BYTES = 100  # Lee et al.: 50 tokens, about 100 bytes of English
DEFAULT_MIN_DOC_BYTES = 50
DEFAULT_MAX_CORPUS_BYTES = 256_000_000
BYTES_PER_INPUT_BYTE = 36  # traced peak 35 per byte on 7 MB of text (int32 positions)


@dataclass(frozen=True)
class SubstringResult:
    """Per document: the new text (``None`` when dropped), bytes removed, and the id-index of
    the document holding the first occurrence of its first removed window (-1 if none)."""

    texts: list[str | None]
    removed_bytes: np.ndarray
    source: np.ndarray


def _suffix_arrays(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    try:
        from pydivsufsort import divsufsort, kasai
    except ImportError as exc:  # pragma: no cover - pydivsufsort is in the curate extra
        raise InputError(
            "dedup_substring needs pydivsufsort: pip install 'probity[curate]'"
        ) from exc
    sa = divsufsort(data)
    return sa, kasai(data, sa)


def substring_dedup(
    texts: Sequence[str],
    *,
    min_bytes: int = DEFAULT_MIN_BYTES,
    min_doc_bytes: int = DEFAULT_MIN_DOC_BYTES,
    max_corpus_bytes: int = DEFAULT_MAX_CORPUS_BYTES,
) -> SubstringResult:
    """Remove every span of at least ``min_bytes`` bytes that occurred earlier in ``texts``.

    ``texts`` are in corpus order (the first occurrence is kept). Raises ``InputError`` when
    the encoded corpus exceeds ``max_corpus_bytes``.
    """
    if min_bytes < 1:
        raise InputError(f"dedup_substring: min_bytes must be >= 1, got {min_bytes}")
    encoded = [t.encode("utf-8", "surrogatepass") for t in texts]
    lengths = np.fromiter((len(b) for b in encoded), dtype=np.int64, count=len(encoded))
    total = int(lengths.sum()) + len(encoded)
    if total > max_corpus_bytes:
        raise InputError(
            f"dedup_substring: the surviving text is {total:,} bytes, over max_corpus_bytes "
            f"{max_corpus_bytes:,} (the suffix array needs about {BYTES_PER_INPUT_BYTE} bytes "
            "of memory per byte); raise max_corpus_bytes if the memory is there, or filter "
            "or split the corpus first"
        )
    n_docs = len(encoded)
    removed_bytes = np.zeros(n_docs, dtype=np.int64)
    source = np.full(n_docs, -1, dtype=np.int64)
    if n_docs == 0 or total == 0:
        return SubstringResult(list(texts), removed_bytes, source)
    raw = b"\xff".join(encoded) + b"\xff"
    data = np.frombuffer(raw, dtype=np.uint8)
    idx = np.int32 if total < 2**31 - 1 else np.int64  # positions: 4 bytes each when they fit
    ends = (np.cumsum(lengths + 1) - 1).astype(idx)  # the separator after each document
    starts = ends - lengths.astype(idx)
    doc_of = np.repeat(np.arange(n_docs, dtype=idx), lengths + 1)

    sa, lcp = _suffix_arrays(raw)
    sa = sa.astype(idx, copy=False)
    # a suffix starts a whole window inside its document when min_bytes bytes are left
    valid = (ends[doc_of[sa]] - sa) >= min_bytes
    # lcp[i] is between sa[i] and sa[i + 1]; a run continues when the two share a window
    # (a suffix with fewer bytes left than min_bytes cannot share min_bytes with anything,
    # since the separator matches no text byte, so invalid suffixes never sit inside a run)
    linked = np.zeros(total, dtype=bool)
    linked[1:] = lcp[:-1] >= min_bytes
    del lcp
    first = np.flatnonzero(~linked)
    del linked
    run_min = np.repeat(np.minimum.reduceat(sa, first), np.diff(np.append(first, total)))
    del first
    repeat = valid & (sa != run_min)
    del valid
    starts_marked = np.sort(sa[repeat])
    origin = run_min[repeat][np.argsort(sa[repeat], kind="stable")]
    del sa, run_min, repeat
    if starts_marked.size == 0:
        return SubstringResult(list(texts), removed_bytes, source)
    # a byte is covered when the last marked window starting at or before it reaches it
    last = np.full(total, -min_bytes, dtype=idx)
    last[starts_marked] = starts_marked
    np.maximum.accumulate(last, out=last)
    gone = (np.arange(total, dtype=idx) - last) < min_bytes
    del last
    # only whole characters go: a character is removed when all of its bytes are
    cont = (data & 0xC0) == 0x80  # UTF-8 continuation bytes (at most 3 per character)
    if cont.any():
        for _ in range(3):  # a byte after a kept byte of its character is kept
            gone[1:] &= ~cont[1:] | gone[:-1]
        for _ in range(3):  # a byte before a kept continuation byte is kept
            gone[:-1] &= ~cont[1:] | gone[1:]
    # earliest marked window per document and the document of its first occurrence
    marked_docs = doc_of[starts_marked]
    firsts = np.flatnonzero(np.r_[True, marked_docs[1:] != marked_docs[:-1]])
    source[marked_docs[firsts]] = doc_of[origin[firsts]]
    removed_bytes = np.add.reduceat(gone.astype(np.int64), starts) * (lengths > 0)

    out: list[str | None] = list(texts)
    for d in np.flatnonzero(removed_bytes):
        s, e = int(starts[d]), int(ends[d])
        kept = data[s:e][~gone[s:e]].tobytes()
        out[d] = None if len(kept) < min_doc_bytes else kept.decode("utf-8", "surrogatepass")
    return SubstringResult(out, removed_bytes, source)


def substring_decisions(
    ids: Sequence[str], texts: Sequence[str], options: dict[str, object]
) -> tuple[list[tuple[str, str, str, float]], dict[str, str]]:
    """The ``dedup_substring`` stage over the whole corpus: ``(id, reason, representative,
    share of bytes removed)`` for each record dropped, and the new text of each record kept
    with bytes removed (by id)."""
    opts = dict(options)
    try:
        kw = {
            k: int(opts.pop(k, d))  # type: ignore[call-overload]
            for k, d in (
                ("min_bytes", DEFAULT_MIN_BYTES),
                ("min_doc_bytes", DEFAULT_MIN_DOC_BYTES),
                ("max_corpus_bytes", DEFAULT_MAX_CORPUS_BYTES),
            )
        }
    except (TypeError, ValueError) as exc:
        raise InputError(f"dedup_substring: options must be integers ({exc})") from exc
    if opts:
        raise InputError(f"unknown option(s) for dedup_substring: {sorted(opts)}")
    res = substring_dedup(texts, **kw)
    drops: list[tuple[str, str, str, float]] = []
    changed: dict[str, str] = {}
    for d in np.flatnonzero(res.removed_bytes):
        new = res.texts[d]
        if new is None:
            size = len(texts[d].encode("utf-8", "surrogatepass"))
            share = float(res.removed_bytes[d]) / size
            drops.append((ids[d], "substring_too_short", ids[res.source[d]], share))
        else:
            changed[ids[d]] = new
    return drops, changed
