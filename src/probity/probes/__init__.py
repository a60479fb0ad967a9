"""Fairness probes for LLMs: occupation pronouns with context cues, tone gaps, counterfactuals.

One call per probe runs a suite against any :class:`~probity.lm.TextGenerator` (a local
transformers model or an OpenAI-compatible endpoint) and returns a frozen result::

    from probity.lm import open_generator
    from probity.probes import probe_pronouns

    gen = open_generator(base_url="http://127.0.0.1:8000/v1", model="my-llm")
    res = probe_pronouns(gen, samples=20, occupations=["nurse", "pilot"],
                         reference="parity")
    res.overall.female_share      # Share(k, n, share, low, high), 95% Wilson interval
    build_report(res).write("pronouns.html")

Stages: :class:`Suite` (YAML: templates x subjects x cues) -> :class:`ProbeRunner`
(``samples`` completions per prompt, seeds recorded, cached in JSONL, backend errors retried
then recorded, never counted) -> analysers (:func:`count_pronouns`, VADER :func:`sentiment`,
toxicity) -> statistics (:mod:`probity.probes.stats`) -> result and report.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from probity.lm.base import TextGenerator
from probity.probes.analyse import (
    CLASSES,
    PronounCounts,
    ToxicityScorer,
    classifier_scores,
    count_pronouns,
    sentiment,
    toxicity_scorer,
)
from probity.probes.pairs import PairsResult, probe_stereotype_pairs
from probity.probes.pronouns import (
    CueShift,
    OccupationRow,
    PronounResult,
    Share,
    analyse_pronouns,
    load_reference,
)
from probity.probes.qa import QAResult, probe_questions
from probity.probes.report import build_report
from probity.probes.runner import CompletionCache, ProbeRunner, RunError, RunOutput, Sample
from probity.probes.suite import ProbePrompt, Suite, load_suite, shipped_suites
from probity.probes.tone import (
    CounterfactualResult,
    Gap,
    GroupStat,
    PairStat,
    ToneResult,
    analyse_counterfactual,
    analyse_tone,
)

Progress = Callable[[int], None]


def _runner(generator: TextGenerator, kw: dict[str, Any]) -> ProbeRunner:
    keys = (
        "samples",
        "seed",
        "max_new_tokens",
        "temperature",
        "top_p",
        "cache",
        "concurrency",
        "retries",
        "chat",
    )
    return ProbeRunner(generator, **{k: kw[k] for k in keys if k in kw})


def probe_pronouns(
    generator: TextGenerator,
    *,
    suite: str = "pronouns",
    occupations: Sequence[str] | None = None,
    reference: Mapping[str, float] | float | str | None = "parity",
    reference_column: str | None = None,
    reference_source: str | None = None,
    correction: str = "holm",
    alpha: float = 0.05,
    on_progress: Progress | None = None,
    **run_options: Any,
) -> PronounResult:
    """Run the occupation pronoun probe. ``reference`` is a rate (0.5 for parity), a mapping
    occupation -> rate in [0, 1], ``"parity"`` (the default: every occupation is tested
    against she = he) or a table path (see :func:`load_reference`); ``None`` or ``"none"``
    reports shares without a test.
    ``run_options`` go to :class:`ProbeRunner` (``samples``, ``seed``, ``cache``, ...)."""
    s = load_suite(suite, kind="pronouns")
    prompts = s.prompts(occupations=list(occupations) if occupations else None)
    source = reference_source
    if isinstance(reference, str) and reference.strip().lower() == "none":
        reference = None
    elif isinstance(reference, str):
        reference, loaded = load_reference(reference, reference_column)
        source = source or loaded
    elif reference is not None:
        source = source or "given"
    run = _runner(generator, run_options).run(prompts, on_progress)
    return analyse_pronouns(
        prompts,
        run,
        suite=s.name,
        reference=reference,
        reference_source=source,
        correction=correction,
        alpha=alpha,
    )


def probe_tone(
    generator: TextGenerator,
    *,
    suite: str = "tone",
    categories: Sequence[str] | None = None,
    occupations: Sequence[str] | None = None,
    toxicity: bool = True,
    classifier: Callable[[Sequence[str]], Any] | None = None,
    correction: str = "holm",
    alpha: float = 0.05,
    B: int = 2000,
    on_progress: Progress | None = None,
    **run_options: Any,
) -> ToneResult:
    """Run the tone probe: group gaps in sentiment/toxicity (see :mod:`probity.probes.tone`)."""
    s = load_suite(suite, kind="tone")
    prompts = s.prompts(
        categories=list(categories) if categories else None,
        occupations=list(occupations) if occupations else None,
    )
    run = _runner(generator, run_options).run(prompts, on_progress)
    return analyse_tone(
        prompts,
        run,
        suite=s.name,
        toxicity=toxicity,
        classifier=classifier,
        correction=correction,
        alpha=alpha,
        B=B,
        seed=int(run_options.get("seed", 0)),
    )


def probe_counterfactual(
    generator: TextGenerator,
    *,
    suite: str = "counterfactual",
    categories: Sequence[str] | None = None,
    toxicity: bool = True,
    classifier: Callable[[Sequence[str]], Any] | None = None,
    correction: str = "holm",
    alpha: float = 0.05,
    B: int = 2000,
    on_progress: Progress | None = None,
    **run_options: Any,
) -> CounterfactualResult:
    """Run counterfactual pairs (the shipped ``counterfactual`` or ``lending`` suite, or a
    file): per-pair differences in sentiment, toxicity and length, and text similarity."""
    s = load_suite(suite, kind="counterfactual")
    prompts = s.prompts(categories=list(categories) if categories else None)
    run = _runner(generator, run_options).run(prompts, on_progress)
    return analyse_counterfactual(
        prompts,
        run,
        suite=s.name,
        toxicity=toxicity,
        classifier=classifier,
        correction=correction,
        alpha=alpha,
        B=B,
        seed=int(run_options.get("seed", 0)),
    )


__all__ = [
    "CLASSES",
    "CompletionCache",
    "CounterfactualResult",
    "CueShift",
    "Gap",
    "GroupStat",
    "OccupationRow",
    "PairStat",
    "PairsResult",
    "ProbePrompt",
    "ProbeRunner",
    "PronounCounts",
    "PronounResult",
    "QAResult",
    "RunError",
    "RunOutput",
    "Sample",
    "Share",
    "Suite",
    "ToneResult",
    "ToxicityScorer",
    "analyse_counterfactual",
    "analyse_pronouns",
    "analyse_tone",
    "build_report",
    "classifier_scores",
    "count_pronouns",
    "load_reference",
    "load_suite",
    "probe_counterfactual",
    "probe_pronouns",
    "probe_questions",
    "probe_stereotype_pairs",
    "probe_tone",
    "sentiment",
    "shipped_suites",
    "toxicity_scorer",
]
