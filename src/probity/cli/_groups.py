"""The CLI's command groups. Area modules in ``probity.cli`` add their commands to these.

Kept in one place so that two areas sharing a group (``audit fairness`` and
``audit privacy``) add to the same object.
"""

from __future__ import annotations

import typer


def _group(help_text: str) -> typer.Typer:
    return typer.Typer(
        help=help_text, no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False
    )


watermark_app = _group("Watermark generated text and detect watermarks with a p-value.")
keys_app = _group("Create, list, show and export watermark and signing keys.")
guard_app = _group("Scan prompts and outputs against a use-case policy.")
overlap_app = _group("Find verbatim spans, near-duplicates and code clones of protected content.")
cite_app = _group("Extract references, verify them against a local database, ground answers.")
audit_app = _group("Audit models: fairness of predictions, privacy leakage.")
mitigate_app = _group("Train models under fairness constraints.")
probe_app = _group("Probe LLMs for bias: occupation pronouns, tone gaps, counterfactual pairs.")
curate_app = _group("Scrub, filter and deduplicate training corpora.")
unlearn_app = _group("Train SISA ensembles and forget records on request.")

#: (name, group) in the order ``probity --help`` lists them.
GROUPS: list[tuple[str, typer.Typer]] = [
    ("watermark", watermark_app),
    ("keys", keys_app),
    ("guard", guard_app),
    ("overlap", overlap_app),
    ("cite", cite_app),
    ("audit", audit_app),
    ("mitigate", mitigate_app),
    ("probe", probe_app),
    ("curate", curate_app),
    ("unlearn", unlearn_app),
]

serve_app = _group("Run the OpenAI-compatible gateway that guards and watermarks traffic.")
GROUPS.append(("serve", serve_app))
