"""``dedup_near`` over shards on disk, with no step that gathers the corpus on the driver.

The datatrove-style stages, each a picklable chunk function run by the executor's workers
(worker processes, or Ray tasks on a cluster whose workers share the work folder); the driver
only passes file names and counts around:

1. **sign** (one task per shard): MinHash signatures and LSH band keys of the shard's records;
   writes the shard's ids, its shingle sets (flat ``uint64`` + offsets, memory-mapped later)
   and, for each of ``R`` reducers, the ``(band, key, shard, row)`` entries whose key hashes
   to that reducer.
2. **pairs** (one task per reducer): every band bucket lives wholly in one reducer, so the
   candidate pairs are those of ``probity.overlap.lsh.candidate_pairs`` (same bucket rule,
   same ``max_group``); each candidate's exact Jaccard comes from the memory-mapped shingle
   sets of its two shards; pairs >= threshold are written.
3. **components** (one task): connected components over the records that occur in a pair
   (memory proportional to the duplicates, not the corpus); each cluster keeps its smallest
   position; the removals are written per shard with their representative and the Jaccard that
   linked them, exactly as :func:`probity.curate.stages.near_dedup` reports them.
4. **filter** (one task per shard): copies the shard's kept lines to its output part and writes
   its dropped entries.

The decisions equal the in-memory :func:`~probity.curate.stages.near_dedup` (tested), so the
output is byte-identical on every executor, worker count and number of reducers.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from probity.io import atomic_write, dumps

from .stages import _hasher

#: examples of dropped records kept for the report (as the pipeline's other stages)
EXAMPLES = 3


def _save(path: Path, **arrays: np.ndarray) -> None:
    # scratch files: no fsync (the stage is one resumable unit, redone whole after a crash)
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


def _mix(x: np.ndarray) -> np.ndarray:
    from probity.text import mix64

    return mix64(x ^ np.uint64(0x5BD1E995))


class SignShard:
    """Stage 1: ``[shard, part path]`` -> signature-derived files of the shard; ``{"n": rows}``."""

    def __init__(
        self,
        work: str,
        text_field: str,
        num_perm: int,
        ngram: int,
        seed: int,
        bands: int,
        rows: int,
        reducers: int,
    ) -> None:
        self.work, self.text_field = work, text_field
        self.num_perm, self.ngram, self.seed = num_perm, ngram, seed
        self.bands, self.rows, self.reducers = bands, rows, reducers

    def __call__(self, payload: list[Any]) -> dict[str, Any]:
        from probity.overlap import EMPTY, band_keys

        shard, path = int(payload[0]), Path(payload[1])
        work = Path(self.work)
        ids, texts = [], []
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    rec = json.loads(line)
                    ids.append(rec["_id"])
                    texts.append(rec[self.text_field])
        hasher = _hasher(self.num_perm, self.ngram, self.seed)
        sigs = hasher.signatures(texts) if texts else np.empty((0, self.num_perm), np.uint64)
        keys = band_keys(sigs, self.bands, self.rows) if texts else np.empty((0, self.bands))
        shingles = [hasher.shingles(t) for t in texts]
        lens = np.fromiter(map(len, shingles), dtype=np.int64, count=len(shingles))
        flat = np.concatenate(shingles) if shingles else np.empty(0, np.uint64)
        np.save(work / f"sh-{shard}.npy", flat.astype(np.uint64), allow_pickle=False)
        _save(work / f"off-{shard}.npz", off=np.concatenate([[0], np.cumsum(lens)]))
        (work / f"ids-{shard}.json").write_text(json.dumps(ids), encoding="utf-8")
        nonempty = ~(sigs == EMPTY).all(axis=1) if len(texts) else np.zeros(0, bool)
        rows = np.nonzero(nonempty)[0]
        band = np.repeat(np.arange(self.bands, dtype=np.int16)[None, :], len(rows), 0).ravel()
        key = np.asarray(keys[rows], dtype=np.uint64).ravel()
        row = np.repeat(rows, self.bands)
        red = (_mix(key ^ band.astype(np.uint64)) % np.uint64(self.reducers)).astype(np.int64)
        # one file per shard, entries grouped by reducer; reducer r reads its slice
        order = np.argsort(red, kind="stable")
        bounds = np.searchsorted(red[order], np.arange(self.reducers + 1))
        _save(
            work / f"bands-{shard}.npz",
            band=band[order],
            key=key[order],
            row=row[order].astype(np.int64),
            bounds=bounds,
        )
        return {"n": len(texts)}


class _Shingles:
    """Memory-mapped shingle sets of the shards a task touches."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.flat: dict[int, np.ndarray] = {}
        self.off: dict[int, np.ndarray] = {}

    def get(self, shard: int, row: int) -> np.ndarray:
        if shard not in self.flat:
            self.flat[shard] = np.load(self.work / f"sh-{shard}.npy", mmap_mode="r")
            self.off[shard] = np.load(self.work / f"off-{shard}.npz")["off"]
        off = self.off[shard]
        return np.asarray(self.flat[shard][off[row] : off[row + 1]])


