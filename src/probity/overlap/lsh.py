"""Banded locality-sensitive hashing over MinHash signatures, and near-duplicate clustering.

A signature of ``num_perm`` slots is cut into ``bands`` bands of ``rows`` slots each; two
documents become candidates when all ``rows`` slots of at least one band agree. For documents
with Jaccard ``s`` that happens with probability ``P(s) = 1 - (1 - s^rows)^bands`` (an S-curve
whose steep part sits near ``(1 / bands)^(1 / rows)``). :func:`lsh_params` picks the pair that
minimises the weighted area of false positives (``P`` below the threshold) plus false negatives
(``1 - P`` above it).

The index is a flat table: each band of each document is hashed to one uint64 key (salted with
the band number), and the table keeps the keys sorted with the row of the document beside them.
Inserting is appending (band keys are computed for a whole batch with array ops); a query is one
``searchsorted`` of its ``bands`` keys. Memory: ``bands * 12`` bytes per document for the table
plus the signature (``num_perm * 8`` bytes) kept for Jaccard estimates.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from probity.errors import CorruptIndexError, InputError
from probity.io import atomic_write

from .minhash import EMPTY, MinHasher, exact_jaccard, jaccard_estimate

U64 = np.uint64
_FORMAT = "probity-lsh/1"


@lru_cache(maxsize=256)
def lsh_params(
    threshold: float, num_perm: int, fp_weight: float = 0.5, fn_weight: float = 0.5
) -> tuple[int, int]:
    """``(bands, rows)`` with ``bands * rows <= num_perm`` minimising the weighted error area.

    False-positive area: integral of ``P(s)`` over ``s in [0, threshold]``; false-negative area:
    integral of ``1 - P(s)`` over ``[threshold, 1]``; the weights must sum to 1.
    """
    if not 0.0 < threshold < 1.0:
        raise InputError(f"LSH threshold must be in (0, 1), got {threshold}")
    if num_perm < 2:
        raise InputError(f"num_perm must be >= 2, got {num_perm}")
    if abs(fp_weight + fn_weight - 1.0) > 1e-9:
        raise InputError("fp_weight + fn_weight must be 1")
    s = np.linspace(0.0, 1.0, 1001)
    best, best_err = (1, 1), np.inf
    for b in range(1, num_perm + 1):
        r = np.arange(1, num_perm // b + 1)
        p = 1.0 - (1.0 - s[None, :] ** r[:, None]) ** b  # (len(r), len(s))
        lo = s <= threshold
        fp = np.trapezoid(p[:, lo], s[lo], axis=1)
        fn = np.trapezoid(1.0 - p[:, ~lo], s[~lo], axis=1)
        err = fp_weight * fp + fn_weight * fn
        i = int(np.argmin(err))
        if err[i] < best_err - 1e-12:
            best, best_err = (b, int(r[i])), float(err[i])
    return best


def band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One uint64 key per (document, band): ``(n, bands)``; equal bands give equal keys.

    The key of band ``j`` with slot values ``v_0..v_{r-1}`` is a polynomial
    ``sum_i v_i C^(r-1-i) + (j + 1) C^r (mod 2^64)`` (one integer matrix product for the whole
    batch; the slot values are already uniform 64-bit hashes) finished by a xor-shift-multiply
    mixer so that sorted keys carry no structure.
    """
    sig = np.asarray(signatures, dtype=U64)
    if sig.ndim == 1:
        sig = sig[None, :]
    if sig.shape[1] < bands * rows:
        raise InputError(f"signatures have {sig.shape[1]} slots; bands*rows={bands * rows}")
    pw, salt = _band_consts(bands, rows)
    acc = sig[:, : bands * rows].reshape(len(sig), bands, rows) @ pw
    acc += salt
    return _mix(acc)


_C = 0x9E3779B97F4A7C15


@lru_cache(maxsize=64)
def _band_consts(bands: int, rows: int) -> tuple[np.ndarray, np.ndarray]:
    mask = (1 << 64) - 1
    pw = np.array([pow(_C, rows - 1 - i, 1 << 64) for i in range(rows)], dtype=U64)
    cr = pow(_C, rows, 1 << 64)
    salt = np.array([((j + 1) * cr) & mask for j in range(bands)], dtype=U64)
    return pw, salt


