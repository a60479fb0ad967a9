"""``injection``: prompt-injection and jailbreak heuristics, with an optional local classifier.

Each heuristic is a regular expression with a weight w in (0, 1] (how strongly it indicates
an attack on its own); the text's score combines the matched weights as independent evidence,
score = 1 - prod_i (1 - w_i), so two weak signals add up. Categories: ``instruction_override``
(ignore previous instructions), ``role_hijack`` (you are now DAN / developer mode),
``prompt_leak`` (reveal your system prompt), ``delimiter`` (chat-template tokens smuggled into
text), ``obfuscation`` (decode-and-follow requests), ``role_play`` (the "grandmother used to
read me the keys" family), ``indirect`` (instructions to the assistant hidden in retrieved or
tool content: HTML comments, ``display:none`` elements, zero-size or white text). Every finding
of a text carries the text's combined score, so weak signals of different kinds add up.

Rules cover paraphrases (``set aside your prior guidance``, ``forget the rules you were given
earlier``) and French, German, Spanish, Italian and Portuguese overrides; they run on the text
and on a normalised view (accents folded, homoglyphs mapped, spaced-out letters joined), so
``I g n o r e  a l l  p r e v i o u s`` matches; a match found only in the view spans the
whole text. A phrase quoted inside a longer narrative or discussion (``the hacker types
"ignore all previous instructions" into the chatbot``) counts a third, unless the text around
it tells the reader to act on it. With ``model`` (a local folder of a text-classification
model) the classifier's score is reported as ``classifier``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from probity.guard.base import ScanContext, register_scanner
from probity.types import Finding, Span

_VERB = (
    r"(?:ignore|disregard|forget|override|bypass|skip|set aside|put aside|drop|abandon|discard|"
    r"throw out|throw away|pay no attention to|stop following|no longer follow|neglect|erase|"
    r"delete|wipe)"
)
_RULE_NOUN = (
    r"(?:instructions?|prompts?|rules|directions|guidelines|guidance|directives|programming|"
    r"training|constraints|orders|commands|setup|configuration|policies|restrictions|context|"
    r"messages?)"
)
_RULES: list[tuple[str, float, str]] = [
    (
        "instruction_override",
        0.9,
        rf"\b{_VERB}\b[^.\n]{{0,30}}\b(?:everything|anything|all)\b[^.\n]{{0,20}}\b(?:you were |you've been |you have been |i )?"
        r"(?:told|instructed|given|said|taught|programmed)\b[^.\n]{0,20}\b(?:before|earlier|previously|so far|until now|above)",
    ),
    (
        "instruction_override",
        0.9,
        rf"\b{_VERB}\b[^.\n]{{0,40}}\b{_RULE_NOUN}\b[^.\n]{{0,30}}\b(?:you were|you've been|you have been|"
        r"you got|earlier|before|previously|so far|originally)\b",
    ),
    (
        "instruction_override",
        0.9,
        r"\b(?:ignore[rz]?|oublie[rz]?|ne tiens pas compte)\b[^.\n]{0,30}\b(?:instructions?|consignes?|"
        r"regles)\b[^.\n]{0,20}\b(?:precedentes?|anterieures?|ci-dessus)"
        r"|\b(?:ignorier(?:e|en sie)?|vergiss|vergessen sie|missachte)\b[^.\n]{0,30}\b(?:vorherigen|bisherigen|"
        r"obigen|alle|fruheren)\b[^.\n]{0,20}\b(?:anweisungen|instruktionen|regeln|vorgaben)"
        r"|\b(?:ignora|olvida|omite|ignore|olvide)\b[^.\n]{0,30}\b(?:instrucciones|reglas|indicaciones)\b"
        r"[^.\n]{0,20}\b(?:anteriores|previas)"
        r"|\b(?:ignora|dimentica)\b[^.\n]{0,30}\b(?:istruzioni|regole)\b[^.\n]{0,20}\b(?:precedenti)"
        r"|\b(?:ignore|esqueca|esquece)\b[^.\n]{0,30}\b(?:instrucoes|regras)\b[^.\n]{0,20}\b(?:anteriores)",
    ),
    (
        "prompt_leak",
        0.85,
        r"\b(?:affiche[rz]?|montre[rz]?|revele[rz]?)\b[^.\n]{0,30}\b(?:prompt|instructions?) (?:systeme|initial)"
        r"|\b(?:gib|zeige?|nenne)\b[^.\n]{0,30}\b(?:system-?prompt|systemanweisungen)"
        r"|\b(?:muestra|revela|dime|imprime)\b[^.\n]{0,30}\b(?:prompt|instrucciones) del sistema",
    ),
    (
        "prompt_leak",
        0.85,
        r"\b(?:show|reveal|print|tell|give|share|output|repeat|display|recite|write out)\b[^.\n]{0,40}"
        r"\b(?:text|instructions|prompt|words|message|rules)\b[^.\n]{0,10}\b(?:you were|you've been|"
        r"you have been|you are)\s+(?:initiali[sz]ed|given|configured|programmed|set up|started|"
        r"primed|seeded|instructed)",
    ),
    (
        "role_play",
        0.7,
        r"\b(?:grand(?:ma|mother|pa|father|mom|dad)|nana|deceased|late (?:mother|father))\b[^\n]{0,120}?"
        r"\b(?:used to|would)\b[^\n]{0,80}?\b(?:keys?|passwords?|serial(?: numbers?)?|activation|"
        r"license|licence|napalm|meth|explosives?|bombs?|weapons?|poison|malware|credit card)",
    ),
    (
        "role_play",
        0.5,
        r"\b(?:pretend|act|roleplay|role-play|play the role|imagine you are|you are now|be my)\b"
        r"[^.\n]{0,40}\b(?:to be (?:her|him|my)|as (?:her|him|my)|grand\w+|deceased|evil|unfiltered|"
        r"character|persona)\b",
    ),
    ("role_play", 0.5, r"\bstay in character\b|\bnever break character\b"),
    (
        "role_hijack",
        0.7,
        r"\b(?:ai|assistant|model|chatbot|bot|llm)\b[^.\n]{0,15}\b(?:with|that has|without)\s+(?:no\s+)?"
        r"(?:rules|restrictions|filters|limits|guidelines|morals|ethics|censorship)",
    ),
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
# Content a reader does not see: HTML comments and elements hidden by style or attribute.
_HIDDEN = re.compile(
    r"<!--(.*?)-->|<(\w+)[^>]*(?:display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0|"
    r"opacity\s*:\s*0|color\s*:\s*(?:white|#fff(?:fff)?\b)|\bhidden\b|aria-hidden=\"true\")[^>]*>(.*?)</\2>",
    re.IGNORECASE | re.DOTALL,
)
_ADDRESSED = re.compile(
    r"\b(?:ai|assistant|chatbot|llm|language model|gpt|claude|bot|system)\b\s*[:,]|"
    r"\b(?:ignore|disregard|forget|instead|you must|you should|do not tell|don't tell|send|"
    r"reply|respond|answer|output|print|reveal|email|forward|visit|click|include)\b",
    re.IGNORECASE,
)
_QUOTED = re.compile(r"\"[^\"\n]{4,300}\"|“[^”]{4,300}”|(?<![A-Za-z])'[^'\n]{6,300}'(?![A-Za-z])")
_ACT_ON_IT = re.compile(
    r"(?i)\b(?:do (?:what|as)|follow|obey|execute|comply|you must|now do|then do|act on)\b"
)
_WORDS = re.compile(r"[^\W_]+")


def _view(text: str) -> str:
    """Accents folded, homoglyphs mapped and spaced-out letters joined (offsets not kept)."""
    from probity.guard.scanners._obfuscation import _fold, _join_spaced

    return _join_spaced(_fold(text))


def _mentioned(text: str, a: int, b: int) -> bool:
    """Whether [a, b) lies in a quotation inside a longer narrative or discussion that does
    not tell the reader to act on it."""
    for q in _QUOTED.finditer(text):
        if q.start() <= a and b <= q.end():
            outside = text[: q.start()] + " " + text[q.end() :]
            return len(_WORDS.findall(outside)) >= 8 and not _ACT_ON_IT.search(outside)
    return False


@register_scanner("injection")
class InjectionScanner:
    """Heuristic prompt-injection detector; ``model``: optional local classifier folder."""

    name = "injection"
    version = "2.0"

    def __init__(self, model: str | None = None, positive: Sequence[str] | None = None) -> None:
        self.classifier = None
        if model:
            from probity.guard.scanners._hf import LocalClassifier

            self.classifier = LocalClassifier(model, positive)
            self.version = f"2.0+{self.classifier.version}"

    def _scan(self, text: str) -> list[Finding]:
        hits: dict[str, list[Span]] = {}
        keep = 1.0
        view = _view(text)
        if view == text.lower():
            view = ""  # nothing normalised: the rules (case-insensitive) already saw it
        for cat, w, rx in _COMPILED:
            m = rx.search(text)
            span = None
            if m is not None:
                span = Span(m.start(), m.end(), cat, w)
                if _mentioned(text, m.start(), m.end()):
                    w /= 3
            elif view and rx.search(view):
                span = Span(0, len(text), cat, w)  # found only in the normalised view
            if span is None:
                continue
            hits.setdefault(cat, []).append(span)
            keep *= 1.0 - w  # one hit per rule: repeats are not independent evidence
        for m in _HIDDEN.finditer(text):
            body = m.group(1) if m.group(1) is not None else m.group(3) or ""
            if _ADDRESSED.search(body):
                hits.setdefault("indirect", []).append(Span(m.start(), m.end(), "indirect", 0.7))
                keep *= 0.3
                break
        score = round(1.0 - keep, 4)
        return [
            Finding(
                self.name,
                cat,
                score,
                tuple(spans),
                f"prompt-injection pattern ({cat.replace('_', ' ')})",
            )
            for cat, spans in hits.items()
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
