"""``secrets``: API keys, tokens, private keys and passwords, by provider patterns plus an
entropy check for generic assignments.

Provider patterns (AWS, GitHub, GitLab, Slack, Stripe, Google, OpenAI, Anthropic, Hugging
Face, npm, Twilio, SendGrid, JWT, PEM private keys, credentials in URLs) score 1.0. A generic
``key = value`` assignment (``password``, ``secret``, ``token``, ``api_key`` ...) scores by the
Shannon entropy of its value: H = -sum p_c log2 p_c over the value's characters; values with
H >= ``min_entropy`` bits/char (default 3.0) and length >= 8 score min(1, H / 4.5), so
``password = hunter2hunter2`` is caught while ``token = None`` is not. Bare high-entropy strings
(>= 32 chars, base64/hex alphabet, H >= 4.0) are reported as ``high_entropy`` at 0.6.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

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
_ASSIGN = re.compile(
    r"(?i)\b(?:password|passwd|pwd|secret|api[_\-]?key|apikey|access[_\-]?key|auth[_\-]?token|"
    r"token|client[_\-]?secret|private[_\-]?key)\b[\"']?\s*(?:[:=]|=>|is)\s*[\"']?"
    r"(?P<value>[^\s\"',;]{6,200})"
)
_BLOB = re.compile(r"(?<![A-Za-z0-9+/_\-])[A-Za-z0-9+/_\-]{32,}={0,2}(?![A-Za-z0-9+/_\-])")


def shannon_entropy(s: str) -> float:
    """Shannon entropy of ``s`` in bits per character (0 for an empty string)."""
    if not s:
        return 0.0
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in Counter(s).values())


@register_scanner("secrets")
class SecretsScanner:
    """Finds credentials. ``min_entropy``: bits/char for generic assignments;
    ``high_entropy``: also report bare high-entropy blobs (default True)."""

    name = "secrets"
    version = "1.0"

    def __init__(self, min_entropy: float = 3.0, high_entropy: bool = True) -> None:
        self.min_entropy = float(min_entropy)
        self.high_entropy = bool(high_entropy)

    def _scan(self, text: str) -> list[Finding]:
        out: list[Finding] = []
        taken: list[tuple[int, int]] = []
        for m in _PROVIDER.finditer(text):
            kind = m.lastgroup or "secret"
            out.append(
                Finding(
                    self.name,
                    kind,
                    1.0,
                    (Span(m.start(), m.end(), kind),),
                    f"looks like a {kind.replace('_', ' ')}",
                )
            )
            taken.append((m.start(), m.end()))
        for m in _ASSIGN.finditer(text):
            a, b = m.span("value")
            if any(a < e and s < b for s, e in taken):
                continue
            value = m.group("value")
            if value.lower() in {
                "none",
                "null",
                "true",
                "false",
                "undefined",
                "changeme",
                "required",
                "optional",
                "string",
                "example",
            }:
                continue
            h = shannon_entropy(value)
            if len(value) >= 8 and h >= self.min_entropy:
                out.append(
                    Finding(
                        self.name,
                        "credential_assignment",
                        min(1.0, h / 4.5),
                        (Span(a, b, "credential"),),
                        f"a credential assigned in the text (entropy {h:.1f} bits/char)",
                    )
                )
                taken.append((a, b))
        if self.high_entropy:
            for m in _BLOB.finditer(text):
                a, b = m.span()
                if any(a < e and s < b for s, e in taken):
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
