"""SISA training (Bourtoule et al. 2021): Sharded, Isolated, Sliced, Aggregated.

The training records are split at random into ``shards`` disjoint shards, each shard into
``slices`` slices. One model per shard is trained slice by slice: after slice r the model has
seen slices 0..r and is saved as a checkpoint keyed by the SHA-256 of the ids it has seen.
Predictions aggregate the shard models (mean of probabilities, or a majority vote).

Forgetting a record touches only its shard: training restarts from the last checkpoint
before the first affected slice, on the retained records of that and later slices. Old
checkpoints that saw a forgotten record are deleted. For an incremental estimator (one with
``partial_fit``: SGDClassifier, MLPClassifier, Probity's TorchClassifier) the expected cost of
one deletion is about ``(R + 1) / (2 R S)`` of a full retraining; an estimator that can only be
refit is refit once on its shard's retained records (``1 / S``), so only its last checkpoint
is kept.

State lives in one model directory: ``state.json`` (the commit point, replaced atomically),
immutable manifest versions ``manifests/vNNNN.jsonl`` (id -> shard, slice, content hash),
per-shard data ``data/``, checkpoints ``checkpoints/``, the hash-chained ``ledger.jsonl`` and
signed certificates ``certificates/``.
"""

from __future__ import annotations

import datetime as _dt
import io
import json
import os
import pickle
import secrets
import shutil
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from probity.errors import CorruptIndexError, InputError, ModelError, UnknownKeyError
from probity.io import write_bytes_atomic, write_json_atomic
from probity.types import Certificate
from probity.unlearning import ledger as L
from probity.unlearning import wal
from probity.unlearning.integrity import file_sha256, model_digest, model_files, verify_model
from probity.unlearning.lock import model_lock
from probity.unlearning.manifests import (
    ManifestEntry,
    is_tombstoned,
    manifest_line,
    old_manifests,
    read_manifest,
    record_hash,
    salted,
    tombstones,
    write_manifest,
)
from probity.unlearning.shards import (
    _ckpt_path,
    _Constant,
    _dump,
    ckpt_rel,
    ids_key,
    run_shards,
)

Aggregation = Literal["mean_proba", "vote"]
Backend = Literal["joblib", "ray", "serial"]
FORMAT = "probity-sisa/1"
#: A forget retraining fewer records than this runs in-process unless a backend is passed.
PARALLEL_MIN_RECORDS = 50_000


# --- results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ForgetResult:
    """The outcome of one forget request.

    ``retrained`` maps each affected shard to the first slice retrained; ``records_retrained``
    counts the (record, slice) training visits redone, ``records_total`` those of a full SISA
    retraining, so ``records_retrained / records_total`` is the work fraction.
    """

    request_id: str
    forgotten: int
    retrained: dict[int, int]
    records_retrained: int
    records_total: int
    checkpoints_deleted: int
    manifest_version: int
    seconds: float
    ledger_entry: str
    certificate: Certificate

    def to_dict(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "forgotten": self.forgotten,
            "retrained": {str(k): v for k, v in self.retrained.items()},
            "records_retrained": self.records_retrained,
            "records_total": self.records_total,
            "checkpoints_deleted": self.checkpoints_deleted,
            "manifest_version": self.manifest_version,
            "seconds": self.seconds,
            "ledger_entry": self.ledger_entry,
            "certificate": self.certificate.to_dict(),
        }


@dataclass(frozen=True)
class SISAStatus:
    """A summary of a SISA model directory."""

    model_dir: str
    shards: int
    slices: int
    records: int
    records_per_shard: list[int]
    aggregation: str
    estimator: str
    incremental: bool
    manifest_version: int
    forget_requests: int
    ledger_head: str
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


# --- the model -----------------------------------------------------------------------------


