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


# Lines of the over-time chart: dark colours (at least 4.5:1 on white) and a dash pattern each, so
# that they can be told apart without colour too.
LINE_STYLES = [("#1a237e", ""), ("#00695c", "6 3"), ("#bf360c", "2 3"), ("#4a148c", "8 3 2 3"), ("#1b5e20", "")]


def line_chart(title: str, days: list[str], series: list[tuple[str, list[int]]], marks: list[tuple[str, str]],
               last_day: str | None = None) -> str:
    """Cumulative counts per day as lines, with dated marks (deadlines) as dashed vertical lines.
    days: the x axis (ISO dates); series: (label, one count per day up to last_day); marks: (label,
    ISO date). Small (320 wide, 13 px text) so that its few labels stay at 12 px or more when a 390 px phone
    scales it down;
    the legend and the marks' names are in the HTML beside it (see timeline_figure)."""
    width, height, left, right, top, bottom = 320, 190, 34, 8, 10, 24
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(len(days) - 1, 1)
    peak = max([max(values) if values else 0 for _, values in series] + [1])

    def x(i):
        return left + plot_w * i / n

    def y(v):
        return top + plot_h - plot_h * v / peak

    out = [
        f'<svg class="jq-chart-svg jq-line-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="#424242"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#424242"/>',
        f'<text x="{left - 4}" y="{top + 9}" text-anchor="end" font-size="13" fill="currentColor">{peak}</text>',
        f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end" font-size="13" fill="currentColor">0</text>',
    ]
    if days:
        out.append(f'<text x="{left}" y="{height - 6}" font-size="13" fill="currentColor">{escape(_md(days[0]))}</text>')
        out.append(f'<text x="{width - right}" y="{height - 6}" text-anchor="end" font-size="13" fill="currentColor">{escape(_md(days[-1]))}</text>')
    index = {d: i for i, d in enumerate(days)}
    for k, (label, day) in enumerate(marks, 1):
        if day in index:
            xm = x(index[day])
            out.append(f'<line x1="{xm:.1f}" y1="{top}" x2="{xm:.1f}" y2="{top + plot_h}" stroke="#b71c1c" stroke-dasharray="4 3">'
                       f"<title>{escape(label)}：{escape(day)}</title></line>"
                       f'<text x="{xm + 2:.1f}" y="{top + 10}" font-size="13" fill="#b71c1c">{k}</text>')
    for (label, values), (color, dash) in zip(series, LINE_STYLES):
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        out.append(f'<polyline fill="none" stroke="{color}" stroke-width="2"{dashes} points="{points}">'
                   f"<title>{escape(label)}：{values[-1] if values else 0}</title></polyline>")
    out.append("</svg>")
    return "".join(out)


def _md(iso: str) -> str:
    return f"{int(iso[5:7])}月{int(iso[8:10])}日"


def timeline_figure(title: str, svg: str, series: list[tuple[str, list[int]]], marks: list[tuple[str, str]],
                    days: list[str]) -> str:
    """The over-time chart with its legend, its marks named, and the same figures as a table
    (collapsed; read out by screen readers and kept out of the search index)."""
    legend = "".join(
        f'<li><svg width="28" height="10" aria-hidden="true"><line x1="0" y1="5" x2="28" y2="5" stroke="{color}" '
        f'stroke-width="2"{f" stroke-dasharray={chr(34)}{dash}{chr(34)}" if dash else ""}/></svg> {escape(label)}'
        f"（{values[-1] if values else 0}）</li>"
        for (label, values), (color, dash) in zip(series, LINE_STYLES))
    named = "".join(f"<li>{k}：{escape(label)}（{escape(_md(day))}）</li>" for k, (label, day) in enumerate(marks, 1))
    head = "".join(f'<th scope="col">{escape(label)}</th>' for label, _ in series)
    rows = []
    shown = [i for i in range(len(days)) if i < len(series[0][1])] if series else []
    for i in shown:
        if i and all(values[i] == values[i - 1] for _, values in series) and days[i] not in {d for _, d in marks}:
            continue  # a day on which nothing changed
        cells = "".join(f"<td>{values[i]}</td>" for _, values in series)
        rows.append(f'<tr><th scope="row">{escape(_md(days[i]))}</th>{cells}</tr>')
    table = (f'<details class="jq-timeline-table" data-search-exclude><summary>{escape(title)}（表格）</summary>'
             f'<div class="jq-table jq-timeline-figures" role="region" tabindex="0" aria-label="{escape(title)}：每日累计份数">'
             f'<table><caption>{escape(title)}：每日累计份数（只列出有变化的日期和截止日期）</caption>'
             f'<thead><tr><th scope="col">日期</th>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div></details>')
    return (f'<div class="jq-chart jq-timeline" markdown="0"><figure class="jq-chart-figure">{svg}'
            f"<figcaption>{escape(title)}</figcaption></figure>"
            f'<div class="jq-chart-text"><ul class="jq-legend">{legend}</ul><p>虚线为截止日期：</p><ul class="jq-marks">{named}</ul>'
            f"</div>{table}</div>")
