"""Redaction: rewrite spans of a text (mask, replace, hash, encrypt, remove) and the vault that
restores replaced originals in a model's answer.

Redactions compose: overlapping spans from several findings are merged first (the union is
redacted once, labelled by the longest contributing span), so no original character survives
between two overlapping redactions and offsets never drift.

- ``mask``: ``[PHONE_NUMBER]``.
- ``replace``: a numbered placeholder ``<PERSON_1>``; the same original gets the same
  placeholder within one :class:`PiiVault`, which keeps placeholder -> original.
- ``hash``: ``<PERSON:3f2a9c1b07de>``, the first 12 hex digits of
  sha256(salt || original): stable across calls (linkable) but not reversible.
- ``encrypt``: ``<enc:...>`` with a Fernet token (AES-128-CBC + HMAC-SHA256) under a key
  kept in the Probity home (``keys/guard-fernet.key``) or given explicitly; reversible with
  :func:`decrypt_token`.
- ``fake``: a realistic fake value of the same type from Faker (a made-up name for a
  ``PERSON``, another e-mail address for an ``EMAIL_ADDRESS``...), the same fake for the same
  original within a vault (or within one text without a vault), seeded from the original so
  runs are reproducible; the vault also maps fake -> original for ``restore``.
- ``remove``: the span is deleted.

Without a vault every call numbers its own entities: two different e-mail addresses in one
text become ``<EMAIL_ADDRESS_1>`` and ``<EMAIL_ADDRESS_2>``.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from probity.errors import InputError
from probity.types import Span


@dataclass
class PiiVault:
    """Placeholder -> original map for the ``replace`` redaction, for one conversation.

    Pass the same vault to ``guard.check(prompt, vault=v)`` and then call
    ``v.restore(answer)`` on the model's answer to put the originals back.
    """

    mapping: dict[str, str] = field(default_factory=dict)
    _reverse: dict[tuple[str, str], str] = field(default_factory=dict, repr=False)
    _counts: dict[str, int] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def placeholder(self, label: str, original: str) -> str:
        """The placeholder for ``original`` (created on first use)."""
        label = re.sub(r"[^A-Z0-9_]", "_", label.upper()) or "PII"
        with self._lock:
            key = (label, original)
            if key in self._reverse:
                return self._reverse[key]
            n = self._counts.get(label, 0) + 1
            self._counts[label] = n
            ph = f"<{label}_{n}>"
            self._reverse[key] = ph
            self.mapping[ph] = original
            return ph

    def fake(self, label: str, original: str) -> str:
        """A realistic fake for ``original`` of entity type ``label`` (created on first use)."""
        label = re.sub(r"[^A-Z0-9_]", "_", label.upper()) or "PII"
        with self._lock:
            key = ("fake:" + label, original)
            if key in self._reverse:
                return self._reverse[key]
            value = fake_value(label, original)
            while value in self.mapping and self.mapping[value] != original:
                value = fake_value(label, original + "\x00" + value)
            self._reverse[key] = value
            self.mapping[value] = original
            return value

    def restore(self, text: str) -> str:
        """Replace every known placeholder in ``text`` with its original."""
        if not self.mapping:
            return text
        pattern = re.compile(
            "|".join(re.escape(k) for k in sorted(self.mapping, key=len, reverse=True))
        )
        return pattern.sub(lambda m: self.mapping[m.group(0)], text)

    def __len__(self) -> int:
        return len(self.mapping)

    def to_dict(self) -> dict[str, str]:
        return dict(self.mapping)


_FAKER_LOCK = threading.Lock()
_FAKER: list = []


def fake_value(label: str, original: str) -> str:
    """A Faker value for entity type ``label``, seeded from ``original`` (reproducible)."""
    with _FAKER_LOCK:
        if not _FAKER:
            from faker import Faker

            _FAKER.append(Faker())
        fk = _FAKER[0]
        fk.seed_instance(int.from_bytes(hashlib.sha256(original.encode("utf-8")).digest()[:8]))
        makers = {
            "PERSON": fk.name,
            "EMAIL_ADDRESS": fk.email,
            "PHONE_NUMBER": fk.phone_number,
            "CREDIT_CARD": fk.credit_card_number,
            "IBAN_CODE": fk.iban,
            "US_SSN": fk.ssn,
            "IP_ADDRESS": fk.ipv6 if ":" in original else fk.ipv4_private,
            "URL": fk.url,
            "STREET_ADDRESS": fk.street_address,
            "DATE_TIME": fk.date,
        }
        make = makers.get(label)
        return make() if make is not None else f"[{label}]"


_KEY_LOCK = threading.Lock()


def fernet_key(path: str | os.PathLike[str] | None = None) -> bytes:
    """The Fernet key for the ``encrypt`` redaction: ``$PROBITY_GUARD_KEY`` when set, else the
    key file (created with mode 0600 on first use)."""
    env = os.environ.get("PROBITY_GUARD_KEY")
    if env:
        return env.encode("ascii")
    from cryptography.fernet import Fernet

    from probity.home import keys_dir

    p = Path(path) if path else keys_dir() / "guard-fernet.key"
    with _KEY_LOCK:
        if not p.exists():
            from probity.io import write_bytes_atomic

            write_bytes_atomic(p, Fernet.generate_key(), permissions=0o600)
            os.chmod(p, 0o600)
        return p.read_bytes().strip()


def decrypt_token(token: str, key: bytes | None = None) -> str:
    """Decrypt an ``<enc:...>`` placeholder (or the bare token) written by ``encrypt``."""
    from cryptography.fernet import Fernet, InvalidToken

    raw = token[5:-1] if token.startswith("<enc:") and token.endswith(">") else token
    try:
        return Fernet(key or fernet_key()).decrypt(raw.encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError) as exc:
        raise InputError("cannot decrypt the token: wrong key or damaged token") from exc


@dataclass(frozen=True)
class Redaction:
    """One span to rewrite and how."""

    span: Span
    method: str = "mask"


def merge_redactions(items: list[Redaction]) -> list[Redaction]:
    """Merge overlapping or touching redactions; the merged one keeps the label and method of
    its longest part (``remove`` loses to any method that leaves a marker)."""
    if not items:
        return []
    items = sorted(items, key=lambda r: (r.span.start, -r.span.end))
    out: list[list] = []
    for r in items:
        if out and r.span.start < out[-1][1]:
            cur = out[-1]
            cur[1] = max(cur[1], r.span.end)
            if (r.span.end - r.span.start) > (cur[2].span.end - cur[2].span.start):
                cur[2] = r
        else:
            out.append([r.span.start, r.span.end, r])
    return [
        Redaction(Span(a, b, best.span.label, best.span.score), best.method) for a, b, best in out
    ]


def apply_redactions(
    text: str,
    items: list[Redaction],
    *,
    vault: PiiVault | None = None,
    key: bytes | None = None,
    salt: str = "probity",
) -> str:
    """Rewrite ``text`` with the merged ``items``; see the module docstring for the methods."""
    merged = merge_redactions(items)
    if not merged:
        return text
    parts: list[str] = []
    pos = 0
    fernet = None
    if vault is None:  # one numbering per call: distinct entities get distinct placeholders
        vault = PiiVault()
    for r in merged:
        a, b = r.span.start, r.span.end
        original = text[a:b]
        label = r.span.label or "REDACTED"
        if r.method == "remove":
            rep = ""
        elif r.method == "replace":
            rep = vault.placeholder(label, original)
        elif r.method == "fake":
            rep = vault.fake(label, original)
        elif r.method == "hash":
            digest = hashlib.sha256((salt + "\x00" + original).encode("utf-8")).hexdigest()
            rep = f"<{label}:{digest[:12]}>"
        elif r.method == "encrypt":
            if fernet is None:
                from cryptography.fernet import Fernet

                fernet = Fernet(key or fernet_key())
            rep = "<enc:" + fernet.encrypt(original.encode("utf-8")).decode("ascii") + ">"
        else:
            rep = f"[{label}]"
        parts.append(text[pos:a])
        parts.append(rep)
        pos = b
    parts.append(text[pos:])
    return "".join(parts)
