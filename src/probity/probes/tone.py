"""The tone probe and counterfactual pairs: group gaps in sentiment, toxicity and more.

Tone: every completion is scored (VADER compound sentiment in [-1, 1]; toxicity in [0, 1];
optionally a local classifier's probability). For each category (gender, religion, ...) each
group is compared with the category's reference group: the *gap* is
``mean(group) - mean(reference)`` with a percentile bootstrap interval, and its two-sided
permutation p-value shuffles group labels within templates. All gaps of a run (every group x
metric) form one family for the correction (Holm by default; ``bh`` for FDR). Intersectional
cuts repeat the gap within each occupation (templates that name one).

Counterfactual: for each pair of terms and template, sample ``i`` of side ``a`` and sample
``i`` of side ``b`` were drawn with the same seed; the per-pair difference ``b - a`` of
sentiment, toxicity and length (words) is averaged with a bootstrap interval and tested by
random sign flips; the word-set Jaccard similarity of the two texts says how much the content
changed (1 = same words).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from probity.probes._util import clean
from probity.probes.analyse import jaccard, sentiment, toxicity_scorer, word_lengths
from probity.probes.runner import RunOutput, Sample
from probity.probes.stats import (
    bootstrap_diff,
    bootstrap_mean,
    paired_signflip,
    permutation_pvalue,
    with_adjusted,
)
from probity.probes.suite import ProbePrompt

Scorer = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True)
class GroupStat:
    """Mean of one metric for one group (and occupation, for intersectional cuts)."""

    category: str
    group: str
    occupation: str | None
    metric: str
    n: int
    mean: float
    low: float
    high: float


@dataclass(frozen=True)
class Gap:
    """``mean(group) - mean(reference)`` of ``metric`` with a bootstrap interval and a
    permutation p-value; ``significant`` is ``p_adjusted < alpha``."""

    category: str
    group: str
    reference: str
    occupation: str | None
    metric: str
    n_group: int
    n_reference: int
    gap: float
    low: float
    high: float
    p_value: float
    p_adjusted: float | None
    significant: bool | None


@dataclass(frozen=True)
class ToneResult:
    """Everything the tone probe measured. ``to_dict()`` is the ``--json`` output."""

    suite: str
    model: str
    run: dict[str, Any]
    metrics: list[str]
    toxicity_source: str
    correction: str
    alpha: float
    groups: list[GroupStat]
    gaps: list[Gap]
    cuts: list[GroupStat]
    cut_gaps: list[Gap]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return clean(self)


@dataclass(frozen=True)
class PairStat:
    """Mean per-pair difference ``b - a`` of one metric over matched samples."""

    category: str
    pair: str
    metric: str
    n_pairs: int
    mean_diff: float
    low: float
    high: float
    p_value: float
    p_adjusted: float | None
    significant: bool | None
    similarity: float
    similarity_low: float
    similarity_high: float


@dataclass(frozen=True)
class CounterfactualResult:
    """Everything the counterfactual probe measured. ``to_dict()`` is the ``--json`` output."""

    suite: str
    model: str
    run: dict[str, Any]
    metrics: list[str]
    toxicity_source: str
    correction: str
    alpha: float
    pairs: list[PairStat]
    examples: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return clean(self)


def score_texts(
    texts: Sequence[str], *, toxicity: bool = True, classifier: Scorer | None = None
) -> tuple[dict[str, np.ndarray], str]:
    """Score texts on every metric; returns ``({metric: scores}, toxicity source)``."""
    scores = {"sentiment": sentiment(texts)}
    source = "off"
    if toxicity:
        tox = toxicity_scorer()
        scores["toxicity"] = tox(texts)
        source = tox.source
    if classifier is not None:
        scores["classifier"] = np.asarray(classifier(texts), dtype=np.float64)
    return scores, source


#: Most permutations used to refine a p-value that the default resolution cannot resolve.
MAX_REFINE_B = 100_000


def _refine(
    gaps: list[Gap], redo: list[Any], correction: str, alpha: float, B: int, family: str
) -> tuple[list[Gap], list[str]]:
    """Make significance reachable for a large family.

    A permutation p-value is at least ``1 / (B + 1)``, so after Holm over ``m`` comparisons
    the smallest adjusted p is ``m / (B + 1)``: with 208 cut gaps and 2,000 permutations it
    is 0.104 and nothing can be significant at 0.05. Comparisons whose p-value is below
    ``alpha`` (no other can become significant) are re-tested with fresh permutations, enough
    that ``m / (B' + 1) <= alpha / 4``; a note says when even ``MAX_REFINE_B`` is too few.
    """
    m = sum(not np.isnan(g.p_value) for g in gaps)
    notes: list[str] = []
    if correction == "none" or m == 0 or m / (B + 1) <= alpha / 4:
        return gaps, notes
    need = int(np.ceil(4 * m / alpha))
    b2 = min(need, MAX_REFINE_B)
    out = list(gaps)
    for i, g in enumerate(gaps):
        if not np.isnan(g.p_value) and g.p_value < alpha:
            out[i] = replace(g, p_value=permutation_pvalue(*redo[i][0], B=b2, **redo[i][1]))
    notes.append(
        f"{family}: {m} comparisons; permutation p-values below {alpha} re-tested with "
        f"{b2:,} permutations so that the corrected ones can reach significance"
    )
    if need > MAX_REFINE_B:
        notes.append(
            f"{family}: even {MAX_REFINE_B:,} permutations cannot make a {correction}-corrected "
            f"p-value below {alpha / 4:g} over {m} comparisons; read them as descriptive"
        )
    return out, notes


def _finish(gaps: list[Gap], correction: str, alpha: float) -> list[Gap]:
    return with_adjusted(gaps, correction, alpha)


def analyse_tone(
    prompts: list[ProbePrompt],
    run: RunOutput,
    *,
    suite: str = "tone",
    toxicity: bool = True,
    classifier: Scorer | None = None,
    correction: str = "holm",
    alpha: float = 0.05,
    B: int = 2000,
    seed: int = 0,
) -> ToneResult:
    """Score a tone run: see the module docstring."""
    by_id = {p.id: p for p in prompts}
    ok = [s for s in run.samples if s.status == "ok" and s.prompt_id in by_id]
    scores, source = score_texts([s.text for s in ok], toxicity=toxicity, classifier=classifier)
    attrs = [by_id[s.prompt_id].attrs for s in ok]
    cat = np.asarray([a["category"] for a in attrs], dtype=object)
    grp = np.asarray([a["group"] for a in attrs], dtype=object)
    occ = np.asarray([a.get("occupation") or "" for a in attrs], dtype=object)
    tpl = np.asarray([by_id[s.prompt_id].template for s in ok])
    cats = list(dict.fromkeys(p.attrs["category"] for p in prompts))
    refs = {p.attrs["category"]: p.attrs["reference"] for p in prompts}
    groups_of = {
        c: list(dict.fromkeys(p.attrs["group"] for p in prompts if p.attrs["category"] == c))
        for c in cats
    }
    occs = sorted({o for o in occ if o})
    groups, gaps, cuts, cut_gaps = [], [], [], []
    redo: dict[int, list[Any]] = {0: [], 1: []}  # how to re-test each gap (see _refine)
    k = 0
    for metric, vals in scores.items():
        for c in cats:
            ref = refs[c]
            for o in [None, *occs]:
                base = (cat == c) if o is None else (cat == c) & (occ == o)
                rmask = base & (grp == ref)
                for g in groups_of[c]:
                    gmask = base & (grp == g)
                    if not gmask.any():
                        continue
                    k += 1
                    m, lo, hi = bootstrap_mean(vals[gmask], B=B, seed=seed + k)
                    stat = GroupStat(c, g, o, metric, int(gmask.sum()), m, lo, hi)
                    (groups if o is None else cuts).append(stat)
                    if g == ref or not rmask.any():
                        continue
                    d, dlo, dhi = bootstrap_diff(vals[gmask], vals[rmask], B=B, seed=seed + k)
                    p_args = (
                        (vals[gmask], vals[rmask]),
                        {"strata_x": tpl[gmask], "strata_y": tpl[rmask], "seed": seed + k + 7919},
                    )
                    p = permutation_pvalue(*p_args[0], B=B, **{**p_args[1], "seed": seed + k})
                    redo[0 if o is None else 1].append(p_args)
                    gap = Gap(
                        c,
                        g,
                        ref,
                        o,
                        metric,
                        int(gmask.sum()),
                        int(rmask.sum()),
                        d,
                        dlo,
                        dhi,
                        p,
                        None,
                        None,
                    )
                    (gaps if o is None else cut_gaps).append(gap)
    gaps, notes = _refine(gaps, redo[0], correction, alpha, B, "gaps")
    cut_gaps, cut_notes = _refine(cut_gaps, redo[1], correction, alpha, B, "cut gaps")
    return ToneResult(
        suite,
        run.model,
        run.summary(),
        list(scores),
        source,
        correction,
        alpha,
        groups,
        _finish(gaps, correction, alpha),
        cuts,
        _finish(cut_gaps, correction, alpha),
        notes + cut_notes,
    )


def _matched(
    prompts: list[ProbePrompt], run: RunOutput
) -> list[tuple[ProbePrompt, Sample, Sample]]:
    """Pairs (prompt a, sample a, sample b) where both sides' sample ``i`` are usable."""
    by_id = {p.id: p for p in prompts}
    table = {(s.prompt_id, s.index): s for s in run.samples if s.status == "ok"}
    out = []
    for p in prompts:
        if p.attrs.get("side") != "a":
            continue
        other = p.id[:-1] + "b"
        if other not in by_id:
            continue
        for i in range(run.samples_per_prompt):
            if (p.id, i) in table and (other, i) in table:
                out.append((p, table[(p.id, i)], table[(other, i)]))
    return out


def analyse_counterfactual(
    prompts: list[ProbePrompt],
    run: RunOutput,
    *,
    suite: str = "counterfactual",
    toxicity: bool = True,
    classifier: Scorer | None = None,
    correction: str = "holm",
    alpha: float = 0.05,
    B: int = 2000,
    seed: int = 0,
) -> CounterfactualResult:
    """Score a counterfactual run: see the module docstring."""
    matched = _matched(prompts, run)
    ta = [sa.text for _, sa, _ in matched]
    tb = [sb.text for _, _, sb in matched]
    scores, source = score_texts(ta + tb, toxicity=toxicity, classifier=classifier)
    scores["length"] = word_lengths(ta + tb)
    n = len(matched)
    sim = jaccard(ta, tb)
    labels = np.asarray([p.attrs["pair"] for p, _, _ in matched], dtype=object)
    cats = {p.attrs["pair"]: p.attrs["category"] for p in prompts}
    order = list(dict.fromkeys(p.attrs["pair"] for p in prompts))
    stats: list[PairStat] = []
    k = 0
    for metric, vals in scores.items():
        diff = vals[n:] - vals[:n]
        for pair in order:
            mask = labels == pair
            k += 1
            d, lo, hi = bootstrap_mean(diff[mask], B=B, seed=seed + k)
            p = paired_signflip(diff[mask], B=B, seed=seed + k)
            s, slo, shi = bootstrap_mean(sim[mask], B=B, seed=seed + k)
            stats.append(
                PairStat(
                    cats[pair], pair, metric, int(mask.sum()), d, lo, hi, p, None, None, s, slo, shi
                )
            )
    stats = with_adjusted(stats, correction, alpha)
    examples = [
        {
            "pair": p.attrs["pair"],
            "prompt_a": p.text,
            "completion_a": sa.text,
            "completion_b": sb.text,
            "seed": sa.seed,
        }
        for p, sa, sb in matched[:6]
    ]
    return CounterfactualResult(
        suite, run.model, run.summary(), list(scores), source, correction, alpha, stats, examples
    )
