"""Per-key calibration: the score's null distribution measured on the deployer's human text.

The binomial (KGW) and Gamma (Gumbel) nulls assume every scored token is an independent draw.
For one fixed key on one domain that is false: frequent token pairs ("of the", "it is") are
green or red for that key in every document, so the key's mean score drifts away from
``gamma`` and its false-positive rate can be several times the nominal one (issue 20 measured
3.7x at 1e-3). :func:`calibrate` measures, for one key and scheme, the per-token mean and
variance of the score on human text and the empirical distribution of the standardised block
score ``(S - n mu) / sqrt(n var)`` for blocks of 16 .. 512 scored tokens. Detection then reads
its p-value from those quantiles (the fraction of human blocks at least as high, ``(k + 1) /
(N + 1)``); beyond the 10th highest human block, where counts are too small, the tail is a
normal tail with the blocks' spread scaled to meet the empirical value at that point (stated in
the p-value's ``null`` label). Optionally the ``skip_frequent`` most frequent (context, token)
pairs of the corpus are not scored at all (a skip list: their green/red colour is the same in
every document, so they carry no evidence about a text and most of the per-key bias).

A calibration is stored beside the key (``<home>/keys/calibrations/<key_id>.json``, one entry
per scheme fingerprint) and applied by :func:`attach_calibration` / the CLI automatically.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from probity.errors import InputError
from probity.home import keys_dir
from probity.io import write_json_atomic

CALIBRATION_FORMAT = "probity-watermark-calibration/1"
#: block lengths (scored tokens) whose standardised scores form the empirical null
BLOCK_LENGTHS = (16, 32, 64, 128, 256, 512)
#: below this many human blocks at least as high, the tail is extrapolated (see module doc)
TAIL_ANCHOR = 10
#: stored null values per block length at most (a quantile grid beyond that)
MAX_STORED = 20_000
_MIN_BLOCKS = 50


def fingerprint(params: dict[str, Any]) -> str:
    """The detection-relevant scheme parameters as a stable string (generation-only settings
    such as ``delta`` and ``hard`` do not change the score's null and are left out)."""
    keep = {k: v for k, v in params.items() if k not in ("delta", "hard", "null", "calibration")}
    return json.dumps(keep, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class Calibration:
    """A key's empirical null for one scheme (see the module docstring).

    ``mu``/``var``: per-token mean and variance of the score on the corpus; ``lengths`` and
    ``nulls``: sorted standardised block scores per block length; ``blocks``: how many blocks
    each length had (``nulls`` may be a quantile grid of them); ``skip``: hashes of the
    (context, token) pairs that are not scored.
    """

    name: str
    scheme: str
    params_fingerprint: str
    documents: int
    tokens: int
    mu: float
    var: float
    lengths: tuple[int, ...]
    nulls: tuple[np.ndarray, ...]
    blocks: tuple[int, ...]
    skip: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.uint64))
    created: str = ""

    @property
    def label(self) -> str:
        """How detection p-values are computed under this calibration (``Detection.null``)."""
        skip = f", {len(self.skip)} frequent pairs skipped" if len(self.skip) else ""
        return (
            f"calibrated on {self.name!r} ({self.documents} documents, {self.tokens} scored "
            f"tokens{skip}): empirical quantiles of the key's block scores, scaled normal tail "
            f"beyond the top {TAIL_ANCHOR}"
        )

    def pvalues(self, stat: np.ndarray, n: np.ndarray) -> np.ndarray:
        """P-values of block sums ``stat`` over ``n`` scored tokens (vectorised)."""
        from scipy.special import log_ndtr

        stat = np.asarray(stat, dtype=np.float64)
        n = np.asarray(n, dtype=np.float64)
        out = np.ones(stat.shape, dtype=np.float64)
        ok = n > 0
        if not ok.any():
            return out
        sd = np.sqrt(np.maximum(self.var, 1e-12) * n[ok])
        z = (stat[ok] - self.mu * n[ok]) / sd
        lens = np.log(np.asarray(self.lengths, dtype=np.float64))
        which = np.abs(np.log(np.maximum(n[ok], 1))[:, None] - lens[None, :]).argmin(axis=1)
        p = np.empty(len(z))
        for j in np.unique(which):
            sel = which == j
            null = self.nulls[j]
            total = self.blocks[j]
            scale = total / len(null)  # stored values stand for `scale` blocks each
            zz = z[sel]
            at_least = (len(null) - np.searchsorted(null, zz, side="left")) * scale
            emp = (at_least + 1) / (total + 1)
            anchor_i = max(len(null) - int(np.ceil(TAIL_ANCHOR / scale)), 0)
            z_a = null[anchor_i]
            p_a = (TAIL_ANCHOR + 1) / (total + 1)
            spread = max(float(np.std(null)), 1e-6)
            tail = np.exp(
                np.log(p_a) + log_ndtr(-zz / spread) - log_ndtr(-np.float64(z_a) / spread)
            )
            p[sel] = np.where(zz > z_a, np.minimum(tail, p_a), emp)
        out[ok] = np.clip(p, 0.0, 1.0)
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON form (stored beside the key)."""
        return {
            "format": CALIBRATION_FORMAT,
            "name": self.name,
            "scheme": self.scheme,
            "params": json.loads(self.params_fingerprint),
            "documents": self.documents,
            "tokens": self.tokens,
            "mu": self.mu,
            "var": self.var,
            "lengths": list(self.lengths),
            "blocks": list(self.blocks),
            "nulls": [np.round(a, 5).tolist() for a in self.nulls],
            "skip": [int(x) for x in self.skip],
            "created": self.created,
            "null": self.label,
        }

    def summary(self) -> dict[str, Any]:
        """What the CLI prints: the counts and the per-key drift, not the quantile tables."""
        d = {k: v for k, v in self.to_dict().items() if k not in ("format", "nulls", "skip")}
        d["blocks"] = dict(zip(map(str, self.lengths), self.blocks, strict=True))
        d["skipped_pairs"] = len(self.skip)
        del d["lengths"]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Calibration:
        try:
            return cls(
                name=str(d["name"]),
                scheme=str(d["scheme"]),
                params_fingerprint=fingerprint(d["params"]),
                documents=int(d["documents"]),
                tokens=int(d["tokens"]),
                mu=float(d["mu"]),
                var=float(d["var"]),
                lengths=tuple(int(x) for x in d["lengths"]),
                nulls=tuple(np.asarray(a, dtype=np.float64) for a in d["nulls"]),
                blocks=tuple(int(x) for x in d["blocks"]),
                skip=np.asarray(sorted(int(x) for x in d.get("skip", [])), dtype=np.uint64),
                created=str(d.get("created", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"damaged watermark calibration: {exc}") from exc


def frequent_pairs(scheme: Any, corpus: Iterable[Sequence[int]], top: int) -> np.ndarray:
    """Hashes of the ``top`` most frequent (context, token) pairs of ``corpus`` for ``scheme``
    (counted once per document, so one repetitive document does not dominate)."""
    from probity.watermark.schemes import _as_ids

    keys = []
    for doc in corpus:
        ids = _as_ids(doc)
        pos = np.arange(scheme._min_context, len(ids), dtype=np.int64)
        if pos.size:
            keys.append(np.unique(scheme._repeat_keys(ids, pos)))
    if not keys or top <= 0:
        return np.empty(0, dtype=np.uint64)
    uniq, counts = np.unique(np.concatenate(keys), return_counts=True)
    order = np.argsort(-counts, kind="stable")[:top]
    return np.sort(uniq[order[counts[order] > 1]])


def calibrate(
    scheme: Any,
    corpus: Iterable[Sequence[int]],
    *,
    name: str = "corpus",
    skip_frequent: int = 0,
    reference: Iterable[Sequence[int]] | None = None,
) -> Calibration:
    """Measure ``scheme``'s null on ``corpus`` (token-id sequences of human text).

    ``skip_frequent`` > 0 builds a skip list of that many most frequent (context, token)
    pairs from ``reference`` (default: the corpus itself); skipped pairs are not scored and
    the calibration is measured without them. Needs at least 50 blocks of 16 scored tokens.
    """
    docs = [np.asarray(d, dtype=np.int64) for d in corpus]
    if not docs:
        raise InputError("the calibration corpus is empty")
    skip = np.empty(0, dtype=np.uint64)
    if skip_frequent:
        skip = frequent_pairs(scheme, reference if reference is not None else docs, skip_frequent)
    base = scheme.without_calibration()
    base.skip = skip
    per_doc = []
    for d in docs:
        values, _scored, counted = base.score_positions(d)
        if counted.any():
            per_doc.append(values[counted])
    tokens = sum(len(v) for v in per_doc)
    if not tokens:
        raise InputError("no token of the calibration corpus could be scored (texts too short?)")
    allv = np.concatenate(per_doc)
    mu, var = float(allv.mean()), float(max(allv.var(), 1e-12))
    lengths, nulls, blocks = [], [], []
    for length in BLOCK_LENGTHS:
        zs = []
        for v in per_doc:
            m = len(v) // length
            if m:
                sums = v[: m * length].reshape(m, length).sum(axis=1)
                zs.append((sums - mu * length) / np.sqrt(var * length))
        if not zs:
            continue
        z = np.sort(np.concatenate(zs))
        if len(z) < _MIN_BLOCKS:
            continue
        total = len(z)
        if total > MAX_STORED:
            z = np.quantile(z, np.linspace(0, 1, MAX_STORED))
        lengths.append(length)
        nulls.append(z)
        blocks.append(total)
    if not lengths:
        raise InputError(
            f"the calibration corpus is too small: {tokens} scored tokens give fewer than "
            f"{_MIN_BLOCKS} blocks of {BLOCK_LENGTHS[0]}; give more human text"
        )
    return Calibration(
        name=name,
        scheme=base.name,
        params_fingerprint=fingerprint(base.public_params()),
        documents=len(docs),
        tokens=int(tokens),
        mu=mu,
        var=var,
        lengths=tuple(lengths),
        nulls=tuple(nulls),
        blocks=tuple(blocks),
        skip=skip,
        created=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    )


def _store(key_id: str) -> Path:
    return keys_dir() / "calibrations" / f"{key_id}.json"


def save_calibration(key_id: str, cal: Calibration) -> Path:
    """Store ``cal`` beside key ``key_id`` (replacing one for the same scheme parameters)."""
    path = _store(key_id)
    data = _read(path)
    data["entries"][cal.params_fingerprint] = cal.to_dict()
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(path, data)
    return path


def _read(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {"format": CALIBRATION_FORMAT, "entries": {}}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read watermark calibration {path}: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("entries"), dict):
        raise InputError(f"{path} is not a Probity watermark calibration file")
    return data


def load_calibration(key_id: str | None, params: dict[str, Any]) -> Calibration | None:
    """The stored calibration of key ``key_id`` for a scheme with ``params``, or None."""
    if not key_id:
        return None
    entry = _read(_store(key_id))["entries"].get(fingerprint(params))
    return None if entry is None else Calibration.from_dict(entry)


def attach_calibration(scheme: Any) -> Any:
    """``scheme`` with its key's stored calibration applied, when there is one."""
    cal = load_calibration(scheme.key_id, scheme.without_calibration().public_params())
    return scheme if cal is None else scheme.with_calibration(cal)
