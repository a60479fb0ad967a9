"""Benchmark: curation throughput and duplicate recall/precision vs datatrove's MinHash dedup.

Synthetic corpus (made here, seeded): documents of 120 words from a 6,000-word vocabulary;
5% exact duplicates of an earlier original (re-cased, re-spaced), 10% near duplicates (one word
changed: 5-gram Jaccard about 0.92 to the original), 10% of originals with an e-mail address
and a phone number planted.

Cases (one worker each, same input file, same run):

* dedup: Probity ``normalize + dedup_exact + dedup_near(0.8)`` vs datatrove's four-step MinHash
  pipeline (signatures, 14 bucket tasks, clusters, filter with an exclusion writer; 5-grams,
  14 bands x 8 rows) on its ``LocalPipelineExecutor`` with one worker. Both read the same
  ``.jsonl.gz`` and write the kept documents. Throughput is documents per CPU-second (user +
  system time of this process and its children: the machine is shared, so wall time mostly
  measures the neighbours) and per wall-second.
* quality: each planted duplicate belongs to the cluster of its original. A removal is correct
  when the record is in a planted cluster and the cluster keeps at least one member (datatrove
  keeps the root of its union-find, not always the first record, so "which member" is not
  scored); recall = correct removals / sum(cluster size - 1), precision = correct / removed.
  Datatrove's removed set is read from its exclusion writer (``removed/*.jsonl.gz``, one JSON
  document per line with the ``id`` the reader took from the input).
* full: Probity's whole pipeline (normalize, scrub_pii redact, dedup_exact, dedup_near), for
  the per-core rate used in the cost estimate (datatrove has no PII stage to compare).
* ray: the dedup job on the Ray executor (2 CPUs) vs local on the first ``--ray-docs``
  documents: identical bytes, overhead.

    python bench/curate.py [--docs 200000] [--ray-docs 20000] [--no-ray] [--quick]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import random
import resource
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

DEDUP = "  - normalize\n  - dedup_exact\n  - {name: dedup_near, threshold: 0.8}\n"
NEAR = "  - normalize\n  - {name: dedup_near, threshold: 0.8}\n"
FULL = (
    "  - normalize\n  - {name: scrub_pii, action: redact}\n  - dedup_exact\n"
    "  - {name: dedup_near, threshold: 0.8}\n"
)


def make_corpus(path: Path, n: int, seed: int = 0) -> tuple[dict[str, str], int]:
    """Write the corpus; returns ``cluster_of`` (planted duplicate or its original -> the
    original's id) and the uncompressed size in bytes."""
    rng = random.Random(seed)
    vocab = [f"w{rng.getrandbits(40):x}" for _ in range(6000)]
    cluster_of: dict[str, str] = {}
    originals: list[tuple[str, str]] = []
    size = 0
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for i in range(n):
            roll = rng.random()
            if originals and roll < 0.05:
                oid, otext = rng.choice(originals)
                text, rid = "  ".join(otext.upper().split()), f"x{i}"
                cluster_of[rid] = cluster_of[oid] = oid
            elif originals and roll < 0.15:
                oid, otext = rng.choice(originals)
                words = otext.split()
                words[rng.randrange(len(words))] = rng.choice(vocab)
                text, rid = " ".join(words), f"n{i}"
                cluster_of[rid] = cluster_of[oid] = oid
            else:
                text = " ".join(rng.choice(vocab) for _ in range(120))
                if rng.random() < 0.1:
                    text += (
                        f" write to jane.doe{i}@example.com or call +1 415 555 {i % 9000 + 1000}"
                    )
                rid = f"o{i}"
                originals.append((rid, text))
                if len(originals) > 5000:
                    originals.pop(rng.randrange(len(originals)))
            line = json.dumps({"id": rid, "text": text}) + "\n"
            size += len(line.encode())
            fh.write(line)
    return cluster_of, size


def head_corpus(src: Path, dst: Path, n: int) -> None:
    with gzip.open(src, "rt") as fin, gzip.open(dst, "wt") as fout:
        for i, line in enumerate(fin):
            if i >= n:
                break
            fout.write(line)


def cpu_seconds() -> float:
    a = resource.getrusage(resource.RUSAGE_SELF)
    b = resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall seconds, CPU seconds, result)."""
    c0, t0 = cpu_seconds(), time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, cpu_seconds() - c0, out


def job_yaml(tmp: Path, stages: str, out: str, corpus: str, executor: str = "local") -> Path:
    p = tmp / f"{out}.yaml"
    p.write_text(
        f"inputs: [{corpus}]\nid_field: id\nstages:\n{stages}"
        f"output: {{path: {out}, format: jsonl, shard_size: 1000000}}\n"
        f"options: {{chunk_size: 5000, executor: {executor}, workers: 1}}\n"
    )
    return p


def ours(
    tmp: Path,
    stages: str,
    out: str,
    corpus: str = "corpus.jsonl.gz",
    executor: str = "local",
    workers: int = 1,
):
    from probity.curate import load_job, run_job

    cfg, base = load_job(job_yaml(tmp, stages, out, corpus, executor))
    return timed(lambda: run_job(cfg, base, workers=workers))


def _xxhash_str_shim() -> None:
    """datatrove 0.10 passes ``str`` shingles to ``xxhash.xxh64_intdigest``; xxhash 4 accepts
    only bytes. Encode as UTF-8 first (what xxhash 3 did internally), so the peer runs unchanged
    otherwise; the cost of ``str.encode`` is counted against the peer (a few % at most)."""
    import xxhash
    from datatrove.utils.hashes import xxhash as dt_xx

    try:
        xxhash.xxh64_intdigest("probe")
    except TypeError:
        dt_xx.xxhash64 = lambda data: xxhash.xxh64_intdigest(
            data.encode("utf-8") if isinstance(data, str) else data
        )
        dt_xx.xxhash32 = lambda data: xxhash.xxh32_intdigest(
            data.encode("utf-8") if isinstance(data, str) else data
        )


def datatrove(tmp: Path) -> tuple[float, float, set[str]]:
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter

    _xxhash_str_shim()
    cfg = MinhashConfig(n_grams=5, num_buckets=14, hashes_per_bucket=8)
    d = tmp / "dt"
    src = tmp / "dtin"
    src.mkdir(exist_ok=True)
    shutil.copy(tmp / "corpus.jsonl.gz", src / "corpus.jsonl.gz")
    steps = [
        [JsonlReader(str(src)), MinhashDedupSignature(output_folder=str(d / "sigs"), config=cfg)],
        [
            MinhashDedupBuckets(
                input_folder=str(d / "sigs"), output_folder=str(d / "buckets"), config=cfg
            )
        ],
        [
            MinhashDedupCluster(
                input_folder=str(d / "buckets"), output_folder=str(d / "remove"), config=cfg
            )
        ],
        [
            JsonlReader(str(src)),
            MinhashDedupFilter(
                input_folder=str(d / "remove"), exclusion_writer=JsonlWriter(str(d / "removed"))
            ),
            JsonlWriter(str(d / "out")),
        ],
    ]

    def run() -> None:
        for k, step in enumerate(steps):
            tasks = cfg.num_buckets if isinstance(step[0], MinhashDedupBuckets) else 1
            LocalPipelineExecutor(
                pipeline=step, tasks=tasks, workers=1, logging_dir=str(d / f"logs{k}")
            ).run()

    wall, cpu, _ = timed(run)
    # The exclusion writer writes the removed documents as gzipped JSON lines
    # (``removed/00000.jsonl.gz``), with the ``id`` JsonlReader took from the input's "id".
    removed: set[str] = set()
    files = sorted((d / "removed").rglob("*.jsonl*"))
    for f in files:
        with gzip.open(f, "rt", encoding="utf-8") as fh:
            removed.update(json.loads(line)["id"] for line in fh if line.strip())
    return wall, cpu, removed


def removed_ids(out: Path) -> set[str]:
    with open(out / "dropped.jsonl", encoding="utf-8") as fh:
        return {json.loads(line)["id"] for line in fh}


def quality(removed: set[str], cluster_of: dict[str, str]) -> tuple[float, float]:
    """Cluster-level recall and precision (see the module docstring)."""
    size = Counter(cluster_of.values())
    gone = Counter(cluster_of[r] for r in removed if r in cluster_of)
    correct = sum(g - (1 if g >= size[c] else 0) for c, g in gone.items())
    should = sum(s - 1 for s in size.values())
    return (
        correct / should if should else 1.0,
        correct / len(removed) if removed else 1.0,
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=200_000)
    ap.add_argument("--ray-docs", type=int, default=20_000)
    ap.add_argument("--no-ray", action="store_true")
    ap.add_argument(
        "--quality",
        type=int,
        help="only the quality filters vs datatrove's, on the manual's pages this many times",
    )
    ap.add_argument(
        "--near-rate",
        type=int,
        help="only normalize + dedup_near on this many documents: sharded vs driver path",
    )
    ap.add_argument(
        "--ray-memory",
        type=int,
        nargs="*",
        help="only the sharded near-dedup on Ray: driver peak RSS at these corpus sizes",
    )
    ap.add_argument(
        "--substring",
        type=int,
        help="only dedup_substring's suffix array vs hashing every window, on this many docs",
    )
    ap.add_argument("--quick", action="store_true", help="5,000 documents, 2,000 on Ray")
    args = ap.parse_args()
    if args.quick:
        args.docs, args.ray_docs = 5_000, 2_000
    import logging

    logging.disable(logging.WARNING)
    os.environ.setdefault("LOGURU_LEVEL", "ERROR")
    try:  # datatrove logs every step through loguru at INFO
        from loguru import logger

        logger.remove()
    except ImportError:  # pragma: no cover
        pass
    tmp = Path(tempfile.mkdtemp(prefix="probity-bench-curate-"))
    rows: list[tuple[str, float, float, float]] = []
    nan = float("nan")
    if args.ray_memory or args.near_rate or args.quality or args.substring:
        try:
            if args.substring:
                rows = substring_rate(tmp, args.substring)
            elif args.quality:
                rows = quality_rows(args.quality)
            elif args.near_rate:
                rows = near_rate(tmp, args.near_rate)
            else:
                make_corpus(tmp / "corpus.jsonl.gz", max(args.ray_memory))
                rows = ray_memory(tmp, sorted(args.ray_memory))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        print(f"{'case':58} {'ours':>12} {'peer':>12} {'ratio':>8}")
        for case, o, p, r in rows:
            print(f"{case:58} {_fmt(o)} {_fmt(p)} {r:8.3g}")
        return
    try:
        cluster_of, nbytes = make_corpus(tmp / "corpus.jsonl.gz", args.docs)
        n = args.docs
        mb = nbytes / 1e6
        w_o, c_o, _ = ours(tmp, DEDUP, "ours")
        rec_o, prec_o = quality(removed_ids(tmp / "ours"), cluster_of)
        w_d, c_d, rem_dt = datatrove(tmp)
        rec_d, prec_d = quality(rem_dt, cluster_of)
        rows += [
            ("dedup: docs per CPU-second (1 worker)", n / c_o, n / c_d, c_d / c_o),
            ("dedup: docs per wall-second (1 worker, shared machine)", n / w_o, n / w_d, w_d / w_o),
            ("dedup: recall of planted duplicates", rec_o, rec_d, rec_o / rec_d),
            ("dedup: precision", prec_o, prec_d, prec_o / prec_d),
            ("dedup: records removed", len(removed_ids(tmp / "ours")), len(rem_dt), nan),
        ]
        _w_f, c_f, rep = ours(tmp, FULL, "full")
        changed = next(s for s in rep.stages if s["name"] == "scrub_pii")["changed"]
        rows.append(("full pipeline (with PII scrub): docs per CPU-second", n / c_f, nan, nan))
        rows.append(("full pipeline: MB per CPU-second (uncompressed JSONL)", mb / c_f, nan, nan))
        for st in rep.stages:
            if st["seconds"]:
                rows.append(
                    (
                        f"  stage {st['name']}: records per wall-second",
                        st["records_per_second"],
                        nan,
                        nan,
                    )
                )
        rows.append(("full pipeline: records with PII redacted", changed, nan, nan))
        if not args.no_ray:
            m = min(args.ray_docs, n)
            head_corpus(tmp / "corpus.jsonl.gz", tmp / "head.jsonl.gz", m)
            w_l, _, _ = ours(tmp, DEDUP, "head-local", "head.jsonl.gz")
            w_r, _, _ = ours(tmp, DEDUP, "head-ray", "head.jsonl.gz", executor="ray", workers=2)
            same = all(
                (tmp / "head-ray" / f).read_bytes() == (tmp / "head-local" / f).read_bytes()
                for f in ("part-00000.jsonl", "dropped.jsonl")
            )
            rows.append((f"ray (2 CPUs) vs local, {m} docs: wall seconds", w_r, w_l, w_l / w_r))
            rows.append(("ray output byte-identical to local", float(same), 1.0, float(same)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(
        f"machine: {os.cpu_count()} cpus (shared, load {os.getloadavg()[0]:.1f}), python "
        f"{platform.python_version()}, numpy {np.__version__}; {n} documents ({mb:.0f} MB "
        f"uncompressed), {len(cluster_of) - len(set(cluster_of.values()))} planted duplicates"
    )
    print(f"{'case':58} {'ours':>12} {'peer':>12} {'ratio':>8}")
    for case, o, p, r in rows:
        print(f"{case:58} {_fmt(o)} {_fmt(p)} {r:8.3g}")


_DRIVER = """
import hashlib, json, resource, sys
sys.path.insert(0, {src!r})
from probity.curate import load_job, run_job
cfg, base = load_job({job!r})
rep = run_job(cfg, base)
out = base / cfg.output.path
digest = hashlib.sha256()
for p in sorted(out.glob("part-*")) + [out / "dropped.jsonl"]:
    digest.update(p.read_bytes())
