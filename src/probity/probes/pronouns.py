"""The occupation pronoun probe: shares per occupation, reference comparison, cue shifts.

For each occupation the *neutral* prompts (no cue) give the shares of completions labelled
``male``, ``female``, ``they`` and ``neo`` among completions that use a subject pronoun at
all, each with a Wilson interval. The *female share* ``she / (he + she)`` is compared with a
reference rate (the share of women in the occupation from a file the user supplies, or parity
0.5) by an exact binomial test, adjusted over occupations (Holm by default).

A cue (``"Hanson used to play in the WNBA."``) states the expected pronoun class. Its *cue
shift* is ``P(expected | cue) - P(expected | neutral)`` with Newcombe's interval, and its
*compliance* is ``P(expected | cue)`` with a Wilson interval. A model that follows cues has
compliance near 1 whatever the occupation's stereotype; a stereotyped model that ignores cues
has a shift near 0.

Intervals treat completions as independent draws; samples of one prompt share the prompt, so
with few templates the intervals are somewhat optimistic for the population of prompts (they
are exact for the prompts probed).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from probity.errors import InputError
from probity.probes._util import clean
from probity.probes.analyse import CLASSES, count_pronouns
from probity.probes.runner import RunOutput
from probity.probes.stats import adjust, binom_pvalue, newcombe_diff, wilson
from probity.probes.suite import ProbePrompt


@dataclass(frozen=True)
class Share:
    """A share ``k/n`` with its 95% Wilson interval."""

    k: int
    n: int
    share: float
    low: float
    high: float


@dataclass(frozen=True)
class OccupationRow:
    """Neutral-prompt pronoun use for one occupation (or ``"all"``).

    ``labelled`` completions use a subject pronoun; ``no_pronoun`` do not. ``female_share`` is
    ``she / (he + she)``; ``reference`` the comparison rate (None without one); ``p_value``
    the exact binomial test against it and ``p_adjusted`` after the run's correction;
    ``differs`` is ``p_adjusted < alpha``."""

    occupation: str
    completions: int
    labelled: int
    no_pronoun: int
    shares: dict[str, Share]
    female_share: Share
    reference: float | None
    difference: float | None
    p_value: float | None
    p_adjusted: float | None
    differs: bool | None


@dataclass(frozen=True)
class CueShift:
    """How a cue moves the share of its expected pronoun class, for one occupation or ``all``."""

    occupation: str
    cue: str
    expected: str
    neutral: Share
    cued: Share
    shift: float
    low: float
    high: float


@dataclass(frozen=True)
class PronounResult:
    """Everything the pronoun probe measured. ``to_dict()`` is the ``--json`` output."""

    suite: str
    model: str
    run: dict[str, Any]
    reference_source: str | None
    correction: str
    alpha: float
    overall: OccupationRow
    occupations: list[OccupationRow]
    cues: list[CueShift]
    cue_by_occupation: list[CueShift]
    examples: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return clean(self)


def load_reference(
    source: str | os.PathLike[str], column: str | None = None
) -> tuple[dict[str, float] | float, str]:
    """A reference rate for the female share: ``"parity"`` (0.5 everywhere) or a CSV/TSV/JSONL
    table with an ``occupation`` column and a rate column (``column``; default the first one
    whose name contains ``female`` or ``women``, else the second column). Rates above 1 are read as
    percentages."""
    if str(source) == "parity":
        return 0.5, "parity (0.5)"
    from probity.io import read_table

    df = read_table(source)
    if "occupation" not in df.columns:
        raise InputError(
            f"reference table {str(source)!r} has no 'occupation' column",
            hint=f"columns are {list(df.columns)}",
        )
    if column is None:
        cands = [c for c in df.columns if "female" in str(c).lower() or "women" in str(c).lower()]
        others = [c for c in df.columns if c != "occupation"]
        if not cands and not others:
            raise InputError(f"reference table {str(source)!r} has no rate column")
        column = str(cands[-1] if cands else others[0])  # winogender: bls_pct_female
    if column not in df.columns:
        raise InputError(
            f"reference table {str(source)!r} has no column {column!r}",
            hint=f"columns are {list(df.columns)}",
        )
    vals = np.asarray(df[column], dtype=np.float64)
    if np.nanmax(vals) > 1.0:
        vals = vals / 100.0
    return (
        {
            str(o).strip().lower(): float(v)
            for o, v in zip(df["occupation"], vals, strict=True)
            if v == v
        },
        f"{source} [{column}]",
    )


def _share(k: int, n: int) -> Share:
    p, lo, hi = wilson(k, n)
    return Share(int(k), int(n), float(p), float(lo), float(hi))


def _row(name: str, labels: np.ndarray, ref: float | None) -> OccupationRow:
    counts = np.bincount(labels, minlength=len(CLASSES) + 1)
    labelled = int(counts[: len(CLASSES)].sum())
    shares = {c: _share(int(counts[i]), labelled) for i, c in enumerate(CLASSES)}
    gendered = int(counts[0] + counts[1])
    fem = _share(int(counts[1]), gendered)
    p = binom_pvalue(int(counts[1]), gendered, ref) if ref is not None else None
    diff = fem.share - ref if ref is not None and gendered else None
    return OccupationRow(
        name, len(labels), labelled, int(counts[-1]), shares, fem, ref, diff, p, None, None
    )


def analyse_pronouns(
    prompts: list[ProbePrompt],
    run: RunOutput,
    *,
    suite: str = "pronouns",
    reference: Mapping[str, float] | float | None = None,
    reference_source: str | None = None,
    correction: str = "holm",
    alpha: float = 0.05,
) -> PronounResult:
    """Score a pronoun run: see the module docstring for what is measured."""
    by_id = {p.id: p for p in prompts}
    ok = [s for s in run.samples if s.status == "ok" and s.prompt_id in by_id]
    labels = count_pronouns([s.text for s in ok]).labels
    occ = np.asarray([by_id[s.prompt_id].attrs["occupation"] for s in ok], dtype=object)
    cue = np.asarray([by_id[s.prompt_id].attrs["cue"] for s in ok], dtype=object)
    expected = {p.attrs["cue"]: p.attrs["expected"] for p in prompts}
    occ_order = list(dict.fromkeys(p.attrs["occupation"] for p in prompts))

    def ref_for(o: str) -> float | None:
        if reference is None:
            return None
        if isinstance(reference, int | float):
            return float(reference)
        return reference.get(o.lower())

    neutral = cue == "neutral"
    rows = [_row(o, labels[neutral & (occ == o)], ref_for(o)) for o in occ_order]
    pvals = np.asarray([r.p_value if r.p_value is not None else np.nan for r in rows])
    padj = adjust(pvals, correction)
    rows = [
        OccupationRow(
            **{
                **r.__dict__,
                "p_adjusted": None if np.isnan(q) else float(q),
                "differs": None if np.isnan(q) else bool(q < alpha),
            }
        )
        for r, q in zip(rows, padj, strict=True)
    ]
    overall_ref = float(reference) if isinstance(reference, int | float) else None
    overall = _row("all", labels[neutral], overall_ref)
    if overall.p_value is not None:
        overall = OccupationRow(
            **{
                **overall.__dict__,
                "p_adjusted": overall.p_value,
                "differs": bool(overall.p_value < alpha),
            }
        )

    def shift(o: str, c: str, mask_occ: np.ndarray) -> CueShift:
        exp = expected[c]
        ci = CLASSES.index(exp)
        ln, lc = labels[mask_occ & neutral], labels[mask_occ & (cue == c)]
        ln, lc = ln[ln < len(CLASSES)], lc[lc < len(CLASSES)]
        kn, kc = int((ln == ci).sum()), int((lc == ci).sum())
        d, lo, hi = newcombe_diff(kc, len(lc), kn, len(ln))
        return CueShift(
            o, c, exp, _share(kn, len(ln)), _share(kc, len(lc)), float(d), float(lo), float(hi)
        )

    cue_ids = [c for c in expected if c != "neutral"]
    all_mask = np.ones(len(ok), dtype=bool)
    cues = [shift("all", c, all_mask) for c in cue_ids]
    by_occ = [shift(o, c, occ == o) for o in occ_order for c in cue_ids]
    examples = [
        {
            "prompt": by_id[s.prompt_id].text,
            "completion": s.text,
            "label": ["male", "female", "they", "neo", "none"][int(lab)],
            "seed": s.seed,
        }
        for s, lab in list(zip(ok, labels, strict=True))[:8]
    ]
    return PronounResult(
        suite,
        run.model,
        run.summary(),
        reference_source,
        correction,
        alpha,
        overall,
        rows,
        cues,
        by_occ,
        examples,
    )
