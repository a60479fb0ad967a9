"""Shard training for SISA: checkpoint keys and paths, the per-shard training worker (run in
worker processes by joblib or Ray) and the stand-in model of a shard left without records."""

from __future__ import annotations

import hashlib
import io
import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from probity.errors import CorruptIndexError, InputError
from probity.io import write_bytes_atomic


def ids_key(shard: int, slice_: int, ids: Sequence[str], fingerprint: str) -> str:
    """Checkpoint key: SHA-256 over the estimator fingerprint, position and sorted seen ids."""
    h = hashlib.sha256(f"{fingerprint}|{shard}|{slice_}|".encode())
    for i in sorted(ids):
        h.update(i.encode("utf-8") + b"\n")
    return h.hexdigest()


class _Constant:
    """Stand-in model for a shard whose records all share one label (or that is empty)."""

    def __init__(self, classes: np.ndarray, label: Any | None) -> None:
        self.classes_ = np.asarray(classes)
        self.label = label

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        P = np.zeros((len(X), len(self.classes_)))
        if self.label is None:
            P[:] = 1.0 / len(self.classes_)
        else:
            P[:, int(np.flatnonzero(self.classes_ == self.label)[0])] = 1.0
        return P


def _dump(obj: Any) -> bytes:
    buf = io.BytesIO()
    pickle.dump(obj, buf, protocol=pickle.HIGHEST_PROTOCOL)
    return buf.getvalue()


def ckpt_rel(shard: int, slice_: int, key: str) -> str:
    """A checkpoint's path relative to the model directory."""
    return f"checkpoints/s{shard:03d}/r{slice_:03d}-{key[:20]}.pkl"


def _ckpt_path(root: Path, shard: int, slice_: int, key: str) -> Path:
    return root / ckpt_rel(shard, slice_, key)


def _train_shard(
    root: str,
    shard: int,
    start: int,
    estimator_bytes: bytes,
    classes: np.ndarray,
    X: np.ndarray,
    y: np.ndarray,
    ids: np.ndarray,
    slice_of: np.ndarray,
    n_slices: int,
    incremental: bool,
    fingerprint: str,
) -> list[str | None]:
    """Train one shard from slice ``start`` to the last; write checkpoints; return their keys
    for slices ``start..R-1`` (None where nothing was saved). Runs in a worker process."""
    rootp = Path(root)
    keys: list[str | None] = []
    est: Any = None
    if incremental and start > 0:
        seen = ids[slice_of < start].tolist()
        prev_key = ids_key(shard, start - 1, seen, fingerprint)
        path = _ckpt_path(rootp, shard, start - 1, prev_key)
        if seen:
            if not path.exists():
                raise CorruptIndexError(f"checkpoint {path} is missing; retrain the model")
            with open(path, "rb") as fh:
                est = pickle.load(fh)
    for r in range(start, n_slices):
        upto = slice_of <= r
        seen = ids[upto].tolist()
        key = ids_key(shard, r, seen, fingerprint)
        last = r == n_slices - 1
        if not incremental and not last:
            keys.append(None)  # refit estimators keep only the final checkpoint
            continue
        Xr, yr = X[upto], y[upto]
        labels = np.unique(yr)
        if len(yr) == 0:  # every record so far was forgotten
            model: Any = _Constant(classes, None) if last else None
            est = None
        elif not incremental and len(labels) < 2:  # a refit needs two classes
            model = _Constant(classes, labels[0])
        else:
            if est is None or not incremental:
                est = pickle.loads(estimator_bytes)
                if incremental:
                    _scale_epochs(est, n_slices)
            if incremental:
                # SISA trains slice r on the union of slices 0..r, from checkpoint r-1;
                # classes= lets partial_fit accept a slice that lacks a class
                est.partial_fit(Xr, yr, classes=classes)
            else:
                est.fit(Xr, yr)
            model = est
        if model is None:
            keys.append(None)
            continue
        write_bytes_atomic(_ckpt_path(rootp, shard, r, key), _dump(model))
        keys.append(key)
    return keys


def _scale_epochs(est: Any, n_slices: int) -> None:
    """SISA's epoch budget (Bourtoule et al. 2021, section V): slice r trains on slices 0..r,
    so with e epochs per slice a shard would cost e * (R + 1) / 2 passes over its data. For
    estimators with an ``epochs`` parameter (Probity's TorchClassifier) each slice gets
    ``max(1, round(2 e / (R + 1)))`` epochs, keeping a shard's cost near e passes."""
    try:
        params = est.get_params(deep=False)
    except Exception:
        return
    if isinstance(params.get("epochs"), int) and n_slices > 1:
        est.set_params(epochs=max(1, round(2 * params["epochs"] / (n_slices + 1))))


def run_shards(jobs: list[dict[str, Any]], backend: str, n_jobs: int) -> list[list[str | None]]:
    if backend == "serial" or n_jobs == 1 or len(jobs) == 1:
        return [_train_shard(**j) for j in jobs]
    if backend == "joblib":
        from joblib import Parallel, delayed

        return list(Parallel(n_jobs=n_jobs)(delayed(_train_shard)(**j) for j in jobs))
    if backend == "ray":
        from probity.errors import require

        ray = require("ray", "ray")
        if not ray.is_initialized():
            ray.init(
                num_cpus=max(1, n_jobs),
                include_dashboard=False,
                log_to_driver=False,
                ignore_reinit_error=True,
            )
        remote = ray.remote(_train_shard)
        return list(ray.get([remote.remote(**j) for j in jobs]))
    raise InputError(f"backend {backend!r}; choose 'joblib', 'ray' or 'serial'")


__all__ = ["ckpt_rel", "ids_key", "run_shards"]
