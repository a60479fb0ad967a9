"""Calibration of a zero-shot detector on human text: thresholds at a stated false-positive rate.

A detector's raw score means nothing on its own (its scale depends on the model and the kind
of text). Probity turns it into a *conformal p-value* against scores of known human texts:

    p(s) = (1 + #{human scores >= s}) / (n + 1)

Under exchangeability of the new human text with the calibration texts, ``P(p <= a) <= a`` for
every ``a``: flagging texts with ``p <= fpr`` has a false-positive rate of at most ``fpr`` on
text like the calibration set. It says nothing about other kinds of text (another language,
domain or non-native writers), which is why the calibration source is recorded and reported.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from probity.errors import CorruptIndexError, InputError
from probity.io import write_json_atomic


@dataclass(frozen=True)
class Calibration:
    """Human-text scores of one detector configuration (sorted ascending)."""

    method: str
    models: tuple[str, ...]
    scores: tuple[float, ...]
    source: str = ""
    max_tokens: int = 512
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.scores)

    def p_value(self, score: float) -> float:
        """Conformal p-value of ``score`` (higher scores are more machine-like)."""
        arr = np.asarray(self.scores)
        exceed = self.n - int(np.searchsorted(arr, score, side="left"))
        return (1 + exceed) / (self.n + 1)

    def threshold(self, fpr: float) -> float:
        """The smallest score flagged at ``fpr`` (``p_value(score) <= fpr``)."""
        min_fpr = 1 / (self.n + 1)
        if fpr < min_fpr:
            raise InputError(
                f"a false-positive rate of {fpr:g} needs at least {int(np.ceil(1 / fpr)) - 1} "
                f"human texts in the calibration; this one has {self.n}",
                hint="calibrate on more human text or choose a larger --fpr",
            )
        k = int(np.floor(fpr * (self.n + 1))) - 1  # allowed number of human scores >= threshold
        arr = np.asarray(self.scores)
        # flagged iff score > arr[n-1-k] (then at most k human scores are >= it)
        return float(np.nextafter(arr[self.n - 1 - k], np.inf))

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "models": list(self.models),
            "n": self.n,
            "source": self.source,
            "max_tokens": self.max_tokens,
            "scores": list(self.scores),
            "extra": self.extra,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
        return cls(
            method=data["method"],
            models=tuple(data["models"]),
            scores=tuple(sorted(float(s) for s in data["scores"])),
            source=data.get("source", ""),
            max_tokens=int(data.get("max_tokens", 512)),
            extra=data.get("extra", {}),
        )

    def save(self, path: str | Path) -> Path:
        write_json_atomic(path, self.to_dict())
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> Calibration:
        p = Path(path)
        if not p.exists():
            raise InputError(f"calibration file not found: {str(p)!r}")
        try:
            return cls.from_dict(json.loads(p.read_text("utf-8")))
        except (ValueError, KeyError, TypeError) as exc:
            raise CorruptIndexError(f"calibration file {str(p)!r} is not valid: {exc}") from exc


def fit_calibration(
    scores: np.ndarray, *, method: str, models: tuple[str, ...], source: str, max_tokens: int = 512
) -> Calibration:
    """Build a calibration from human-text scores (NaNs, from too-short texts, are dropped)."""
    arr = np.asarray(scores, dtype=float)
    arr = np.sort(arr[np.isfinite(arr)])
    if arr.size < 20:
        raise InputError(
            f"only {arr.size} usable human texts to calibrate on; give at least 20 "
            "(each with 2 or more tokens)"
        )
    return Calibration(
        method=method,
        models=models,
        scores=tuple(arr.tolist()),
        source=source,
        max_tokens=max_tokens,
    )
