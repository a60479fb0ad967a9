"""``injection``: prompt-injection and jailbreak heuristics, with an optional local classifier.

Each heuristic is a regular expression with a weight w in (0, 1] (how strongly it indicates
an attack on its own); the text's score combines the matched weights as independent evidence,
score = 1 - prod_i (1 - w_i), so two weak signals add up. Categories: ``instruction_override``
(ignore previous instructions), ``role_hijack`` (you are now DAN / developer mode),
``prompt_leak`` (reveal your system prompt), ``delimiter`` (chat-template tokens smuggled into
text), ``obfuscation`` (decode-and-follow requests). With ``model`` (a local folder of a
text-classification model) the classifier's score is reported as ``classifier``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from probity.guard.base import ScanContext, register_scanner
from probity.types import Finding, Span

_RULES: list[tuple[str, float, str]] = [
    (
        "instruction_override",
        0.9,
        r"\b(?:ignore|disregard|forget|override|bypass|skip)\b[^.\n]{0,30}\b(?:all |any |the )?"
        r"(?:previous|prior|above|earlier|preceding|initial|original|system|your)\b[^.\n]{0,20}"
        r"\b(?:instructions?|prompts?|rules|directions|guidelines|context|messages?)",
    ),
    ("instruction_override", 0.6, r"\bnew (?:instructions|rules|task)\s*:"),
    ("instruction_override", 0.5, r"\b(?:from now on|starting now),? (?:you|act|respond|answer)"),
    (
        "role_hijack",
        0.9,
        r"\b(?:DAN|do anything now|STAN|DUDE|AIM)\b.{0,40}\b(?:mode|prompt|"
        r"jailbreak|you are|act as)|\byou are (?:now )?DAN\b",
    ),
    ("role_hijack", 0.8, r"\b(?:developer|god|jailbreak|unrestricted|uncensored|evil) mode\b"),
    (
        "role_hijack",
        0.6,
        r"\b(?:pretend|act|behave|roleplay)\b[^.\n]{0,40}\b(?:no|without) "
        r"(?:restrictions|limits|filters|rules|guidelines|morals|ethics)",
    ),
    ("role_hijack", 0.5, r"\byou (?:are|have been) (?:freed|released|liberated|unshackled)\b"),
    ("role_hijack", 0.4, r"\bjailbr(?:eak|oken)\b"),
    (
        "prompt_leak",
        0.8,
        r"\b(?:reveal|print|show|repeat|output|tell me|display|leak)\b[^.\n]{0,40}"
        r"\b(?:system prompt|initial prompt|hidden (?:prompt|instructions)|"
        r"your instructions|the (?:text|words) above)",
    ),
    (
        "delimiter",
        0.7,
        r"<\|(?:im_start|im_end|system|endoftext|eot_id|start_header_id)\|>|"
        r"\[/?INST\]|<<SYS>>|^\s*#{2,}\s*(?:system|instruction)s?\b",
    ),
    (
        "obfuscation",
        0.6,
        r"\b(?:decode|base64|rot13|reverse)\b[^.\n]{0,40}\b(?:and|then)\b[^.\n]"
        r"{0,20}\b(?:follow|execute|run|do|obey)",
    ),
]
_COMPILED = [(cat, w, re.compile(p, re.IGNORECASE | re.MULTILINE)) for cat, w, p in _RULES]


@register_scanner("injection")
class InjectionScanner:
    """Heuristic prompt-injection detector; ``model``: optional local classifier folder."""

    name = "injection"
    version = "1.0"

    def __init__(self, model: str | None = None, positive: Sequence[str] | None = None) -> None:
        self.classifier = None
        if model:
            from probity.guard.scanners._hf import LocalClassifier

            self.classifier = LocalClassifier(model, positive)
            self.version = f"1.0+{self.classifier.version}"

    def _scan(self, text: str) -> list[Finding]:
        by_cat: dict[str, tuple[float, list[Span]]] = {}
        for cat, w, rx in _COMPILED:
            for m in rx.finditer(text):
                keep, spans = by_cat.get(cat, (1.0, []))
                spans.append(Span(m.start(), m.end(), cat, w))
                by_cat[cat] = (keep * (1.0 - w), spans)
                break  # one hit per rule: repeats are not independent evidence
        return [
            Finding(
                self.name,
                cat,
                round(1.0 - keep, 4),
                tuple(spans),
                f"prompt-injection pattern ({cat.replace('_', ' ')})",
            )
            for cat, (keep, spans) in by_cat.items()
        ]

    def scan_many(
        self, texts: Sequence[str], context: ScanContext | None = None
    ) -> list[list[Finding]]:
        out = [self._scan(t) for t in texts]
        if self.classifier is not None and texts:
            scores = self.classifier.predict(texts)
            for i, s in enumerate(scores):
                out[i].append(
                    Finding(
                        self.name,
                        "classifier",
                        float(s),
                        (Span(0, len(texts[i]), "classifier", float(s)),),
                        "prompt-injection classifier score",
                    )
                )
        return out
