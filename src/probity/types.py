"""The few value types every layer shares.

All are frozen dataclasses with ``to_dict()``; the CLI's ``--json`` prints exactly that, so the
JSON shape is the API's shape.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Action = Literal["allow", "flag", "redact", "block"]

#: Actions ordered from least to most severe; ``Verdict`` keeps the most severe one.
ACTION_SEVERITY: dict[str, int] = {"allow": 0, "flag": 1, "redact": 2, "block": 3}


def _plain(value: Any) -> Any:
    """Turn dataclasses, tuples and numpy scalars into JSON-ready Python values."""
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        return value.item()
    return value


@dataclass(frozen=True)
class Span:
    """A half-open character range ``[start, end)`` of a text, with a label and a score in [0, 1]."""

    start: int
    end: int
    label: str = ""
    score: float = 1.0

    def __post_init__(self) -> None:
        if self.start < 0 or self.end < self.start:
            raise ValueError(f"invalid span [{self.start}, {self.end})")

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "label": self.label,
            "score": float(self.score),
        }


@dataclass(frozen=True)
class Finding:
    """What one scanner found in one text.

    ``source`` names the scanner (``"pii"``), ``category`` what it found (``"PHONE_NUMBER"``),
    ``score`` its confidence in [0, 1], ``spans`` where, and ``message`` a reason a person can read.
    ``action`` is the action the policy assigned to this finding (set by the guard).
    """

    source: str
    category: str
    score: float
    spans: tuple[Span, ...] = ()
    message: str = ""
    action: Action = "flag"
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "category": self.category,
            "score": float(self.score),
            "spans": [s.to_dict() for s in self.spans],
            "message": self.message,
            "action": self.action,
            "details": _plain(self.details),
        }


@dataclass(frozen=True)
class Verdict:
    """The guard's decision on one text: the most severe action among its findings.

    ``text`` is the text to pass on (redacted when ``action == "redact"``).
    """

    action: Action
    findings: tuple[Finding, ...] = ()
    text: str = ""
    policy: str = ""
    direction: str = ""
    disclaimers: tuple[str, ...] = ()

    @property
    def blocked(self) -> bool:
        return self.action == "block"

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "findings": [f.to_dict() for f in self.findings],
            "text": self.text,
            "policy": self.policy,
            "direction": self.direction,
            "disclaimers": list(self.disclaimers),
        }


def most_severe(actions: list[str] | tuple[str, ...]) -> Action:
    """Return the most severe of ``actions`` (``allow`` when empty)."""
    best = "allow"
    for a in actions:
        if a not in ACTION_SEVERITY:
            raise ValueError(f"unknown action {a!r}; expected one of {list(ACTION_SEVERITY)}")
        if ACTION_SEVERITY[a] > ACTION_SEVERITY[best]:
            best = a
    return best  # type: ignore[return-value]


@dataclass(frozen=True)
class Certificate:
    """A signed statement about a text, verifiable with the public key alone.

    ``kind`` says what is certified (``"watermark-detection"``, ``"unlearning"``), ``claims``
    holds the facts (scheme, parameters, counts, p-value, text hash, time), ``key_id`` names the
    signing key, ``public_key`` is the raw Ed25519 public key (hex) and ``signature`` the Ed25519
    signature (hex) over the canonical JSON of ``kind``, ``key_id`` and ``claims``.
    """

    kind: str
    claims: dict[str, Any]
    key_id: str
    public_key: str
    signature: str
    algorithm: str = "ed25519"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Certificate:
        return cls(
            **{k: data[k] for k in ("kind", "claims", "key_id", "public_key", "signature")},
            algorithm=data.get("algorithm", "ed25519"),
        )
