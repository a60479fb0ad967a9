"""The HTML report of a curation run (the JSON report is ``CurationReport.to_dict``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from probity.curate.pipeline import CurationReport
from probity.report import Report, new_figure


def write_html(rep: CurationReport, path: str | Path) -> Path:
    r = Report(
        "Curation run",
        subtitle=f"{len(rep.inputs)} input file(s) · executor {rep.executor}"
        f" · job {rep.fingerprint}",
    )
    s = r.section("Accounting")
    s.facts(
        {
            "records read": rep.records_read,
            "written": rep.records_out,
            "dropped (see dropped.jsonl)": rep.dropped,
            "unreadable lines (see rejects.jsonl)": rep.rejected,
            "every record accounted for": "yes" if rep.accounted else "NO",
            "seconds": round(rep.seconds, 2),
            "units resumed from a previous run": rep.resumed_units,
        }
    )
    if rep.stages:
        fig, ax = new_figure(7, 0.6 + 0.45 * len(rep.stages))
        names = [st["name"] for st in rep.stages]
        y = np.arange(len(names))
        ax.barh(y, [st["records_in"] for st in rep.stages], color="#c8d6ea", label="in")
        ax.barh(y, [st["records_out"] for st in rep.stages], color="#2c5ea8", label="out")
        ax.set_yticks(y, names)
        ax.invert_yaxis()
        ax.set_xlabel("records")
        ax.legend(loc="lower right")
        s.figure(fig, caption="Records into and out of each stage")
        s.table(
            [
                {
                    "stage": st["name"],
                    "in": st["records_in"],
                    "out": st["records_out"],
                    "dropped": st["dropped"],
                    "changed": st["changed"],
                    "records/s": st["records_per_second"] or "–",
                }
                for st in rep.stages
            ]
        )
    for st in rep.stages:
        sec = r.section(f"Stage {st['name']}")
        if st["reasons"]:
            sec.table(
                [{"reason": k, "records": v} for k, v in st["reasons"].items()],
                caption="Drops by reason",
            )
        if st["cluster_sizes"]:
            sec.table(
                [{"cluster size": k, "clusters": v} for k, v in st["cluster_sizes"].items()],
                caption="Duplicate cluster sizes (kept representative included)",
            )
        if st["examples"]:
            sec.table(st["examples"], caption="Examples")
        if not (st["reasons"] or st["examples"]):
            sec.text("Nothing removed or changed.")
    return r.write(path)