print(json.dumps({{"rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "sha": digest.hexdigest(), "out": rep.records_out, "read": rep.records_read}}))
"""


def driver_peak(tmp: Path, corpus: str, out: str, executor: str) -> dict[str, Any]:
    """Run the near-dedup job in a fresh driver process; its peak RSS and output digest."""
    import json
    import subprocess

    p = tmp / f"{out}.yaml"
    p.write_text(
        f"inputs: [{corpus}]\nid_field: id\nstages:\n{NEAR}"
        f"output: {{path: {out}, format: jsonl, shard_size: 2000}}\n"
        f"options: {{chunk_size: 500, executor: {executor}, workers: 2}}\n"
    )
    code = _DRIVER.format(src=str(ROOT / "src"), job=str(p))
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=3600
    )
    return json.loads(res.stdout.strip().splitlines()[-1])


def ray_memory(tmp: Path, sizes: list[int]) -> list[tuple[str, float, float, float]]:
    """Sharded dedup_near on Ray (2 CPUs): driver peak RSS at three corpus sizes, and the
    output compared with the local executor's."""
    rows = []
    for m in sizes:
        head_corpus(tmp / "corpus.jsonl.gz", tmp / f"head{m}.jsonl.gz", m)
        ray = driver_peak(tmp, f"head{m}.jsonl.gz", f"ray{m}", "ray")
        loc = driver_peak(tmp, f"head{m}.jsonl.gz", f"loc{m}", "local")
        survivors_mb = sum(p.stat().st_size for p in (tmp / f"ray{m}").glob("part-*")) / 1e6
        rows.append(
            (
                f"ray near-dedup {m} docs: driver peak RSS MB (local)",
                ray["rss_mb"],
                loc["rss_mb"],
                float("nan"),
            )
        )
        rows.append(
            (
                f"ray near-dedup {m} docs: survivors MB / identical to local",
                survivors_mb,
                float(ray["sha"] == loc["sha"]),
                float("nan"),
            )
        )
    return rows


def near_rate(tmp: Path, n: int) -> list[tuple[str, float, float, float]]:
    """normalize + dedup_near, one worker in-process: sharded vs the driver path, CPU rate."""
    from probity.curate import load_job, run_job

    _, nbytes = make_corpus(tmp / "corpus.jsonl.gz", n)
    rate, outs = {}, {}
    for mode in ("sharded", "driver"):
        p = tmp / f"{mode}.yaml"
        p.write_text(
            f"inputs: [corpus.jsonl.gz]\nid_field: id\nstages:\n{NEAR}"
            f"output: {{path: {mode}, format: jsonl, shard_size: 1000000}}\n"
            f"options: {{chunk_size: 5000, workers: 1, near_dedup: {mode}}}\n"
        )
        cfg, base = load_job(p)
        t = cpu_seconds()
        run_job(cfg, base)
        rate[mode] = n / (cpu_seconds() - t)
        outs[mode] = (tmp / mode / "part-00000.jsonl").read_bytes()
    same = float(outs["sharded"] == outs["driver"])
    return [
        (
            f"near-dedup {n} docs: docs per CPU-second (driver path)",
            rate["sharded"],
            rate["driver"],
            rate["sharded"] / rate["driver"],
        ),
        (
            f"near-dedup: MB per CPU-second ({nbytes / 1e6:.1f} MB)",
            rate["sharded"] * nbytes / n / 1e6,
            rate["driver"] * nbytes / n / 1e6,
            float("nan"),
        ),
        ("near-dedup: sharded output identical to the driver path", same, 1.0, same),
    ]


def hash_every_window(texts: list[str], min_bytes: int) -> list[bytes]:
    """The plain-Python baseline for exact-substring dedup: a set of the hashes of every
    ``min_bytes``-byte window seen so far; a window already in it marks its bytes for removal
    (the same rule as Lee et al.'s suffix array, one dict lookup per byte)."""
    seen: set[int] = set()
    out = []
    for t in texts:
        b = t.encode()
        keep = bytearray()
        cover_end = -1  # bytes before this are inside a window seen earlier
        for p in range(len(b)):
            if p + min_bytes <= len(b):
                h = hash(b[p : p + min_bytes])
                if h in seen:
                    cover_end = p + min_bytes
                else:
                    seen.add(h)
            if p >= cover_end:
                keep.append(b[p])
        out.append(bytes(keep))
    return out


def substring_rate(
    tmp: Path, n: int, min_bytes: int = 100
) -> list[tuple[str, float, float, float]]:
    """dedup_substring's core (suffix array, numpy) vs hashing every window in Python, the
    same documents, CPU seconds; the outputs must be identical (ASCII corpus, no documents
    dropped: min_doc_bytes 0)."""
    from probity.curate.substring import substring_dedup

    make_corpus(tmp / "corpus.jsonl.gz", n)
    with gzip.open(tmp / "corpus.jsonl.gz", "rt", encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for line in fh]
    nbytes = sum(len(t.encode()) for t in texts)
    c_o, res = timed(lambda: substring_dedup(texts, min_bytes=min_bytes, min_doc_bytes=0))[1:]
    c_b, base = timed(lambda: hash_every_window(texts, min_bytes))[1:]
    same = float([(t or "").encode() for t in res.texts] == base)
    cut = int(res.removed_bytes.sum())
    return [
        (
            f"substring dedup {n} docs ({nbytes / 1e6:.1f} MB): MB per CPU-second",
            nbytes / 1e6 / c_o,
            nbytes / 1e6 / c_b,
            c_b / c_o,
        ),
        (
            f"substring dedup: bytes cut ({cut / nbytes:.1%} of the text)",
            cut,
            float(sum(len(t.encode()) for t in texts) - sum(map(len, base))),
            1.0,
        ),
        ("substring dedup: output identical to the hash baseline", same, 1.0, same),
    ]


def quality_rows(copies: int) -> list[tuple[str, float, float, float]]:
    """filter_quality (Gopher + C4 + FineWeb) vs datatrove's three filters, the same documents:
    the Python reference manual's pages (real prose, code and tables), ``copies`` times."""
    from pydoc_data.topics import topics

    from datatrove.data import Document
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
    )

    from probity.curate.quality import FilterQuality

    texts = [t for _, t in sorted(topics.items())] * copies
    recs = [{"_id": str(i), "text": t} for i, t in enumerate(texts)]
    stage = FilterQuality("text")
    t = cpu_seconds()
    ours = [r is not None for r, _ in stage.process(recs)]
    c_o = cpu_seconds() - t
    filters = [GopherQualityFilter(), C4QualityFilter(), FineWebQualityFilter()]
    t = cpu_seconds()
    peer = []
    for i, text in enumerate(texts):
        doc = Document(text=text, id=str(i))
        ok = True
        for f in filters:
            res = f.filter(doc)
            if not (res[0] if isinstance(res, tuple) else res):
                ok = False
                break
        peer.append(ok)
    c_p = cpu_seconds() - t
    n = len(texts)
    agree = sum(a == b for a, b in zip(ours, peer, strict=True)) / n
    return [
        (f"quality filters, {n} manual pages: docs per CPU-second", n / c_o, n / c_p, c_p / c_o),
        ("quality filters: share kept", sum(ours) / n, sum(peer) / n, float("nan")),
        ("quality filters: same decision as datatrove", agree, 1.0, float("nan")),
    ]


def _fmt(x: float) -> str:
    """Counts as integers, fractions in [0, 1] with 5 decimals, rates with 4 significant digits."""
    if x == x and float(x).is_integer() and abs(x) >= 2:
        return f"{int(x):12d}"
    if x == x and 0 <= x <= 1:
        return f"{x:12.5f}"
    return f"{x:12.4g}"


if __name__ == "__main__":
    main()
