"""Zero-shot machine-text detectors over local causal LMs, calibrated to a false-positive rate."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from probity.detect.calibration import Calibration, fit_calibration
from probity.detect.scores import (
    binoculars_scores,
    fast_detectgpt_scores,
    log_perplexity_scores,
    token_counts,
)
from probity.errors import InputError
from probity.home import home_path

Method = Literal["fast-detectgpt", "binoculars", "perplexity"]
METHODS: tuple[str, ...] = ("fast-detectgpt", "binoculars", "perplexity")

#: Texts shorter than this many scored tokens get a verdict of "too short".
MIN_TOKENS = 16

LIMITS = (
    "Zero-shot detection is evidence, not proof: its false-positive rate holds only for text "
    "like the human calibration set.",
    "Short texts (under about 100 tokens) carry little signal, and texts shorter than the "
    "human calibration passages are compared less reliably.",
    "Paraphrasing or light editing of generated text lowers the score.",
    "Text by non-native writers and formulaic text (forms, code, lists) is flagged more often.",
)


@dataclass(frozen=True)
class ZeroShotResult:
    """One text's zero-shot evidence. ``score``: higher = more machine-like. ``p_value``: the
    conformal p-value against the human calibration (None when uncalibrated). ``verdict``:
    ``machine-likely`` (p <= fpr), ``no-evidence``, ``too-short`` or ``uncalibrated``."""

    method: str
    score: float
    tokens: int
    p_value: float | None
    fpr: float
    verdict: str
    calibration_source: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "score": None if np.isnan(self.score) else self.score,
            "tokens": self.tokens,
            "p_value": self.p_value,
            "fpr": self.fpr,
            "verdict": self.verdict,
            "calibration_source": self.calibration_source,
        }


class ZeroShotDetector:
    """Fast-DetectGPT, Binoculars or the log-perplexity baseline over local transformers models.

    ``model`` is an :class:`~probity.lm.HFModel` (or a name/path, loaded with ``load_model``);
    ``performer`` is Binoculars' second model (defaults to ``model``). Each text is scored on
    its first ``max_tokens`` tokens (capped at the model's context window). Call :meth:`calibrate`
    on human text (or pass a ``calibration``) before :meth:`detect` gives verdicts.
    """

    def __init__(
        self,
        method: str = "fast-detectgpt",
        model: Any = None,
        *,
        performer: Any = None,
        max_tokens: int = 512,
        batch_size: int = 8,
        calibration: Calibration | None = None,
    ) -> None:
        if method not in METHODS:
            raise InputError(f"unknown detection method {method!r}; choose one of {list(METHODS)}")
        from probity.lm import load_model

        self.method = method
        self.model = _as_model(model, load_model)
        if performer is None:
            self.performer = self.model
        else:
            self.performer = _as_model(performer, load_model)
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        self.calibration = calibration

    @property
    def models(self) -> tuple[str, ...]:
        if self.method == "binoculars":
            return (self.model.name, self.performer.name)
        return (self.model.name,)

    def scores(self, texts: Sequence[str], *, max_tokens: int | None = None) -> np.ndarray:
        """Raw scores (higher = more machine-like) over each text's first ``max_tokens``
        tokens (default ``self.max_tokens``); NaN for texts under 2 tokens."""
        texts = list(texts)
        if not texts:
            return np.empty(0)
        kw = dict(max_tokens=max_tokens or self.max_tokens, batch_size=self.batch_size)
        if self.method == "fast-detectgpt":
            return fast_detectgpt_scores(self.model, texts, **kw)
        if self.method == "binoculars":
            return binoculars_scores(self.model, self.performer, texts, **kw)
        return log_perplexity_scores(self.model, texts, **kw)

    def calibrate(
        self, human_texts: Sequence[str], *, source: str = "user-supplied human text"
    ) -> Calibration:
        """Score ``human_texts`` and keep them as this detector's calibration.

        Texts to check are later scored on the same leading ``max_tokens`` tokens; calibrate
        on human passages at least as long as the texts you will check (shorter checked texts
        score closer to zero, which is more machine-like for human text)."""
        self.calibration = fit_calibration(
            self.scores(human_texts),
            method=self.method,
            models=self.models,
            source=source,
            max_tokens=self.max_tokens,
        )
        return self.calibration

    def detect(self, texts: Sequence[str], *, fpr: float = 0.01) -> list[ZeroShotResult]:
        """Score and decide each text at false-positive rate ``fpr``."""
        if not 0 < fpr < 1:
            raise InputError(f"fpr must be in (0, 1), got {fpr}")
        cal = self.calibration
        if cal is not None:
            if cal.method != self.method:
                raise InputError(
                    f"calibration is for {cal.method!r}, detector uses {self.method!r}"
                )
            cal.threshold(fpr)  # raises when the calibration is too small for this fpr
        texts = list(texts)
        # score as the calibration texts were scored: the same leading number of tokens
        # (Fast-DetectGPT's statistic grows like the square root of the length)
        limit = cal.max_tokens if cal is not None else self.max_tokens
        scores = self.scores(texts, max_tokens=limit)
        counts = token_counts(self.model, texts, limit)
        out = []
        for s, n in zip(scores.tolist(), counts, strict=True):
            if n < MIN_TOKENS or np.isnan(s):
                p, verdict = None, "too-short"
            elif cal is None:
                p, verdict = None, "uncalibrated"
            else:
                p = cal.p_value(s)
                verdict = "machine-likely" if p <= fpr else "no-evidence"
            out.append(
                ZeroShotResult(
                    self.method, float(s), n, p, fpr, verdict, cal.source if cal else None
                )
            )
        return out


def _as_model(model: Any, load_model: Any) -> Any:
    """A loaded model as is; a name or path (``str``/``PathLike``/``None``) loaded.

    ``str`` has an ``encode`` method too, so duck typing alone would keep a path string.
    """
    if model is None or isinstance(model, (str, os.PathLike)):
        return load_model(model)
    return model


def calibration_path(method: str, models: Sequence[str]) -> Path:
    """Where a user calibration for this method and model(s) is kept in the Probity home."""
    digest = hashlib.sha256("|".join([method, *models]).encode()).hexdigest()[:16]
    return home_path("detect", f"{method}-{digest}.json")


def find_calibration(method: str, models: Sequence[str]) -> Calibration | None:
    """A saved user calibration, else the one shipped for the embedded demo model, else None."""
    user = calibration_path(method, models)
    if user.exists():
        return Calibration.load(user)
    from probity.lm.embedded import DEMO_MODEL, demo_model_path

    if all(m == DEMO_MODEL for m in models):
        shipped = demo_model_path() / "detector-calibration.json"
        if shipped.exists():
            import json

            data = json.loads(shipped.read_text("utf-8"))
            if method in data:
                return Calibration.from_dict(data[method])
    return None
