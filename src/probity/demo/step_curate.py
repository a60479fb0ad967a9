"""Demo step: curate a small corpus (normalise, scrub PII, deduplicate) with full accounting."""

from __future__ import annotations

import json
import random
from typing import Any

ORDER = 85
TITLE = "Curation: scrub, filter and deduplicate a training corpus"


def run(ctx: Any) -> dict[str, Any]:
    from probity.curate import load_job, run_job, write_html

    work = ctx.out_dir / "curate"
    work.mkdir(parents=True, exist_ok=True)
    rng = random.Random(0)
    words = [
        "the",
        "old",
        "river",
        "ran",
        "past",
        "the",
        "quiet",
        "city",
        "where",
        "bakers",
        "and",
        "pilots",
        "met",
        "each",
        "morning",
        "to",
        "trade",
        "stories",
        "about",
        "rain",
        "sun",
        "letters",
        "and",
        "gardens",
    ]
    docs = []
    for i in range(200 if ctx.quick else 1000):
        text = " ".join(rng.choice(words) for _ in range(40))
        docs.append({"id": f"doc{i}", "text": text})
        if i % 9 == 0:
            docs.append({"id": f"doc{i}-copy", "text": text.upper()})
        if i % 13 == 0:
            docs.append(
                {
                    "id": f"doc{i}-pii",
                    "text": text + " Mail jane.doe@example.com or call +1 415 555 0132.",
                }
            )
        if i % 97 == 0:
            docs.append(
                {"id": f"doc{i}-toxic", "text": "you are a worthless idiot, shut up. " + text}
            )
    with open(work / "corpus.jsonl", "w", encoding="utf-8") as fh:
        for d in docs:
            fh.write(json.dumps(d) + "\n")
    (work / "job.yaml").write_text(
        "inputs: [corpus.jsonl]\nid_field: id\nstages:\n  - normalize\n"
        "  - {name: scrub_pii, action: redact}\n  - {name: filter_toxicity, threshold: 0.8}\n"
        "  - dedup_exact\n"
        "  - {name: dedup_near, threshold: 0.8}\n"
        "output: {path: out, format: parquet, shard_size: 5000}\n"
    )
    cfg, base = load_job(work / "job.yaml")
    rep = run_job(cfg, base)
    html = write_html(rep, work / "out" / "report.html")
    ctx.say(
        f"{rep.records_read} records in, {rep.records_out} out, {rep.dropped} dropped "
        f"(each with its stage and reason in dropped.jsonl); accounted: {rep.accounted}"
    )
    for st in rep.stages:
        ctx.say(
            f"  {st['name']:16} {st['records_in']:>5} -> {st['records_out']:<5} "
            f"changed {st['changed']}, {dict(list(st['reasons'].items())[:3])}"
        )
    sec = ctx.report.section(TITLE)
    sec.facts(
        {
            "records in": rep.records_read,
            "records out": rep.records_out,
            "dropped": rep.dropped,
            "accounted": rep.accounted,
            "stage report": str(html.relative_to(ctx.out_dir)),
        }
    )
    from probity.report import new_figure

    fig, ax = new_figure(6.5, 2.6)
    names = [st["name"] for st in rep.stages]
    ax.barh(names, [st["records_in"] for st in rep.stages], color="#c8d6ea", label="in")
    ax.barh(names, [st["records_out"] for st in rep.stages], color="#2c5ea8", label="out")
    ax.invert_yaxis()
    ax.set_xlabel("records")
    ax.legend(loc="lower right")
    sec.figure(fig, caption="Records into and out of each stage (changed records stay in)")
    sec.table(
        [
            {
                "stage": s["name"],
                "in": s["records_in"],
                "out": s["records_out"],
                "changed": s["changed"],
            }
            for s in rep.stages
        ]
    )
    return {
        "records_in": rep.records_read,
        "records_out": rep.records_out,
        "dropped": rep.dropped,
        "accounted": rep.accounted,
    }
