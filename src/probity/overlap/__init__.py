"""Probity's overlap engine: verbatim spans, near-duplicates and code clones of a corpus.

One module per structure (datasketch-style):

* :mod:`~probity.overlap.spans`: :class:`SpanIndex`, every word n-gram of a corpus hashed into
  a sorted, memory-mapped uint64 table; queries return maximal verbatim spans and their source.
* :mod:`~probity.overlap.minhash`: :class:`MinHasher`, vectorised MinHash signatures of word
  shingle sets (one-permutation hashing with densification, or classic k permutations).
* :mod:`~probity.overlap.lsh`: :func:`lsh_params`, :class:`LSHIndex` (banded LSH, on disk),
  :func:`near_duplicate_clusters` with exact Jaccard re-check.
* :mod:`~probity.overlap.code`: :class:`CodeIndex`, pygments tokens with identifiers and
  literals normalised, winnowing fingerprints, an inverted index and span-level scores.
* :mod:`~probity.overlap.store`: :class:`OverlapIndex`, the named bundle persisted in the
  Probity home (atomic, versioned) with :meth:`OverlapIndex.check` -> :class:`OverlapReport`.
* :mod:`~probity.overlap.dedup`: :func:`dedup_records` for training-data deduplication.

All text goes through ``probity.text`` (tokenize, hash_strings, ngram_hashes), so every engine
agrees on what a token and an n-gram are.
"""

from __future__ import annotations

from .code import CodeIndex, CodeMatch, CodeTokens, code_tokens, winnow
from .dedup import DedupResult, Removal, dedup_records, dedup_texts
from .lsh import (
    LSHIndex,
    band_keys,
    clusters_from_pairs,
    lsh_params,
    near_duplicate_clusters,
    near_duplicate_pairs,
)
from .minhash import EMPTY, MinHasher, exact_jaccard, jaccard_estimate, shingle_hashes
from .spans import SpanIndex, SpanMatch
from .store import (
    IndexStats,
    NearDuplicate,
    OverlapIndex,
    OverlapReport,
    index_path,
    iter_records,
    list_indexes,
)

__all__ = [
    "EMPTY",
    "CodeIndex",
    "CodeMatch",
    "CodeTokens",
    "DedupResult",
    "IndexStats",
    "LSHIndex",
    "MinHasher",
    "NearDuplicate",
    "OverlapIndex",
    "OverlapReport",
    "Removal",
    "SpanIndex",
    "SpanMatch",
    "band_keys",
    "clusters_from_pairs",
    "code_tokens",
    "dedup_records",
    "dedup_texts",
    "exact_jaccard",
    "index_path",
    "iter_records",
    "jaccard_estimate",
    "list_indexes",
    "lsh_params",
    "near_duplicate_clusters",
    "near_duplicate_pairs",
    "shingle_hashes",
    "winnow",
]
