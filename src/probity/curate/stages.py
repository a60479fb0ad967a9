"""Curation stages.

*Map* stages look at one record at a time (``normalize``, ``scrub_pii``, ``filter_toxicity``,
``drop_protected``, ``user``): ``process(records) -> outcomes`` with one
``(record or None, reason)`` per input; ``None`` drops the record for ``reason``. They are
built inside each worker process, so they need not be picklable.

*Global* stages see the whole corpus (``dedup_exact``, ``dedup_near``, ``cap_repeats``; and
``dedup_substring``, which also rewrites text, in :mod:`probity.curate.substring`) and decide which records to drop with the overlap engine's deterministic deduplication: in every
cluster the record that comes first in input order is kept. ``dedup_near`` is split so that a
cluster can do the expensive part: MinHash signatures and band keys per chunk on the executor's
workers (:class:`SignatureFn`), then band buckets, exact-Jaccard verification and connected
components on the driver (:func:`near_dedup`), with the same decisions as
``probity.overlap.dedup_records`` (tested).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any

from probity.errors import InputError
from probity.text import normalize as _normalize_text

Record = dict[str, Any]
Outcome = tuple[Record | None, str]
#: scrub_pii scans long texts in windows of this many characters ...
SCAN_CHUNK = 16_384
#: ... overlapping by this many, the longest entity guaranteed to be seen whole
SCAN_OVERLAP = 256


class MapStage:
    """Base of per-record stages. ``changed`` counts records whose text the stage rewrote."""

    name = "map"

    def __init__(self, text_field: str, **options: Any) -> None:
        self.text_field = text_field
        self.options = options

    def process(self, records: Sequence[Record]) -> list[Outcome]:  # pragma: no cover
        raise NotImplementedError


class Normalize(MapStage):
    """NFKC-normalise, remove invisible characters (zero-width, bidi controls, soft hyphens,
    NUL), fold look-alike letters inside mixed-script words and collapse whitespace (case kept
    unless ``casefold: true``); records left empty are dropped (reason ``empty``)."""

    name = "normalize"

    def process(self, records: Sequence[Record]) -> list[Outcome]:
        casefold = bool(self.options.get("casefold", False))
        out: list[Outcome] = []
        for r in records:
            text = _normalize_text(r[self.text_field], casefold=casefold, confusables=True)
            if not text:
                out.append((None, "empty"))
            elif text != r[self.text_field]:
                out.append(({**r, self.text_field: text}, "changed"))
            else:
                out.append((r, ""))
        return out


def _replace_spans(text: str, spans: list[tuple[int, int, str]]) -> str:
    """Replace non-overlapping spans (earliest, then longest, wins) by ``[LABEL]``."""
    spans = sorted(spans, key=lambda s: (s[0], -(s[1] - s[0])))
    parts, pos = [], 0
    for start, end, label in spans:
        if start < pos:
            continue
        parts.append(text[pos:start])
        parts.append(f"[{label}]")
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


class ScrubPII(MapStage):
    """The guard's ``pii`` scanner over each record: ``action: redact`` (default) replaces each
    entity by ``[TYPE]``; ``action: drop`` removes records that contain any."""

    name = "scrub_pii"

    def __init__(self, text_field: str, **options: Any) -> None:
        super().__init__(text_field, **options)
        from probity.guard.base import ScanContext, create_scanner

        self.action = options.pop("action", "redact")
        if self.action not in ("redact", "drop"):
            raise InputError(f"scrub_pii action must be redact or drop, got {self.action!r}")
        self.scanner = create_scanner("pii", **options)
        self.ctx = ScanContext(direction="input", policy="curate")

    def process(self, records: Sequence[Record]) -> list[Outcome]:
        # Long texts are scanned in windows of SCAN_CHUNK characters overlapping by
        # SCAN_OVERLAP, so a record's cost is linear in its length whatever the scanner's
        # behaviour on one huge string; an entity shorter than the overlap is always seen whole
        # in some window (duplicates from two windows are merged by _replace_spans).
        pieces: list[str] = []
        owners: list[tuple[int, int]] = []  # (record index, offset of the piece)
        for i, r in enumerate(records):
            text = r[self.text_field]
            for a in range(0, max(len(text), 1), SCAN_CHUNK):
                pieces.append(text[a : a + SCAN_CHUNK + SCAN_OVERLAP])
                owners.append((i, a))
        per_record: list[list[tuple[int, int, str]]] = [[] for _ in records]
        for (i, off), fs in zip(owners, self.scanner.scan_many(pieces, self.ctx), strict=True):
            per_record[i].extend(
                (s.start + off, s.end + off, f.category) for f in fs for s in f.spans
            )
        out: list[Outcome] = []
        for r, spans in zip(records, per_record, strict=True):
            if not spans:
                out.append((r, ""))
            elif self.action == "drop":
                kinds = sorted({kind for _, _, kind in spans})
                out.append((None, "pii:" + ",".join(kinds)))
            else:
                out.append(
                    ({**r, self.text_field: _replace_spans(r[self.text_field], spans)}, "changed")
                )
        return out


class FilterToxicity(MapStage):
    """Drop records whose toxicity score (the guard's ``toxicity`` scanner) is >= ``threshold``
    (default 0.8)."""

    name = "filter_toxicity"

    def __init__(self, text_field: str, **options: Any) -> None:
        super().__init__(text_field, **options)
        from probity.guard.base import ScanContext, create_scanner

        self.threshold = float(options.pop("threshold", 0.8))
        if not 0 < self.threshold <= 1:
            raise InputError(f"filter_toxicity threshold must be in (0, 1], got {self.threshold}")
        # the scanner reports scores >= min_score; this stage applies its own threshold
        options.setdefault("min_score", min(self.threshold, 0.5))
        self.scanner = create_scanner("toxicity", **options)
        self.ctx = ScanContext(direction="input", policy="curate")

    def process(self, records: Sequence[Record]) -> list[Outcome]:
        findings = self.scanner.scan_many([r[self.text_field] for r in records], self.ctx)
        out: list[Outcome] = []
        for r, fs in zip(records, findings, strict=True):
            score = max((f.score for f in fs), default=0.0)
            out.append((None, f"toxicity:{score:.3f}") if score >= self.threshold else (r, ""))
        return out


class DropProtected(MapStage):
    """Drop records that overlap a protected-content index (``index: NAME`` in the Probity home):
    verbatim spans (at least the index's ``ngram`` tokens, or ``min_tokens``), near-duplicates
    (Jaccard >= the index threshold, or ``threshold``) or code clones. The reason lists what was
    found and the first protected document, e.g. ``protected:verbatim:book-7``. Blank records
    are kept (there is nothing to compare)."""

    name = "drop_protected"

    def __init__(self, text_field: str, **options: Any) -> None:
        super().__init__(text_field, **options)
        from probity.overlap import OverlapIndex

        opts = dict(options)
        name = opts.pop("index", None)
        if not name:
            raise InputError(
                "drop_protected needs 'index: NAME' (see `probity overlap index build`)"
            )
        mt = opts.pop("min_tokens", None)
        thr = opts.pop("threshold", None)
        if opts:
            raise InputError(f"unknown option(s) for drop_protected: {sorted(opts)}")
        self.min_tokens = int(mt) if mt is not None else None
        self.threshold = float(thr) if thr is not None else None
        self.index = OverlapIndex.open(str(name))

    def process(self, records: Sequence[Record]) -> list[Outcome]:
        out: list[Outcome] = []
        texts = [r[self.text_field] for r in records]
        todo = [t for t in texts if t.strip()]
        reports = iter(
            self.index.check_many(todo, min_tokens=self.min_tokens, threshold=self.threshold)
        )
        for r, text in zip(records, texts, strict=True):
            if not text.strip():
                out.append((r, ""))
                continue
            rep = next(reports)
            if not rep.found:
                out.append((r, ""))
                continue
            kinds, first = [], ""
            if rep.verbatim:
                kinds.append("verbatim")
                first = first or rep.verbatim[0].doc
            if rep.near_duplicates:
                kinds.append("near_duplicate")
                first = first or rep.near_duplicates[0].doc
            if rep.code_clones:
                kinds.append("code_clone")
                first = first or rep.code_clones[0].doc
            reason = "protected:" + ",".join(kinds) + (f":{first}" if first else "")
            out.append((None, reason))
        return out


class UserStage(MapStage):
    """A user function ``module:function`` taking a record dict and returning the record (maybe
    changed) or ``None`` to drop it (reason ``user:<function>``)."""

    name = "user"

    def __init__(self, text_field: str, **options: Any) -> None:
        super().__init__(text_field, **options)
        ref = options.get("function", "")
        if ":" not in ref:
            raise InputError(f"user stage needs 'function: module:callable', got {ref!r}")
        mod, _, attr = ref.partition(":")
        try:
            fn = getattr(importlib.import_module(mod), attr)
        except (ImportError, AttributeError) as exc:
            raise InputError(f"cannot import user stage {ref!r}: {exc}") from exc
        self.fn: Callable[[Record], Record | None] = fn
        self.label = f"user:{attr}"

    def process(self, records: Sequence[Record]) -> list[Outcome]:
        out: list[Outcome] = []
        for r in records:
            new = self.fn(dict(r))
            if new is None:
                out.append((None, self.label))
            elif not isinstance(new, dict) or self.text_field not in new:
                raise InputError(
                    f"user stage {self.label} returned {type(new).__name__} without "
                    f"field {self.text_field!r} for record {r.get('_id')}"
                )
            else:
                out.append((new, "changed" if new != r else ""))
        return out


MAP_STAGE_CLASSES: dict[str, type[MapStage]] = {
    c.name: c for c in (Normalize, ScrubPII, FilterToxicity, DropProtected, UserStage)
}


def build_map_stage(name: str, text_field: str, options: dict[str, Any]) -> MapStage:
    """Build stage ``name``; an option the stage (or its scanner) does not take is an
    ``InputError`` naming the stage."""
    from .quality import FilterLanguage, FilterQuality, FilterUrl, FixText

    classes = {**MAP_STAGE_CLASSES}
    classes.update({c.name: c for c in (FilterQuality, FilterLanguage, FixText, FilterUrl)})
    try:
        return classes[name](text_field, **dict(options))
    except TypeError as exc:
        raise InputError(f"bad option(s) for stage {name} {sorted(options)}: {exc}") from exc


# --- global stages ---------------------------------------------------------------------------

#: ``map_chunks(fn, iterator of (j, chunk))`` -> iterator of ``(j, fn(chunk))`` in any order; the
#: executors in :mod:`probity.curate.pipeline` provide it (worker processes or Ray tasks).
ChunkMapper = Callable[[Callable[[Any], dict[str, Any]], Any], Any]

_HASHERS: dict[tuple[int, int, int], Any] = {}

#: dedup_near's default weight of missed pairs when choosing LSH bands (see :func:`near_dedup`).
RECALL_WEIGHT = 0.98


def _hasher(num_perm: int, ngram: int, seed: int) -> Any:
    from probity.overlap import MinHasher

    key = (num_perm, ngram, seed)
    if key not in _HASHERS:
        _HASHERS[key] = MinHasher(num_perm, ngram, seed)
    return _HASHERS[key]


class SignatureFn:
    """Picklable chunk function: MinHash signatures and LSH band keys of a chunk of texts.

    Runs where the executor puts it (a worker process, a Ray task). A document's signature
    depends only on its own shingles (``MinHasher.signatures`` batches without mixing
    documents), so cutting the corpus into chunks gives exactly the signatures of one pass.
    Arrays travel as little-endian uint64 bytes in base64 (JSON-safe for the Ray executor).
    """

    def __init__(self, num_perm: int, ngram: int, seed: int, bands: int, rows: int) -> None:
        self.num_perm, self.ngram, self.seed = num_perm, ngram, seed
        self.bands, self.rows = bands, rows

    def __call__(self, texts: list[str]) -> dict[str, Any]:
        import base64

        from probity.overlap import band_keys

        sigs = _hasher(self.num_perm, self.ngram, self.seed).signatures(texts)
        keys = band_keys(sigs, self.bands, self.rows)
        return {
            "n": len(texts),
            "sigs": base64.b64encode(sigs.astype("<u8").tobytes()).decode("ascii"),
            "keys": base64.b64encode(keys.astype("<u8").tobytes()).decode("ascii"),
        }


def distributed_signatures(
    texts: Sequence[str], fn: SignatureFn, map_chunks: ChunkMapper | None, chunk_size: int
) -> tuple[Any, Any]:
    """Signatures ``(n, num_perm)`` and band keys ``(n, bands)`` of ``texts``, computed chunk by
    chunk through ``map_chunks`` (in this process when it is None) and assembled in order."""
    import base64

    import numpy as np

    n = len(texts)
    sigs = np.empty((n, fn.num_perm), dtype=np.uint64)
    keys = np.empty((n, fn.bands), dtype=np.uint64)
    chunks = (
        (j, list(texts[lo : lo + chunk_size])) for j, lo in enumerate(range(0, n, chunk_size))
    )
    results = map_chunks(fn, chunks) if map_chunks is not None else ((j, fn(c)) for j, c in chunks)
    done = 0
    for j, res in results:
        lo, m = j * chunk_size, int(res["n"])
        sig = np.frombuffer(base64.b64decode(res["sigs"]), dtype="<u8").reshape(m, fn.num_perm)
        key = np.frombuffer(base64.b64decode(res["keys"]), dtype="<u8").reshape(m, fn.bands)
        sigs[lo : lo + m] = sig
        keys[lo : lo + m] = key
        done += m
    if done != n:  # pragma: no cover - an executor lost a chunk
        raise InputError(f"signature step returned {done} of {n} records")
    return sigs, keys


def near_pairs(
    texts: Sequence[str],
    sigs: Any,
    keys: Any,
    threshold: float,
    hasher: Any,
    max_group: int = 64,
    *,
    map_chunks: ChunkMapper | None = None,
    chunk_size: int = 20_000,
) -> list[tuple[int, int, float]]:
    """Candidate pairs from equal band keys, re-checked with the exact Jaccard of shingle sets:
    ``(i, j, jaccard)`` with ``i < j`` and Jaccard >= ``threshold``, in ascending ``(i, j)``.

    The same rule as ``probity.overlap.near_duplicate_pairs`` (one stable sort per band; a
    bucket larger than ``max_group`` links only its first member and neighbours in order), but
    on signatures and band keys computed elsewhere (worker processes, Ray tasks). The buckets
    are formed on the driver; the exact Jaccard of the candidates is computed in chunks of
    ``chunk_size`` pairs through ``map_chunks`` (:class:`JaccardFn`); both are deterministic,
    so both executors give the same pairs.
    """

    from probity.overlap import EMPTY
    from probity.overlap.lsh import candidate_pairs

    n = len(texts)
    if n < 2:
        return []
    nonempty = ~(sigs == EMPTY).all(axis=1)
    ci, cj = candidate_pairs(keys, nonempty, max_group)
    if len(ci) == 0:
        return []
    pi, pj = ci.tolist(), cj.tolist()
    # Exact Jaccard of the candidates, chunk by chunk of pairs on the workers; each chunk
    # carries the texts it needs. The results come back per chunk and are put in pair order.
    fn = JaccardFn(hasher.num_perm, hasher.ngram, hasher.seed)
    step = max(1, chunk_size)

    def chunks() -> Any:
        for j, lo in enumerate(range(0, len(pi), step)):
            a, b = pi[lo : lo + step], pj[lo : lo + step]
            rows = sorted(set(a) | set(b))
            local = {r: k for k, r in enumerate(rows)}
            yield (
                j,
                [
                    [texts[r] for r in rows],
                    [[local[x], local[y]] for x, y in zip(a, b, strict=True)],
                ],
            )

    results = (
        map_chunks(fn, chunks()) if map_chunks is not None else ((j, fn(c)) for j, c in chunks())
    )
    jac = [0.0] * len(pi)
    done = 0
    for j, res in results:
        jac[j * step : j * step + len(res["jaccard"])] = res["jaccard"]
        done += len(res["jaccard"])
    if done != len(pi):  # pragma: no cover - an executor lost a chunk
        raise InputError(f"Jaccard step returned {done} of {len(pi)} candidate pairs")
    return [(i, k, x) for i, k, x in zip(pi, pj, jac, strict=True) if x >= threshold]


class JaccardFn:
    """Picklable chunk function: exact Jaccard of the shingle sets of candidate pairs.

    A chunk is ``[texts, [[a, b], ...]]`` (indices into its own ``texts``); the answer is
    ``{"jaccard": [float, ...]}`` in pair order (floats survive JSON exactly)."""

    def __init__(self, num_perm: int, ngram: int, seed: int) -> None:
        self.num_perm, self.ngram, self.seed = num_perm, ngram, seed

    def __call__(self, chunk: list[Any]) -> dict[str, Any]:
        from probity.overlap import exact_jaccard

        texts, pairs = chunk
        hasher = _hasher(self.num_perm, self.ngram, self.seed)
        shingles = [hasher.shingles(t) for t in texts]
        return {"jaccard": [exact_jaccard(shingles[a], shingles[b]) for a, b in pairs]}


def near_dedup(
    ids: Sequence[str],
    texts: Sequence[str],
    *,
    threshold: float = 0.8,
    ngram: int = 5,
    num_perm: int = 128,
    seed: int = 1,
    recall_weight: float = RECALL_WEIGHT,
    map_chunks: ChunkMapper | None = None,
    chunk_size: int = 2000,
) -> list[tuple[str, str, str, float]]:
    """Near-duplicate removal over the whole corpus, the cluster-friendly way:

    1. MinHash signatures and LSH band keys per chunk of ``chunk_size`` records, through
       ``map_chunks`` (worker processes or Ray tasks);
    2. band buckets on the driver (one stable sort per band) -> candidate pairs;
    3. exact Jaccard of the candidates' shingle sets in chunks of pairs, through ``map_chunks``;
    4. connected components on the driver; every cluster keeps its first record in input order.

    Every step is deterministic and independent of the chunking, so the result is the same on
    every executor and worker count. ``recall_weight`` in (0, 1) is the weight of missed pairs
    against false candidates when the LSH bands are chosen (``probity.overlap.lsh_params``):
    candidates are re-checked exactly, so a false candidate costs only time while a missed
    pair stays in the corpus. The default 0.98 gives 17 bands of 7 rows for threshold 0.8
    (a pair at Jaccard 0.8 is missed with probability 1.8%, at 0.9 with 1.6e-5); 0.9, the
    overlap engine's choice, gives 14 x 9 (13% and 1.0e-3). Returns
    ``(id, "near_duplicate", representative id, Jaccard that linked it)`` per removed record,
    in input order: the decisions of ``probity.overlap.dedup_records(exact=False, near=...)``.
    """
    from probity.overlap import clusters_from_pairs, lsh_params

    if not 0.0 < threshold <= 1.0:
        raise InputError(f"dedup_near threshold must be in (0, 1], got {threshold}")
    hasher = _hasher(num_perm, ngram, seed)  # validates the parameters
    if len(texts) < 2:
        return []
    if not 0.0 < recall_weight < 1.0:
        raise InputError(f"dedup_near recall_weight must be in (0, 1), got {recall_weight}")
    bands, rows = lsh_params(min(threshold, 0.99), num_perm, 1.0 - recall_weight, recall_weight)
    fn = SignatureFn(num_perm, ngram, seed, bands, rows)
    sigs, keys = distributed_signatures(texts, fn, map_chunks, chunk_size)
    # a chunk of `chunk_size` pairs carries at most 2 * chunk_size texts, like a map chunk
    pairs = near_pairs(
        texts, sigs, keys, threshold, hasher, map_chunks=map_chunks, chunk_size=chunk_size
    )
    labels = clusters_from_pairs(len(texts), pairs)
    best: dict[int, float] = {}
    for _a, b, jac in pairs:  # the Jaccard that linked each member (for the report)
        best[b] = max(best.get(b, 0.0), jac)
    return [
        (ids[i], "near_duplicate", ids[rep], best.get(i, threshold))
        for i, rep in enumerate(labels.tolist())
        if rep != i
    ]


def near_options(options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``dedup_near``'s options with their defaults, and the options left over."""
    opts = dict(options)
    kw = dict(
        threshold=float(opts.pop("threshold", 0.8)),
        ngram=int(opts.pop("ngram", 5)),
        num_perm=int(opts.pop("num_perm", 128)),
        seed=int(opts.pop("seed", 1)),
        recall_weight=float(opts.pop("recall_weight", RECALL_WEIGHT)),
    )
    return kw, opts


def global_decisions(
    name: str,
    ids: Sequence[str],
    texts: Sequence[str],
    options: dict[str, Any],
    seed: int = 0,
    *,
    map_chunks: ChunkMapper | None = None,
    chunk_size: int = 2000,
) -> list[tuple[str, str, str, float]]:
    """Run a global stage: ``(id, reason, representative, score)`` for each record to drop.

    ``dedup_near`` computes its MinHash signatures through ``map_chunks`` (the executor's worker
    processes or Ray tasks); everything else runs here, deterministically.
    """
    from probity.overlap import dedup_records

    opts = dict(options)
    if name == "dedup_exact":
        kw: dict[str, Any] = dict(exact=True, near=None, max_repeats=None)
    elif name == "dedup_near":
        near_kw, opts = near_options(opts)
        if opts:
            raise InputError(f"unknown option(s) for {name}: {sorted(opts)}")
        return near_dedup(ids, texts, map_chunks=map_chunks, chunk_size=chunk_size, **near_kw)
    elif name == "cap_repeats":
        kw = dict(
            exact=False,
            near=None,
            max_repeats=int(opts.pop("max_repeats", 3)),
            span_tokens=int(opts.pop("span_tokens", 50)),
        )
    else:  # pragma: no cover - validated by the job model
        raise InputError(f"unknown global stage {name!r}")
    if opts:
        raise InputError(f"unknown option(s) for {name}: {sorted(opts)}")
    res = dedup_records(list(zip(ids, texts, strict=True)), **kw)
    return [(r.id, r.reason, r.representative, r.score) for r in res.removed]
