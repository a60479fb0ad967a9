"""Run a curation job on the local executor (default) or on Ray, with identical output.

The stages are cut into *segments*: runs of map stages, each followed by at most one global
stage. A map segment processes the corpus chunk by chunk (``chunk_size`` records), in worker
processes (local) or Ray tasks (ray); a global stage sees the surviving records of the whole
corpus and drops duplicates with the overlap engine. ``dedup_near`` computes its MinHash
signatures and LSH band keys chunk by chunk on the same workers (Ray tasks with ``ray``); the
band buckets, the exact-Jaccard check of candidates and the connected components run on the
driver, deterministically. Both executors call the same chunk functions and the same global
decision, and the output is written by one writer in input order, so their outputs are
byte-identical.

Every finished unit (a chunk of a segment, or a global stage) is written atomically into
``OUTPUT/.work/`` and recorded in a manifest; a job killed mid-run resumes where it stopped.
Every input record ends up in the output, in ``dropped.jsonl`` (stage and reason), or in
``rejects.jsonl`` (unreadable line); the report checks that the three add up.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from probity.curate.job import GLOBAL_STAGES, JobConfig, StageConfig, resolve_inputs
from probity.curate.stages import Record, build_map_stage, global_decisions
from probity.curate.substring import substring_decisions
from probity.errors import InputError
from probity.io import (
    Manifest,
    Reject,
    RejectSink,
    atomic_write,
    dumps,
    iter_jsonl,
    text_problem,
    write_jsonl,
)

ID = "_id"
EXAMPLES = 3


@dataclass
class StageStats:
    """What one stage did: records in and out, drops by reason, rewrites, time and examples."""

    name: str
    records_in: int = 0
    records_out: int = 0
    changed: int = 0
    seconds: float = 0.0
    reasons: Counter[str] = field(default_factory=Counter)
    examples: list[dict[str, Any]] = field(default_factory=list)
    cluster_sizes: Counter[int] = field(default_factory=Counter)

    def merge(self, other: dict[str, Any]) -> None:
        self.records_in += other["records_in"]
        self.records_out += other["records_out"]
        self.changed += other["changed"]
        self.seconds += other["seconds"]
        self.reasons.update(other["reasons"])
        room = EXAMPLES - len(self.examples)
        if room > 0:
            self.examples.extend(other["examples"][:room])
        self.cluster_sizes.update({int(k): v for k, v in other.get("cluster_sizes", {}).items()})

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "records_in": self.records_in,
            "records_out": self.records_out,
            "dropped": self.records_in - self.records_out,
            "changed": self.changed,
            "seconds": round(self.seconds, 4),
            "records_per_second": round(self.records_in / self.seconds, 1)
            if self.seconds
            else None,
            "reasons": dict(sorted(self.reasons.items())),
            "examples": self.examples,
            "cluster_sizes": {str(k): v for k, v in sorted(self.cluster_sizes.items())},
        }


@dataclass(frozen=True)
class CurationReport:
    """The run's accounting. ``accounted`` is True when input = output + dropped + rejected."""

    fingerprint: str
    executor: str
    inputs: tuple[str, ...]
    records_read: int
    rejected: int
    records_out: int
    dropped: int
    stages: tuple[dict[str, Any], ...]
    outputs: tuple[str, ...]
    sidecars: dict[str, str]
    seconds: float
    resumed_units: int = 0

    @property
    def accounted(self) -> bool:
        return self.records_read == self.records_out + self.dropped

    def to_dict(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "executor": self.executor,
            "inputs": list(self.inputs),
            "records_read": self.records_read,
            "rejected": self.rejected,
            "records_out": self.records_out,
            "dropped": self.dropped,
            "accounted": self.accounted,
            "stages": list(self.stages),
            "outputs": list(self.outputs),
            "sidecars": self.sidecars,
            "seconds": round(self.seconds, 3),
            "resumed_units": self.resumed_units,
        }


# --- reading ---------------------------------------------------------------------------------


def _too_large(text: str, max_bytes: int) -> bool:
    # a character is 1-4 UTF-8 bytes: only encode when the length alone cannot decide
    if len(text) * 4 <= max_bytes:
        return False
    return len(text) > max_bytes or len(text.encode("utf-8", "surrogatepass")) > max_bytes


def _raw(rec: dict[str, Any]) -> str:
    return dumps(rec)[:2000]


