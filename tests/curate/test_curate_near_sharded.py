"""dedup_near sharded on disk (issue 21, Found 8): the same bytes as the in-memory driver path
on every executor and reducer count, and a driver whose memory stays below the survivors."""

from __future__ import annotations

import json
import random
import tracemalloc
from pathlib import Path

import pytest

from probity.curate import load_job, run_job


def _corpus(path: Path, n: int, words: int = 60, seed: int = 0) -> int:
    """Random documents with planted near-duplicates and chains; returns the text bytes."""
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(5000)]
    size = 0
    with open(path, "w", encoding="utf-8") as fh:
        docs: list[list[str]] = []
        for i in range(n):
            if docs and rng.random() < 0.3:  # a near-duplicate of an earlier document
                w = list(rng.choice(docs))
                w[rng.randrange(len(w))] = rng.choice(vocab)
            else:
                w = [rng.choice(vocab) for _ in range(words)]
            docs.append(w)
            text = " ".join(w)
            size += len(text)
            fh.write(json.dumps({"id": f"d{i}", "text": text}) + "\n")
    return size


def _job(tmp: Path, name: str, options: str, near: str = "", shard_size: int = 500) -> Path:
    job = tmp / f"{name}.yaml"
    job.write_text(f"""inputs: ["in.jsonl"]
id_field: id
stages:
  - normalize
  - {{name: dedup_near, threshold: 0.8{near}}}
output: {{path: {name}, format: jsonl, shard_size: {shard_size}}}
options: {{{options}}}
""")
    return job


def _bytes(out: Path) -> tuple[bytes, bytes]:
    parts = b"".join(p.read_bytes() for p in sorted(out.glob("part-*")))
    return parts, (out / "dropped.jsonl").read_bytes()


def test_sharded_equals_driver_for_any_shards_and_reducers(tmp_path):
    _corpus(tmp_path / "in.jsonl", 600)
    ref = _job(tmp_path, "ref", "chunk_size: 97, near_dedup: driver")
    run_job(*load_job(ref))
    want = _bytes(tmp_path / "ref")
    assert want[1].count(b"near_duplicate") > 100
    for name, opts, near in [
        ("a", "chunk_size: 97", ""),
        ("b", "chunk_size: 13", ", reducers: 1"),
        ("c", "chunk_size: 250, workers: 2", ", reducers: 5"),
    ]:
        rep = run_job(*load_job(_job(tmp_path, name, opts, near)))
        assert rep.accounted
        assert _bytes(tmp_path / name) == want, name


def test_sharded_on_ray_equals_local(tmp_path):
    pytest.importorskip("ray")
    _corpus(tmp_path / "in.jsonl", 300)
    run_job(*load_job(_job(tmp_path, "loc", "chunk_size: 50")))
    run_job(*load_job(_job(tmp_path, "ray", "chunk_size: 50, executor: ray, workers: 2")))
    assert _bytes(tmp_path / "ray") == _bytes(tmp_path / "loc")


def _driver_peak(tmp: Path, n: int) -> tuple[int, float]:
    text_bytes = _corpus(tmp / "in.jsonl", n, words=800, seed=n)
    # output shards of 40 records: the writer holds one shard, like every other stage a chunk
    job = _job(tmp, f"out{n}", "chunk_size: 20, workers: 2", shard_size=40)
    cfg, base = load_job(job)
    tracemalloc.start()
    try:
        rep = run_job(cfg, base)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert rep.accounted and rep.records_out > 0.6 * rep.records_read
    return peak, text_bytes * rep.records_out / rep.records_read


def test_driver_memory_stays_below_the_survivors(tmp_path):
    """The driver's traced heap peak is capped below the surviving text: the records stay in
    shards on disk and in the workers (two processes), never all on the driver."""
    (tmp_path / "warm").mkdir()
    _driver_peak(tmp_path / "warm", 50)  # imports and worker start-up are not the corpus
    (tmp_path / "big").mkdir()
    peak, survivors = _driver_peak(tmp_path / "big", 800)
    cap = survivors / 2
    assert peak < cap, f"driver peak {peak / 1e6:.2f} MB >= cap {cap / 1e6:.2f} MB"
