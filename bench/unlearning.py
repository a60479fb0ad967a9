"""Unlearning benchmark: SISA forget time vs full retraining of the same estimator.

For S = 5, 10, 20 shards (R = 3 slices) and two estimators (scikit-learn RandomForest,
refit; Probity's TorchClassifier MLP, incremental with per-slice checkpoints) it measures the
CPU time (and wall time) of a single-record forget (median of 3 requests) and of batched forgets (10 and 100
records in one request), against the peer: retraining the same estimator from scratch on all
retained records (median of 3 fits, timed again for each S). Accuracy on a held-out test
set: the SISA ensemble after the deletions vs the single model. Ratios: peer/ours for times, ours/peer for accuracy.

    python bench/unlearning.py                   # n = 8,000 training records
    python bench/unlearning.py --quick           # n = 3,000
    python bench/unlearning.py --records 50000   # a larger draw of the same synthetic task

Forgets run in this process (backend "serial") so that process_time counts all their CPU
time; worker processes' CPU time would not be counted.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier

from probity.privacy import TorchClassifier
from probity.unlearning import SISAModel


def _fit_time(est, X, y, reps=3):
    times = []
    model = None
    for _ in range(reps):
        t0 = time.process_time()
        model = clone(est).fit(X, y)
        times.append(time.process_time() - t0)
    return statistics.median(times), model


def _wall_fit(est, X, y):
    t0 = time.perf_counter()
    clone(est).fit(X, y)
    return time.perf_counter() - t0


def _service_rows(rows, name, S, model_dir, alive, rng, peer_wall):
    """Single forgets through `probity unlearn serve` (one process for all requests) and
    through one-shot `probity unlearn forget` commands (start-up paid each time)."""
    import json
    import subprocess

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    cmd = [sys.executable, "-m", "probity", "unlearn"]
    t_start = time.perf_counter()
    proc = subprocess.Popen(
        [*cmd, "serve", "--model", str(model_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    lat = []
    first = None
    for _ in range(4):
        k = int(rng.choice(alive))
        alive = alive[alive != k]
        t0 = time.perf_counter()
        proc.stdin.write(json.dumps({"ids": [str(k)]}) + "\n")
        proc.stdin.flush()
        ans = json.loads(proc.stdout.readline())
        if not ans["ok"]:
            raise RuntimeError(ans["error"])
        if first is None:
            first = time.perf_counter() - t_start  # start-up + imports + first request
        else:
            lat.append(time.perf_counter() - t0)
    proc.stdin.close()
    proc.wait(timeout=60)
    served = statistics.median(lat)
    rows.append((f"{name}, S={S}: forget via serve, wall s", served, peer_wall, peer_wall / served))
    rows.append(
        (f"{name}, S={S}: serve start + first forget, wall s", first, peer_wall, peer_wall / first)
    )
    k = int(rng.choice(alive))
    alive = alive[alive != k]
    ids = Path(model_dir).parent / "ids.txt"
    ids.write_text(f"{k}\n")
    t0 = time.perf_counter()
    subprocess.run(
        [*cmd, "forget", "--model", str(model_dir), "--ids", str(ids)],
        check=True,
        env=env,
        capture_output=True,
    )
    one = time.perf_counter() - t0
    rows.append((f"{name}, S={S}: one-shot CLI forget, wall s", one, peer_wall, peer_wall / one))
    return alive


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument(
        "--records", type=int, default=None, help="training records (default 8000, quick 3000)"
    )
    ap.add_argument("--trees", type=int, default=100, help="random forest n_estimators")
    ap.add_argument(
        "--estimators",
        default="rf,mlp",
        help="comma-separated subset of rf (random forest), mlp (torch MLP)",
    )
    ap.add_argument(
        "--service",
        action="store_true",
        help="also time single forgets sent to a running `probity unlearn serve` (wall time "
        "per request, start-up paid once) and one-shot `probity unlearn forget` commands",
    )
    args = ap.parse_args()
    if args.records is not None and args.records < 1000:
        ap.error(f"--records must be >= 1000, got {args.records}")
    wanted = {e.strip() for e in args.estimators.split(",") if e.strip()}
    if not wanted or not wanted <= {"rf", "mlp"}:
        ap.error(f"--estimators must be a subset of rf,mlp, got {args.estimators!r}")
    import torch

    torch.set_num_threads(1)  # small models: threads only contend on a shared CPU
    n = args.records if args.records is not None else (3000 if args.quick else 8000)
    X, y = make_classification(
        n_samples=n + 4000,
        n_features=20,
        n_informative=10,
        n_redundant=4,
        flip_y=0.02,
        class_sep=1.0,
        random_state=0,
    )
    Xtr, ytr, Xte, yte = X[:n], y[:n], X[n:], y[n:]
    estimators = {
        "random forest (refit)": RandomForestClassifier(
            n_estimators=args.trees, n_jobs=1, random_state=0
        ),
        "torch MLP (partial_fit)": TorchClassifier(
            hidden=(256,), epochs=16, batch_size=64, lr=0.003
        ),
    }
    keys = {"random forest (refit)": "rf", "torch MLP (partial_fit)": "mlp"}
    estimators = {k: v for k, v in estimators.items() if keys[k] in wanted}
    shard_counts = (5, 10) if args.quick else (5, 10, 20)
    rng = np.random.default_rng(0)
    rows = []
    tmp = Path(tempfile.mkdtemp(prefix="probity-bench-unlearn-"))
    try:
        for name, est in estimators.items():
            _, single = _fit_time(est, Xtr[1:], ytr[1:], reps=1)
            peer_acc = float(np.mean(single.predict(Xte) == yte))
            for S in shard_counts:
                # the peer is timed again next to each case: the shared CPU's load drifts
                peer_t, _ = _fit_time(est, Xtr[1:], ytr[1:])
                model = SISAModel.train(
                    est,
                    Xtr,
                    ytr,
                    tmp / f"{name[:5]}-{S}",
                    shards=S,
                    slices=3,
                    backend="joblib",
                    n_jobs=args.n_jobs,
                    overwrite=True,
                )
                alive = np.arange(n)
                singles: list[float] = []
                walls: list[float] = []
                for _ in range(3):
                    k = int(rng.choice(alive))
                    alive = alive[alive != k]
                    t0, w0 = time.process_time(), time.perf_counter()
                    model.forget([str(k)], backend="serial")
                    singles.append(time.process_time() - t0)
                    walls.append(time.perf_counter() - w0)
                ours = statistics.median(singles)
                rows.append((f"{name}, S={S}: single forget, CPU s", ours, peer_t, peer_t / ours))
                for b in (10, 100):
                    pick = rng.choice(alive, size=b, replace=False)
                    alive = np.setdiff1d(alive, pick)
                    t0 = time.process_time()
                    model.forget([str(i) for i in pick], backend="serial")
                    tb = time.process_time() - t0
                    rows.append((f"{name}, S={S}: batch of {b}, CPU s", tb, peer_t, peer_t / tb))
                wall = statistics.median(walls)
                peer_wall = _wall_fit(est, Xtr[1:], ytr[1:])
                rows.append(
                    (
                        f"{name}, S={S}: single forget, wall s (one peer fit)",
                        wall,
                        peer_wall,
                        peer_wall / wall,
                    )
                )
                if args.service:
                    alive = _service_rows(rows, name, S, model.model_dir, alive, rng, peer_wall)
                    model = SISAModel.open(model.model_dir)
                acc = model.score(Xte, yte)
                rows.append((f"{name}, S={S}: test accuracy", acc, peer_acc, acc / peer_acc))
                print(f"done {name} S={S}", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    width = max(len(r[0]) for r in rows)
    print(f"| {'case':<{width}} | ours | peer | ratio |")
    print(f"|{'-' * (width + 2)}|------|------|-------|")
    for case, o, p, r in rows:
        print(f"| {case:<{width}} | {o:.4g} | {p:.4g} | {r:.3g} |")
    print(
        f"\nmachine: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"numpy {np.__version__}; n_train={n}, n_test=4000, d=20, R=3 slices, "
        f"n_jobs={args.n_jobs} (training), forest trees={args.trees}"
    )
    print(
        "peer = full retraining of the same estimator on all retained records; "
        "ratio = peer/ours for times (speedup), ours/peer for accuracy; CPU s = CPU time of "
        "this process (time.process_time; forgets run in-process), robust "
        "to the shared machine's load; wall s includes file writes and fsync"
    )


if __name__ == "__main__":
    main()
