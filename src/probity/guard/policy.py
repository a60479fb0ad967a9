"""Use-case policies: which scanners run on prompts and on outputs, with what thresholds and
actions, which context rules soften findings, the mode and the disclaimers.

A policy is a YAML file validated by pydantic (errors name the file, line and field). Shipped
profiles live in ``probity/policies/*.yaml`` and are loaded by name (``default``, ``factual``,
``creative``, ``focus-group``, ``strict``); anything else is read as a path.

The policy ``digest`` is the sha256 of the canonical JSON of the validated policy (sorted keys,
no whitespace), so two files that differ only in comments or key order share a digest and any
change to a threshold changes it. The audit log records the digest with every decision.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from probity.config import ProbityModel, load_yaml, validate
from probity.errors import ConfigError, UnknownKeyError

Action = Literal["allow", "flag", "redact", "block"]
Redaction = Literal["mask", "replace", "hash", "encrypt", "remove", "fake"]


def _shipped_dir() -> Any:
    return resources.files("probity").joinpath("policies")


class ScannerRule(ProbityModel):
    """One scanner in one direction of a policy.

    ``threshold`` in [0, 1]: findings scoring below it are ignored. ``action`` applies to the
    scanner's findings, ``actions`` overrides it per category (``{"CREDIT_CARD": "block"}``).
    ``redaction`` says how a ``redact`` action rewrites the span. ``options`` go to the scanner's
    constructor. ``optional: true`` skips the scanner (with a note) when it is not installed.
    ``context``: whether the policy's context rules may soften this scanner's findings.
    """

    scanner: str
    threshold: float = Field(0.5, ge=0.0, le=1.0)
    action: Action = "block"
    actions: dict[str, Action] = Field(default_factory=dict)
    redaction: Redaction = "mask"
    options: dict[str, Any] = Field(default_factory=dict)
    optional: bool = False
    context: bool = True

    def action_for(self, category: str) -> Action:
        return self.actions.get(category, self.action)


class ContextRule(ProbityModel):
    """How findings inside a labelled region (quotation or opinion) are treated.

    ``action`` caps the action of a finding whose spans all lie inside such a region:
    ``flag`` turns a ``block`` into a ``flag``; ``block`` keeps the finding as it is.
    """

    enabled: bool = True
    action: Action = "flag"


class ContextRules(ProbityModel):
    """Context rules of a policy: labelled quotations, labelled opinions, benign senses of
    violent words ("kill a process") and definitional mentions ("What is fraud?")."""

    quotation: ContextRule = Field(default_factory=lambda: ContextRule(enabled=False))
    opinion: ContextRule = Field(default_factory=lambda: ContextRule(enabled=False))
    benign_sense: ContextRule = Field(default_factory=lambda: ContextRule(enabled=False))
    mention: ContextRule = Field(default_factory=lambda: ContextRule(enabled=False))

    def any_enabled(self) -> bool:
        return any(
            r.enabled for r in (self.quotation, self.opinion, self.benign_sense, self.mention)
        )


class Disclaimers(ProbityModel):
    """Sentences appended to a verdict: ``always`` on every output, ``flagged`` when flagged."""

    always: list[str] = Field(default_factory=list)
    flagged: list[str] = Field(default_factory=list)


class AuditSettings(ProbityModel):
    """Whether the audit log may hold the text itself (default: only spans and hashes)."""

    include_text: bool = False


class Policy(ProbityModel):
    """A validated use-case policy. See the module docstring for the file format."""

    name: str
    description: str = ""
    mode: Literal["factual", "creative"] = "factual"
    input: list[ScannerRule] = Field(default_factory=list)
    output: list[ScannerRule] = Field(default_factory=list)
    context_rules: ContextRules = Field(default_factory=ContextRules)
    disclaimers: Disclaimers = Field(default_factory=Disclaimers)
    audit: AuditSettings = Field(default_factory=AuditSettings)
    max_chars: int = Field(1_000_000, gt=0)
    source: str = Field("", exclude=True)

    @field_validator("name")
    @classmethod
    def _name_ok(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("policy name must not be empty")
        return v

    @model_validator(mode="after")
    def _known_scanners(self) -> Policy:
        from probity.guard.base import scanner_names

        known = set(scanner_names())
        for direction in ("input", "output"):
            for i, rule in enumerate(getattr(self, direction)):
                if rule.scanner not in known and not rule.optional:
                    raise ValueError(
                        f"{direction}[{i}]: unknown scanner {rule.scanner!r}; known scanners: "
                        f"{', '.join(sorted(known))} (set optional: true to skip it when absent)"
                    )
        return self

    def rules(self, direction: str) -> list[ScannerRule]:
        if direction not in ("input", "output"):
            raise ConfigError(f"unknown direction {direction!r}; expected 'input' or 'output'")
        return list(getattr(self, direction))

    def canonical(self) -> dict[str, Any]:
        """The policy as plain data (what the digest is computed over)."""
        return self.model_dump(mode="json", exclude={"source"})

    @cached_property
    def digest(self) -> str:
        """sha256 (hex) of the canonical JSON of the policy (computed once: policies are
        immutable)."""
        blob = json.dumps(self.canonical(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        return {**self.canonical(), "digest": self.digest, "source": self.source}


def shipped_policies() -> list[str]:
    """Names of the policies shipped with Probity."""
    files = _shipped_dir()
    return sorted(p.name[:-5] for p in files.iterdir() if p.name.endswith(".yaml"))


def _validate_policy(data: Any, source: str, lines: dict[tuple[Any, ...], int]) -> Policy:
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: a policy must be a YAML mapping, got {type(data).__name__}")
    # Line numbers for "unknown scanner" errors raised by the model validator come from the
    # scanner entry itself, so look them up here and give the precise line.
    from probity.guard.base import scanner_names

    known = set(scanner_names())
    unknown: list[str] = []
    for direction in ("input", "output"):
        rules = data.get(direction) or []
        if not isinstance(rules, list):
            continue
        for i, rule in enumerate(rules):
            if (
                isinstance(rule, dict)
                and isinstance(rule.get("scanner"), str)
                and rule["scanner"] not in known
                and not rule.get("optional", False)
            ):
                line = lines.get((direction, i, "scanner"))
                where = f"{source}:{line}" if line else source
                unknown.append(
                    f"{where}: {direction}.{i}.scanner: unknown scanner {rule['scanner']!r}"
                )
    if unknown:  # every unknown scanner at once, not just the first
        raise ConfigError(
            "; ".join(unknown),
            hint=f"known scanners: {', '.join(sorted(known))}; "
            "or set optional: true to skip it when it is not installed",
        )
    policy = validate(data, Policy, source=source, lines=lines)
    return policy.model_copy(update={"source": source})


def load_policy(name_or_path: str | os.PathLike[str] | Policy | None = None) -> Policy:
    """Load a shipped policy by name (``default`` when None) or a policy YAML file by path.

    Raises :class:`ConfigError` naming file, line and field for an invalid file and
    :class:`UnknownKeyError` for a name that is neither shipped nor an existing file.
    """
    if isinstance(name_or_path, Policy):
        return name_or_path
    ref = "default" if name_or_path is None else str(name_or_path)
    path = Path(ref)
    if path.is_dir():
        raise ConfigError(f"policy {ref!r} is a directory, not a policy YAML file")
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.exists():
            raise UnknownKeyError(f"policy file not found: {ref!r}")
        data, lines = load_yaml(path)
        return _validate_policy(data, str(path), lines)
    if ref in shipped_policies():
        res = _shipped_dir() / f"{ref}.yaml"
        text = res.read_text("utf-8")
        data, lines = load_yaml(f"{ref}.yaml", text=text)
        return _validate_policy(data, f"<shipped>/{ref}.yaml", lines)
    raise UnknownKeyError(
        f"unknown policy {ref!r}",
        hint=f"shipped policies: {', '.join(shipped_policies())}; or give a path to a .yaml file",
    )


def policy_from_text(text: str, *, source: str = "<string>") -> Policy:
    """Validate a policy given as a YAML string."""
    data, lines = load_yaml(source, text=text)
    return _validate_policy(data, source, lines)
