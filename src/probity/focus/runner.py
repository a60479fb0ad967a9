"""Run a focus group against any :class:`~probity.lm.TextGenerator` and analyse it."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from probity.focus.grid import StudyConfig, personas, render_prompt
from probity.focus.parse import parse_choice
from probity.focus.stats import association, position_effect, share_row


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

    def to_dict(self) -> dict[str, Any]:
        return {
            "persona": self.persona,
            "sample": self.sample,
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

    def to_dict(self, *, include_answers: bool = False) -> dict[str, Any]:
        d = {
            "study": self.study,
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
        }
        if include_answers:
            d["answers"] = [a.to_dict() for a in self.answers]
        return d


def run_study(
    cfg: StudyConfig,
    generator: Any,
    *,
    guard: Any = None,
    base_dir: Path | None = None,
    progress: Any = None,
) -> FocusGroupResult:
    """Sample ``cfg.samples`` answers per persona, filter them through the guard policy
    (``cfg.policy``; removed outputs are counted per persona), parse and analyse them.

    Option order is drawn per sample from ``cfg.seed``, so a rerun shows the same prompts.
    """
    from probity.lm import GenerationParams

    grid = personas(cfg, base_dir)
    rng = np.random.default_rng(cfg.seed)
    a, b = cfg.products
    jobs = []
    for persona in grid:
        for s in range(cfg.samples):
            swap = bool(rng.integers(0, 2))
            first, second = (b, a) if swap else (a, b)
            jobs.append((persona, s, first, second, render_prompt(cfg, persona, first, second)))
    params = GenerationParams(
        max_new_tokens=cfg.max_new_tokens, temperature=cfg.temperature, seed=cfg.seed
    )
    texts: list[str] = []
    chunk = 64
    for start in range(0, len(jobs), chunk):
        part = jobs[start : start + chunk]
        texts.extend(c.text for c in generator.generate([j[4] for j in part], params))
        if progress is not None:
            progress(len(part))
    if guard is None:
        from probity.guard import Guard

        guard = Guard.from_policy(cfg.policy)
    verdicts = guard.check_many(texts, "output")
    answers = []
    for (persona, s, first, second, _), text, verdict in zip(jobs, texts, verdicts, strict=True):
        if verdict.action != "allow":
            reasons = tuple(f"{f.source}:{f.category}" for f in verdict.findings)
            answers.append(Answer(persona, s, first.name, text, "removed", "", reasons))
            continue
        pick = parse_choice(text, first.name, second.name)
        choice = first.name if pick == "first" else second.name if pick == "second" else pick
        answers.append(Answer(persona, s, first.name, text, "kept", choice))
    return analyse(
        cfg,
        answers,
        model=getattr(generator, "name", "model"),
        policy=getattr(getattr(guard, "policy", None), "name", cfg.policy),
    )


def analyse(
    cfg: StudyConfig, answers: list[Answer], *, model: str, policy: str
) -> FocusGroupResult:
    """Shares with Wilson intervals per level and per pair of factors, chi-square tests of
    association per factor, the position effect and removals per persona."""
    a_name, b_name = cfg.products[0].name, cfg.products[1].name
    kept = [x for x in answers if x.status == "kept"]
    decided = [x for x in kept if x.choice in (a_name, b_name)]
    counts = {
        "prompts": len(answers),
        "kept": len(kept),
        "removed": sum(x.status == "removed" for x in answers),
        "decided": len(decided),
        "neither": sum(x.choice == "neither" for x in kept),
        "unparseable": sum(x.choice == "unparseable" for x in kept),
    }
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
    removed = Counter(tuple(sorted(x.persona.items())) for x in answers if x.status == "removed")
    totals = Counter(tuple(sorted(x.persona.items())) for x in answers)
    removed_rows = [
        {**dict(p), "removed": removed.get(p, 0), "prompts": n}
        for p, n in totals.items()
        if removed.get(p, 0)
    ]
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
    )
