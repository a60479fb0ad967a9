"""``/v1/moderations``: the guard's verdict in the shape OpenAI's moderation API returns.

Tools that call a moderation API (``client.moderations.create``) can point at Probity. Every
OpenAI category is present; a guard finding counts toward the categories its scanner and
category names match (below), with its score; ``flagged`` is true when the policy's action
for the text is anything but ``allow`` (so PII, secrets or an injection flag a text even
though OpenAI has no category for them; the ``probity`` object says why).
"""

from __future__ import annotations

from typing import Any

from probity.types import Verdict

CATEGORIES = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/instructions",
    "self-harm/intent",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)

#: (words in a finding's "source category", the OpenAI categories it counts toward)
_RULES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("hate",), ("hate",)),
    (("threat",), ("harassment/threatening",)),
    (("toxic", "harass", "insult", "profan", "offens", "abus"), ("harassment",)),
    (("self-harm", "self_harm", "suicide", "selfharm"), ("self-harm",)),
    (("minor", "child"), ("sexual/minors",)),
    (("sexual", "sex "), ("sexual",)),
    (("graphic", "gore"), ("violence/graphic",)),
    (("violen",), ("violence",)),
    (("weapon", "crime", "illicit", "illegal", "drug"), ("illicit",)),
)


def categories_of(source: str, category: str) -> list[str]:
    """The OpenAI categories a finding of ``source``/``category`` counts toward."""
    words = f"{source} {category} ".lower()
    out: list[str] = []
    for needles, cats in _RULES:
        if any(n in words for n in needles):
            out.extend(c for c in cats if c not in out)
    return out


def moderation_result(v: Verdict) -> dict[str, Any]:
    """One entry of ``results`` for verdict ``v``."""
    scores = dict.fromkeys(CATEGORIES, 0.0)
    for f in v.findings:
        for c in categories_of(f.source, f.category):
            scores[c] = max(scores[c], float(f.score))
    flagged_cats = {
        c for f in v.findings if f.action != "allow" for c in categories_of(f.source, f.category)
    }
    return {
        "flagged": v.action != "allow",
        "categories": {c: c in flagged_cats for c in CATEGORIES},
        "category_scores": scores,
        "category_applied_input_types": {c: ["text"] for c in CATEGORIES},
    }
