"""Benchmark: curation throughput and duplicate recall/precision vs datatrove's MinHash dedup.

Synthetic corpus (made here, seeded): documents of 120 words from a 6,000-word vocabulary;
5% exact duplicates (re-cased, re-spaced), 10% near duplicates (one word changed: 5-gram
Jaccard about 0.9), 10% with an e-mail address and a phone number planted.

Cases (one worker each, same input file, same run):
* dedup: Probity ``normalize + dedup_exact + dedup_near(0.8)`` vs datatrove's four-step MinHash
  pipeline (signatures, buckets, clusters, filter; 5-grams, 14 bands x 8 rows) with its
  LocalPipelineExecutor. Throughput in documents per second of wall time, and recall/precision
  of the planted duplicates.
* full: Probity's whole pipeline (normalize, scrub_pii, dedup_exact, dedup_near) for the
  documents/s of the complete job (datatrove has no PII stage to compare).
* ray: the same dedup job on the Ray executor (2 CPUs) vs local: identical output, overhead.

    python bench/curate.py [--docs 200000] [--no-ray]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def make_corpus(path: Path, n: int, seed: int = 0) -> tuple[set[str], int]:
    rng = random.Random(seed)
    vocab = [f"w{rng.getrandbits(40):x}" for _ in range(6000)]
    dups: set[str] = set()
    written = 0
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        originals: list[str] = []
        for i in range(n):
            roll = rng.random()
            if originals and roll < 0.05:
                text = "  ".join(rng.choice(originals).upper().split())
                rid = f"x{i}"
                dups.add(rid)
            elif originals and roll < 0.15:
                words = rng.choice(originals).split()
                words[rng.randrange(len(words))] = rng.choice(vocab)
                text, rid = " ".join(words), f"n{i}"
                dups.add(rid)
            else:
                text = " ".join(rng.choice(vocab) for _ in range(120))
                if rng.random() < 0.1:
                    text += f" write to jane.doe{i}@example.com or call +1 415 555 {1000 + i % 9000:04d}"
                originals.append(text)
                if len(originals) > 5000:
                    originals.pop(rng.randrange(len(originals)))
                rid = f"o{i}"
            fh.write(json.dumps({"id": rid, "text": text}) + "\n")
            written += 1
    return dups, written


def job_yaml(tmp: Path, stages: str, out: str, executor: str = "local") -> Path:
    p = tmp / f"{out}.yaml"
    p.write_text(
        f"inputs: [corpus.jsonl.gz]\nid_field: id\nstages:\n{stages}"
        f"output: {{path: {out}, format: jsonl, shard_size: 100000}}\n"
        f"options: {{chunk_size: 5000, executor: {executor}, workers: 1}}\n"
    )
    return p


def ours(tmp: Path, stages: str, out: str, executor: str = "local", workers: int = 1):
    from probity.curate import load_job, run_job

    cfg, base = load_job(job_yaml(tmp, stages, out, executor))
    t0 = time.perf_counter()
    rep = run_job(cfg, base, workers=workers)
    return time.perf_counter() - t0, rep


def datatrove(tmp: Path) -> tuple[float, set[str]]:
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

    cfg = MinhashConfig(n_grams=5, num_buckets=14, hashes_per_bucket=8)
    d = tmp / "dt"
    src = tmp / "dtin"
    src.mkdir(exist_ok=True)
    shutil.copy(tmp / "corpus.jsonl.gz", src / "corpus.jsonl.gz")
    t0 = time.perf_counter()
    for step in (
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
    ):
        tasks = cfg.num_buckets if isinstance(step[0], MinhashDedupBuckets) else 1
        LocalPipelineExecutor(
            pipeline=step,
            tasks=tasks,
            workers=1,
            logging_dir=str(d / f"logs{time.perf_counter_ns()}"),
        ).run()
    secs = time.perf_counter() - t0
    removed: set[str] = set()
    for f in (d / "removed").rglob("*.jsonl.gz"):
        with gzip.open(f, "rt") as fh:
            removed.update(json.loads(line)["id"] for line in fh)
    return secs, removed


def removed_ids(out: Path) -> set[str]:
    with open(out / "dropped.jsonl") as fh:
        return {json.loads(line)["id"] for line in fh}


def pr(removed: set[str], truth: set[str]) -> tuple[float, float]:
    tp = len(removed & truth)
    return tp / len(truth) if truth else 1.0, tp / len(removed) if removed else 1.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=50_000)
    ap.add_argument("--no-ray", action="store_true")
    args = ap.parse_args()
    import logging

    logging.disable(logging.WARNING)
    os.environ.setdefault("LOGURU_LEVEL", "ERROR")
    tmp = Path(tempfile.mkdtemp(prefix="probity-bench-curate-"))
    rows = []
    try:
        truth, n = make_corpus(tmp / "corpus.jsonl.gz", args.docs)
        dedup = "  - normalize\n  - dedup_exact\n  - {name: dedup_near, threshold: 0.8}\n"
        t_ours, _ = ours(tmp, dedup, "ours")
        rec_o, prec_o = pr(removed_ids(tmp / "ours"), truth)
        t_dt, rem_dt = datatrove(tmp)
        rec_d, prec_d = pr(rem_dt, truth)
        rows += [
            ("dedup docs/s (1 worker)", n / t_ours, n / t_dt, t_dt / t_ours),
            ("dedup recall of planted duplicates", rec_o, rec_d, rec_o / rec_d),
            ("dedup precision", prec_o, prec_d, prec_o / prec_d),
        ]
        try:
            full = (
                "  - normalize\n  - {name: scrub_pii, action: redact}\n  - dedup_exact\n"
                "  - {name: dedup_near, threshold: 0.8}\n"
            )
            t_full, rep = ours(tmp, full, "full")
            changed = next(s for s in rep.stages if s["name"] == "scrub_pii")["changed"]
            rows.append(
                (
                    "full pipeline docs/s (1 worker, with PII scrub)",
                    n / t_full,
                    float("nan"),
                    float("nan"),
                )
            )
            rows.append(("records with PII redacted", changed, float("nan"), float("nan")))
        except Exception as exc:  # the guard's pii scanner may be absent in a partial install
            print(f"full pipeline skipped: {exc}")
        if not args.no_ray:
            t_ray, _ = ours(tmp, dedup, "ray", executor="ray", workers=2)
            same = all(
                (tmp / "ray" / f).read_bytes() == (tmp / "ours" / f).read_bytes()
                for f in ("part-00000.jsonl", "dropped.jsonl")
            )
            rows.append(("ray executor (2 CPUs) vs local: time", t_ray, t_ours, t_ours / t_ray))
            rows.append(("ray output byte-identical to local", float(same), 1.0, float(same)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(
        f"machine: {os.cpu_count()} cpus, python {platform.python_version()}, numpy "
        f"{np.__version__}; {n} documents, {len(truth)} planted duplicates"
    )
    print(f"{'case':52} {'ours':>12} {'peer':>12} {'ratio':>8}")
    for case, o, p, r in rows:
        print(f"{case:52} {o:12.4g} {p:12.4g} {r:8.3g}")


if __name__ == "__main__":
    main()
