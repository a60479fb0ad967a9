"""Demo step: verify the references of a chat answer against a small verified database, and
ground an answer in a tiny corpus."""

from __future__ import annotations

import json
from typing import Any

ORDER = 40
TITLE = "Citations: catching invented references, offline"

_CORPUS = {
    "probity-notes.md": "Probity checks references against a local database of verified "
    "records. It needs no network and no language model. Each reference "
    "gets a verdict with the evidence and the closest record.",
}
_ANSWER = (
    "Probity checks references against a local database of verified records. "
    "It needs no network and no language model. It was first released in 1987 by NASA."
)


def run(ctx: Any) -> dict[str, Any]:
    from probity.citations import CitationDB, ground, verify_references
    from probity.citations._sample import SAMPLE_ANSWER, SAMPLE_RECORDS

    work = ctx.out_dir / "citations"
    work.mkdir(parents=True, exist_ok=True)
    records = work / "verified-records.jsonl"
    records.write_text(
        "".join(json.dumps(r) + "\n" for r in SAMPLE_RECORDS) + "{truncated\n", encoding="utf-8"
    )
    db_path = work / "citations.db"
    if db_path.exists():
        db_path.unlink()
    with CitationDB(db_path) as db:
        rep = db.import_file(records)
        ctx.say(
            f"Imported {rep.added} verified records into {db_path.name} "
            f"({rep.skipped} malformed line skipped and reported)."
        )
        verdicts = verify_references(SAMPLE_ANSWER, db)
    ctx.say("A chat answer cites five papers; two are invented:")
    rows = []
    for i, v in enumerate(verdicts, 1):
        ref = v.reference
        colour = "green" if v.verdict == "verified" else "red"
        ctx.say(
            f"  {i}. [{colour}]{v.verdict}[/] ({v.confidence:.2f}) {ref.title!r} "
            f"[dim]{v.evidence[0][:90]}[/]"
        )
        rows.append(
            {
                "#": i,
                "title": ref.title,
                "year": ref.year,
                "verdict": v.verdict,
                "confidence": round(v.confidence, 3),
                "evidence": v.evidence[0][:160],
            }
        )
    g = ground(_ANSWER, _CORPUS)
    for s in g.sentences:
        ctx.say(
            f"  grounding: [{'green' if s.status == 'supported' else 'yellow'}]"
            f"{s.status}[/] {s.text}"
        )
    sec = ctx.report.section(TITLE)
    sec.text(
        "Every reference in the answer is extracted, looked up in a local SQLite FTS5 "
        "database of verified records (built here from records this step wrote, one of "
        "them malformed and skipped), and given a verdict with evidence and a calibrated "
        "confidence. No network and no LLM."
    )
    sec.code(SAMPLE_ANSWER)
    sec.table(rows)
    try:
        from probity.report import new_figure

        fig, ax = new_figure(7, 2.8)
        colours = ["#2a9d8f" if r["verdict"] == "verified" else "#e76f51" for r in rows]
        ax.barh(
            [f"{r['#']}. {str(r['title'])[:38]}" for r in rows],
            [r["confidence"] for r in rows],
            color=colours,
        )
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_xlabel("confidence in the verdict (green verified, red problem)")
        sec.figure(fig, caption="Verdict confidence per reference")
    except Exception as exc:  # a missing plotting backend must not break the tour
        ctx.say(f"[dim](no figure: {exc})[/]")
    sec.table(
        [
            {"sentence": s.text, "status": s.status, "support": round(s.support, 2)}
            for s in g.sentences
        ]
    )
    return {
        "records": rep.added,
        "skipped": rep.skipped,
        "verdicts": [v.verdict for v in verdicts],
        "grounding": [s.status for s in g.sentences],
    }
