"""HTML reports with embedded plots, one self-contained file per audit.

A :class:`Report` is a list of sections; each holds paragraphs, key-value facts, tables and
matplotlib figures (embedded as base64 PNG, so the file opens anywhere offline). Every audit
builds one and calls :meth:`Report.write`, which renders the shared Jinja2 template and writes
atomically.

    rep = Report("Fairness audit", subtitle="credit.csv, by sex")
    sec = rep.section("False-rejection rate")
    sec.text("The gap is 0.8 points (95% CI 0.1 to 1.5).")
    sec.table(rows, columns=["group", "rate", "ci_low", "ci_high"])
    sec.figure(fig, caption="Rates with 95% intervals")
    rep.write("report.html")
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import itertools
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from probity import __version__
from probity.io import write_text_atomic

_TEMPLATES = Path(__file__).with_name("templates")


#: Short words that read as acronyms in a column header.
_ACRONYMS = {
    "ci": "CI", "fpr": "FPR", "tpr": "TPR", "auroc": "AUROC", "auc": "AUC", "id": "ID",
    "ids": "IDs", "pii": "PII", "url": "URL", "json": "JSON", "jsonl": "JSONL", "kgw": "KGW",
    "dp": "DP", "mia": "MIA", "lira": "LiRA", "sisa": "SISA", "llm": "LLM", "api": "API",
}  # fmt: skip


def human_header(key: str) -> str:
    """A column header a reader can read: ``ci_low`` -> ``CI low``, ``false_rejection_rate``
    -> ``False rejection rate``. Headers that already hold spaces are kept as they are."""
    if not isinstance(key, str) or " " in key or not key:
        return str(key)
    words = key.replace("-", "_").split("_")
    out = [_ACRONYMS.get(w.lower(), w) for w in words if w]
    if out and out[0] == words[0] and out[0].islower() and len(out[0]) > 1:
        out[0] = out[0][0].upper() + out[0][1:]
    return " ".join(out)


def _tidy_figure(fig: Any) -> None:
    """Keep a figure readable: legends move outside the plot (never over the data) and
    x tick labels that would overlap are rotated."""
    for ax in fig.axes:
        leg = ax.get_legend()
        if leg is not None:
            handles = list(getattr(leg, "legend_handles", None) or leg.legendHandles)
            labels = [t.get_text() for t in leg.get_texts()]
            size = leg.get_texts()[0].get_fontsize() if labels else None
            ax.legend(
                handles,
                labels,
                loc="upper left",
                bbox_to_anchor=(1.01, 1.0),
                borderaxespad=0.0,
                fontsize=size,
                frameon=False,
            )
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        boxes = [
            t.get_window_extent(renderer) for t in ax.get_xticklabels() if t.get_text().strip()
        ]
        if any(a.x1 > b.x0 - 2 for a, b in itertools.pairwise(boxes)):
            for t in ax.get_xticklabels():
                t.set_rotation(30)
                t.set_horizontalalignment("right")


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if value != value:  # NaN
            return "–"
        if value == 0 or 1e-3 <= abs(value) < 1e6:
            return f"{value:.4g}"
        return f"{value:.3e}"
    return str(value)


@dataclass
class Section:
    """One titled part of a report. Blocks render in the order they were added."""

    title: str
    blocks: list[tuple[str, Any]] = field(default_factory=list)

    def text(self, paragraph: str) -> Section:
        """Add a paragraph (plain text; escaped)."""
        self.blocks.append(("text", paragraph))
        return self

    def html(self, fragment: str) -> Section:
        """Add trusted HTML (only for fragments Probity builds itself)."""
        self.blocks.append(("html", fragment))
        return self

    def facts(self, items: Mapping[str, Any]) -> Section:
        """Add a two-column list of key facts."""
        self.blocks.append(("facts", [(human_header(k), _fmt(v)) for k, v in items.items()]))
        return self

    def table(
        self,
        rows: Sequence[Mapping[str, Any]] | Sequence[Sequence[Any]],
        columns: Sequence[str] | None = None,
        *,
        caption: str = "",
    ) -> Section:
        """Add a table from dict rows (columns default to the first row's keys) or lists.

        Headers are shown in words (``ci_low`` reads "CI low"); a wide table scrolls
        sideways inside its section instead of overflowing the page."""
        rows = list(rows)
        if rows and isinstance(rows[0], Mapping):
            cols = list(columns or rows[0].keys())
            body = [[_fmt(r.get(c, "")) for c in cols] for r in rows]  # type: ignore[union-attr]
        else:
            cols = list(columns or [])
            body = [[_fmt(v) for v in r] for r in rows]
        headers = [human_header(c) for c in cols]
        self.blocks.append(("table", {"columns": headers, "rows": body, "caption": caption}))
        return self

    def figure(self, fig: Any, *, caption: str = "", close: bool = True) -> Section:
        """Embed a matplotlib figure as a PNG (legends moved off the data, crowded x labels
        rotated)."""
        _tidy_figure(fig)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
        if close:
            import matplotlib.pyplot as plt

            plt.close(fig)
        data = base64.b64encode(buf.getvalue()).decode("ascii")
        self.blocks.append(("figure", {"src": f"data:image/png;base64,{data}", "caption": caption}))
        return self

    def code(self, content: str) -> Section:
        """Add preformatted text (escaped)."""
        self.blocks.append(("code", content))
        return self


@dataclass
class Report:
    """A self-contained HTML report."""

    title: str
    subtitle: str = ""
    sections: list[Section] = field(default_factory=list)

    def section(self, title: str) -> Section:
        sec = Section(title)
        self.sections.append(sec)
        return sec

    def render(self) -> str:
        import jinja2

        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(_TEMPLATES),
            autoescape=jinja2.select_autoescape(["html"]),
        )
        tpl = env.get_template("base.html")
        return tpl.render(
            report=self,
            version=__version__,
            escape=html.escape,
            generated=_dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        )

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Render and write the report atomically; returns the path."""
        p = Path(path)
        write_text_atomic(p, self.render())
        return p


def new_figure(width: float = 7.0, height: float = 3.5):
    """A matplotlib figure and axes using the non-interactive Agg backend."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height))


__all__ = ["Report", "Section", "human_header", "new_figure"]
