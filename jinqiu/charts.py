"""Charts drawn in HTML and CSS from Python: no JavaScript, no chart library, nothing fetched.

A bar chart is a list of rows (label, bar, value) whose text is real text at the page's size, so it
stays readable on a phone (the label goes above its bar there) and a screen reader reads each row.
The bars' colours (jinqiu.css, .jq-bar-0 … .jq-bar-6) have at least 3:1 contrast against white."""

from __future__ import annotations

from decimal import Decimal
from html import escape

COLOURS = 7  # .jq-bar-0 … .jq-bar-6 in site_src/assets/jinqiu.css


def bar_chart(title: str, bars: list[tuple[str, object]], unit: str = "") -> str:
    """A horizontal bar chart: one bar per (label, value); the value is printed after each bar."""
    values = [Decimal(str(v)) for _, v in bars]
    top = max(values + [Decimal(0)])
    rows = []
    for i, ((label, _), value) in enumerate(zip(bars, values)):
        share = float(value / top * 100) if top else 0.0
        shown = format(value.normalize(), "f") if value else "0"
        rows.append(
            f'<li class="jq-bar-row"><span class="jq-bar-label">{escape(label)}</span>\n'
            f'<span class="jq-bar-track" aria-hidden="true"><span class="jq-bar jq-bar-{i % COLOURS}" style="width: {share:.1f}%"></span></span>\n'
            f'<span class="jq-bar-value">{shown}{escape(unit)}</span></li>\n'
        )
    return '<ul class="jq-bars">\n' + "".join(rows) + "</ul>"


def figure(title: str, chart: str, text_html: str) -> str:
    """A chart with its explanation beside it (one HTML block for the Markdown page). The chart is
    left out of the search index: the explanation and the tables carry the same figures."""
    return (
        f'<div class="jq-chart">\n<figure class="jq-chart-figure" data-search-exclude>\n<figcaption>{escape(title)}</figcaption>\n{chart}\n'
        f'</figure>\n<div class="jq-chart-text">{text_html}</div>\n</div>'
    )
