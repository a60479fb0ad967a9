"""Demo step: protected-content checks (verbatim, near-duplicate, code clone) and dedup."""

from __future__ import annotations

import random
from typing import Any

ORDER = 30
TITLE = "Overlap: protected content, code clones and training-data deduplication"

_PROTECTED = [
    (
        "sonnet-18",
        "Shall I compare thee to a summer's day? Thou art more lovely and more temperate: "
        "Rough winds do shake the darling buds of May, And summer's lease hath all too short a "
        "date; Sometime too hot the eye of heaven shines, And often is his gold complexion "
        "dimm'd; And every fair from fair sometime declines, By chance or nature's changing "
        "course untrimm'd",
    ),
    (
        "news-0412",
        "The city council voted on Tuesday to expand the river park by twelve hectares, adding "
        "a wetland trail, a rowing club and a public garden that volunteers will plant over "
        "the next two springs, with the first section opening to visitors next autumn",
    ),
]

_CODE = '''def moving_average(values, window):
    """Mean of each window of consecutive values."""
    if window <= 0:
        raise ValueError("window must be positive")
    out = []
    total = 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        if i >= window - 1:
            out.append(total / window)
    return out
'''

_CODE_COPY = """import sys


def main(argv):
    print("smoothing", len(argv))


def smooth(xs, k):
    res = []
    acc = 0.0
    for j, x in enumerate(xs):
        acc += x
        if j >= k:
            acc -= xs[j - k]
        if j >= k - 1:
            res.append(acc / k)
    return res
"""


def run(ctx: Any) -> dict[str, Any]:
    from probity.guard.base import create_scanner
    from probity.guard.scanners.protected import redact
    from probity.overlap import OverlapIndex, dedup_records

    OverlapIndex.build("demo-protected", _PROTECTED, ngram=8, overwrite=True)
    OverlapIndex.build(
        "demo-code", [("moving_average.py", _CODE)], kind="code", k=8, w=4, overwrite=True
    )
    output = (
        "Here is a poem for you: shall I compare thee to a summer's day? Thou art more "
        "lovely and more temperate. I hope you like it."
    )
    scanner = create_scanner("protected", index="demo-protected", action="redact")
    findings = scanner.scan_many([output])[0]
    redacted = redact(output, findings)
    ctx.say(f"model output: [dim]{output}[/]")
    for f in findings:
        ctx.say(f"  found [bold]{f.category}[/]: {f.message}")
    ctx.say(f"  redacted: [dim]{redacted}[/]")
    code_rep = OverlapIndex.open("demo-code").check(_CODE_COPY)
    clone = code_rep.code_clones[0] if code_rep.code_clones else None
    if clone:
        ctx.say(
            f"renamed copy inside a new file -> clone of {clone.doc} "
            f"(source containment {clone.source_containment:.2f}, "
            f"longest span {clone.longest_span_tokens} tokens)"
        )

    # dedup a synthetic corpus with planted exact, near and repeated-span duplicates
    rng = random.Random(0)
    vocab = [
        "river",
        "stone",
        "light",
        "green",
        "quiet",
        "city",
        "garden",
        "learns",
        "writes",
        "walks",
        "under",
        "over",
    ]
    base = [
        " ".join(rng.choice(vocab) + str(rng.randint(0, 99)) for _ in range(80)) for _ in range(40)
    ]
    records = [{"id": f"r{i}", "text": t} for i, t in enumerate(base)]
    records += [{"id": f"exact{i}", "text": base[i].upper()} for i in range(5)]
    near = []
    for i in range(5, 15):
        w = base[i].split()
        w[rng.randrange(len(w))] = "changed"
        near.append({"id": f"near{i}", "text": " ".join(w)})
    records += near
    res = dedup_records(records, exact=True, near=0.8, max_repeats=3, span_tokens=50)
    ctx.say(f"dedup: kept {len(res.kept)} of {res.total}; removed {dict(res.counts)}")

    sec = ctx.report.section(TITLE)
    sec.text(
        "An overlap index of protected text finds verbatim spans (here 8-token spans for a "
        "short quotation); the guard's `protected` scanner redacts or blocks them."
    )
    sec.table(
        [
            {
                "category": f.category,
                "span": f"{f.spans[0].start}-{f.spans[0].end}",
                "source": f.details.get("document"),
                "message": f.message,
            }
            for f in findings
        ]
    )
    sec.facts({"output": output, "redacted": redacted})
    if clone:
        sec.text(
            "A renamed copy of a protected function inside an otherwise new file is found "
            "through normalised pygments tokens and winnowing fingerprints:"
        )
        sec.code(_CODE_COPY)
        sec.facts(
            {
                "source": clone.doc,
                "similarity": round(clone.similarity, 3),
                "longest matching span (tokens)": clone.longest_span_tokens,
            }
        )
    try:
        from probity.report import new_figure

        fig, ax = new_figure(6, 2.8)
        counts = {"kept": len(res.kept), **res.counts}
        ax.bar(
            list(counts),
            list(counts.values()),
            color=["#4c72b0", "#dd8452", "#55a868", "#c44e52"][: len(counts)],
        )
        ax.set_ylabel("records")
        ax.set_title("Deduplication of 55 synthetic records")
        sec.figure(
            fig, caption="Every record is kept or removed with a reason and a representative."
        )
    except Exception as exc:
        sec.text(f"(figure skipped: {exc})")
    sec.table([r.to_dict() for r in res.removed[:8]])
    return {
        "findings": [f.category for f in findings],
        "redacted": redacted,
        "code_clone": clone.doc if clone else None,
        "dedup": res.counts,
        "kept": len(res.kept),
        "total": res.total,
    }
