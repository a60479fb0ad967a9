"""Stereotype sentence pairs scored by likelihood (CrowS-Pairs style), for local models.

Each pair holds a sentence expressing a stereotype and a minimally different
anti-stereotypical one. The model's total log-likelihood of each sentence (sum over its
tokens, from the same batched forward pass the detectors use) decides which it prefers. Per
category: the share of pairs where the stereotypical sentence is more likely, with a 95%
Wilson interval and an exact two-sided binomial test against 1/2 (no preference), Holm or BH
across categories. Ties (equal log-likelihoods) are counted and left out. Pairs are few and
hand-written, so read a category's share as describing those pairs, not the model at large.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from probity.errors import InputError
from probity.probes._util import clean
from probity.probes.stats import with_adjusted
from probity.stats import wilson

_SUITES = Path(__file__).parent / "suites"


@dataclass(frozen=True)
class PairCategory:
    """One category's preference for the stereotypical sentence."""

    category: str
    pairs: int
    ties: int
    stereotype_preferred: int
    share: float
    low: float
    high: float
    p_value: float
    p_adjusted: float | None
    significant: bool | None


@dataclass(frozen=True)
class PairsResult:
    """Everything the stereotype-pairs probe measured; ``to_dict()`` is the JSON shape."""

    suite: str
    model: str
    correction: str
    alpha: float
    overall: PairCategory
    categories: list[PairCategory]
    pairs: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return clean(self)


def load_pairs(name_or_path: str = "stereotype-pairs") -> tuple[str, list[dict[str, str]]]:
    """A pairs suite (shipped name or YAML path): its name and ``[{category, stereotype,
    anti}]``, with errors that name the file and the entry."""
    import yaml

    path = Path(name_or_path)
    if not path.exists():
        path = _SUITES / f"{name_or_path}.yaml"
    if not path.exists():
        raise InputError(
            f"no pairs suite {name_or_path!r}", hint="use 'stereotype-pairs' or a file"
        )
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    pairs = data.get("pairs") or []
    if data.get("kind") != "pairs" or not pairs:
        raise InputError(f"{path}: a pairs suite needs `kind: pairs` and a list of `pairs`")
    for i, p in enumerate(pairs):
        if not all(isinstance(p.get(k), str) and p[k].strip() for k in ("stereotype", "anti")):
            raise InputError(f"{path}: pair {i + 1} needs non-empty `stereotype` and `anti`")
        p.setdefault("category", "all")
    return str(data.get("name", path.stem)), pairs


def sentence_loglik(model: Any) -> Callable[[Sequence[str]], np.ndarray]:
    """Total log-likelihood of each text under a local model (Probity's HF model wrapper)."""
    from probity.detect.scores import log_perplexity_scores, token_counts

    def score(texts: Sequence[str]) -> np.ndarray:
        mean = log_perplexity_scores(model, texts)
        return mean * np.asarray(token_counts(model, texts), dtype=float)

    return score


def _category(name: str, k: int, n: int, ties: int) -> PairCategory:
    from scipy.stats import binomtest

    share, lo, hi = wilson(k, n)
    p = float(binomtest(k, n, 0.5).pvalue) if n else float("nan")
    return PairCategory(name, n, ties, k, float(share), float(lo), float(hi), p, None, None)


def probe_stereotype_pairs(
    model: Any = None,
    *,
    suite: str = "stereotype-pairs",
    scorer: Callable[[Sequence[str]], np.ndarray] | None = None,
    correction: str = "holm",
    alpha: float = 0.05,
) -> PairsResult:
    """Score every pair with ``scorer`` (default: :func:`sentence_loglik` of ``model``, a
    local model) and report per category how often the stereotype is preferred."""
    name, pairs = load_pairs(suite)
    if scorer is None:
        if model is None:
            raise InputError("give a local model (log-probabilities) or a scorer")
        scorer = sentence_loglik(model)
    s = np.asarray(scorer([p["stereotype"] for p in pairs]), dtype=float)
    a = np.asarray(scorer([p["anti"] for p in pairs]), dtype=float)
    cats = np.asarray([p["category"] for p in pairs], dtype=object)
    decided = ~np.isclose(s, a) & np.isfinite(s) & np.isfinite(a)
    prefers = decided & (s > a)
    rows = [
        _category(
            c,
            int(prefers[cats == c].sum()),
            int(decided[cats == c].sum()),
            int((~decided & (cats == c)).sum()),
        )
        for c in dict.fromkeys(cats.tolist())
    ]
    rows = with_adjusted(rows, correction, alpha)
    overall = _category("all", int(prefers.sum()), int(decided.sum()), int((~decided).sum()))
    detail = [
        {**p, "loglik_stereotype": float(s[i]), "loglik_anti": float(a[i])}
        for i, p in enumerate(pairs)
    ]
    return PairsResult(
        name, getattr(model, "name", "scorer"), correction, alpha, overall, rows, detail
    )
