"""Run a focus group against any :class:`~probity.lm.TextGenerator` and analyse it."""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from probity.focus.grid import StudyConfig, personas, render_prompt
from probity.focus.parse import parse_choice, parse_likert
from probity.focus.stats import (
    association,
    joint_linear,
    joint_model,
    mean_row,
    position_effect,
    rank_association,
    share_row,
)
from probity.stats import json_ready


@dataclass(frozen=True)
class Answer:
    """One sampled answer: who, what order was shown, what was said and what it counts as."""

    persona: dict[str, str]
    sample: int
    first_shown: str  # product name shown as Option 1
    text: str
    status: str  # kept | removed | error
    choice: str  # product name, "neither" or "unparseable" ("" when not kept)
    reasons: tuple[str, ...] = ()
    seed: int | None = None  # the request's seed: rerun this one sample with it
    value: float | None = None  # likert: rating toward the first product (5 = prefers it);
    # open: sentiment of the answer about the first product, in [-1, 1]

    def to_dict(self) -> dict[str, Any]:
        return {
            "persona": self.persona,
            "sample": self.sample,
            "seed": self.seed,
            "value": self.value,
            "first_shown": self.first_shown,
            "text": self.text,
            "status": self.status,
            "choice": self.choice,
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True)
class FocusGroupResult:
    """Everything a focus-group study measured. ``to_dict`` is the ``--json`` shape."""

    study: str
    products: tuple[str, str]
    model: str
    policy: str
    counts: dict[str, int]
    overall: dict[str, Any]
    by_factor: dict[str, list[dict[str, Any]]]
    association: dict[str, dict[str, Any]]
    interactions: dict[str, list[dict[str, Any]]]
    position: dict[str, Any]
    removed_by_persona: list[dict[str, Any]]
    answers: tuple[Answer, ...] = field(repr=False, default=())
    joint_model: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    chat: bool = False
    answer: str = "choice"  # choice | likert | open

    def to_dict(self, *, include_answers: bool = False) -> dict[str, Any]:
        d = {
            "study": self.study,
            "seed": self.seed,
            "chat": self.chat,
            "answer": self.answer,
            "products": list(self.products),
            "model": self.model,
            "policy": self.policy,
            "counts": self.counts,
            "overall": self.overall,
            "by_factor": self.by_factor,
            "association": self.association,
            "interactions": self.interactions,
            "position": self.position,
            "removed_by_persona": self.removed_by_persona,
            "joint_model": self.joint_model,
        }
        if include_answers:
            d["answers"] = [a.to_dict() for a in self.answers]
        return json_ready(d)  # strict JSON: empty cells give null, never NaN


def sample_seed(study_seed: int, persona: dict[str, str], sample: int) -> int:
    """The seed of one sample: a hash of the study seed, the persona and the sample index.

    Every sample is its own request with its own seed, so a backend that honours ``seed``
    (vLLM, OpenAI) draws independent answers, and any one answer can be reproduced alone.
    (One study-wide seed with ``n=1`` made every sample of a persona the same answer.)
    """
    key = json.dumps([study_seed, sorted(persona.items()), sample]).encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:4], "big") & 0x7FFFFFFF


