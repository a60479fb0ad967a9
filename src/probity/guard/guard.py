"""The guard: run a policy's scanners on prompts or outputs and decide one verdict per text.

Decision rule, per text and direction:

1. every scanner of the direction scans the whole batch (``scan_many``);
2. a finding scoring below its rule's ``threshold`` is dropped; the others get the rule's
   action for their category;
3. context rules: when the rule allows it and every span of a finding lies inside a labelled
   quotation (or opinion) and the policy enables that rule, the finding's action is capped at
   the rule's action (``block`` -> ``flag``). Labels never launder: secrets, PII and
   control characters are never softened, and *direct* abuse (a threat, a second-person
   insult, a group dehumanised: ``details["direct"]``) is softened only inside a *reported*
   quotation or a benign sense (see :func:`~probity.guard.context.softens_direct_abuse`);
4. the verdict's action is the most severe finding action (``allow < flag < redact < block``);
5. ``redact``: all redact findings' spans are merged and rewritten at once (redactions
   compose); ``block``: nothing is passed on (``Verdict.text == ""``);
6. outputs get the policy's disclaimers (``always``, plus ``flagged`` when flagged).

Defined verdicts for bad input: an empty text is ``allow``; a text longer than the policy's
``max_chars`` is ``block`` (category ``too_long``) without scanning; lone surrogates (from
invalid UTF-8) are replaced by U+FFFD and flagged (``invalid_unicode``); bytes are decoded as
UTF-8 or rejected with an :class:`~probity.errors.InputError`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from probity.errors import ConfigError, InputError, MissingDependencyError, UnknownKeyError
from probity.guard.audit import AuditLog, audit_record
from probity.guard.base import ScanContext, Scanner, create_scanner
from probity.guard.context import RegionIndex, labelled_regions
from probity.guard.policy import Policy, ScannerRule, load_policy
from probity.guard.redact import PiiVault, Redaction, apply_redactions
from probity.text import sentence_spans
from probity.types import ACTION_SEVERITY, Finding, Span, Verdict, most_severe

# Context rules never soften these scanners: a quoted or "in my opinion" credential, personal
# datum or control character leaks just the same; and a quoted injection still reaches the
# model (the injection scanner discounts quoted mentions itself, unless told to act on them).
CONTEXT_BLIND = frozenset({"secrets", "pii", "invisible", "injection"})


def _cap(action: str, cap: str) -> str:
    return action if ACTION_SEVERITY[action] <= ACTION_SEVERITY[cap] else cap


def _clean(text: Any) -> tuple[str, list[Finding]]:
    """Coerce one input to ``str`` and report lone surrogates (invalid UTF-8)."""
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(
                f"text is not valid UTF-8 (byte {exc.start})",
                hint="decode it first, e.g. with errors='replace'",
            ) from exc
    if not isinstance(text, str):
        raise InputError(f"expected text (str), got {type(text).__name__}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        fixed = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
        if len(fixed) != len(text):  # pairs of surrogates collapse; keep offsets honest
            fixed = "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
        bad = [i for i, c in enumerate(text) if 0xD800 <= ord(c) <= 0xDFFF]
        spans = tuple(Span(i, i + 1, "invalid_unicode") for i in bad[:50])
        return fixed, [
            Finding(
                "guard",
                "invalid_unicode",
                1.0,
                spans,
                f"{len(bad)} lone surrogate(s) replaced by U+FFFD",
                "flag",
            )
        ]
    return text, []


class Guard:
    """Runs a :class:`Policy` on prompts (``input``) and answers (``output``).

    ``audit``: an :class:`AuditLog` (or path) to which every verdict is appended.
    Scanners are built once, at construction; instances are shared between directions when a
    scanner appears in both with the same options. Thread-safe for ``check`` calls.
    """

    def __init__(
        self,
        policy: Policy | str | os.PathLike[str] | None = None,
        *,
        audit: AuditLog | str | os.PathLike[str] | None = None,
    ) -> None:
        self.policy = load_policy(policy)
        self.notes: list[str] = []
        self._scanners: dict[str, list[tuple[ScannerRule, Scanner]]] = {}
        cache: dict[str, Scanner] = {}
        for direction in ("input", "output"):
            built: list[tuple[ScannerRule, Scanner]] = []
            for rule in self.policy.rules(direction):
                key = rule.scanner + repr(sorted(rule.options.items()))
                if key not in cache:
                    try:
                        cache[key] = create_scanner(rule.scanner, **rule.options)
                    except (UnknownKeyError, MissingDependencyError) as exc:
                        if rule.optional:
                            self.notes.append(
                                f"optional scanner {rule.scanner!r} skipped: {exc.message}"
                            )
                            continue
                        raise
                    except TypeError as exc:
                        raise ConfigError(
                            f"{self.policy.source}: scanner {rule.scanner!r}: "
                            f"bad options {rule.options}: {exc}"
                        ) from exc
                built.append((rule, cache[key]))
            self._scanners[direction] = built
        self.audit = (
            AuditLog(audit) if audit is not None and not isinstance(audit, AuditLog) else audit
        )

    @classmethod
    def from_policy(
        cls, name_or_path: str | os.PathLike[str] | Policy | None = None, **kw: Any
    ) -> Guard:
        """A guard for a shipped policy name or a policy file."""
        return cls(load_policy(name_or_path), **kw)

    def scanners(self, direction: str = "input") -> dict[str, str]:
        """Scanner name -> version for a direction (what the audit log records)."""
        self.policy.rules(direction)
        return {s.name: s.version for _, s in self._scanners[direction]}

    # --- checking -------------------------------------------------------------------------

    def check(
        self,
        text: str,
        direction: str = "input",
        context: ScanContext | None = None,
        vault: PiiVault | None = None,
    ) -> Verdict:
        """The verdict on one text (see the module docstring for the decision rule)."""
        return self.check_many([text], direction, context, vault=vault)[0]

    def check_many(
        self,
        texts: Sequence[str],
        direction: str = "input",
        context: ScanContext | None = None,
        vault: PiiVault | None = None,
    ) -> list[Verdict]:
        """Verdicts for a batch of texts; each scanner sees the whole batch at once."""
        if isinstance(texts, str | bytes):
            raise InputError(
                "check_many expects a list of texts, got a single string",
                hint="use check(text) for one text",
            )
        rules = self._scanners.get(direction)
        if rules is None:
            raise InputError(f"unknown direction {direction!r}; expected 'input' or 'output'")
        ctx = context or ScanContext(
            direction=direction,
            policy=self.policy.name,  # type: ignore[arg-type]
            mode=self.policy.mode,
        )
        if ctx.direction != direction:
            ctx = ScanContext(
                direction=direction,
                prompt=ctx.prompt,
                policy=ctx.policy,  # type: ignore[arg-type]
                mode=ctx.mode,
                metadata=ctx.metadata,
            )
        cleaned: list[str] = []
        pre: list[list[Finding]] = []
        for t in texts:
            c, f = _clean(t)
            cleaned.append(c)
            pre.append(f)
        # Texts scanned: non-empty and within the size limit.
        todo = [i for i, t in enumerate(cleaned) if t.strip() and len(t) <= self.policy.max_chars]
        for i, t in enumerate(cleaned):
            if len(t) > self.policy.max_chars:
                pre[i].append(
                    Finding(
                        "guard",
                        "too_long",
                        1.0,
                        (),
                        f"text of {len(t)} characters "
                        f"exceeds the policy's max_chars={self.policy.max_chars}",
                        "block",
                    )
                )
        findings: list[list[Finding]] = pre
        if todo:
            batch = [cleaned[i] for i in todo]
            cr = self.policy.context_rules
            regions = [
                labelled_regions(
                    t,
                    quotations=cr.quotation.enabled,
                    opinions=cr.opinion.enabled,
                    benign_senses=cr.benign_sense.enabled,
                    mentions=cr.mention.enabled,
                )
                if cr.any_enabled()
                else []
                for t in batch
            ]
            index = [RegionIndex(r, t) for r, t in zip(regions, batch, strict=True)]
            for rule, scanner in rules:
                results = scanner.scan_many(batch, ctx)
                for j, found in enumerate(results):
                    for f in found:
                        if f.score < rule.threshold:
                            continue
                        findings[todo[j]].append(self._decide(f, rule, index[j]))
        verdicts = []
        for i, t in enumerate(cleaned):
            verdicts.append(self._verdict(t, findings[i], direction, vault))
        if self.audit is not None:
            versions = self.scanners(direction)
            self.audit.append_many(
                [
                    audit_record(v, self.policy, versions, input_text=t)
                    for v, t in zip(verdicts, cleaned, strict=True)
                ]
            )
        return verdicts

    def _decide(self, f: Finding, rule: ScannerRule, index: RegionIndex) -> Finding:
        action = rule.action_for(f.category)
        details = dict(f.details)
        if action == "redact":
            details["redaction"] = rule.redaction
        if rule.context and rule.scanner not in CONTEXT_BLIND and index.regions and f.spans:
            labels = {index.label_of(s) for s in f.spans}
            if len(labels) == 1 and None not in labels:
                label = labels.pop()
                if f.details.get("direct") and not index.softens_direct_abuse(label):
                    details["context_refused"] = label
                    return Finding(
                        f.source, f.category, f.score, f.spans, f.message, action, details
                    )  # type: ignore[arg-type]
                cr = getattr(self.policy.context_rules, label)
                capped = _cap(action, cr.action)
                if capped != action:
                    details["context"] = label
                    details["original_action"] = action
                    action = capped
        return Finding(f.source, f.category, f.score, f.spans, f.message, action, details)  # type: ignore[arg-type]

    def _verdict(
        self, text: str, findings: list[Finding], direction: str, vault: PiiVault | None
    ) -> Verdict:
        action = most_severe([f.action for f in findings])
        out = text
        if action == "block":
            out = ""
        elif action == "redact":
            reds = [
                Redaction(
                    Span(s.start, s.end, f.category, f.score), f.details.get("redaction", "mask")
                )
                for f in findings
                if f.action == "redact"
                for s in f.spans
            ]
            out = apply_redactions(text, reds, vault=vault)
        disclaimers: list[str] = []
        if direction == "output" and action != "block":
            disclaimers.extend(self.policy.disclaimers.always)
            if action == "flag":
                disclaimers.extend(self.policy.disclaimers.flagged)
        return Verdict(
            action, tuple(findings), out, self.policy.name, direction, tuple(disclaimers)
        )

    def stream(
        self,
        direction: str = "output",
        context: ScanContext | None = None,
        vault: PiiVault | None = None,
    ) -> StreamChecker:
        """An incremental checker for a streamed answer (see :class:`StreamChecker`)."""
        return StreamChecker(self, direction, context, vault)


class StreamChecker:
    """Checks a streamed text sentence by sentence, holding back at most one sentence.

    ``feed(chunk)`` returns the text that is safe to release now: every complete sentence
    (a sentence is complete once the next one has begun) that passed, redacted when the policy
    says so. The last, possibly unfinished sentence is held back (a run of more than
    ``max_hold`` characters without a sentence end is released up to its last space). Once a
    sentence is blocked nothing more is released. ``finish()`` checks what is left and returns
    ``(remaining_text, verdict)``, where the verdict aggregates every sentence's findings with
    spans in the coordinates of the whole streamed text.
    """

    def __init__(
        self,
        guard: Guard,
        direction: str = "output",
        context: ScanContext | None = None,
        vault: PiiVault | None = None,
        max_hold: int = 2000,
    ) -> None:
        self.guard = guard
        self.direction = direction
        self.context = context
        self.vault = vault
        self.max_hold = max_hold
        self._buf = ""
        self._offset = 0  # position of _buf[0] in the whole text
        self._findings: list[Finding] = []
        self._released: list[str] = []
        self.blocked = False
        self._finished = False

    def _check(self, piece: str) -> str:
        v = self.guard.check(piece, self.direction, self.context, vault=self.vault)
        for f in v.findings:
            spans = tuple(
                Span(s.start + self._offset, s.end + self._offset, s.label, s.score)
                for s in f.spans
            )
            self._findings.append(
                Finding(f.source, f.category, f.score, spans, f.message, f.action, f.details)
            )
        if v.action == "block":
            self.blocked = True
            return ""
        return v.text

    def feed(self, chunk: str) -> str:
        """Add ``chunk``; return the text safe to release now ("" once blocked)."""
        if self._finished:
            raise InputError("the stream is finished; start a new one with guard.stream()")
        if self.blocked:
            return ""
        self._buf += chunk
        spans = sentence_spans(self._buf)
        if len(spans) >= 2:
            # Every sentence but the last is complete; check them one at a time so that the
            # clean ones before a blocked sentence are still released.
            cuts = [a for a, _ in spans[1:]]
        elif len(self._buf) > self.max_hold:
            cuts = [self._buf.rfind(" ", 0, len(self._buf) - 1) + 1 or len(self._buf)]
        else:
            return ""
        out: list[str] = []
        prev = 0
        for cut in cuts:
            piece = self._buf[prev:cut]
            text = self._check(piece)
            self._offset += len(piece)
            prev = cut
            if self.blocked:
                break
            out.append(text)
            self._released.append(text)
        self._buf = self._buf[prev:]
        return "".join(out)

    def finish(self) -> tuple[str, Verdict]:
        """Check the held-back rest; return it (if allowed) and the verdict for the stream."""
        rest = ""
        if not self._finished and not self.blocked and self._buf:
            rest = self._check(self._buf)
            self._offset += len(self._buf)
            if not self.blocked:
                self._released.append(rest)
        self._buf = ""
        self._finished = True
        action = most_severe([f.action for f in self._findings])
        text = "" if action == "block" else "".join(self._released)
        pol = self.guard.policy
        disclaimers: list[str] = []
        if self.direction == "output" and action != "block":
            disclaimers.extend(pol.disclaimers.always)
            if action == "flag":
                disclaimers.extend(pol.disclaimers.flagged)
        return (
            "" if self.blocked else rest,
            Verdict(
                action, tuple(self._findings), text, pol.name, self.direction, tuple(disclaimers)
            ),
        )
