"""Guard scanner ``protected``: text that copies protected content (an overlap index).

Options (from a policy): ``index`` (name of an overlap index in the Probity home),
``action`` (``block`` or ``redact``), ``min_tokens`` (shortest verbatim span reported; default
the index's n-gram size), ``near_threshold`` (Jaccard for a near-duplicate of a whole protected
document; default the index's) and ``code_threshold`` (similarity for a code clone, default
0.5). Findings have category ``verbatim``, ``near_duplicate`` or ``code_clone``, spans of the
scanned text, and the source document in ``details``. With ``redact`` the guard replaces the
spans; a near-duplicate covers the whole text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from probity.errors import InputError
from probity.guard.base import ScanContext, register_scanner
from probity.types import Finding, Span


@register_scanner("protected")
class ProtectedScanner:
    """Finds verbatim spans, near-duplicates and code clones of an overlap index."""

    name = "protected"
    version = "1"

    def __init__(
        self,
        index: Any = "protected",
        action: str = "block",
        min_tokens: int | None = None,
        near_threshold: float | None = None,
        code_threshold: float = 0.5,
    ) -> None:
        from probity.overlap import OverlapIndex

        if action not in ("block", "redact", "flag"):
            raise InputError(
                f"protected scanner: action must be block, redact or flag, got {action!r}"
            )
        self.index = index if isinstance(index, OverlapIndex) else OverlapIndex.open(str(index))
        n = int(self.index.params["ngram"])
        if min_tokens is not None and int(min_tokens) < n:  # found at policy load, not per scan
            raise InputError(
                f"protected scanner: min_tokens {min_tokens} is below the index's n-gram "
                f"length {n}",
                hint=f"rebuild the index with --ngram {max(2, int(min_tokens))}",
            )
        self.action = action
        self.min_tokens = min_tokens
        self.near_threshold = near_threshold
        self.code_threshold = float(code_threshold)

    def scan_many(
        self, texts: Sequence[str], context: ScanContext | None = None
    ) -> list[list[Finding]]:
        todo = [t for t in texts if t.strip()]
        reports = iter(
            self.index.check_many(todo, min_tokens=self.min_tokens, threshold=self.near_threshold)
        )
        return [self._findings(next(reports)) if t.strip() else [] for t in texts]

    def _findings(self, rep: Any) -> list[Finding]:
        out: list[Finding] = []
        for s in rep.verbatim:
            out.append(
                Finding(
                    self.name,
                    "verbatim",
                    1.0,
                    (Span(s.start, s.end, "verbatim", 1.0),),
                    f"{s.tokens} tokens copied verbatim from protected document {s.doc!r}",
                    action=self.action,  # type: ignore[arg-type]
                    details={
                        "index": rep.index,
                        "document": s.doc,
                        "tokens": s.tokens,
                        "document_tokens": [s.doc_token_start, s.doc_token_end],
                    },
                )
            )
        for d in rep.near_duplicates:
            out.append(
                Finding(
                    self.name,
                    "near_duplicate",
                    d.jaccard,
                    (Span(0, rep.chars, "near_duplicate", d.jaccard),),
                    f"near-duplicate of protected document {d.doc!r} (Jaccard {d.jaccard:.2f})",
                    action=self.action,  # type: ignore[arg-type]
                    details={"index": rep.index, "document": d.doc, "jaccard": d.jaccard},
                )
            )
        for c in rep.code_clones:
            if c.similarity < self.code_threshold:
                continue
            spans = tuple(Span(a, b, "code_clone", min(1.0, sc)) for a, b, sc in c.spans)
            out.append(
                Finding(
                    self.name,
                    "code_clone",
                    c.similarity,
                    spans,
                    f"code cloned from protected file {c.doc!r} (similarity {c.similarity:.2f})",
                    action=self.action,  # type: ignore[arg-type]
                    details={
                        "index": rep.index,
                        "document": c.doc,
                        "source_containment": c.source_containment,
                        "query_containment": c.query_containment,
                    },
                )
            )
        return out


def redact(text: str, findings: Sequence[Finding], mask: str = "[PROTECTED]") -> str:
    """Replace every finding span of ``text`` with ``mask`` (overlapping spans merged)."""
    spans = sorted((s.start, s.end) for f in findings for s in f.spans)
    merged: list[list[int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    out, last = [], 0
    for a, b in merged:
        out.append(text[last:a])
        out.append(mask)
        last = b
    out.append(text[last:])
    return "".join(out)