def run_study(
    cfg: StudyConfig,
    generator: Any,
    *,
    guard: Any = None,
    base_dir: Path | None = None,
    progress: Any = None,
    chat: bool | None = None,
    concurrency: int | None = None,
) -> FocusGroupResult:
    """Sample ``cfg.samples`` answers per persona, filter them through the guard policy
    (``cfg.policy``; removed outputs are counted per persona), parse and analyse them.

    Option order is drawn per sample from ``cfg.seed``, so a rerun shows the same prompts;
    each sample is requested with its own seed (:func:`sample_seed`, recorded per answer).
    ``chat`` (default ``cfg.chat``) sends the prompt as a user message to a chat endpoint.
    ``concurrency`` requests run at once (default: the generator's own ``concurrency``, 1
    for local models). A request that still fails after the generator's retries is recorded
    as an ``error`` answer, not a crash.
    """
    from probity.lm import GenerationParams

    use_chat = cfg.chat if chat is None else chat
    grid = personas(cfg, base_dir)
    rng = np.random.default_rng(cfg.seed)
    a, b = cfg.products
    jobs = []
    for persona in grid:
        for s in range(cfg.samples):
            swap = bool(rng.integers(0, 2))
            first, second = (b, a) if swap else (a, b)
            prompt = render_prompt(cfg, persona, first, second)
            jobs.append((persona, s, first, second, prompt, sample_seed(cfg.seed, persona, s)))

    def ask(job: tuple) -> str:
        params = GenerationParams(
            max_new_tokens=cfg.max_new_tokens, temperature=cfg.temperature, seed=job[5]
        )
        if use_chat:
            out = generator.chat([[{"role": "user", "content": job[4]}]], params)
        else:
            out = generator.generate([job[4]], params)
        return out[0].text if out else ""

    workers = concurrency or int(getattr(generator, "concurrency", 1) or 1)
    texts: list[str | None] = [None] * len(jobs)
    failures: dict[int, str] = {}
    from concurrent.futures import ThreadPoolExecutor, as_completed

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {pool.submit(ask, job): i for i, job in enumerate(jobs)}
        for fut in as_completed(futures):
            i = futures[fut]
            try:
                texts[i] = fut.result()
            except Exception as exc:  # recorded per answer: a lost sample is never data
                failures[i] = f"{type(exc).__name__}: {exc}"[:300]
            if progress is not None:
                progress(1)
    if guard is None:
        from probity.guard import Guard

        guard = Guard.from_policy(cfg.policy)
    ok = [i for i in range(len(jobs)) if i not in failures]
    verdicts = dict(zip(ok, guard.check_many([texts[i] or "" for i in ok], "output"), strict=True))
    answers = []
    for i, (persona, s, first, second, _, seed) in enumerate(jobs):
        if i in failures:
            answers.append(
                Answer(persona, s, first.name, "", "error", "", (failures[i],), seed=seed)
            )
            continue
        text, verdict = texts[i] or "", verdicts[i]
        if verdict.action != "allow":
            reasons = tuple(f"{f.source}:{f.category}" for f in verdict.findings)
            answers.append(Answer(persona, s, first.name, text, "removed", "", reasons, seed))
            continue
        answers.append(_kept(cfg, persona, s, first, second, text, seed))
    if cfg.answer == "open":  # open answers: sentiment of what was said (VADER, offline)
        from probity.probes.analyse import sentiment

        idx = [i for i, x in enumerate(answers) if x.status == "kept"]
        scores = sentiment([answers[i].text for i in idx]) if idx else []
        for i, v in zip(idx, scores, strict=True):
            answers[i] = replace(answers[i], choice="rated", value=float(v))
    res = analyse(
        cfg,
        answers,
        model=getattr(generator, "name", "model"),
        policy=getattr(getattr(guard, "policy", None), "name", cfg.policy),
    )
    return replace(res, chat=use_chat)


def _kept(
    cfg: StudyConfig, persona: dict[str, str], s: int, first: Any, second: Any, text: str, seed: int
) -> Answer:
    """A kept answer, parsed for the study's answer type."""
    if cfg.answer == "likert":
        r = parse_likert(text)
        if r is None:
            return Answer(persona, s, first.name, text, "kept", "unparseable", seed=seed)
        toward_a = 6 - r if first.name == cfg.products[0].name else r  # 5 = prefers product A
        return Answer(persona, s, first.name, text, "kept", "rated", seed=seed, value=toward_a)
    if cfg.answer == "open":
        return Answer(persona, s, first.name, text, "kept", "rated", seed=seed)
    pick = parse_choice(text, first.name, second.name)
    choice = first.name if pick == "first" else second.name if pick == "second" else pick
    return Answer(persona, s, first.name, text, "kept", choice, seed=seed)


def analyse(
    cfg: StudyConfig, answers: list[Answer], *, model: str, policy: str
) -> FocusGroupResult:
    """Shares with Wilson intervals per level and per pair of factors, chi-square tests of
    association per factor, the position effect and removals per persona (Likert and open
    answers: means with t intervals, Kruskal-Wallis tests, a least-squares joint model)."""
    if cfg.answer != "choice":
        return _analyse_rated(cfg, answers, model=model, policy=policy)
    a_name, b_name = cfg.products[0].name, cfg.products[1].name
    kept = [x for x in answers if x.status == "kept"]
    decided = [x for x in kept if x.choice in (a_name, b_name)]
    counts = _counts(
        answers, decided=len(decided), neither=sum(x.choice == "neither" for x in kept)
    )
    factors = list(answers[0].persona) if answers else []
    by_factor: dict[str, list[dict[str, Any]]] = {}
    assoc: dict[str, dict[str, Any]] = {}
    for f in factors:
        levels = list(dict.fromkeys(x.persona[f] for x in answers))
        rows, table = [], []
        for lv in levels:
            sub = [x for x in decided if x.persona[f] == lv]
            k = sum(x.choice == a_name for x in sub)
            rows.append({"level": lv, **share_row(k, len(sub))})
            table.append([k, len(sub) - k])
        by_factor[f] = rows
        assoc[f] = association(np.asarray(table))
    interactions: dict[str, list[dict[str, Any]]] = {}
    for i, f in enumerate(factors):
        for g in factors[i + 1 :]:
            cells: dict[tuple[str, str], list[Answer]] = defaultdict(list)
            for x in decided:
                cells[(x.persona[f], x.persona[g])].append(x)
            interactions[f"{f} x {g}"] = [
                {f: lf, g: lg, **share_row(sum(x.choice == a_name for x in xs), len(xs))}
                for (lf, lg), xs in sorted(cells.items())
            ]
    first_picks = sum(x.choice == x.first_shown for x in decided)
    removed_rows = _removed_rows(answers)
    overall = {
        "product": a_name,
        **share_row(sum(x.choice == a_name for x in decided), len(decided)),
    }
    return FocusGroupResult(
        cfg.name,
        (a_name, b_name),
        model,
        policy,
        counts,
        overall,
        by_factor,
        assoc,
        interactions,
        position_effect(first_picks, len(decided)),
        removed_rows,
        tuple(answers),
        joint_model=joint_model(
            [x.persona for x in decided],
            np.array([x.choice == a_name for x in decided]),
            np.array([x.first_shown == a_name for x in decided]),
        ),
        seed=cfg.seed,
    )


