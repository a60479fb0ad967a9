"""Report layout: readable headers, wide tables scroll, legends off the data, labels apart."""

from __future__ import annotations

import re

from probity.report import Report, human_header, new_figure


def test_headers_are_words():
    assert human_header("ci_low") == "CI low"
    assert human_header("false_rejection_rate") == "False rejection rate"
    assert human_header("p_adjusted") == "p adjusted"  # the statistician's p stays small
    assert human_header("already readable") == "already readable"


def test_wide_tables_scroll_inside_their_section(tmp_path):
    rep = Report("t")
    cols = [f"metric_{i}_value" for i in range(30)]
    rep.section("wide").table([{c: 0.123456 for c in cols}])
    html = rep.render()
    assert re.search(r'<div class="table-wrap"><table>', html)
    assert ".table-wrap { overflow-x: auto" in html
    assert "<th>Metric 0 value</th>" in html and "metric_0_value" not in html


def test_legend_is_moved_off_the_data_and_crowded_labels_rotate():
    fig, ax = new_figure(4, 3)
    names = [f"a long group name {i}" for i in range(12)]
    ax.bar(names, range(12), label="rate")
    ax.plot(range(12), range(12), label="trend")
    ax.legend(loc="center")
    Report("t").section("s").figure(fig, close=False)
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    leg = ax.get_legend().get_window_extent(r)
    axes = ax.get_window_extent(r)
    assert leg.x0 >= axes.x1  # outside the plot area: it covers no data
    assert {t.get_rotation() for t in ax.get_xticklabels()} == {30.0}
