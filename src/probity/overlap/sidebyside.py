"""A side-by-side HTML view of what a checked text shares with an index: the query on the left,
each source document on the right, matched regions highlighted in the same colour on both
sides (verbatim spans and code-clone regions). Self-contained (inline CSS, no scripts)."""

from __future__ import annotations

import html
import os
from typing import Any

from probity.io import write_text_atomic

_COLOURS = ["#ffe08a", "#b5e3ff", "#c8f0c0", "#ffc6d9", "#e0ccff", "#ffd3b0"]


def _marked(text: str, regions: list[tuple[int, int, int]]) -> str:
    """``text`` escaped, with ``(start, end, colour)`` regions wrapped in ``<mark>``."""
    out, pos = [], 0
    for a, b, c in sorted(regions):
        a, b = max(a, pos), min(b, len(text))
        if a >= b:
            continue
        out.append(html.escape(text[pos:a]))
        out.append(f'<mark style="background:{_COLOURS[c % len(_COLOURS)]}">')
        out.append(html.escape(text[a:b]) + "</mark>")
        pos = b
    out.append(html.escape(text[pos:]))
    return "".join(out)


def _token_chars(index: Any, doc: str, t0: int, t1: int, code: bool) -> tuple[int, int]:
    """Character range of tokens ``[t0, t1)`` of indexed document ``doc``."""
    text = index.text_of(doc)
    if code:
        from .code import code_tokens

        c = index.code
        toks = code_tokens(text, c.language, filename=doc, tokens=c.tokens)
        starts, ends = toks.starts, toks.ends
        t1 = min(t1, len(starts))
        return int(starts[t0:t1].min()), int(ends[t0:t1].max())
    from probity.text import tokenize

    toks = tokenize(text)
    return int(toks.starts[t0]), int(toks.ends[min(t1, len(toks)) - 1])


def write_side_by_side(report: Any, index: Any, query: str, path: str | os.PathLike[str]) -> None:
    """Write the HTML view of ``report`` (from ``index.check(query)``) to ``path``."""
    left: list[tuple[int, int, int]] = []
    right: dict[str, list[tuple[int, int, int]]] = {}
    colour = 0
    for s in report.verbatim:
        left.append((s.start, s.end, colour))
        a, b = _token_chars(index, s.doc, s.doc_token_start, s.doc_token_end, False)
        right.setdefault(s.doc, []).append((a, b, colour))
        colour += 1
    for c in report.code_clones:
        for a, b, _ in c.spans:
            left.append((a, b, colour))
        for t0, t1 in c.source_token_spans:
            a, b = _token_chars(index, c.doc, t0, t1, True)
            right.setdefault(c.doc, []).append((a, b, colour))
        colour += 1
    for d in report.near_duplicates:
        right.setdefault(d.doc, [])
    panes = "".join(
        f"<section><h2>{html.escape(doc)}</h2><pre>{_marked(index.text_of(doc), regs)}</pre>"
        "</section>"
        for doc, regs in right.items()
    )
    near = "".join(
        f"<li>{html.escape(d.doc)}: Jaccard {d.jaccard:.3f}</li>" for d in report.near_duplicates
    )
    page = f"""<!doctype html><html><head><meta charset="utf-8">
<title>Overlap with {html.escape(report.index)}</title><style>
body{{font-family:system-ui,sans-serif;margin:1em}} .cols{{display:flex;gap:1em}}
.cols>div{{flex:1;min-width:0}} pre{{white-space:pre-wrap;word-break:break-word;
border:1px solid #ccc;padding:.5em;font-size:13px}}</style></head><body>
<h1>Overlap with index {html.escape(report.index)}</h1>
<p>{len(report.verbatim)} verbatim spans, {len(report.code_clones)} code clones,
{len(report.near_duplicates)} near-duplicates. Matched regions share a colour.</p>
{f"<ul>{near}</ul>" if near else ""}
<div class="cols"><div><h2>checked text</h2><pre>{_marked(query, left)}</pre></div>
<div>{panes or "<p>no source</p>"}</div></div></body></html>
"""
    write_text_atomic(path, page)