def _counts(answers: list[Answer], **extra: int) -> dict[str, int]:
    """Prompts, kept, removed, unparseable and errors, plus the answer type's own counts."""
    kept = [x for x in answers if x.status == "kept"]
    return {
        "prompts": len(answers),
        "kept": len(kept),
        "removed": sum(x.status == "removed" for x in answers),
        **extra,
        "unparseable": sum(x.choice == "unparseable" for x in kept),
        "errors": sum(x.status == "error" for x in answers),
    }


def _removed_rows(answers: list[Answer]) -> list[dict[str, Any]]:
    removed = Counter(tuple(sorted(x.persona.items())) for x in answers if x.status == "removed")
    totals = Counter(tuple(sorted(x.persona.items())) for x in answers)
    return [
        {**dict(p), "removed": removed.get(p, 0), "prompts": n}
        for p, n in totals.items()
        if removed.get(p, 0)
    ]


def _analyse_rated(
    cfg: StudyConfig, answers: list[Answer], *, model: str, policy: str
) -> FocusGroupResult:
    """Likert ratings (toward the first product) or open-answer sentiment, per level."""
    a_name, b_name = cfg.products[0].name, cfg.products[1].name
    kept = [x for x in answers if x.status == "kept"]
    rated = [x for x in kept if x.value is not None]
    counts = _counts(answers, rated=len(rated))
    factors = list(answers[0].persona) if answers else []
    by_factor, assoc, interactions = {}, {}, {}
    for f in factors:
        levels = list(dict.fromkeys(x.persona[f] for x in answers))
        vals = [[x.value for x in rated if x.persona[f] == lv] for lv in levels]
        by_factor[f] = [{"level": lv, **mean_row(v)} for lv, v in zip(levels, vals, strict=True)]
        assoc[f] = rank_association(vals)
    for i, f in enumerate(factors):
        for g in factors[i + 1 :]:
            cells: dict[tuple[str, str], list[float]] = defaultdict(list)
            for x in rated:
                cells[(x.persona[f], x.persona[g])].append(x.value)
            interactions[f"{f} x {g}"] = [
                {f: lf, g: lg, **mean_row(v)} for (lf, lg), v in sorted(cells.items())
            ]
    likert = cfg.answer == "likert"
    a_first = np.array([x.first_shown == a_name for x in rated])
    position: dict[str, Any] = {}
    if likert:  # does the rating toward A move with A's position?
        shown = [x.value for x in rated if x.first_shown == a_name]
        other = [x.value for x in rated if x.first_shown != a_name]
        position = {
            "mean_when_first": mean_row(shown)["mean"],
            "mean_when_second": mean_row(other)["mean"],
            **rank_association([shown, other]),
        }
    scale = "rating 1-5 toward " if likert else "sentiment (-1..1) about "
    return FocusGroupResult(
        cfg.name,
        (a_name, b_name),
        model,
        policy,
        counts,
        {"product": a_name, "measure": scale + a_name, **mean_row([x.value for x in rated])},
        by_factor,
        assoc,
        interactions,
        position,
        _removed_rows(answers),
        tuple(answers),
        joint_model=joint_linear(
            [x.persona for x in rated],
            np.array([x.value for x in rated]),
            a_first if likert else None,
        ),
        seed=cfg.seed,
        answer=cfg.answer,
    )
