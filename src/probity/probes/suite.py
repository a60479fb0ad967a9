"""Probe suites: YAML files of templates x subjects x cues, expanded into prompts.

A suite names its ``kind`` (``pronouns``, ``tone`` or ``counterfactual``); the shipped ones
live in ``probity/probes/suites/*.yaml`` and any user file with the same shape works
(``--suite my.yaml``). Expansion is deterministic, so a prompt's ``id`` is stable between runs
and the completion cache finds it again.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from probity.config import ProbityModel, load_config
from probity.errors import ConfigError, InputError, UnknownKeyError

SUITES_DIR = Path(__file__).with_name("suites")
Kind = Literal["pronouns", "tone", "counterfactual"]
Expected = Literal["male", "female", "they"]


class Cue(ProbityModel):
    """A sentence put before a template; ``expected`` is the pronoun class it implies."""

    id: str
    text: str
    expected: Expected


class Group(ProbityModel):
    name: str
    term: str


class Category(ProbityModel):
    name: str
    reference: str | None = None
    groups: list[Group] = Field(min_length=2)

    @model_validator(mode="after")
    def _reference_known(self) -> Category:
        names = [g.name for g in self.groups]
        if self.reference is not None and self.reference not in names:
            raise ValueError(f"reference {self.reference!r} is not one of the groups {names}")
        return self


class Pair(ProbityModel):
    category: str
    a: str
    b: str


class SuiteSpec(ProbityModel):
    """The YAML schema of a probe suite (see the shipped files for commented examples)."""

    name: str
    kind: Kind
    description: str = ""
    templates: list[str] = Field(min_length=1)
    occupations: list[str] = Field(default_factory=list)
    surnames: list[str] = Field(default_factory=list)
    cues: list[Cue] = Field(default_factory=list)
    categories: list[Category] = Field(default_factory=list)
    pairs: list[Pair] = Field(default_factory=list)

    @model_validator(mode="after")
    def _complete(self) -> SuiteSpec:
        if self.kind == "pronouns":
            if not self.occupations:
                raise ValueError("a pronouns suite needs `occupations`")
            if not self.surnames:
                raise ValueError("a pronouns suite needs `surnames`")
            for t in self.templates:
                if "{surname}" not in t:
                    raise ValueError(f"pronoun template {t!r} has no {{surname}}")
        elif self.kind == "tone":
            if not self.categories:
                raise ValueError("a tone suite needs `categories`")
        elif not self.pairs:
            raise ValueError("a counterfactual suite needs `pairs`")
        if self.kind in ("tone", "counterfactual"):
            for t in self.templates:
                if "{term}" not in t and "{Term}" not in t:
                    raise ValueError(f"template {t!r} has no {{term}} or {{Term}}")
        return self


@dataclass(frozen=True)
class ProbePrompt:
    """One prompt of an expanded suite. ``attrs`` holds what the analysis groups by:
    ``occupation``, ``surname``, ``cue``, ``expected`` (pronouns); ``category``, ``group``,
    ``reference``, ``occupation`` (tone); ``category``, ``pair``, ``side`` (counterfactual)."""

    id: str
    text: str
    template: int
    attrs: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text, "template": self.template, **self.attrs}


@dataclass(frozen=True)
class Suite:
    """A loaded suite: its spec and where it came from."""

    spec: SuiteSpec
    source: str

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def kind(self) -> str:
        return self.spec.kind

    def prompts(
        self, *, occupations: list[str] | None = None, categories: list[str] | None = None
    ) -> list[ProbePrompt]:
        """Expand the suite into prompts, optionally keeping only some occupations/categories."""
        if self.kind == "pronouns":
            return _expand_pronouns(self.spec, occupations)
        if self.kind == "tone":
            return _expand_tone(self.spec, categories, occupations)
        return _expand_pairs(self.spec, categories)


def shipped_suites() -> list[str]:
    """Names of the suites shipped with Probity."""
    return sorted(p.stem for p in SUITES_DIR.glob("*.yaml"))


def load_suite(name_or_path: str | os.PathLike[str], *, kind: str | None = None) -> Suite:
    """Load a shipped suite by name (``pronouns``, ``tone``, ``counterfactual``, ``lending``)
    or a YAML file by path. With ``kind``, a suite of another kind is an ``InputError``."""
    ref = str(name_or_path)
    p = Path(ref).expanduser()
    if not p.exists():
        shipped = SUITES_DIR / f"{ref}.yaml"
        if not shipped.exists():
            raise UnknownKeyError(
                f"no probe suite {ref!r}",
                hint=f"give a YAML file, or one of {', '.join(shipped_suites())}",
            )
        p = shipped
    spec = load_config(p, SuiteSpec)
    if kind is not None and spec.kind != kind:
        raise InputError(
            f"suite {ref!r} is a {spec.kind!r} suite, not {kind!r}",
            hint=f"use `probity probe {spec.kind}` for it",
        )
    return Suite(spec, str(p))


def article(noun: str) -> str:
    """``"a nurse"``, ``"an engineer"``; a simple vowel rule (acronyms like CEO take ``a``)."""
    first = noun.split()[0]
    vowel = first[:1].lower() in "aeiou" and not first.isupper()
    return f"{'an' if vowel else 'a'} {noun}"


def _fill(template: str, source: str, **values: str) -> str:
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(
            f"{source}: template {template!r} uses an unknown placeholder {exc}",
            hint=f"known placeholders: {', '.join(sorted(values))}",
        ) from exc


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def _keep(values: list[str], wanted: list[str] | None, what: str) -> list[str]:
    if not wanted:
        return values
    low = {v.lower(): v for v in values}
    missing = [w for w in wanted if w.lower() not in low]
    if missing:
        raise InputError(
            f"unknown {what} {', '.join(map(repr, missing))}",
            hint=f"the suite has: {', '.join(values[:12])}" + (" ..." if len(values) > 12 else ""),
        )
    return [low[w.lower()] for w in wanted]


def _expand_pronouns(spec: SuiteSpec, occupations: list[str] | None) -> list[ProbePrompt]:
    """Every occupation x every neutral template, plus every cue once (with a rotating
    template); the surname rotates with occupation and template so each occupation meets
    several surnames and no surname is tied to one occupation."""
    out: list[ProbePrompt] = []
    occs = _keep(spec.occupations, occupations, "occupation")
    all_occs = {o: i for i, o in enumerate(spec.occupations)}
    T, S = len(spec.templates), len(spec.surnames)
    for occ in occs:
        oi = all_occs[occ]
        vals = {"occupation": occ, "a_occupation": article(occ)}
        for ti, tpl in enumerate(spec.templates):
            surname = spec.surnames[(oi + ti) % S]
            text = _fill(tpl, spec.name, surname=surname, **vals)
            out.append(
                ProbePrompt(
                    f"{occ}|neutral|t{ti}",
                    text,
                    ti,
                    {"occupation": occ, "surname": surname, "cue": "neutral", "expected": None},
                )
            )
        for ci, cue in enumerate(spec.cues):
            ti = (oi + ci) % T
            surname = spec.surnames[(oi + ti + ci) % S]
            text = (
                _fill(cue.text, spec.name, surname=surname, **vals)
                + " "
                + _fill(spec.templates[ti], spec.name, surname=surname, **vals)
            )
            out.append(
                ProbePrompt(
                    f"{occ}|{cue.id}|t{ti}",
                    text,
                    ti,
                    {
                        "occupation": occ,
                        "surname": surname,
                        "cue": cue.id,
                        "expected": cue.expected,
                    },
                )
            )
    return out


def _term_values(term: str, occupation: str | None) -> dict[str, str]:
    vals = {"term": term, "Term": _cap(term)}
    if occupation is not None:
        vals |= {"occupation": occupation, "a_occupation": article(occupation)}
    return vals


def _expand_tone(
    spec: SuiteSpec, categories: list[str] | None, occupations: list[str] | None
) -> list[ProbePrompt]:
    cats = _keep([c.name for c in spec.categories], categories, "category")
    occs = _keep(spec.occupations, occupations, "occupation") if spec.occupations else []
    out: list[ProbePrompt] = []
    for cat in (c for c in spec.categories if c.name in cats):
        ref = cat.reference or cat.groups[0].name
        for g in cat.groups:
            for ti, tpl in enumerate(spec.templates):
                uses_occ = "{occupation}" in tpl or "{a_occupation}" in tpl
                for occ in occs if uses_occ else [None]:
                    text = _fill(tpl, spec.name, **_term_values(g.term, occ))
                    pid = f"{cat.name}|{g.name}|t{ti}" + (f"|{occ}" if occ else "")
                    out.append(
                        ProbePrompt(
                            pid,
                            text,
                            ti,
                            {
                                "category": cat.name,
                                "group": g.name,
                                "reference": ref,
                                "occupation": occ,
                            },
                        )
                    )
    return out


def _expand_pairs(spec: SuiteSpec, categories: list[str] | None) -> list[ProbePrompt]:
    cats = _keep(sorted({p.category for p in spec.pairs}), categories, "category")
    out: list[ProbePrompt] = []
    for pi, pair in enumerate(p for p in spec.pairs if p.category in cats):
        label = f"{pair.a} / {pair.b}"
        for ti, tpl in enumerate(spec.templates):
            for side, term in (("a", pair.a), ("b", pair.b)):
                text = _fill(tpl, spec.name, **_term_values(term, None))
                out.append(
                    ProbePrompt(
                        f"pair{pi}|t{ti}|{side}",
                        text,
                        ti,
                        {
                            "category": pair.category,
                            "pair": label,
                            "pair_index": pi,
                            "side": side,
                            "term": term,
                            "seed_group": f"pair{pi}|t{ti}",
                        },
                    )
                )
    return out
