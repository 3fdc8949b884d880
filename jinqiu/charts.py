"""Charts as inline SVG, drawn in Python: no JavaScript, no chart library, nothing fetched."""

from __future__ import annotations

from decimal import Decimal
from html import escape

PALETTE = ["#3f51b5", "#009688", "#ff9800", "#e91e63", "#607d8b", "#8bc34a", "#9c27b0"]


def bar_chart(title: str, bars: list[tuple[str, object]], unit: str = "") -> str:
    """A horizontal bar chart: one bar per (label, value); the value is printed after each bar."""
    width, label_w, bar_h, gap = 560, 170, 22, 10
    values = [Decimal(str(v)) for _, v in bars]
    top = max(values + [Decimal(0)]) or Decimal(1)
    height = len(bars) * (bar_h + gap) + gap
    plot_w = width - label_w - 90
    out = [
        f'<svg class="jq-chart-svg" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for i, ((label, _), value) in enumerate(zip(bars, values)):
        y = gap + i * (bar_h + gap)
        w = int(plot_w * value / top) if top else 0
        color = PALETTE[i % len(PALETTE)]
        shown = format(value.normalize(), "f") if value else "0"
        out.append(
            f'<text x="{label_w - 8}" y="{y + bar_h * 0.72:.0f}" text-anchor="end" font-size="13" fill="currentColor">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{max(w, 1)}" height="{bar_h}" fill="{color}"><title>{escape(label)}：{shown}{escape(unit)}</title></rect>'
            f'<text x="{label_w + max(w, 1) + 6}" y="{y + bar_h * 0.72:.0f}" font-size="13" fill="currentColor">{shown}{escape(unit)}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def figure(title: str, svg: str, text_html: str) -> str:
    """A chart with its explanation beside it (one HTML block for the Markdown page)."""
    return (
        f'<div class="jq-chart" markdown="0"><figure class="jq-chart-figure">{svg}'
        f"<figcaption>{escape(title)}</figcaption></figure>"
        f'<div class="jq-chart-text">{text_html}</div></div>'
    )