def read_records(
    files: Sequence[Path],
    text_field: str,
    id_field: str | None,
    rejects: RejectSink,
    *,
    line_ids: bool = False,
    reject_empty: bool = False,
    max_bytes: int | None = None,
) -> Iterator[Record]:
    """Stream records with a stable ``_id``; unreadable ones go to ``rejects`` with the reason
    and the raw record. A record without ``id_field`` gets ``<file>:<line>`` (``line_ids``: the
    line number alone); a repeated id rejects that line only, and so does blank text when
    ``reject_empty`` and text over ``max_bytes`` UTF-8 bytes (reason ``too_large``)."""
    seen: set[str] = set()
    for path in files:
        suffixes = "".join(path.suffixes).lower()
        if ".parquet" in suffixes:
            import pyarrow.parquet as pq

            try:
                pf = pq.ParquetFile(path)
            except Exception as exc:  # pyarrow raises several types for damaged files
                raise InputError(f"cannot read Parquet file {str(path)!r}: {exc}") from exc
            rows: Iterator[tuple[int, dict[str, Any]]] = (
                (i, r)
                for i, r in enumerate((row for b in pf.iter_batches() for row in b.to_pylist()), 1)
            )
        else:
            rows = iter_jsonl(path, rejects=rejects)
        for n, rec in rows:
            why = text_problem(rec, text_field)
            if not why and reject_empty and not rec[text_field].strip():
                why = "empty text"
            if not why and max_bytes is not None and _too_large(rec[text_field], max_bytes):
                size = len(rec[text_field].encode("utf-8", "surrogatepass"))
                why = f"too_large: text is {size} bytes, over max_record_bytes {max_bytes}"
                rec = {**rec, text_field: rec[text_field][:200] + "..."}
            if why:
                rejects.add(Reject(str(path), n, why, _raw(rec)))
                continue
            if id_field and id_field in rec:
                rid = str(rec[id_field])
            else:
                rid = str(n) if line_ids else f"{path.name}:{n}"
            if rid in seen:
                rejects.add(Reject(str(path), n, f"duplicate id {rid!r}", _raw(rec)))
                continue
            seen.add(rid)
            yield {**rec, ID: rid}


def _chunks(records: Iterator[Record], size: int) -> Iterator[list[Record]]:
    chunk: list[Record] = []
    for r in records:
        chunk.append(r)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# --- the chunk function (shared by both executors) --------------------------------------------

_STAGE_CACHE: dict[str, Any] = {}


def _stages_for(specs: tuple[tuple[str, str], ...], text_field: str) -> list[Any]:
    """The built stages of a segment, cached per process (scanners and indexes load once).

    The key includes the Probity home, so a stage that opened an index in one home is never
    reused for a job in another; only the most recent few segments are kept."""
    from probity.home import home

    key = json.dumps([specs, text_field, str(home())])
    if key not in _STAGE_CACHE:
        while len(_STAGE_CACHE) >= 8:
            _STAGE_CACHE.pop(next(iter(_STAGE_CACHE)))
        _STAGE_CACHE[key] = [build_map_stage(n, text_field, json.loads(o)) for n, o in specs]
    return _STAGE_CACHE[key]


def process_chunk(
    specs: tuple[tuple[str, str], ...], text_field: str, records: list[Record], sidecar_text: bool
) -> dict[str, Any]:
    """Apply a run of map stages to one chunk; returns kept records, drops and per-stage stats."""
    stages = _stages_for(specs, text_field)
    current = records
    dropped: list[dict[str, Any]] = []
    stats = []
    for stage in stages:
        t0 = time.perf_counter()
        outcomes = stage.process(current)
        secs = time.perf_counter() - t0
        kept: list[Record] = []
        reasons: Counter[str] = Counter()
        examples: list[dict[str, Any]] = []
        changed = 0
        for before, (after, reason) in zip(current, outcomes, strict=True):
            if after is None:
                reasons[reason] += 1
                entry = {"id": before[ID], "stage": stage.name, "reason": reason}
                if sidecar_text:
                    entry["text"] = before[text_field]
                dropped.append(entry)
                if len(examples) < EXAMPLES:
                    examples.append(
                        {
                            "id": before[ID],
                            "action": "dropped",
                            "reason": reason,
                            "before": before[text_field][:200],
                        }
                    )
                continue
            after = {**after, ID: before[ID]}
            if reason == "changed":
                changed += 1
                if len(examples) < EXAMPLES:
                    examples.append(
                        {
                            "id": before[ID],
                            "action": "changed",
                            "before": before[text_field][:200],
                            "after": after[text_field][:200],
                        }
                    )
            kept.append(after)
        stats.append(
            {
                "name": stage.name,
                "records_in": len(current),
                "records_out": len(kept),
                "changed": changed,
                "seconds": secs,
                "reasons": dict(reasons),
                "examples": examples,
            }
        )
        current = kept
    return {"kept": current, "dropped": dropped, "stats": stats}