_S33, _M1, _M2 = U64(33), U64(0xFF51AFD7ED558CCD), U64(0xC4CEB9FE1A85EC53)


def _mix(x: np.ndarray) -> np.ndarray:
    """xor-shift-multiply finaliser (Murmur3 fmix64) on a uint64 array, in place."""
    x ^= x >> _S33
    x *= _M1
    x ^= x >> _S33
    x *= _M2
    x ^= x >> _S33
    return x


def _expand_ranges(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For ranges ``[left_i, right_i)`` return (range number, position) of every member."""
    counts = right - left
    total = int(counts.sum())
    which = np.repeat(np.arange(len(left)), counts)
    starts = np.cumsum(counts) - counts
    pos = np.arange(total) - np.repeat(starts, counts) + np.repeat(left, counts)
    return which, pos


class LSHIndex:
    """A banded MinHash LSH index of integer document ids.

    ``threshold`` in (0, 1) sets ``bands``/``rows`` through :func:`lsh_params` (with
    ``weights = (fp_weight, fn_weight)``; favour recall when candidates are re-checked exactly)
    unless both are given. Insert with :meth:`insert` (batches of ids and signatures), query with
    :meth:`query` / :meth:`query_many`; :meth:`save` / :meth:`load` persist it atomically.
    """

    def __init__(
        self,
        threshold: float = 0.8,
        num_perm: int = 128,
        *,
        bands: int | None = None,
        rows: int | None = None,
        keep_signatures: bool = True,
        weights: tuple[float, float] = (0.5, 0.5),
    ) -> None:
        if (bands is None) != (rows is None):
            raise InputError("give both bands and rows, or neither")
        if bands is None:
            bands, rows = lsh_params(threshold, num_perm, *weights)
        assert rows is not None
        if bands * rows > num_perm:
            raise InputError(f"bands*rows={bands * rows} exceeds num_perm={num_perm}")
        self.threshold = float(threshold)
        self.num_perm = int(num_perm)
        self.bands = int(bands)
        self.rows = int(rows)
        self.keep_signatures = keep_signatures
        self._ids = np.empty(0, dtype=np.int64)  # row -> document id
        self._sigs = np.empty((0, num_perm), dtype=U64)
        self._keys = np.empty(0, dtype=U64)  # sorted band keys
        self._rows = np.empty(0, dtype=np.uint32)  # row of each key
        self._pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def __len__(self) -> int:
        return len(self._ids) + sum(len(p[0]) for p in self._pending)

    def insert(self, ids: Sequence[int] | np.ndarray, signatures: np.ndarray) -> None:
        """Add documents ``ids`` (int64) with their ``(n, num_perm)`` signatures."""
        sig = np.asarray(signatures, dtype=U64)
        if sig.ndim == 1:
            sig = sig[None, :]
        ids_arr = np.asarray(ids, dtype=np.int64).reshape(-1)
        if sig.shape != (len(ids_arr), self.num_perm):
            raise InputError(
                f"expected signatures of shape ({len(ids_arr)}, {self.num_perm}), got {sig.shape}"
            )
        keys = band_keys(sig, self.bands, self.rows)
        self._pending.append((ids_arr, sig if self.keep_signatures else sig[:, :0], keys))

    def flush(self) -> None:
        """Merge pending inserts into the sorted table (done automatically before a query)."""
        if not self._pending:
            return
        base = len(self._ids)
        new_ids = np.concatenate([p[0] for p in self._pending])
        new_keys = np.concatenate([p[2] for p in self._pending])
        rows = (base + np.repeat(np.arange(len(new_ids)), self.bands)).astype(np.uint32)
        keys = np.concatenate([self._keys, new_keys.reshape(-1)])
        allrows = np.concatenate([self._rows, rows])
        order = np.argsort(keys, kind="stable")
        self._keys, self._rows = keys[order], allrows[order]
        self._ids = np.concatenate([self._ids, new_ids])
        if self.keep_signatures:
            self._sigs = np.concatenate([self._sigs] + [p[1] for p in self._pending])
        self._pending = []

    def query_many(self, signatures: np.ndarray) -> list[np.ndarray]:
        """Candidate document ids (sorted, unique) for each signature of ``(m, num_perm)``."""
        rows = self._query_rows(signatures)  # flushes pending inserts first
        return [np.sort(self._ids[r]) for r in rows]

    def _query_one(self, sig: np.ndarray) -> np.ndarray:
        """Rows of the candidates of one signature, with as few array calls as possible."""
        if self._pending:
            self.flush()
        pw, salt = _band_consts(self.bands, self.rows)
        keys = sig[: self.bands * self.rows].reshape(self.bands, self.rows) @ pw
        keys += salt
        _mix(keys)
        left = self._keys.searchsorted(keys, "left")
        right = self._keys.searchsorted(keys, "right")
        hit = (right > left).nonzero()[0]
        if len(hit) == 0:
            return np.empty(0, dtype=np.int64)
        lh, rh = left[hit], right[hit]
        if (rh - lh == 1).all():  # the usual case: each hit bucket holds one document
            r = self._rows[lh]
        else:
            r = np.concatenate(
                [self._rows[a:b] for a, b in zip(lh.tolist(), rh.tolist(), strict=True)]
            )
        if len(r) <= 64:  # small: a Python set is cheaper than np.unique's sort machinery
            return np.array(sorted(set(r.tolist())), dtype=np.int64)
        return np.unique(r).astype(np.int64)

    def _query_rows(self, signatures: np.ndarray) -> list[np.ndarray]:
        self.flush()
        sig = np.asarray(signatures, dtype=U64)
        if sig.ndim == 1:
            sig = sig[None, :]
        m = len(sig)
        keys = band_keys(sig, self.bands, self.rows).reshape(-1)
        left = self._keys.searchsorted(keys, "left")
        right = self._keys.searchsorted(keys, "right")
        which, pos = _expand_ranges(left, right)
        q = which // self.bands
        rows = self._rows[pos].astype(np.int64)
        # unique (query, row) pairs, grouped by query
        pair = np.unique(q * (len(self._ids) + 1) + rows)
        q = pair // (len(self._ids) + 1)
        rows = pair % (len(self._ids) + 1)
        cuts = np.searchsorted(q, np.arange(m + 1))
        return [rows[cuts[i] : cuts[i + 1]] for i in range(m)]

    def query(self, signature: np.ndarray) -> np.ndarray:
        """Candidate document ids for one signature."""
        sig = np.asarray(signature, dtype=U64)
        if sig.ndim != 1 or len(sig) != self.num_perm:
            raise InputError(f"expected one signature of {self.num_perm} slots, got {sig.shape}")
        rows = self._query_one(sig)  # flushes pending inserts first
        out = self._ids[rows]
        if len(out) > 1:
            out.sort()
        return out

    def signature_of(self, doc_id: int) -> np.ndarray:
        """The stored signature of ``doc_id`` (needs ``keep_signatures``)."""
        self.flush()
        hit = np.nonzero(self._ids == doc_id)[0]
        if len(hit) == 0 or not self.keep_signatures:
            raise InputError(f"no stored signature for document {doc_id}")
        return self._sigs[hit[0]]

    def query_scored(
        self, signature: np.ndarray, min_jaccard: float | None = None
    ) -> list[tuple[int, float]]:
        """Candidates with their estimated Jaccard, best first, filtered by ``min_jaccard``."""
        sig = np.asarray(signature, dtype=U64).reshape(-1)
        rows = self._query_one(sig)
        if len(rows) == 0 or not self.keep_signatures:
            return [(int(c), float("nan")) for c in self._ids[rows]]
        est = jaccard_estimate(self._sigs[rows], sig[None, :])
        out = [(int(c), float(e)) for c, e in zip(self._ids[rows], est, strict=True)]
        if min_jaccard is not None:
            out = [x for x in out if x[1] >= min_jaccard]
        return sorted(out, key=lambda x: (-x[1], x[0]))

    def nbytes(self) -> int:
        """Bytes held by the index arrays."""
        self.flush()
        return int(self._keys.nbytes + self._rows.nbytes + self._ids.nbytes + self._sigs.nbytes)

    # -- persistence ---------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the index to one ``.npz`` file atomically."""
        self.flush()
        meta = {
            "format": _FORMAT,
            "threshold": self.threshold,
            "num_perm": self.num_perm,
            "bands": self.bands,
            "rows": self.rows,
            "keep_signatures": self.keep_signatures,
        }
        buf = io.BytesIO()
        np.savez(
            buf,
            meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
            ids=self._ids,
            sigs=self._sigs,
            keys=self._keys,
            rows=self._rows,
        )
        with atomic_write(path, "wb") as fh:
            fh.write(buf.getvalue())
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> LSHIndex:
        """Read an index written by :meth:`save`; damage is a ``CorruptIndexError``."""
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(bytes(data["meta"]).decode())
                if meta.get("format") != _FORMAT:
                    raise CorruptIndexError(
                        f"{path}: not a Probity LSH index (format {meta.get('format')!r})"
                    )
                idx = cls(
                    meta["threshold"],
                    meta["num_perm"],
                    bands=meta["bands"],
                    rows=meta["rows"],
                    keep_signatures=meta["keep_signatures"],
                )
                idx._ids, idx._sigs = data["ids"], data["sigs"]
                idx._keys, idx._rows = data["keys"], data["rows"]
        except CorruptIndexError:
            raise
        except (OSError, ValueError, KeyError, EOFError) as exc:
            raise CorruptIndexError(
                f"LSH index {str(path)!r} is unreadable: {exc}", hint="rebuild it"
            ) from exc
        if len(idx._keys) != len(idx._ids) * idx.bands or len(idx._rows) != len(idx._keys):
            raise CorruptIndexError(
                f"LSH index {str(path)!r} has inconsistent arrays", hint="rebuild it"
            )
        return idx


# --- near-duplicate clustering ---------------------------------------------------------------


def bucket_pairs(members: np.ndarray, max_group: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of one band bucket (``members`` ascending): all of them up to ``max_group``
    members, else the first member with every other and each with its next neighbour."""
    size = len(members)
    if size <= max_group:
        ii, jj = np.triu_indices(size, 1)
        return members[ii], members[jj]
    return (
        np.concatenate([np.full(size - 1, members[0]), members[1:-1]]),
        np.concatenate([members[1:], members[2:]]),
    )


def candidate_pairs(
    keys: np.ndarray, nonempty: np.ndarray, max_group: int = 64
) -> tuple[np.ndarray, np.ndarray]:
    """Candidate pairs ``(i, j)``, ``i < j``, of rows sharing a band key, sorted and unique.

    ``keys`` is the ``(n, bands)`` band-key array and ``nonempty`` masks rows with a signature.
    One stable sort per band; a bucket larger than ``max_group`` links only its first member
    and neighbours in order (bounding the work; clusters stay connected through them).
    """
    n = keys.shape[0]
    pairs_i: list[np.ndarray] = []
    pairs_j: list[np.ndarray] = []
    for b in range(keys.shape[1]):  # one sort per band; pairs within equal-key runs
        col = keys[:, b]
        order = np.argsort(col, kind="stable")
        order = order[nonempty[order]]
        sk = col[order]
        if len(sk) < 2:
            continue
        starts = np.concatenate([[0], np.nonzero(sk[1:] != sk[:-1])[0] + 1])
        sizes = np.diff(np.concatenate([starts, [len(sk)]]))
        for s, size in zip(starts[sizes > 1], sizes[sizes > 1], strict=True):
            a, b = bucket_pairs(np.sort(order[s : s + size]), max_group)
            pairs_i.append(a)
            pairs_j.append(b)
    if not pairs_i:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    code = np.unique(np.concatenate(pairs_i) * n + np.concatenate(pairs_j))
    return code // n, code % n


def near_duplicate_pairs(
    items: Sequence[str] | np.ndarray,
    threshold: float = 0.8,
    *,
    hasher: MinHasher | None = None,
    exact: bool = True,
    max_group: int = 64,
) -> list[tuple[int, int, float]]:
    """Pairs ``(i, j, jaccard)`` with ``i < j`` and Jaccard >= ``threshold``.

    ``items`` are texts, or an ``(n, num_perm)`` signature array (then Jaccard is estimated).
    Candidates come from LSH band collisions; with texts and ``exact`` the Jaccard of the
    shingle sets is recomputed exactly for every candidate. In a band bucket of more than
    ``max_group`` documents only pairs with the bucket's first member and neighbours in order are
    checked (bounding the work; clusters stay connected through them).
    """
    if not 0.0 < threshold <= 1.0:
        raise InputError(f"threshold must be in (0, 1], got {threshold}")
    hasher = hasher or MinHasher()
    texts: Sequence[str] | None = None
    if isinstance(items, np.ndarray):
        sigs = np.asarray(items, dtype=U64)
        if sigs.ndim != 2:
            raise InputError(f"expected an (n, num_perm) signature array, got shape {sigs.shape}")
    else:
        texts = list(items)
        sigs = hasher.signatures(texts)
    n, k = sigs.shape
    if n < 2:
        return []
    # candidates are re-checked, so favour recall (false negatives weigh 9x false positives)
    bands, rows = lsh_params(min(threshold, 0.99), k, 0.1, 0.9)
    keys = band_keys(sigs, bands, rows)  # (n, bands)
    nonempty = ~(sigs == EMPTY).all(axis=1)
    pi, pj = candidate_pairs(keys, nonempty, max_group)
    if len(pi) == 0:
        return []
    if texts is not None and exact:
        shingles: dict[int, np.ndarray] = {}
        out = []
        for i, j in zip(pi.tolist(), pj.tolist(), strict=True):
            a = shingles.get(i)
            if a is None:
                a = shingles[i] = hasher.shingles(texts[i])
            b_ = shingles.get(j)
            if b_ is None:
                b_ = shingles[j] = hasher.shingles(texts[j])
            jac = exact_jaccard(a, b_)
            if jac >= threshold:
                out.append((i, j, jac))
        return out
    est = jaccard_estimate(sigs[pi], sigs[pj])
    keep = est >= threshold
    return [
        (int(i), int(j), float(e)) for i, j, e in zip(pi[keep], pj[keep], est[keep], strict=True)
    ]


def clusters_from_pairs(n: int, pairs: Sequence[tuple[int, int, float]]) -> np.ndarray:
    """Connected components of the pair graph; each label is the smallest index in its cluster."""
    labels = np.arange(n, dtype=np.int64)
    if not pairs or n == 0:
        return labels
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    i = np.fromiter((p[0] for p in pairs), dtype=np.int64, count=len(pairs))
    j = np.fromiter((p[1] for p in pairs), dtype=np.int64, count=len(pairs))
    graph = coo_matrix((np.ones(len(i), dtype=np.int8), (i, j)), shape=(n, n))
    _, comp = connected_components(graph, directed=False)
    rep = np.full(comp.max() + 1, n, dtype=np.int64)
    np.minimum.at(rep, comp, np.arange(n, dtype=np.int64))
    return rep[comp]


def near_duplicate_clusters(
    items: Sequence[str] | np.ndarray,
    threshold: float = 0.8,
    *,
    hasher: MinHasher | None = None,
    exact: bool = True,
    max_group: int = 64,
) -> np.ndarray:
    """Cluster label of each item: the index of its cluster's representative (smallest index).

    Clusters are the connected components of near-duplicate pairs (see
    :func:`near_duplicate_pairs`), so the result is deterministic: same input, same labels.
    Chains (A ~ B ~ C with A !~ C) join one cluster.
    """
    n = len(items)
    pairs = near_duplicate_pairs(items, threshold, hasher=hasher, exact=exact, max_group=max_group)
    return clusters_from_pairs(n, pairs)