class SISAModel:
    """A SISA ensemble stored in a model directory. Create with :meth:`train`, reopen with
    :meth:`open`; ``predict``/``predict_proba`` aggregate the shard models; :meth:`forget`
    unlearns records."""

    def __init__(self, model_dir: Path, state: dict[str, Any]) -> None:
        self.model_dir = Path(model_dir)
        self.state = state
        self._models: dict[int, Any] = {}
        self._manifest: dict[str, ManifestEntry] | None = None
        # the manifest's serialised lines, id -> line, kept with ``_manifest`` so a forget
        # writes the next version without re-serialising every unchanged record
        self._lines: dict[str, str] | None = None

    # ---- properties
    @property
    def classes_(self) -> np.ndarray:
        return np.asarray(self.state["classes"])

    @property
    def n_shards(self) -> int:
        return int(self.state["config"]["shards"])

    @property
    def n_slices(self) -> int:
        return int(self.state["config"]["slices"])

    # ---- training
    @classmethod
    def train(
        cls,
        estimator: Any,
        X: Any,
        y: Any,
        model_dir: str | os.PathLike[str],
        *,
        ids: Sequence[Any] | None = None,
        shards: int = 5,
        slices: int = 3,
        aggregation: str = "mean_proba",
        backend: str = "joblib",
        n_jobs: int = 1,
        incremental: bool | None = None,
        random_state: int = 0,
        overwrite: bool = False,
        subjects: Sequence[Any] | None = None,
    ) -> SISAModel:
        """Train a SISA ensemble of clones of ``estimator`` and save it under ``model_dir``.

        ``shards`` S >= 1 and ``slices`` R >= 1; ``aggregation`` "mean_proba" or "vote";
        ``backend`` "joblib" (processes), "ray" or "serial" with ``n_jobs`` workers;
        ``incremental`` None = use ``partial_fit`` when the estimator has it. ``ids`` are the
        records' identifiers (strings; default the row numbers); ``subjects`` (optional) the
        data subject of each record (a customer, an author), so :meth:`forget` can remove every
        record of a person at once. The directory is written next to its final place and
        renamed in one step; an existing one needs ``overwrite``. Retraining over an existing
        model keeps its ledger and leaves out every record whose id, content or subject was
        forgotten (tombstones), so a retrain cannot bring a forgotten record back.
        """
        from sklearn.base import clone

        Xa = np.asarray(X, dtype=np.float64)
        ya = np.asarray(y).ravel()
        if Xa.ndim != 2 or Xa.shape[0] == 0:
            raise InputError(f"expected a non-empty 2-D feature table, got shape {Xa.shape}")
        if ya.shape[0] != Xa.shape[0]:
            raise InputError(f"{Xa.shape[0]} feature rows but {ya.shape[0]} labels")
        if not np.isfinite(Xa).all():
            raise InputError("features contain NaN or infinity; impute or drop them first")
        n = Xa.shape[0]
        id_arr = np.array([str(i) for i in (range(n) if ids is None else ids)], dtype=object)
        if id_arr.shape[0] != n:
            raise InputError(f"{id_arr.shape[0]} ids for {n} records")
        subj = None if subjects is None else np.array([str(s) for s in subjects], dtype=object)
        if subj is not None and subj.shape[0] != n:
            raise InputError(f"{subj.shape[0]} subjects for {n} records")
        uniq, counts = np.unique(id_arr.astype(str), return_counts=True)
        if (counts > 1).any():
            raise InputError(
                f"record id {uniq[counts > 1][0]!r} appears more than once; ids must be unique"
            )
        if not 1 <= shards <= n:
            raise InputError(
                f"shards={shards}; it must be between 1 and the number of records ({n})"
            )
        if slices < 1:
            raise InputError(f"slices={slices}; it must be at least 1")
        if aggregation not in ("mean_proba", "vote"):
            raise InputError(f"aggregation {aggregation!r}; choose 'mean_proba' or 'vote'")
        if backend not in ("joblib", "ray", "serial"):
            raise InputError(f"backend {backend!r}; choose 'joblib', 'ray' or 'serial'")
        if not hasattr(estimator, "fit"):
            raise InputError(
                f"{type(estimator).__name__} has no fit method; pass a "
                "scikit-learn-style classifier"
            )
        try:
            template = clone(estimator)
        except Exception as exc:
            raise InputError(f"cannot clone {type(estimator).__name__}: {exc}") from exc
        if not hasattr(template, "predict_proba") and aggregation == "mean_proba":
            raise InputError(
                f"{type(estimator).__name__} has no predict_proba, which "
                "aggregation='mean_proba' needs",
                hint="use aggregation='vote'",
            )
        inc = hasattr(template, "partial_fit") if incremental is None else bool(incremental)
        if inc and not hasattr(template, "partial_fit"):
            raise InputError(f"incremental=True but {type(estimator).__name__} has no partial_fit")
        est_bytes = _dump(template)
        fingerprint = L.sha256_hex(est_bytes)[:16]
        classes = np.unique(ya)

        target = Path(model_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        with model_lock(target):
            if target.exists() and not overwrite:
                raise InputError(
                    f"model directory {str(target)!r} already exists",
                    hint="choose another --out or pass overwrite",
                )
            prev = _previous_model(target)
            salt = prev["salt"] if prev else secrets.token_hex(16)
            content = [record_hash(Xa[i], ya[i]) for i in range(n)]
            tombstoned = 0
            if prev and any(prev["stones"].values()):
                # tombstones: a retrain never brings back a forgotten id, content or subject
                live = np.array(
                    [
                        not is_tombstoned(
                            salt,
                            prev["stones"],
                            ManifestEntry(
                                str(id_arr[i]), 0, 0, content[i], None if subj is None else subj[i]
                            ),
                        )
                        for i in range(n)
                    ]
                )
                tombstoned = int((~live).sum())
                Xa, ya, id_arr = Xa[live], ya[live], id_arr[live]
                subj = None if subj is None else subj[live]
                content = [c for c, ok in zip(content, live, strict=True) if ok]
                n = Xa.shape[0]
                if not 1 <= shards <= n:
                    raise InputError(
                        f"shards={shards} but only {n} records are left after dropping "
                        f"{tombstoned} forgotten ones"
                    )
            state = cls._build(
                target,
                Xa,
                ya,
                id_arr,
                subj,
                content,
                est_bytes,
                classes,
                inc,
                fingerprint,
                dict(
                    shards=shards,
                    slices=slices,
                    aggregation=aggregation,
                    backend=backend,
                    n_jobs=n_jobs,
                    incremental=inc,
                    random_state=random_state,
                    estimator=type(estimator).__name__,
                    estimator_params=_params(estimator),
                    fingerprint=fingerprint,
                ),
                salt,
                prev,
                tombstoned,
            )
        return cls(target, state)

    @classmethod
    def _build(
        cls,
        target: Path,
        Xa: np.ndarray,
        ya: np.ndarray,
        id_arr: np.ndarray,
        subj: np.ndarray | None,
        content: list[str],
        est_bytes: bytes,
        classes: np.ndarray,
        inc: bool,
        fingerprint: str,
        config: dict[str, Any],
        salt: str,
        prev: dict[str, Any] | None,
        tombstoned: int,
    ) -> dict[str, Any]:
        """Train into a temporary directory beside ``target`` and rename it into place (the
        caller holds the lock). A retrain carries the old ledger and certificates over."""
        n = Xa.shape[0]
        shards, slices = int(config["shards"]), int(config["slices"])
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
        try:
            rng = np.random.default_rng(config["random_state"])
            perm = rng.permutation(n)
            shard_of = np.empty(n, dtype=int)
            slice_of = np.empty(n, dtype=int)
            for s, part in enumerate(np.array_split(perm, shards)):
                shard_of[part] = s
                for r, sl in enumerate(np.array_split(part, slices)):
                    slice_of[sl] = r
            write_bytes_atomic(tmp / "estimator.pkl", est_bytes)
            entries = [
                ManifestEntry(
                    str(id_arr[i]),
                    int(shard_of[i]),
                    int(slice_of[i]),
                    content[i],
                    None if subj is None else str(subj[i]),
                )
                for i in range(n)
            ]
            shard_state = []
            jobs = []
            for s in range(shards):
                sel = np.flatnonzero(shard_of == s)
                data_file = cls._write_shard_data(
                    tmp, s, Xa[sel], ya[sel], id_arr[sel], slice_of[sel]
                )
                shard_state.append({"data": data_file, "n": int(sel.size)})
                jobs.append(
                    dict(
                        root=str(tmp),
                        shard=s,
                        start=0,
                        estimator_bytes=est_bytes,
                        classes=classes,
                        X=Xa[sel],
                        y=ya[sel],
                        ids=id_arr[sel],
                        slice_of=slice_of[sel],
                        n_slices=slices,
                        incremental=inc,
                        fingerprint=fingerprint,
                    )
                )
            t0 = time.perf_counter()
            results = run_shards(jobs, config["backend"], config["n_jobs"])
            for s, keys in enumerate(results):
                shard_state[s]["checkpoints"] = keys
            manifest_file, manifest_sha = write_manifest(
                tmp, 0, [manifest_line(e) for e in entries]
            )
            state: dict[str, Any] = {
                "format": FORMAT,
                "created": _now(),
                "config": config,
                "classes": classes.tolist(),
                "n_features": int(Xa.shape[1]),
                "shards": shard_state,
                "manifest": {"version": 0, "file": manifest_file, "sha256": manifest_sha},
                "train_seconds": time.perf_counter() - t0,
                "salt": salt,
            }
            state["files"] = {rel: file_sha256(tmp / rel) for rel in model_files(state)}
            if prev:  # the history survives a retrain
                shutil.copy2(target / "ledger.jsonl", tmp / "ledger.jsonl")
                if (target / "certificates").is_dir():
                    shutil.copytree(target / "certificates", tmp / "certificates")
            entry = L.append_entry(
                tmp / "ledger.jsonl",
                {
                    "event": "train",
                    "retrain": bool(prev),
                    "time": state["created"],
                    "records": n,
                    "tombstoned": tombstoned,
                    "shards": shards,
                    "slices": slices,
                    "manifest_sha256": manifest_sha,
                    "model_sha256": model_digest(state["files"]),
                    "public_key": prev["public_key"] if prev else L.signing_public_key(),
                },
            )
            state["ledger_head"] = entry["hash"]
            state["forget_requests"] = prev["forget_requests"] if prev else 0
            state["tombstoned"] = tombstoned
            write_json_atomic(tmp / "state.json", state)
            if target.exists():
                old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
                os.replace(target, old)
                os.replace(tmp, target)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return state

    @staticmethod
    def _write_shard_data(
        root: Path, shard: int, X: np.ndarray, y: np.ndarray, ids: np.ndarray, slice_of: np.ndarray
    ) -> str:
        digest = L.sha256_hex("\n".join(sorted(ids.astype(str).tolist())))[:16]
        rel = f"data/s{shard:03d}-{digest}.npz"
        buf = io.BytesIO()
        np.savez(buf, X=X, y=y, ids=ids.astype(str), slice_of=slice_of)
        write_bytes_atomic(root / rel, buf.getvalue())
        return rel

    # ---- loading
    @classmethod
    def open(cls, model_dir: str | os.PathLike[str]) -> SISAModel:
        """Open a SISA model directory written by :meth:`train`."""
        root = Path(model_dir)
        sp = root / "state.json"
        if not sp.exists():
            raise InputError(
                f"{str(root)!r} is not a SISA model directory (no state.json)",
                hint="train one with `probity unlearn train --config sisa.yaml`",
            )
        try:
            state = json.loads(sp.read_text("utf-8"))
        except ValueError as exc:
            raise CorruptIndexError(f"{sp} is not valid JSON") from exc
        if state.get("format") != FORMAT:
            raise CorruptIndexError(f"{sp}: unknown format {state.get('format')!r}")
        return cls(root, state)

    def manifest(self) -> dict[str, ManifestEntry]:
        """The current manifest: record id -> :class:`ManifestEntry` (hash-checked)."""
        if self._manifest is None:
            self._manifest = read_manifest(self.model_dir, self.state["manifest"])
            self._lines = None
        return self._manifest

    def _shard_model(self, s: int) -> Any:
        if s not in self._models:
            keys = self.state["shards"][s]["checkpoints"]
            key = keys[-1] if keys else None
            if key is None:
                self._models[s] = None
            else:
                path = _ckpt_path(self.model_dir, s, self.n_slices - 1, key)
                if not path.exists():
                    raise CorruptIndexError(f"checkpoint {path} is missing")
                with open(path, "rb") as fh:
                    self._models[s] = pickle.load(fh)
        return self._models[s]

    # ---- prediction
    def predict_proba(self, X: Any) -> np.ndarray:
        """Aggregated class probabilities, columns in ``classes_`` order.

        mean_proba: the mean over shard models of their probabilities; vote: the fraction of
        shard models predicting each class. Shards left without records are skipped.
        """
        Xa = np.asarray(X, dtype=np.float64)
        if Xa.ndim != 2 or Xa.shape[1] != self.state["n_features"]:
            raise InputError(
                f"expected {self.state['n_features']} features per row, got shape {Xa.shape}"
            )
        classes = self.classes_
        total = np.zeros((Xa.shape[0], len(classes)))
        used = 0
        vote = self.state["config"]["aggregation"] == "vote"
        for s in range(self.n_shards):
            model = self._shard_model(s)
            if model is None or (isinstance(model, _Constant) and model.label is None):
                continue
            cols = np.searchsorted(classes, np.asarray(model.classes_))
            if vote:
                pred = np.asarray(model.predict(Xa))
                total[np.arange(len(pred)), np.searchsorted(classes, pred)] += 1.0
            else:
                total[:, cols] += np.asarray(model.predict_proba(Xa), dtype=float)
            used += 1
        if used == 0:
            raise ModelError("every shard is empty: all records were forgotten")
        return total / used

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def score(self, X: Any, y: Any) -> float:
        """Accuracy on (X, y)."""
        return float(np.mean(self.predict(X) == np.asarray(y).ravel()))

    # ---- forgetting
    def forget(
        self,
        ids: Sequence[Any] = (),
        *,
        subjects: Sequence[Any] = (),
        content_sha256: Sequence[str] = (),
        reason: str = "",
        backend: str | None = None,
        n_jobs: int | None = None,
        duplicates: bool = True,
    ) -> ForgetResult:
        """Remove records and their influence; returns a :class:`ForgetResult` with a signed
        certificate. Records are chosen by ``ids``, by data ``subjects`` (every record of each
        subject, see :meth:`train`) and by ``content_sha256`` (the manifest's content hash,
        :func:`record_hash`). An unknown id, subject or hash raises :class:`UnknownKeyError`
        and changes nothing.

        ``duplicates`` (default): also forget every other record with the same content
        (features and label) as a forgotten one, so a copy under another id cannot keep it in
        the model. The model directory is locked for the whole request; the state is re-read
        under the lock, so concurrent forgets (threads or processes) apply one after the other.
        """
        with model_lock(self.model_dir):
            wal.check_clean(self.model_dir)
            sp = self.model_dir / "state.json"
            fresh = json.loads(sp.read_text("utf-8"))
            if fresh.get("ledger_head") != self.state.get("ledger_head"):
                self.state = fresh  # another writer committed since this model was opened
                self._models.clear()
                self._manifest = None
                self._lines = None
            subj = list(dict.fromkeys(str(s) for s in subjects))
            want = self._resolve(ids, subj, content_sha256)
            return self._forget_locked(want, subj, reason, backend, n_jobs, duplicates)

    def _resolve(
        self, ids: Sequence[Any], subjects: list[str], content_sha256: Sequence[str]
    ) -> list[str]:
        """The record ids a request names (ids, then every record of each subject or hash)."""
        want = list(dict.fromkeys(str(i) for i in ids))
        if not (want or subjects or content_sha256):
            raise InputError("no ids given to forget (nor subjects or content hashes)")
        manifest = self.manifest()
        missing = [i for i in want if i not in manifest]
        if missing:
            raise UnknownKeyError(
                f"{len(missing)} of {len(want)} ids are not in the manifest "
                f"(e.g. {', '.join(repr(m) for m in missing[:5])}); nothing was forgotten",
                hint="they were never trained on or were already forgotten; see "
                "`probity unlearn status`",
            )
        for what, values, attr in (
            ("subjects", subjects, "subject"),
            ("content hashes", [str(h).lower() for h in content_sha256], "sha256"),
        ):
            if not values:
                continue
            keys = set(values)
            found = [i for i, e in manifest.items() if getattr(e, attr) in keys]
            seen = {getattr(manifest[i], attr) for i in found}
            unknown = [v for v in values if v not in seen]
            if unknown:
                raise UnknownKeyError(
                    f"{len(unknown)} of {len(values)} {what} match no record in the manifest "
                    f"(e.g. {unknown[0]!r}); nothing was forgotten"
                )
            want += [i for i in found if i not in set(want)]
        return want

    def _forget_locked(
        self,
        want: list[str],
        subjects: list[str],
        reason: str,
        backend: str | None,
        n_jobs: int | None,
        duplicates: bool,
    ) -> ForgetResult:
        t0 = time.perf_counter()
        manifest = self.manifest()
        requested = len(want)
        if duplicates:
            gone = {manifest[i].sha256 for i in want}
            asked = set(want)
            want += [i for i, e in manifest.items() if e.sha256 in gone and i not in asked]
        cfg = self.state["config"]
        R = self.n_slices
        inc = bool(cfg["incremental"])
        est_bytes = (self.model_dir / "estimator.pkl").read_bytes()
        classes = self.classes_
        by_shard: dict[int, list[str]] = {}
        for i in want:
            by_shard.setdefault(manifest[i].shard, []).append(i)
        first = {s: min(manifest[i].slice for i in lst) for s, lst in by_shard.items()}
        new_shards = [dict(sh) for sh in self.state["shards"]]
        stale: list[Path] = []
        jobs = []
        records_retrained = 0
        for s, start in sorted(first.items()):
            sh = self.state["shards"][s]
            with np.load(self.model_dir / sh["data"], allow_pickle=False) as z:
                X, y, sid, slice_of = z["X"], z["y"], z["ids"], z["slice_of"]
            keep = ~np.isin(sid, np.array(by_shard[s], dtype=str))
            X, y, sid, slice_of = X[keep], y[keep], sid[keep].astype(object), slice_of[keep]
            new_shards[s]["data"] = self._write_shard_data(self.model_dir, s, X, y, sid, slice_of)
            new_shards[s]["n"] = int(keep.sum())
            if new_shards[s]["data"] != sh["data"]:
                stale.append(self.model_dir / sh["data"])
            begin = start if inc else 0
            for r in range(begin, R):
                k = sh["checkpoints"][r]
                if k is not None:
                    stale.append(_ckpt_path(self.model_dir, s, r, k))
            records_retrained += (
                int(sum((slice_of <= r).sum() for r in range(begin, R))) if inc else int(keep.sum())
            )
            jobs.append(
                (
                    s,
                    begin,
                    dict(
                        root=str(self.model_dir),
                        shard=s,
                        start=begin,
                        estimator_bytes=est_bytes,
                        classes=classes,
                        X=X,
                        y=y,
                        ids=sid,
                        slice_of=slice_of,
                        n_slices=R,
                        incremental=inc,
                        fingerprint=cfg["fingerprint"],
                    ),
                )
            )
        # starting worker processes costs ~1 s; below this much work a forget runs in-process
        work = sum(int(j["X"].shape[0]) for _, _, j in jobs)
        chosen = backend or cfg["backend"]
        if backend is None and work < PARALLEL_MIN_RECORDS:
            chosen = "serial"
        results = run_shards([j for _, _, j in jobs], chosen, n_jobs or cfg["n_jobs"])
        deleted_keys = []
        for (s, begin, _), keys in zip(jobs, results, strict=True):
            old = self.state["shards"][s]["checkpoints"]
            new_shards[s]["checkpoints"] = list(old[:begin]) + list(keys)
            deleted_keys += [k for k in old[begin:] if k is not None and k not in keys]
        forgotten = set(want)
        version = int(self.state["manifest"]["version"]) + 1
        if self._lines is None:
            self._lines = {i: manifest_line(e) for i, e in manifest.items()}
        lines = dict(self._lines)  # same order as the manifest
        kept = dict(manifest)
        for i in forgotten:
            del lines[i], kept[i]
        mfile, msha = write_manifest(self.model_dir, version, lines.values())
        request_id = uuid.uuid4().hex
        now = _now()
        total_visits = sum(int(sh["n"]) for sh in self.state["shards"]) * (R if inc else 1)
        new_state = dict(self.state)
        new_state["shards"] = new_shards
        new_state["manifest"] = {"version": version, "file": mfile, "sha256": msha}
        old_files = dict(self.state.get("files", {}))
        files = {rel: old_files.get(rel) for rel in model_files(new_state)}
        new_files = [rel for rel, h in files.items() if h is None]
        for rel in new_files:
            files[rel] = file_sha256(self.model_dir / rel)
        new_state["files"] = files
        stale_rel = sorted(
            {str(p.relative_to(self.model_dir)) for p in stale}
            | {str(p.relative_to(self.model_dir)) for p in old_manifests(self.model_dir, mfile)}
        )
        stale_rel = [r for r in stale_rel if r not in files]
        # a model trained before salted tombstones gets its salt at its first forget
        salt = self.state.get("salt") or secrets.token_hex(16)
        new_state["salt"] = salt
        ids_salted = sorted(salted(salt, "id", i) for i in want)
        records_salted = sorted({salted(salt, "content", manifest[i].sha256) for i in want})
        subjects_salted = sorted(salted(salt, "subject", x) for x in subjects)
        facts = {
            "request_id": request_id,
            "time": now,
            "forgotten": len(want),
            "requested": requested,
            "ids_salted": ids_salted,
            "records_salted": records_salted,
            "subjects_salted": subjects_salted,
            "retrained": {
                str(s): {
                    "from_slice": (b if inc else 0),
                    "slices": R - (b if inc else 0),
                    "records_after": new_shards[s]["n"],
                }
                for s, b, _ in jobs
            },
            "checkpoints_deleted": sorted(deleted_keys),
            "manifest_before": self.state["manifest"]["sha256"],
            "manifest_after": msha,
            "model_sha256": model_digest(files),
        }
        ledger_path = self.model_dir / "ledger.jsonl"
        entry = L.make_entry(ledger_path, {"event": "forget", **facts})
        claims = {
            **facts,
            "reason": reason,
            "model_dir": str(self.model_dir.resolve()),
            "model_format": FORMAT,
            "manifest_version": version,
            "method": "SISA: affected shards retrained from the last checkpoint before the "
            "first affected slice; stale checkpoints and data deleted",
            "ledger_entry": entry["hash"],
        }
        cert = L.sign_certificate("unlearning", claims)
        new_state["ledger_head"] = entry["hash"]
        new_state["forget_requests"] = int(self.state.get("forget_requests", 0)) + 1
        journal = {
            "entry": entry,
            "certificate": cert.to_dict(),
            "certificate_file": f"certificates/{request_id}.json",
            "new_state": new_state,
            "new_files": [*new_files, mfile],
            "stale_files": stale_rel,
        }
        wal.write_journal(self.model_dir, journal)  # write-ahead: repair can finish or undo
        L.append_line(ledger_path, entry)
        write_json_atomic(self.model_dir / journal["certificate_file"], journal["certificate"])
        wal.commit_state(self.model_dir, new_state)  # the commit point
        wal.cleanup(self.model_dir, journal)  # stale files: nothing references them any more
        self.state = new_state
        self._models.clear()
        self._manifest = kept
        self._lines = lines
        return ForgetResult(
            request_id=request_id,
            forgotten=len(want),
            retrained={s: (b if inc else 0) for s, b, _ in jobs},
            records_retrained=records_retrained,
            records_total=total_visits,
            checkpoints_deleted=len(deleted_keys),
            manifest_version=version,
            seconds=time.perf_counter() - t0,
            ledger_entry=entry["hash"],
            certificate=cert,
        )

    # ---- verification and status
    def verify_ledger(self, public_key: str | None = None) -> dict[str, Any]:
        """Verify the model directory against its ledger (see
        :func:`probity.unlearning.integrity.verify_model`): chain and head, manifest and model
        files against the last entry, one certificate per forget signed by the pinned key
        (the ledger's training entry, or ``public_key``: hex or a `probity keys export` file),
        and no forgotten record back in the manifest. Raises :class:`TamperedError`."""
        with model_lock(self.model_dir):  # a forget in flight is not mistaken for a crash
            sp = self.model_dir / "state.json"
            self.state = json.loads(sp.read_text("utf-8"))
            self._manifest = None
            self._models.clear()
            out = verify_model(self.model_dir, self.state, self.manifest(), public_key=public_key)
        return {**out, "manifest_version": self.state["manifest"]["version"]}

    def status(self) -> SISAStatus:
        cfg = self.state["config"]
        per = [int(sh["n"]) for sh in self.state["shards"]]
        return SISAStatus(
            model_dir=str(self.model_dir),
            shards=self.n_shards,
            slices=self.n_slices,
            records=sum(per),
            records_per_shard=per,
            aggregation=cfg["aggregation"],
            estimator=cfg["estimator"],
            incremental=bool(cfg["incremental"]),
            manifest_version=int(self.state["manifest"]["version"]),
            forget_requests=int(self.state.get("forget_requests", 0)),
            ledger_head=self.state["ledger_head"],
            extra={
                "classes": self.state["classes"],
                "train_seconds": round(self.state.get("train_seconds", 0.0), 3),
                "tombstoned_at_last_train": int(self.state.get("tombstoned", 0)),
                # a forget crashed before committing: `probity unlearn repair` is needed
                "needs_repair": (self.model_dir / wal.JOURNAL).exists(),
            },
        )


def _previous_model(target: Path) -> dict[str, Any] | None:
    """What a retrain over an existing model keeps: its salt, signing key, forget count and
    tombstones (after checking its ledger chain and that no forget is half done)."""
    sp = target / "state.json"
    if not sp.exists():
        return None
    state = json.loads(sp.read_text("utf-8"))
    wal.check_clean(target)
    L.verify_ledger(target / "ledger.jsonl", head=state.get("ledger_head"))
    entries = L.read_ledger(target / "ledger.jsonl")
    # a model from before salted tombstones has none to carry, but keeps its history
    salt = state.get("salt") or secrets.token_hex(16)
    return {
        "salt": salt,
        "public_key": entries[0].get("public_key") or L.signing_public_key(),
        "forget_requests": int(state.get("forget_requests", 0)),
        "stones": tombstones(entries),
    }


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def _params(est: Any) -> dict[str, Any]:
    try:
        params = est.get_params(deep=False)
    except Exception:
        return {}
    return {k: v for k, v in params.items() if isinstance(v, int | float | str | bool | None)}


__all__ = [
    "FORMAT",
    "ForgetResult",
    "ManifestEntry",
    "SISAModel",
    "SISAStatus",
    "ckpt_rel",
    "ids_key",
    "record_hash",
]
