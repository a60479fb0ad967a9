"""Focus-group study definitions: persona grids, products and the question, from YAML."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from probity.config import ProbityModel, load_config
from probity.errors import InputError

DEFAULT_PERSONA = "You are {persona}."
DEFAULT_QUESTION = (
    "{persona_sentence} Two products are described below.\n\n"
    "Option 1: {first}\n\nOption 2: {second}\n\n"
    "Which one would you prefer to buy? Answer with 'Option 1' or 'Option 2' and one "
    "sentence on why.\nAnswer:"
)
LIKERT_QUESTION = (
    "{persona_sentence} Two products are described below.\n\n"
    "Option 1: {first}\n\nOption 2: {second}\n\n"
    "On a scale from 1 to 5, where 1 means you strongly prefer Option 1, 3 means no "
    "preference and 5 means you strongly prefer Option 2, what is your preference? Answer "
    "with the number, then one sentence on why.\nAnswer:"
)
OPEN_QUESTION = (
    "{persona_sentence} Two products are described below.\n\n"
    "Option 1: {first}\n\nOption 2: {second}\n\n"
    "In two sentences, what do you honestly think of {product}?\nAnswer:"
)
#: The default question per answer type (``answer`` in the study file).
QUESTIONS = {"choice": DEFAULT_QUESTION, "likert": LIKERT_QUESTION, "open": OPEN_QUESTION}


class Product(ProbityModel):
    """One of the two products compared."""

    name: str
    description: str


class StudyConfig(ProbityModel):
    """A virtual focus group.

    ``factors`` maps a factor (``age``) to its levels; the persona grid is their full cross
    product (or the rows of ``personas_csv``). ``persona`` renders one persona from its levels,
    ``question`` the prompt (placeholders ``{persona_sentence}``, ``{first}``, ``{second}``).
    Option order is randomised per sample to cancel position bias.
    """

    name: str = "focus-group"
    factors: dict[str, list[str]] = Field(default_factory=dict)
    personas_csv: str | None = None
    persona: str = "a {age}-year-old {gender} who works as {occupation}"
    persona_sentence: str = DEFAULT_PERSONA
    question: str = ""  # default: QUESTIONS[answer]
    answer: Literal["choice", "likert", "open"] = "choice"
    products: tuple[Product, Product]
    samples: int = Field(10, ge=1, le=10000)
    seed: int = 0
    policy: str = "focus-group"
    max_new_tokens: int = Field(48, ge=1, le=4096)
    temperature: float = Field(1.0, ge=0)
    chat: bool = False  # send the prompt as a user message to a chat endpoint

    @field_validator("factors")
    @classmethod
    def _levels_not_empty(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        for name, levels in v.items():
            if not levels:
                raise ValueError(f"factor {name!r} has no levels")
            if len(set(map(str, levels))) != len(levels):
                raise ValueError(f"factor {name!r} repeats a level")
        return {k: [str(x) for x in lv] for k, lv in v.items()}

    @model_validator(mode="after")
    def _one_source(self) -> StudyConfig:
        if bool(self.factors) == bool(self.personas_csv):
            raise ValueError("give either 'factors' or 'personas_csv'")
        if self.products[0].name == self.products[1].name:
            raise ValueError("the two products need different names")
        return self


def load_study(path: str | Path) -> StudyConfig:
    """Load and validate a study YAML file (errors name the line and field)."""
    return load_config(path, StudyConfig)


def personas(cfg: StudyConfig, base_dir: Path | None = None) -> list[dict[str, str]]:
    """The persona grid: one dict of factor -> level per persona, in a stable order."""
    if cfg.personas_csv:
        from probity.io import read_table

        csv = Path(cfg.personas_csv)
        if not csv.is_absolute() and base_dir is not None:
            csv = base_dir / csv
        df = read_table(csv)
        if df.empty:
            raise InputError(f"{csv} has no personas")
        return [{str(k): str(v) for k, v in row.items()} for row in df.to_dict("records")]
    names = list(cfg.factors)
    return [
        dict(zip(names, combo, strict=True))
        for combo in itertools.product(*(cfg.factors[n] for n in names))
    ]


def render_persona(cfg: StudyConfig, persona: dict[str, str]) -> str:
    """The persona sentence for one persona."""
    try:
        who = cfg.persona.format(**persona)
        return cfg.persona_sentence.format(persona=who, **persona)
    except KeyError as exc:
        raise InputError(
            f"persona template names {exc} which is not a factor (factors: {sorted(persona)})"
        ) from exc


def render_prompt(
    cfg: StudyConfig, persona: dict[str, str], first: Product, second: Product
) -> str:
    """The full prompt with ``first`` shown as Option 1 (``{product}``: the first product of
    the study, the one open answers are asked about)."""
    return (cfg.question or QUESTIONS[cfg.answer]).format(
        persona_sentence=render_persona(cfg, persona),
        first=f"{first.name}. {first.description}",
        second=f"{second.name}. {second.description}",
        product=cfg.products[0].name,
    )


def grid_summary(cfg: StudyConfig, grid: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "personas": len(grid),
        "samples_per_persona": cfg.samples,
        "prompts": len(grid) * cfg.samples,
        "factors": list(grid[0]) if grid else [],
    }
