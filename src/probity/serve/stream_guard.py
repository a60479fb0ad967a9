"""The streaming output guard: a bounded window in tokens, on top of the guard's ``check``.

The guard's own :class:`~probity.guard.StreamChecker` releases text sentence by sentence, so a
long sentence or a block of code is held until it ends (seconds). Here text is released
``window`` tokens at a time, as NeMo Guardrails' output rails do with a chunk size and a
context: each scan covers the unreleased text, and the last ``hold`` tokens are kept back and
scanned again with the next window, so a finding up to ``hold`` tokens long (a card number, a
key, a placeholder) is never released in part. A client waits at most ``window + hold``
upstream tokens (plus one scan) for any token.

A token is a run of at most 8 non-space characters with the spaces before it
(:data:`TOKEN`): close to a BPE token for prose, and it bounds a long unbroken run (minified
code, base64) instead of holding it whole.
"""

from __future__ import annotations

import re
from typing import Any

from probity.types import Finding, Span, Verdict, most_severe

TOKEN = re.compile(r"\s*\S{1,8}")


class WindowGuard:
    """Checks one streamed answer window by window (see the module docstring).

    ``feed(text)`` returns what may be released now ("" once blocked); ``finish()`` checks the
    rest and returns ``(rest, verdict)`` where the verdict aggregates every scan's findings
    with spans in the coordinates of the whole streamed text.
    """

    def __init__(
        self,
        guard: Any,
        *,
        window: int = 16,
        hold: int = 8,
        direction: str = "output",
        context: Any = None,
    ) -> None:
        self.guard = guard
        self.window = window
        self.hold = hold
        self.direction = direction
        self.context = context
        self._buf = ""
        self._offset = 0
        self._findings: list[Finding] = []
        self._released: list[str] = []
        self.blocked = False
        self.scans = 0
        self.raw: list[str] = []  # everything fed, as the backend wrote it (for the audit)

    def _scan(self, text: str) -> Verdict:
        self.scans += 1
        return self.guard.check(text, self.direction, self.context)

    def _keep(self, v: Verdict, limit: int) -> None:
        """Record ``v``'s findings that start before ``limit`` (later ones are rescanned)."""
        for f in v.findings:
            if f.spans and min(s.start for s in f.spans) >= limit:
                continue
            spans = tuple(
                Span(s.start + self._offset, s.end + self._offset, s.label, s.score)
                for s in f.spans
            )
            self._findings.append(
                Finding(f.source, f.category, f.score, spans, f.message, f.action, f.details)
            )

    def add(self, chunk: str) -> bool:
        """Add ``chunk`` without scanning; True when a window is due (call :meth:`release`)."""
        if self.blocked:
            self.raw.append(chunk)
            return False
        self._buf += chunk
        self.raw.append(chunk)
        return self._due() is not None

    def _due(self) -> int | None:
        """Where the next release would cut, when a full window and its hold are buffered."""
        ends = [m.end() for m in TOKEN.finditer(self._buf)]
        complete = len(ends) - 1  # the last token may still be growing
        if complete < self.window + self.hold:
            return None
        return ends[complete - self.hold - 1]

    def feed(self, chunk: str) -> str:
        """Add ``chunk``; return the text that is safe to release now ("" once blocked)."""
        return self.release() if self.add(chunk) else ""

    def release(self) -> str:
        """Scan what is buffered and release every window that passed (up to the hold)."""
        cut = None if self.blocked else self._due()
        if cut is None:
            return ""
        v = self._scan(self._buf)
        if v.action == "block":
            self._keep(v, len(self._buf))
            self.blocked = True
            return ""
        if v.action == "redact":
            for f in v.findings:
                for s in f.spans:
                    if f.action == "redact" and s.start < cut < s.end:
                        cut = min(cut, s.start)
            piece = self._buf[:cut]
            if not piece:
                return ""
            pv = self._scan(piece)
            self._keep(pv, len(piece))
            if pv.action == "block":
                self.blocked = True
                return ""
            out = pv.text
        else:
            self._keep(v, cut)
            out = self._buf[:cut]
        self._offset += cut
        self._buf = self._buf[cut:]
        self._released.append(out)
        return out

    def finish(self) -> tuple[str, Verdict]:
        """Check the held-back rest; return it (if allowed) and the stream's verdict."""
        rest = ""
        if not self.blocked and self._buf:
            v = self._scan(self._buf)
            self._keep(v, len(self._buf))
            if v.action == "block":
                self.blocked = True
            else:
                rest = v.text
                self._released.append(rest)
        self._buf = ""
        action = most_severe([f.action for f in self._findings])
        if self.blocked:
            action = "block"
        pol = self.guard.policy
        disclaimers: list[str] = []
        if self.direction == "output" and action != "block":
            disclaimers.extend(pol.disclaimers.always)
            if action == "flag":
                disclaimers.extend(pol.disclaimers.flagged)
        text = "" if action == "block" else "".join(self._released)
        verdict = Verdict(
            action, tuple(self._findings), text, pol.name, self.direction, tuple(disclaimers)
        )
        return rest, verdict
