"""``secrets``: API keys, tokens, private keys and passwords.

Three layers, each reported with its source in ``Finding.details["engine"]``:

1. ``detect-secrets`` (Yelp): its provider plugins (AWS, Artifactory, Azure storage, basic auth
   in URLs, Cloudant, Discord, GitHub, GitLab, IBM, Mailchimp, npm, OpenAI, PyPI, SendGrid,
   Slack, SoftLayer, Square, Stripe, Telegram, Twilio, JWT, private keys) and its
   ``KeywordDetector`` for quoted ``password = "..."`` style assignments. Its high-entropy
   plugins are not used: they report every word of ordinary prose.
2. Our own provider patterns where detect-secrets has none (Google API keys, Anthropic,
   Hugging Face, SendGrid-v2, bearer tokens, ``gh*_`` tokens of any length) -- score 1.0.
3. Our own assignment rule, because detect-secrets' keyword detector only reports *quoted*
   values: ``NAME=value`` / ``NAME: value`` where NAME contains password, passwd, pwd, secret,
   token, api key, access key, private key or credential (``AWS_SECRET_ACCESS_KEY=...``,
   ``db_password=...``, ``password=S3cr3tP4ss``) scores 0.95 unless the value is a placeholder
   (``<...>``, ``${VAR}``, ``os.environ[...]``, a function call, ``None``, ``changeme``...).
   Prose ("my password is X") needs a value with a digit or symbol.

Bare high-entropy blobs (>= 32 chars, base64/hex alphabet, H >= 4.0 bits/char where
H = -sum p_c log2 p_c) are reported as ``high_entropy`` at 0.6 (a hint, below the default
policies' thresholds). detect-secrets runs only on windows around a cheap pre-filter match
(a keyword, ``://``, or a long token), so scanning stays linear on megabyte inputs.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from functools import cache
from typing import Any

from probity.guard.base import ScanContext, register_scanner
from probity.types import Finding, Span

_PATTERNS: list[tuple[str, str]] = [
    ("aws_access_key", r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b"),
    ("github_token", r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{60,255})\b"),
    ("gitlab_token", r"\bglpat-[A-Za-z0-9_\-]{20,}\b"),
    ("slack_token", r"\bxox[abposr]-[A-Za-z0-9\-]{10,}\b"),
    ("slack_webhook", r"https://hooks\.slack\.com/services/[A-Za-z0-9/_\-]{20,}"),
    ("stripe_key", r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}\b"),
    ("google_api_key", r"\bAIza[0-9A-Za-z_\-]{35}\b"),
    ("anthropic_key", r"\bsk-ant-[A-Za-z0-9_\-]{20,}\b"),
    ("openai_key", r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}\b"),
    ("huggingface_token", r"\bhf_[A-Za-z0-9]{30,}\b"),
    ("npm_token", r"\bnpm_[A-Za-z0-9]{36}\b"),
    ("twilio_key", r"\bSK[0-9a-fA-F]{32}\b"),
    ("sendgrid_key", r"\bSG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43}\b"),
    ("jwt", r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),
    (
        "private_key",
        r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY(?: BLOCK)?-----[\s\S]*?"
        r"(?:-----END (?:[A-Z]+ )?PRIVATE KEY(?: BLOCK)?-----|\Z)",
    ),
    ("url_credentials", r"\b[a-z][a-z0-9+.\-]*://[^\s:/@]+:[^\s:/@]{3,}@[^\s/]+"),
    ("bearer_token", r"\b[Bb]earer\s+[A-Za-z0-9_\-.=]{20,}"),
]
_PROVIDER = re.compile("|".join(f"(?P<{n}>{p})" for n, p in _PATTERNS))
_KEYWORD = (
    r"(?:pass(?:word|wd|phrase)?|pwd|secret|token|api[_\-]?key|apikey|access[_\-]?key|"
    r"auth[_\-]?(?:key|token)|client[_\-]?secret|private[_\-]?key|credentials?|"
    r"signing[_\-]?key|encryption[_\-]?key)"
)
# A name holding a keyword (AWS_SECRET_ACCESS_KEY, db_password, x-api-key), an assignment
# operator, then the value up to whitespace or a closing quote.
_ASSIGN = re.compile(
    r"(?i)(?<![\w.])(?P<name>[\w\-.]{0,40}?" + _KEYWORD + r"[\w\-]{0,20})[\"']?"
    r"(?P<op>\s*(?::=|=>|[:=])\s*|\s+is\s+|\s*=\s*)(?P<q>[\"'`]?)"
    r"(?P<value>[^\s\"'`,;]{6,200})"
)
_PLACEHOLDER = re.compile(
    r"(?i)^(?:none|null|nil|true|false|undefined|changeme|required|optional|string|example|"
    r"password|secret|token|xxx+|\*+|\.\.\.|redacted|hidden|empty|not[_\-]?set|your[_\-].*)$"
    r"|^[<{\[$%(]|[>}\]]$|\(|^os\.|^process\.env|^env\.|^getenv|^self\.|^settings\.|^config\."
)
_BLOB = re.compile(r"(?<![A-Za-z0-9+/_\-])[A-Za-z0-9+/_\-]{32,}={0,2}(?![A-Za-z0-9+/_\-])")


# Cheap pre-filter for detect-secrets: its plugins run only on windows around these matches.
_PREFILTER = re.compile(r"(?i)" + _KEYWORD + r"|://|[A-Za-z0-9+/_\-]{20,}")
_WINDOW = 200
# detect-secrets plugins used (its entropy plugins report ordinary words; IP is PII's job).
_SKIP_PLUGINS = {"Base64HighEntropyString", "HexHighEntropyString", "IPPublicDetector"}


@cache
def _detect_secrets_plugins() -> tuple[Any, ...]:
    try:
        from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    except ImportError:  # pragma: no cover - detect-secrets is a core dependency
        return ()
    return tuple(
        cls()
        for cls in get_mapping_from_secret_type_to_class().values()
        if cls.__name__ not in _SKIP_PLUGINS
    )


def _slug(secret_type: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", secret_type.lower()).strip("_")


class _Taken:
    """Character ranges already reported, as a coverage map (O(span) checks, so a megabyte of
    credentials does not make the scan quadratic)."""

    def __init__(self, size: int) -> None:
        self._mask = bytearray(size)

    def append(self, span: tuple[int, int]) -> None:
        a, b = span
        self._mask[a:b] = b"\x01" * (b - a)

    def overlaps(self, a: int, b: int) -> bool:
        return self._mask.find(1, a, b) != -1


def shannon_entropy(s: str) -> float:
    """Shannon entropy of ``s`` in bits per character (0 for an empty string)."""
    if not s:
        return 0.0
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in Counter(s).values())


@register_scanner("secrets")
class SecretsScanner:
    """Finds credentials. ``high_entropy``: also report bare high-entropy blobs (default
    True); ``detect_secrets``: run detect-secrets' plugins (default True).
    ``min_entropy`` is kept for old policies and only applies to prose ("my password is X")."""

    name = "secrets"
    version = "2.0"

    def __init__(
        self, min_entropy: float = 3.0, high_entropy: bool = True, detect_secrets: bool = True
    ) -> None:
        self.min_entropy = float(min_entropy)
        self.high_entropy = bool(high_entropy)
        self.plugins = _detect_secrets_plugins() if detect_secrets else ()

    def _detect_secrets(self, text: str, out: list[Finding], taken: _Taken):
        if not self.plugins:
            return
        windows: list[tuple[int, int]] = []
        for m in _PREFILTER.finditer(text):
            a = max(0, m.start() - _WINDOW)
            b = min(len(text), m.end() + _WINDOW)
            if windows and a <= windows[-1][1]:
                windows[-1] = (windows[-1][0], max(b, windows[-1][1]))
            else:
                windows.append((a, b))
        if not windows:
            return
        for wa, wb in windows:
            chunk = text[wa:wb]
            for plugin in self.plugins:
                for found in plugin.analyze_line(filename="input.txt", line=chunk, line_number=1):
                    value = found.secret_value
                    if not value:
                        continue
                    pos = chunk.find(value)
                    while pos >= 0:
                        a, b = wa + pos, wa + pos + len(value)
                        if not taken.overlaps(a, b):
                            kind = _slug(found.type)
                            out.append(
                                Finding(
                                    self.name,
                                    kind,
                                    0.95 if kind == "secret_keyword" else 1.0,
                                    (Span(a, b, kind),),
                                    f"detect-secrets: {found.type}",
                                    details={"engine": "detect-secrets"},
                                )
                            )
                            taken.append((a, b))
                        pos = chunk.find(value, pos + len(value))

    def _assignments(self, text: str, out: list[Finding], taken: _Taken):
        for m in _ASSIGN.finditer(text):
            a, b = m.span("value")
            value = m.group("value")
            if m.group("q"):  # a quoted value ends at its closing quote
                value = value.rstrip(")]}")
                b = a + len(value)
            if taken.overlaps(a, b) or _PLACEHOLDER.search(value):
                continue
            prose = "is" in m.group("op")
            h = shannon_entropy(value)
            if prose and (value.isalpha() or h < self.min_entropy):
                continue  # "my password is required", "the token is missing"
            if not prose and value.isalpha() and value.islower() and len(value) < 8:
                continue  # key = value, token = abcdef
            out.append(
                Finding(
                    self.name,
                    "credential_assignment",
                    0.95 if not prose else 0.85,
                    (Span(a, b, "credential"),),
                    f"a credential assigned to {m.group('name')!r}",
                    details={"engine": "probity"},
                )
            )
            taken.append((a, b))

    def _scan(self, text: str) -> list[Finding]:
        out: list[Finding] = []
        taken = _Taken(len(text))
        for m in _PROVIDER.finditer(text):
            kind = m.lastgroup or "secret"
            out.append(
                Finding(
                    self.name,
                    kind,
                    1.0,
                    (Span(m.start(), m.end(), kind),),
                    f"looks like a {kind.replace('_', ' ')}",
                    details={"engine": "probity"},
                )
            )
            taken.append((m.start(), m.end()))
        self._detect_secrets(text, out, taken)
        self._assignments(text, out, taken)
        if self.high_entropy:
            for m in _BLOB.finditer(text):
                a, b = m.span()
                if taken.overlaps(a, b):
                    continue
                v = m.group(0)
                if not (any(c.isdigit() for c in v) and any(c.isalpha() for c in v)):
                    continue
                h = shannon_entropy(v)
                if h >= 4.0:
                    out.append(
                        Finding(
                            self.name,
                            "high_entropy",
                            0.6,
                            (Span(a, b, "secret"),),
                            f"a high-entropy string ({h:.1f} bits/char)",
                        )
                    )
        return out

    def scan_many(
        self, texts: Sequence[str], context: ScanContext | None = None
    ) -> list[list[Finding]]:
        return [self._scan(t) for t in texts]