# --- executors ------------------------------------------------------------------------------


class LocalExecutor:
    """Chunks in ``workers`` processes (in this process when ``workers == 1``), in order, with
    at most ``2 * workers`` chunks in flight so memory stays bounded."""

    name = "local"

    def __init__(self, workers: int = 1) -> None:
        self.workers = workers

    def map_chunks(
        self,
        fn: Callable[[list[Any]], dict[str, Any]],
        chunks: Iterator[tuple[int, list[Any]]],
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        if self.workers <= 1:
            for j, chunk in chunks:
                yield j, fn(chunk)
            return
        with ProcessPoolExecutor(self.workers) as pool:
            pending: list[tuple[int, Future[dict[str, Any]]]] = []
            for j, chunk in chunks:
                pending.append((j, pool.submit(fn, chunk)))
                if len(pending) >= 2 * self.workers:
                    k, fut = pending.pop(0)
                    yield k, fut.result()
            for k, fut in pending:
                yield k, fut.result()

    def close(self) -> None:
        pass


class RayExecutor:
    """Chunks as Ray tasks (one chunk per task), collected in chunk order: the map stages'
    chunks and ``dedup_near``'s steps. At most ``4 x`` the cluster's CPUs (at least 8) chunks
    are in flight, so the driver holds a bounded number of them. ``address`` joins an existing cluster;
    otherwise Ray starts locally with ``workers`` CPUs (and is shut down at the end; a Ray
    session started by the caller is left running)."""

    name = "ray"

    def __init__(self, workers: int = 2, address: str | None = None) -> None:
        from probity.errors import require

        self.ray = require("ray", "ray")
        self._started = not self.ray.is_initialized()
        if self._started:
            kw: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
            if address:
                kw["address"] = address
            else:
                kw["num_cpus"] = workers
            try:
                self.ray.init(**kw)
            except ConnectionError as exc:  # --ray-address auto with no cluster running
                raise InputError(
                    f"no Ray cluster at --ray-address {address!r}: {exc}".split(". ")[0],
                    hint="start one with `ray start --head`, or use `--executor ray` to run Ray "
                    "on this machine only",
                ) from exc
        cpus = int(self.ray.cluster_resources().get("CPU", workers))
        self.window = max(8, 4 * cpus)
        self._task: Any = None

    def map_chunks(
        self,
        fn: Callable[[list[Any]], dict[str, Any]],
        chunks: Iterator[tuple[int, list[Any]]],
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        # One Ray task per chunk, at most `window` in flight, answers taken in chunk order.
        # (Plain tasks rather than one Ray Data dataset per window: a dataset's execution
        # state and statistics stay on the driver, which grew with the number of windows.)
        from collections import deque

        ray = self.ray
        if self._task is None:
            self._task = ray.remote(_ray_chunk)
        fn_ref = ray.put(fn)
        pending: deque[tuple[int, Any]] = deque()
        for j, chunk in chunks:
            pending.append((j, self._task.remote(fn_ref, json.dumps(chunk))))
            if len(pending) >= self.window:
                k, ref = pending.popleft()
                yield k, json.loads(ray.get(ref))
        while pending:
            k, ref = pending.popleft()
            yield k, json.loads(ray.get(ref))

    def close(self) -> None:
        if self._started:
            self.ray.shutdown()


def _ray_chunk(fn: Callable[[list[Any]], dict[str, Any]], payload: str) -> str:
    """A Ray task: one chunk (JSON in, JSON out, so results are plain data on any node)."""
    return json.dumps(fn(json.loads(payload)))


def make_executor(name: str, workers: int, address: str | None = None) -> Any:
    if name == "ray":
        return RayExecutor(workers, address)
    if name == "local":
        return LocalExecutor(workers)
    raise InputError(f"unknown executor {name!r}; use local or ray")


# --- the job --------------------------------------------------------------------------------


def _segments(stages: Sequence[StageConfig]) -> list[tuple[str, list[StageConfig]]]:
    segs: list[tuple[str, list[StageConfig]]] = []
    for st in stages:
        if st.name in GLOBAL_STAGES:
            segs.append(("global", [st]))
        elif segs and segs[-1][0] == "map":
            segs[-1][1].append(st)
        else:
            segs.append(("map", [st]))
    return segs


class _ChunkFn:
    """A picklable chunk function (for worker processes and Ray tasks)."""

    def __init__(self, specs: tuple[tuple[str, str], ...], text_field: str, sidecar_text: bool):
        self.specs, self.text_field, self.sidecar_text = specs, text_field, sidecar_text

    def __call__(self, chunk: list[Record]) -> dict[str, Any]:
        return process_chunk(self.specs, self.text_field, chunk, self.sidecar_text)


def _job_records(files: Sequence[Path], cfg: JobConfig, rejects: RejectSink) -> Iterator[Record]:
    return read_records(
        files, cfg.text_field, cfg.id_field, rejects, max_bytes=cfg.options.max_record_bytes
    )


def _input_parts(
    files: Sequence[Path],
    cfg: JobConfig,
    rejects: RejectSink,
    work: Path,
    unit: str,
    manifest: Manifest,
) -> tuple[list[Path], int]:
    """Stream the input records into chunk files (bounded memory); resumable as one unit."""
    done = f"{unit}-input"
    recs = _job_records(files, cfg, rejects)
    if manifest.is_done(done):
        for _ in recs:  # re-read for the rejects (they are not kept in the manifest)
            pass
        info = manifest.get(done)
        return [work / f"{done}-{j}.jsonl" for j in range(info["parts"])], info["records"]
    count = parts = 0
    for j, chunk in enumerate(_chunks(recs, cfg.options.chunk_size)):
        write_jsonl(work / f"{done}-{j}.jsonl", chunk)
        count += len(chunk)
        parts = j + 1
    manifest.mark_done(done, {"parts": parts, "records": count})
    return [work / f"{done}-{j}.jsonl" for j in range(parts)], count


def _sharded_near(
    options: dict[str, Any], parts: list[Path], work: Path, unit: str, cfg: JobConfig, ex: Any
) -> dict[str, Any]:
    from probity.curate.near_sharded import sharded_near_dedup
    from probity.curate.stages import near_options

    kw, opts = near_options(options)
    reducers = opts.pop("reducers", None)
    if opts:
        raise InputError(f"unknown option(s) for dedup_near: {sorted(opts)}")
    return sharded_near_dedup(
        parts,
        work,
        unit,
        text_field=cfg.text_field,
        map_chunks=ex.map_chunks,
        sidecar_text=cfg.options.sidecar_text,
        reducers=None if reducers is None else int(reducers),
        **kw,
    )


def _read_part(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _user_stages_importable(cfg: JobConfig, base_dir: Path) -> str | None:
    """Put the job file's folder first on ``sys.path`` while the job runs when it has a
    ``user`` stage, so ``function: mypkg.stages:fn`` finds ``mypkg/`` beside the job file
    (local worker processes get the parent's ``sys.path``). Returns what to remove after."""
    if not any(s.name == "user" for s in cfg.stages):
        return None
    folder = str(Path(base_dir).resolve())
    sys.path.insert(0, folder)
    return folder


def run_job(
    cfg: JobConfig,
    base_dir: Path,
    *,
    executor: str | None = None,
    workers: int | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> CurationReport:
    """Run ``cfg``; outputs, sidecars and the report go to ``cfg.output.path``."""
    t_start = time.perf_counter()
    files = resolve_inputs(cfg, base_dir)
    out_dir = Path(cfg.output.path)
    if not out_dir.is_absolute():
        out_dir = base_dir / out_dir
    work = out_dir / ".work"
    work.mkdir(parents=True, exist_ok=True)
    fingerprint = cfg.fingerprint()
    manifest = Manifest(work / "manifest.json", fingerprint)
    resumed = len(manifest.units)
    ex_name = executor or cfg.options.executor
    ex = make_executor(ex_name, workers or cfg.options.workers, cfg.options.ray_address)
    rejects = RejectSink()
    stage_stats: list[StageStats] = []
    segs = _segments(cfg.stages)
    previous_parts: list[Path] | None = None
    records_read = 0
    job_folder = _user_stages_importable(cfg, base_dir)
    try:
        for si, (kind, stages) in enumerate(segs):
            parts: list[Path] = []
            if kind == "map":
                specs = tuple((s.name, json.dumps(s.options, sort_keys=True)) for s in stages)
                for s in stages:
                    stage_stats.append(StageStats(s.name))
                mine = stage_stats[-len(stages) :]
                fn = _ChunkFn(specs, cfg.text_field, cfg.options.sidecar_text)
                if previous_parts is None:
                    source = _chunks(
                        _job_records(files, cfg, rejects),
                        cfg.options.chunk_size,
                    )
                else:
                    source = (_read_part(p) for p in previous_parts)

                seen = [0]

                def fresh(
                    source: Iterator[list[Record]] = source, si: int = si, seen: list[int] = seen
                ) -> Iterator[tuple[int, list[Record]]]:
                    for j, chunk in enumerate(source):
                        seen[0] = j + 1
                        if not manifest.is_done(f"s{si}-c{j}"):
                            yield j, chunk

                for j, res in ex.map_chunks(fn, fresh()):  # written as each chunk finishes
                    unit = f"s{si}-c{j}"
                    write_jsonl(work / f"{unit}.jsonl", res["kept"])
                    write_jsonl(work / f"{unit}.dropped.jsonl", res["dropped"])
                    manifest.mark_done(unit, res["stats"])
                    if progress:
                        progress(stages[-1].name, len(res["kept"]))
                for j in range(seen[0]):
                    unit = f"s{si}-c{j}"
                    for st, d in zip(mine, manifest.get(unit), strict=True):
                        st.merge(d)
                    parts.append(work / f"{unit}.jsonl")
                if previous_parts is None:
                    records_read = mine[0].records_in
            else:
                st_cfg = stages[0]
                stat = StageStats(st_cfg.name)
                stage_stats.append(stat)
                unit = f"s{si}-global"
                if st_cfg.name == "dedup_near" and cfg.options.near_dedup == "sharded":
                    if previous_parts is None:  # stream the input into parts on disk first
                        previous_parts, records_read = _input_parts(
                            files, cfg, rejects, work, unit, manifest
                        )
                    if not manifest.is_done(unit):
                        t0 = time.perf_counter()
                        info = _sharded_near(st_cfg.options, previous_parts, work, unit, cfg, ex)
                        info["seconds"] = time.perf_counter() - t0
                        manifest.mark_done(unit, info)
                    info = manifest.get(unit)
                    stat.merge(info)
                    previous_parts = [work / f"{unit}-{j}.jsonl" for j in range(info["parts"])]
                    if progress:
                        progress(st_cfg.name, stat.records_in)
                    continue
                if previous_parts is None:  # a global stage first: read everything
                    recs = list(_job_records(files, cfg, rejects))
                    records_read = len(recs)
                else:
                    recs = [r for p in previous_parts for r in _read_part(p)]
                if not manifest.is_done(unit):
                    t0 = time.perf_counter()
                    ids = [r[ID] for r in recs]
                    texts = [r[cfg.text_field] for r in recs]
                    new_texts: dict[str, str] = {}
                    if st_cfg.name == "dedup_substring":  # rewrites text as well as drops
                        drops, new_texts = substring_decisions(ids, texts, st_cfg.options)
                    else:
                        drops = global_decisions(
                            st_cfg.name,
                            ids,
                            texts,
                            st_cfg.options,
                            cfg.options.seed,
                            map_chunks=ex.map_chunks,  # dedup_near's MinHash on the workers
                            chunk_size=cfg.options.chunk_size,
                        )
                    del ids, texts
                    secs = time.perf_counter() - t0
                    drop_ids = {d[0]: d for d in drops}
                    kept = [
                        {**r, cfg.text_field: new_texts[r[ID]]} if r[ID] in new_texts else r
                        for r in recs
                        if r[ID] not in drop_ids
                    ]
                    sizes = Counter(Counter(d[2] for d in drops).values())
                    examples = [
                        {
                            "id": d[0],
                            "action": "dropped",
                            "reason": d[1],
                            "representative": d[2],
                            "score": round(d[3], 4),
                        }
                        for d in drops[:EXAMPLES]
                    ]
                    by_text = {r[ID]: r[cfg.text_field] for r in recs if r[ID] in new_texts}
                    examples += [  # dedup_substring: what was cut, like a map stage's change
                        {"id": i, "action": "changed", "before": by_text[i][:200], "after": t[:200]}
                        for i, t in list(new_texts.items())[: EXAMPLES - len(examples)]
                    ]
                    dropped_entries = []
                    by_id = {r[ID]: r for r in recs} if cfg.options.sidecar_text else {}
                    for rid, reason, rep, score in drops:
                        e = {
                            "id": rid,
                            "stage": st_cfg.name,
                            "reason": reason,
                            "representative": rep,
                            "score": round(float(score), 4),
                        }
                        if cfg.options.sidecar_text:
                            e["text"] = by_id[rid][cfg.text_field]
                        dropped_entries.append(e)
                    for j, chunk in enumerate(_chunks(iter(kept), cfg.options.chunk_size)):
                        write_jsonl(work / f"{unit}-{j}.jsonl", chunk)
                    write_jsonl(work / f"{unit}.dropped.jsonl", dropped_entries)
                    manifest.mark_done(
                        unit,
                        {
                            "records_in": len(recs),
                            "records_out": len(kept),
                            "changed": len(new_texts),
                            "seconds": secs,
                            "reasons": dict(Counter(d[1] for d in drops)),
                            "examples": examples,
                            "cluster_sizes": {str(k + 1): v for k, v in sizes.items()},
                            "parts": (len(kept) + cfg.options.chunk_size - 1)
                            // cfg.options.chunk_size,
                        },
                    )
                info = manifest.get(unit)
                stat.merge(info)
                parts = [work / f"{unit}-{j}.jsonl" for j in range(info["parts"])]
                if progress:
                    progress(st_cfg.name, stat.records_in)
            previous_parts = parts
    finally:
        ex.close()
        if job_folder is not None:
            sys.path.remove(job_folder)
    return _finish(
        cfg,
        files,
        out_dir,
        work,
        previous_parts or [],
        stage_stats,
        rejects,
        records_read,
        ex_name,
        fingerprint,
        t_start,
        resumed,
    )


def _finish(
    cfg: JobConfig,
    files: Sequence[Path],
    out_dir: Path,
    work: Path,
    parts: list[Path],
    stage_stats: list[StageStats],
    rejects: RejectSink,
    records_read: int,
    ex_name: str,
    fingerprint: str,
    t_start: float,
    resumed: int,
) -> CurationReport:
    final = (r for p in parts for r in _read_part(p))
    outputs = _write_output(final, out_dir, cfg)
    dropped = [
        e for p in sorted(work.glob("*.dropped.jsonl"), key=_unit_order) for e in _read_part(p)
    ]
    sidecars = {
        "dropped": str(out_dir / "dropped.jsonl"),
        "rejects": str(out_dir / "rejects.jsonl"),
    }
    write_jsonl(sidecars["dropped"], dropped)
    rejects.write(sidecars["rejects"])
    records_out = sum(s.records_out for s in stage_stats[-1:]) if stage_stats else records_read
    report = CurationReport(
        fingerprint,
        ex_name,
        tuple(str(f) for f in files),
        records_read,
        len(rejects),
        records_out,
        len(dropped),
        tuple(s.to_dict() for s in stage_stats),
        tuple(outputs),
        sidecars,
        time.perf_counter() - t_start,
        resumed,
    )
    if (
        not report.accounted
    ):  # pragma: no cover - an invariant, checked so it can never pass silently
        raise InputError(
            f"accounting failed: read {records_read}, wrote {records_out}, "
            f"dropped {len(dropped)}; the work folder {work} was kept"
        )
    from probity.io import write_json_atomic

    write_json_atomic(out_dir / "report.json", report.to_dict())
    shutil.rmtree(work)
    return report


def _unit_order(p: Path) -> tuple[int, int]:
    """Order sidecar parts by segment, then chunk (a global stage's single part comes last)."""
    m = re.match(r"s(\d+)-(?:c(\d+)|global)", p.name)
    if m is None:  # pragma: no cover - only Probity writes this folder
        raise InputError(f"unexpected file in the work folder: {p.name}")
    return int(m.group(1)), int(m.group(2)) if m.group(2) is not None else 1 << 60


def _write_output(records: Iterator[Record], out_dir: Path, cfg: JobConfig) -> list[str]:
    """Write shards ``part-00000.<fmt>`` in input order; the internal id is kept as ``_id``
    only when the job has no ``id_field``."""
    for old in out_dir.glob("part-*"):
        old.unlink()
    paths: list[str] = []
    size = cfg.output.shard_size
    for j, shard in enumerate(_chunks(records, size)):
        rows = [{k: v for k, v in r.items() if k != ID or cfg.id_field is None} for r in shard]
        path = out_dir / f"part-{j:05d}.{cfg.output.format}"
        if cfg.output.format == "jsonl":
            write_jsonl(path, rows)
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pylist(rows)
            with atomic_write(path, "wb") as fh:
                pq.write_table(table, fh)
        paths.append(str(path))
    return paths