class PairReducer:
    """Stage 2: ``[reducer]`` -> its verified pairs file; ``{"pairs": count}``."""

    def __init__(
        self, work: str, shards: int, offsets: list[int], threshold: float, max_group: int = 64
    ) -> None:
        self.work, self.shards, self.offsets = work, shards, offsets
        self.threshold, self.max_group = threshold, max_group

    def __call__(self, payload: list[Any]) -> dict[str, Any]:
        from probity.overlap import exact_jaccard
        from probity.overlap.lsh import bucket_pairs

        r = int(payload[0])
        work = Path(self.work)
        offsets = np.asarray(self.offsets, dtype=np.int64)
        bands, keys, pos = [], [], []
        for s in range(self.shards):
            z = np.load(work / f"bands-{s}.npz")
            lo, hi = z["bounds"][r], z["bounds"][r + 1]
            bands.append(z["band"][lo:hi])
            keys.append(z["key"][lo:hi])
            pos.append(z["row"][lo:hi] + offsets[s])
        band = np.concatenate(bands) if bands else np.empty(0, np.int16)
        key = np.concatenate(keys) if keys else np.empty(0, np.uint64)
        gpos = np.concatenate(pos) if pos else np.empty(0, np.int64)
        order = np.lexsort((gpos, key, band))
        band, key, gpos = band[order], key[order], gpos[order]
        pi: list[np.ndarray] = []
        pj: list[np.ndarray] = []
        if len(key) > 1:
            new = np.ones(len(key), dtype=bool)
            new[1:] = (key[1:] != key[:-1]) | (band[1:] != band[:-1])
            starts = np.nonzero(new)[0]
            sizes = np.diff(np.concatenate([starts, [len(key)]]))
            for s0, size in zip(starts[sizes > 1], sizes[sizes > 1], strict=True):
                # members ascending: the same rule as candidate_pairs
                a, b = bucket_pairs(gpos[s0 : s0 + size], self.max_group)
                pi.append(a)
                pj.append(b)
        out_i, out_j, out_x = [], [], []
        if pi:
            n = int(offsets[-1]) + 1
            code = np.unique(np.concatenate(pi) * n + np.concatenate(pj))
            sh = _Shingles(work)
            for a, b in zip((code // n).tolist(), (code % n).tolist(), strict=True):
                sa = int(np.searchsorted(offsets, a, side="right")) - 1
                sb = int(np.searchsorted(offsets, b, side="right")) - 1
                x = exact_jaccard(sh.get(sa, a - offsets[sa]), sh.get(sb, b - offsets[sb]))
                if x >= self.threshold:
                    out_i.append(a)
                    out_j.append(b)
                    out_x.append(x)
        _save(
            work / f"pairs-{r}.npz",
            i=np.asarray(out_i, np.int64),
            j=np.asarray(out_j, np.int64),
            x=np.asarray(out_x, np.float64),
        )
        return {"pairs": len(out_i)}


class Components:
    """Stage 3: ``[0]`` -> removals per shard; ``{"removed", "cluster_sizes"}``."""

    def __init__(
        self, work: str, reducers: int, shards: int, offsets: list[int], threshold: float
    ) -> None:
        self.work, self.reducers, self.shards = work, reducers, shards
        self.offsets, self.threshold = offsets, threshold

    def __call__(self, payload: list[Any]) -> dict[str, Any]:
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        work = Path(self.work)
        zs = [np.load(work / f"pairs-{r}.npz") for r in range(self.reducers)]
        i = np.concatenate([z["i"] for z in zs])
        j = np.concatenate([z["j"] for z in zs])
        x = np.concatenate([z["x"] for z in zs])
        offsets = np.asarray(self.offsets, dtype=np.int64)
        pos = rep = jac = np.empty(0, np.int64)
        if len(i):
            nodes, inv = np.unique(np.concatenate([i, j]), return_inverse=True)
            a, b = inv[: len(i)], inv[len(i) :]
            m = len(nodes)
            graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(m, m))
            _, comp = connected_components(graph, directed=False)
            first = np.full(comp.max() + 1, m, dtype=np.int64)
            np.minimum.at(first, comp, np.arange(m))  # nodes are sorted: smallest position
            label = nodes[first[comp]]
            best = np.full(m, -1.0)
            np.maximum.at(best, b, x)  # the Jaccard that linked each member (as in near_dedup)
            moved = label != nodes
            pos, rep = nodes[moved], label[moved]
            jac = np.where(best[moved] >= 0, best[moved], self.threshold)
        shard_of = np.searchsorted(offsets, pos, side="right") - 1
        for s in range(self.shards):
            sel = shard_of == s
            _save(work / f"rm-{s}.npz", pos=pos[sel], rep=rep[sel], jac=jac[sel])
        sizes = Counter(Counter(rep.tolist()).values())
        return {"removed": len(pos), "cluster_sizes": {str(k + 1): v for k, v in sizes.items()}}


class FilterShard:
    """Stage 4: ``[shard, part, kept part, dropped part]`` -> ``{"kept", "dropped"}``."""

    def __init__(
        self, work: str, offsets: list[int], stage: str, text_field: str, sidecar_text: bool
    ) -> None:
        self.work, self.offsets, self.stage = work, offsets, stage
        self.text_field, self.sidecar_text = text_field, sidecar_text

    def __call__(self, payload: list[Any]) -> dict[str, Any]:
        shard, src, kept_path, dropped_path = payload
        work = Path(self.work)
        offsets = np.asarray(self.offsets, dtype=np.int64)
        z = np.load(work / f"rm-{shard}.npz")
        base = int(offsets[shard])
        gone = {
            int(p) - base: (int(r), float(x))
            for p, r, x in zip(z["pos"], z["rep"], z["jac"], strict=True)
        }
        id_cache: dict[int, list[str]] = {}

        def id_of(p: int) -> str:
            s = int(np.searchsorted(offsets, p, side="right")) - 1
            if s not in id_cache:
                id_cache[s] = json.loads((work / f"ids-{s}.json").read_text("utf-8"))
            return id_cache[s][p - int(offsets[s])]

        dropped: list[dict[str, Any]] = []
        kept = 0
        with open(src, encoding="utf-8") as fh, atomic_write(kept_path) as out:
            k = 0
            for line in fh:
                if not line.strip():
                    continue
                if k in gone:
                    rec = json.loads(line)
                    rep, x = gone[k]
                    e = {
                        "id": rec["_id"],
                        "stage": self.stage,
                        "reason": "near_duplicate",
                        "representative": id_of(rep),
                        "score": round(x, 4),
                    }
                    if self.sidecar_text:
                        e["text"] = rec[self.text_field]
                    dropped.append(e)
                else:
                    out.write(line if line.endswith("\n") else line + "\n")
                    kept += 1
                k += 1
        with open(dropped_path, "w", encoding="utf-8") as fh:  # scratch, like _save
            fh.writelines(dumps(e) + "\n" for e in dropped)
        return {"kept": kept, "dropped": len(dropped), "examples": dropped[:EXAMPLES]}


def sharded_near_dedup(
    parts: list[Path],
    work: Path,
    unit: str,
    *,
    text_field: str,
    map_chunks: Any,
    threshold: float,
    ngram: int,
    num_perm: int,
    seed: int,
    recall_weight: float,
    sidecar_text: bool,
    reducers: int | None = None,
) -> dict[str, Any]:
    """Run the four stages over ``parts`` (JSONL shards with ``_id``); writes
    ``{unit}-{j}.jsonl`` (kept lines of part ``j``) and ``{unit}-{j}.dropped.jsonl`` in
    ``work``. Returns the stage's statistics (counts, reasons, cluster sizes, examples)."""
    from probity.errors import InputError
    from probity.overlap import lsh_params

    if not 0.0 < threshold <= 1.0:
        raise InputError(f"dedup_near threshold must be in (0, 1], got {threshold}")
    if not 0.0 < recall_weight < 1.0:
        raise InputError(f"dedup_near recall_weight must be in (0, 1), got {recall_weight}")
    _hasher(num_perm, ngram, seed)  # validates the parameters
    bands, rows = lsh_params(min(threshold, 0.99), num_perm, 1.0 - recall_weight, recall_weight)
    tmp = work / f"{unit}.near"
    tmp.mkdir(parents=True, exist_ok=True)
    # reducers: enough to spread the pair work, few enough that each reads big slices
    r_count = max(1, reducers or min(len(parts), 16))
    sign = SignShard(str(tmp), text_field, num_perm, ngram, seed, bands, rows, r_count)
    counts = [0] * len(parts)
    for s, res in map_chunks(sign, ((s, [s, str(p)]) for s, p in enumerate(parts))):
        counts[s] = int(res["n"])
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64).tolist()
    reduce = PairReducer(str(tmp), len(parts), offsets, threshold)
    pairs = sum(
        int(res["pairs"]) for _, res in map_chunks(reduce, ((r, [r]) for r in range(r_count)))
    )
    comp = Components(str(tmp), r_count, len(parts), offsets, threshold)
    ((_, info),) = list(map_chunks(comp, iter([(0, [0])])))
    filt = FilterShard(str(tmp), offsets, "dedup_near", text_field, sidecar_text)
    jobs = (
        (s, [s, str(p), str(work / f"{unit}-{s}.jsonl"), str(tmp / f"dropped-{s:06d}.jsonl")])
        for s, p in enumerate(parts)
    )
    kept = 0
    examples: list[dict[str, Any]] = []
    for _, res in sorted(map_chunks(filt, jobs), key=lambda t: t[0]):
        kept += int(res["kept"])
        examples.extend(res["examples"][: max(0, EXAMPLES - len(examples))])
    # one dropped file for the stage, in input order (streamed, not held)
    with atomic_write(work / f"{unit}.dropped.jsonl") as out:
        for s in range(len(parts)):
            with open(tmp / f"dropped-{s:06d}.jsonl", encoding="utf-8") as fh:
                for line in fh:
                    out.write(line)
    n = int(offsets[-1])
    return {
        "records_in": n,
        "records_out": kept,
        "changed": 0,
        "reasons": {"near_duplicate": n - kept} if n - kept else {},
        "examples": [
            {
                "id": e["id"],
                "action": "dropped",
                "reason": e["reason"],
                "representative": e["representative"],
                "score": e["score"],
            }
            for e in examples
        ],
        "cluster_sizes": info["cluster_sizes"],
        "candidate_pairs_verified": pairs,
        "parts": len(parts),
    }
