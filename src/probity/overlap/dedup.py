"""Training-data deduplication: exact, near-duplicate and repeated-span removal with a report.

Three passes over records in input order, each keeping the first record (smallest position) of
a group, so the result is deterministic:

1. ``exact``: records whose normalised text (``probity.text.normalize``: NFKC, case-fold,
   whitespace collapsed) is identical; reason ``exact_duplicate``.
2. ``near``: MinHash + LSH candidates re-checked with exact Jaccard of word ``shingle``-gram
   sets; clusters are connected components and keep their smallest member; reason
   ``near_duplicate`` (with the Jaccard to the member that linked it).
3. ``max_repeats``: a span of ``span_tokens`` tokens may appear in at most ``k`` kept records;
   a later record containing a span already kept ``k`` times is removed; reason
   ``repeated_span``.

Every input record is either in ``kept`` or in ``removed`` with its reason and representative.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from probity.errors import InputError
from probity.text import hash_strings, ngram_hashes, normalize, text_digest, words

from .lsh import clusters_from_pairs, near_duplicate_pairs
from .minhash import MinHasher


@dataclass(frozen=True)
class Removal:
    """Why record ``id`` was removed and which kept record ``representative`` stands for it."""

    id: str
    reason: str
    representative: str
    score: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "reason": self.reason,
            "representative": self.representative,
            "score": round(float(self.score), 4),
        }


@dataclass(frozen=True)
class DedupResult:
    """Kept ids (input order), removals with reasons, and counts per reason."""

    kept: tuple[str, ...]
    removed: tuple[Removal, ...]
    total: int
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.removed:
            out[r.reason] = out.get(r.reason, 0) + 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "kept": len(self.kept),
            "removed": len(self.removed),
            "counts": self.counts,
            "params": dict(self.params),
            "kept_ids": list(self.kept),
            "removals": [r.to_dict() for r in self.removed],
        }


def _record(rec: Any, i: int, text_field: str, id_field: str) -> tuple[str, str]:
    if isinstance(rec, str):
        return str(i), rec
    if isinstance(rec, tuple) and len(rec) == 2:
        return str(rec[0]), str(rec[1])
    if isinstance(rec, Mapping):
        if text_field not in rec:
            raise InputError(f"record {i} has no field {text_field!r} (fields: {sorted(rec)[:10]})")
        return str(rec.get(id_field, i)), str(rec[text_field])
    raise InputError(
        f"record {i}: expected a dict, an (id, text) pair or a string, got {type(rec).__name__}"
    )


def dedup_records(
    records: Iterable[Mapping[str, Any] | tuple[str, str] | str],
    *,
    exact: bool = True,
    near: float | None = 0.8,
    max_repeats: int | None = None,
    text_field: str = "text",
    id_field: str = "id",
    shingle: int = 5,
    num_perm: int = 128,
    span_tokens: int = 50,
    seed: int = 1,
) -> DedupResult:
    """Deduplicate ``records`` (dicts with ``text_field``/``id_field``, pairs, or strings).

    ``near`` is the Jaccard threshold in (0, 1] (``None`` skips the pass); ``max_repeats``
    (>= 1) caps how many kept records may share a ``span_tokens``-token span. Ids default to
    the record position and must be unique.
    """
    if near is not None and not 0.0 < near <= 1.0:
        raise InputError(f"--near must be in (0, 1], got {near}")
    if max_repeats is not None and max_repeats < 1:
        raise InputError(f"--max-repeats must be >= 1, got {max_repeats}")
    ids: list[str] = []
    texts: list[str] = []
    seen: set[str] = set()
    for i, rec in enumerate(records):
        rid, text = _record(rec, i, text_field, id_field)
        if rid in seen:
            raise InputError(
                f"duplicate record id {rid!r}", hint="ids must be unique; pass another --id-field"
            )
        seen.add(rid)
        ids.append(rid)
        texts.append(text)
    n = len(ids)
    alive = np.ones(n, dtype=bool)
    removed: dict[int, Removal] = {}

    if exact:
        first: dict[str, int] = {}
        for i, t in enumerate(texts):
            key = text_digest(normalize(t))
            j = first.setdefault(key, i)
            if j != i:
                alive[i] = False
                removed[i] = Removal(ids[i], "exact_duplicate", ids[j], 1.0)

    if near is not None:
        rows = np.nonzero(alive)[0]
        sub = [texts[r] for r in rows]
        hasher = MinHasher(num_perm, shingle, seed)
        pairs = near_duplicate_pairs(sub, near, hasher=hasher) if len(sub) > 1 else []
        labels = clusters_from_pairs(len(sub), pairs)
        best: dict[int, float] = {}
        for _a, b, jac in pairs:  # the Jaccard that linked each member (for the report)
            best[b] = max(best.get(b, 0.0), jac)
        for local, rep in enumerate(labels.tolist()):
            if rep != local:
                i, j = int(rows[local]), int(rows[rep])
                alive[i] = False
                removed[i] = Removal(ids[i], "near_duplicate", ids[j], best.get(local, near))

    if max_repeats is not None:
        owners: dict[int, list[int]] = {}
        for i in np.nonzero(alive)[0].tolist():
            toks = words(texts[i])
            if len(toks) < span_tokens:
                continue
            spans = np.unique(ngram_hashes(hash_strings(toks), span_tokens)).tolist()
            over = next((h for h in spans if len(owners.get(h, ())) >= max_repeats), None)
            if over is not None:
                alive[i] = False
                removed[i] = Removal(
                    ids[i], "repeated_span", ids[owners[over][0]], float(max_repeats)
                )
                continue
            for h in spans:
                owners.setdefault(h, []).append(i)

    kept = tuple(ids[i] for i in range(n) if alive[i])
    rem = tuple(removed[i] for i in sorted(removed))
    assert len(kept) + len(rem) == n  # every record accounted for
    params = {
        "exact": exact,
        "near": near,
        "max_repeats": max_repeats,
        "shingle": shingle,
        "num_perm": num_perm,
        "span_tokens": span_tokens,
        "seed": seed,
    }
    return DedupResult(kept, rem, n, params)


def dedup_texts(texts: Sequence[str], **kwargs: Any) -> DedupResult:
    """:func:`dedup_records` on plain strings (ids are positions)."""
    return dedup_records(list(texts), **kwargs)
