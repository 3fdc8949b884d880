"""The public site's pages: a public view of the data (aggregates and public fields only),
rendered to Markdown in a build folder from which mkdocs (or Zensical) builds the site."""

from __future__ import annotations

import csv
import io
import re
import shutil
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import jinja2
from markupsafe import Markup

from ..check import city as citycon, safemd
from . import charts, disclosure, privacy
from ..sheets import cellsafe
from . import statistics as stats
from ..trust import status as st
from ..trust import when

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = Path(__file__).resolve().parent / "templates"
SITE_SRC = ROOT / "site_src"
SITE_THEME = ROOT / "site_theme"  # the theme's custom_dir: Chinese 404 and footer, lang="zh-CN"
MKDOCS_YML = ROOT / "mkdocs.yml"

LEVEL_OF_KIND = {"city": 3, "district": 2, "county_city": 2, "county": 2, "industry": 2, "enterprise": 1, "street": 1}
KIND_LABELS = {
    "city": "市总工会",
    "district": "区总工会",
    "county_city": "县级市总工会",
    "county": "县总工会",
    "industry": "产业工会",
    "enterprise": "企业工会",
    "street": "街道工会",
}
# Where an application stands, in the order the site lists them.
STAGES = [
    ("filed", "已填报，待基层工会审查"),
    ("level1", "基层工会已审查"),
    ("level2", "区市县、产业工会已审核"),
    ("complete", "审批完成，待发放"),
    ("paid", "已发放"),
    ("rejected", "未通过"),
    ("stale", "内容已改动，待重新审批"),
]
FORM_LABELS = {"new": "当年考入大学（附件1）", "continuing": "大学在读（附件2）", "local": "各级工会自行资助"}


def short_name(name: str, place: str = "") -> str:
    """The distinctive part of a union's name, as people search for it: without the city's place
    name in front (place, from jinqiu.check.city) and its 总工会 or 工会 ending (沈阳市和平区总工会 -> 和平区)."""
    return citycon.City(place=place).short_name(name)


def stage_of(s: st.Status) -> str:
    """One of STAGES' keys for a status."""
    if s.state == st.PAID:
        return "paid"
    if s.state in (st.REJECTED, st.STALE, st.FILED):
        return s.state
    if s.complete:
        return "complete"
    return "level2" if s.level >= 2 else "level1"


@dataclass
class DataVersion:
    """Which version of the data a site shows."""

    commit: str | None = None  # full hex of the data's commit; None outside git
    dirty: bool = False  # the data directory had changes not yet committed
    as_of: str | None = None  # --as-of: the ISO date the data is as of


@dataclass
class PublicView:
    """Everything the public pages may show: public fields, counts and sums. Nothing personal."""

    campaign: dict
    today: str
    version: DataVersion
    verified: bool
    left_out: int
    units: dict  # id -> projected unit
    tables: dict  # unit id -> StatisticsTable
    apps: list  # projected applications, each with "_stage"
    notice_rows: list = field(default_factory=list)
    notice_left_out: dict = field(default_factory=dict)  # reason -> approved applications not on the 公示 list (privacy.LEFT_OUT_REASONS)
    hidden: dict = field(default_factory=dict)  # unit id -> keys not shown in public (jinqiu.publish.disclosure)
    timelines: dict = field(default_factory=dict)  # city or level-2 unit id -> timeline.Timeline
    # trusted time (jinqiu.trust.when): the day the history starts when that is after the campaign
    # (the chart says so instead of drawing zeros), whether deadlines can only be judged by typed
    # dates, and the day each union's report entered the branch
    history_starts: str | None = None
    typed_only: bool = False
    report_days: dict = field(default_factory=dict)

    def shown(self, uid: str, key: str):
        """A figure as the public sees it: the value, or disclosure.HIDDEN."""
        return disclosure.HIDDEN if key in self.hidden.get(uid, ()) else self.tables[uid].values[key]

    def public_rows(self, table) -> list:
        """table.rows() with hidden figures (computed and typed) replaced by disclosure.HIDDEN."""
        hidden = self.hidden.get(table.unit_id, set())
        return [(item, letter, label, key, disclosure.HIDDEN if key in hidden else value,
                 disclosure.HIDDEN if key in hidden and typed != "" else typed)
                for item, letter, label, key, value, typed in table.rows()]
    reports: dict = field(default_factory=dict)  # unit id -> projected report
    repo_url: str | None = None  # the repository's web address, from configuration

    def data_date(self) -> str | None:
        """The date the data is as of: the --as-of date, or the latest date a public record carries
        (filing, an approval, a union's report), never later than today."""
        if self.version.as_of:
            return self.version.as_of
        dates = [a.get("filed_on") for a in self.apps]
        dates += [e.get("date") for a in self.apps for e in a.get("approvals") or ()]
        dates += [r.get("filed_on") for r in self.reports.values()]
        dates = [d for d in dates if isinstance(d, str) and d <= self.today]
        return max(dates, default=None)


def days_left(today: str, due: str) -> int:
    return (date.fromisoformat(due) - date.fromisoformat(today)).days


def in_notice_window(campaign: dict, today: str) -> bool:
    """The 公示 list is shown only when enabled and today is inside [from, to]."""
    notice = campaign.get("public_notice") or {}
    return bool(notice.get("enabled")) and notice.get("from", "9999") <= today <= notice.get("to", "0000")


def materials_state(record: dict, s: st.Status, units: dict, due: str, typed_only: bool = False) -> str | None:
    """Where an application stands against the materials deadline (申报材料报市总工会): the
    district or industry union sends the city the applications the city funds; an application is
    sent when its level-2 approval (of the latest round) is verified, on the day that approval entered
    the branch (never a typed date alone: jinqiu.trust.when.judged). "on_time" (sent on or before the
    deadline), "late", "missing" (not sent yet), or None when nothing goes to the city (funded below
    it, or rejected below it)."""
    from ..trust.registry import funding_level

    if funding_level(str(record.get("unit")), (record.get("aid") or {}).get("funding_unit"), units) < 3:
        return None
    if s.state == st.REJECTED and s.level <= 2:
        return None
    if s.level < 2:
        return "missing"
    proof = s.proof(2)
    if proof is None:
        return "missing"
    entries = record.get("approvals") or []
    entry = entries[proof.index] if 0 <= proof.index < len(entries) and isinstance(entries[proof.index], dict) else {}
    sent = when.judged(proof.day, entry.get("date"), typed_only)
    return "on_time" if sent and sent <= due else "late"


def timeline_groups(units: dict) -> dict:
    """unit id -> the chart groups its applications count in: the city and its level-2 union."""
    out = {}
    for uid in units:
        node, seen, groups = uid, set(), []
        while node in units and node not in seen:
            seen.add(node)
            if LEVEL_OF_KIND.get(units[node].get("kind")) in (2, 3):
                groups.append(node)
            node = units[node].get("parent")
        out[uid] = groups
    return out


DEADLINES = (("materials_due", "申报材料报市总工会"), ("report_due", "活动总结和统计表报市总工会"), ("ends_on", "活动结束"))


def timeline_end(campaign: dict) -> str:
    """The last day the over-time chart runs to: the last deadline or the statistics date."""
    return max(campaign[k] for k, _ in DEADLINES + (("statistics_as_of", ""),))


def timeline_chart(view: PublicView, uid: str, name: str) -> Markup:
    """The campaign over time for one union (or the city); when the history starts after the
    campaign, a plain sentence saying so instead of lines at zero; nothing when there is no history."""
    if view.history_starts:
        return Markup("<p class=\"jq-no-timeline\">{}</p>").format(history_note(view))
    tl = view.timelines.get(uid)
    if tl is None:
        return Markup("")
    from .timeline import SERIES, _day_range

    axis = _day_range(tl.days[0], max(tl.days[-1], timeline_end(view.campaign)))
    series = [(label, tl.counts[key]) for key, label in SERIES]
    marks = same_day_marks([(label, view.campaign[key]) for key, label in DEADLINES])
    title = f"{name}：申请和审批进度（逐日累计）"
    svg = charts.line_chart(title, axis, series, marks)
    return Markup(charts.timeline_figure(title, svg, series, marks, axis))  # built from escaped parts


def history_note(view: PublicView) -> str:
    """Why there is no chart: the records entered the repository after the campaign."""
    sample = ("这是示例数据：运行 python3 build.py demo --site 可以看到把它按记录中的日期重放成签名历史之后的逐日进展。"
              if view.verified == "test" else "")
    return (f"{view.campaign['year']} 年度的记录是在活动结束之后（{_cn_date(view.history_starts)}起）才录入仓库的，"
            "仓库的历史无法说明活动期间每一天的进展，所以这里不画逐日进展图；各项是否按时，也只能按记录中填写的日期判断。" + sample)


def same_day_marks(marks: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Deadlines on the same day as one mark whose label names them all (in order), so that their
    markers do not print over each other."""
    days: dict[str, list[str]] = {}
    for label, day in marks:
        days.setdefault(day, []).append(label)
    return [("、".join(labels), day) for day, labels in days.items()]


def public_view(dataset, year, statuses, tables, today, version, verified, left_out, repo_url=None,
                history_starts=None, typed_only=False, report_days=None) -> PublicView:
    """Project everything to its public fields; compute the masked 公示 list only inside its window.
    history_starts, typed_only, report_days: what the history can say about when (see PublicView)."""
    campaign = privacy.project("campaign", dataset.campaigns[year])
    units = {}
    for uid, u in dataset.units.items():
        units[uid] = {k: u[k] for k in ("id", "name", "kind", "parent") if k in u}
    apps = []
    for rec in dataset.applications:
        if rec.data.get("year") != year:
            continue
        a = privacy.project("application", rec.data)
        a["_stage"] = stage_of(statuses[rec.data["id"]])
        a["_materials"] = materials_state(rec.data, statuses[rec.data["id"]], dataset.units, campaign["materials_due"],
                                          typed_only)
        apps.append(a)
    reports = {r.data["unit"]: privacy.project("report", r.data) for r in dataset.reports if r.data.get("year") == year}
    view = PublicView(campaign, today, version, verified, left_out, units, tables, apps, reports=reports,
                      repo_url=repo_url or None, history_starts=history_starts, typed_only=typed_only,
                      report_days=dict(report_days or {}))
    level_of = {uid: LEVEL_OF_KIND.get(u.get("kind"), 1) for uid, u in units.items()}
    view.hidden = disclosure.suppress(tables, units, level_of, disclosure.threshold_of(campaign))
    if in_notice_window(campaign, today):
        view.notice_rows, view.notice_left_out = privacy.notice_rows(
            dataset, year, statuses, units, campaign["public_notice"]["from"])
    return view


# ---------------------------------------------------------------- figures for the pages


def _wan(yuan: Decimal) -> Decimal:
    return (Decimal(yuan) / stats.WAN).quantize(Decimal("0.0001")).normalize()


def home_figures(view: PublicView) -> dict:
    counts = Counter(a["_stage"] for a in view.apps)
    approved = sum((a["aid"]["amount"] for a in view.apps if a["_stage"] in ("complete", "paid")), Decimal(0))
    paid = sum((a["aid"]["amount"] for a in view.apps if a["_stage"] == "paid"), Decimal(0))
    by_form = Counter(a["form"] for a in view.apps)
    city = next((t for uid, t in view.tables.items() if view.units[uid]["kind"] == "city"), None)
    v = city.values if city else stats.empty()
    return {
        "counts": [(label, counts.get(key, 0)) for key, label in STAGES],
        "total": len(view.apps),
        "by_form": [(FORM_LABELS[k], by_form.get(k, 0)) for k in FORM_LABELS],
        "approved_wan": _wan(approved),
        "paid_wan": _wan(paid),
        "raised_wan": v["01A"],
        "graduates": v["06A"],
        "employed": v["13A"],
        "not_signed": v["15A"],
        "earlier_unemployed": v["16A"],
        "internships": v["07A"],
        "training": v["08A"],
        "fairs": v["09A"],
        "posts": v["09A_amount"],
    }


def subtrees(units: dict) -> dict:
    """unit id -> the ids of that union and every union below it."""
    out = {uid: {uid} for uid in units}
    for uid in units:
        node, seen = units[uid].get("parent"), {uid}
        while node in units and node not in seen:
            out[node].add(uid)
            seen.add(node)
            node = units[node].get("parent")
    return out


DEADLINES = (("materials_due", "申报材料报市总工会"), ("report_due", "活动总结和统计表报市总工会"), ("ends_on", "活动结束"))


def deadline_text(left: int) -> str:
    return f"还有 {left} 天" if left > 0 else "今天截止" if left == 0 else "已截止"


def summary_band(view: PublicView, apps: list, raised, reported: bool) -> list[dict]:
    """The figures at the top of a page, each {label, value, unit, note}: applications, approved,
    paid, funds raised against aid approved, days to each deadline. raised is in 万元; a union
    that has not reported has no figure for it (未报送), not 0."""
    counts = Counter(a["_stage"] for a in apps)
    done = counts["complete"] + counts["paid"]
    approved = _wan(sum((a["aid"]["amount"] for a in apps if a["_stage"] in ("complete", "paid")), Decimal(0)))
    items = [
        {"label": "申请", "value": len(apps), "unit": "份", "note": f"未通过 {counts['rejected']} 份" if counts["rejected"] else ""},
        {"label": "审批完成", "value": done, "unit": "份", "note": f"审批中 {len(apps) - done - counts['rejected']} 份"},
        {"label": "已发放", "value": counts["paid"], "unit": "份", "note": f"待发放 {counts['complete']} 份"},
    ]
    if reported:
        share = f"，占筹集资金的 {(approved / raised * 100):.0f}%" if raised else ""
        items.append({"label": "筹集资金", "value": stats.fmt(raised), "unit": "万元",
                      "note": f"已审批助学金 {stats.fmt(approved)} 万元{share}"})
    else:
        items.append({"label": "筹集资金", "value": "未报送", "unit": "", "note": f"已审批助学金 {stats.fmt(approved)} 万元"})
    for key, label in DEADLINES:
        left = days_left(view.today, view.campaign[key])
        items.append({"label": label, "value": deadline_text(left), "unit": "", "note": _cn_date(view.campaign[key]) + "截止"})
    return items


def home_charts(f: dict) -> dict:
    c = {}
    c["status"] = charts.figure(
        "申请按审批进度",
        charts.bar_chart("申请按审批进度", f["counts"], " 份"),
        Markup("<p>共收到申请 <strong>{}</strong> 份。每份申请依次经过基层工会审查、区市县或产业工会审核、"
               "市总工会审批（由基层或区级工会自行资助的，审批到出资工会为止），审批完成后发放助学金。</p>").format(f["total"]),
    )
    c["money"] = charts.figure(
        "助学资金（万元）",
        charts.bar_chart("助学资金（万元）", [("共筹集资金", f["raised_wan"]), ("已审批金额", f["approved_wan"]), ("已发放金额", f["paid_wan"])], " 万元"),
        Markup("<p>各级工会报告共筹集资金 <strong>{}</strong> 万元；已审批的助学金 <strong>{}</strong> 万元，"
               "其中已发放 <strong>{}</strong> 万元。</p>").format(stats.fmt(f["raised_wan"]), stats.fmt(f["approved_wan"]), stats.fmt(f["paid_wan"])),
    )
    c["jobs"] = charts.figure(
        "阳光就业",
        charts.bar_chart("阳光就业（人、人次）", [
            ("困难家庭高校毕业生", f["graduates"]),
            ("工会帮助实现就业", f["employed"]),
            ("实习见习", f["internships"]),
            ("就业技能培训", f["training"]),
            ("应届未签约（本地就读）", f["not_signed"]),
            ("往届未就业", f["earlier_unemployed"]),
        ]),
        Markup("<p>登记困难职工家庭高校毕业生 <strong>{}</strong> 人，工会帮助实现就业 <strong>{}</strong> 人次；"
               "举办招聘会等活动 <strong>{}</strong> 场，提供岗位 <strong>{}</strong> 个。</p>").format(
            f["graduates"], f["employed"], f["fairs"], f["posts"]),
    )
    return {k: Markup(v) for k, v in c.items()}  # built from escaped parts in charts.py


def _on_time(day: str, due: str) -> bool:
    return bool(day) and day <= due


def progress_rows(view: PublicView) -> list[dict]:
    """One row per district, county and industry union: applications at each stage, report, timeliness."""
    due = view.campaign["report_due"]
    top = {}  # grassroots id -> its level-2 union
    for uid, u in view.units.items():
        node, seen = uid, set()
        while node in view.units and LEVEL_OF_KIND.get(view.units[node]["kind"]) != 2 and node not in seen:
            seen.add(node)
            node = view.units[node].get("parent")
        top[uid] = node if node in view.units else None
    per = {uid: Counter() for uid, u in view.units.items() if LEVEL_OF_KIND.get(u["kind"]) == 2}
    materials = {uid: Counter() for uid in per}
    grassroots = {uid: set() for uid in per}
    active = {uid: set() for uid in per}
    for uid, u in view.units.items():
        if LEVEL_OF_KIND.get(u["kind"]) == 1 and top.get(uid) in grassroots:
            grassroots[top[uid]].add(uid)
    for a in view.apps:
        t = top.get(a["unit"])
        if t in per:
            per[t][a["_stage"]] += 1
            active[t].add(a["unit"])
            if a.get("_materials"):
                materials[t][a["_materials"]] += 1
    rows = []
    for uid in sorted(per, key=lambda k: (view.units[k]["kind"] == "industry", k)):
        report = view.reports.get(uid)
        filed = report.get("filed_on") if report else None
        reported_below = sum(1 for g in grassroots[uid] if g in view.reports)
        rows.append({
            "id": uid,
            "name": view.units[uid]["name"],
            "kind": KIND_LABELS[view.units[uid]["kind"]],
            "stages": [per[uid].get(k, 0) for k, _ in STAGES],
            "total": sum(per[uid].values()),
            "reported": bool(report),
            "typed": bool(report and report.get("typed_statistics")),
            "filed_on": filed or "",
            "on_time": _on_time(when.judged(view.report_days.get(uid, ""), filed, view.typed_only) if filed else "", due),
            "grassroots": len(grassroots[uid]),
            "active": len(active[uid]),
            "reported_below": reported_below,
            "materials": {k: materials[uid].get(k, 0) for k in ("on_time", "late", "missing")},
        })
    return rows


# ---------------------------------------------------------------- downloads


def _ordered_units(view: PublicView) -> list[str]:
    level = {uid: LEVEL_OF_KIND.get(u["kind"], 1) for uid, u in view.units.items()}
    return sorted(view.tables, key=lambda uid: (-level[uid], uid))


def disclosure_note(view: PublicView) -> str:
    return disclosure.NOTE.format(n=disclosure.threshold_of(view.campaign))


def statistics_csv(view: PublicView) -> str:
    """Every union's 附件3 side by side: one row per item, one column per union."""
    order = _ordered_units(view)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(cellsafe.csv_row(["编号", "项目", *[f"{view.units[u]['name']}（{u}）" for u in order]]))
    for item, letter, label, key in stats.ROWS:
        w.writerow(cellsafe.csv_row([key, label.format(year=view.campaign["year"]), *[stats.fmt(view.shown(u, key), key) for u in order]]))
    w.writerow(cellsafe.csv_row(["", disclosure_note(view)]))
    return "\ufeff" + buf.getvalue()  # BOM: Excel opens UTF-8 CSV correctly


def _item_groups():
    """(first row index, last row index) in ROWS of each numbered item: the official table merges
    the item number cell (（01）) over all the lines of its item."""
    starts = [i for i, row in enumerate(stats.ROWS) if row[0]]
    return [(a, b - 1) for a, b in zip(starts, starts[1:] + [len(stats.ROWS)])]


def _print_setup(ws, title_rows: str, landscape: bool = False) -> None:
    """A4, fitted to one page wide, the header row repeated on every printed page."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages tall as it takes
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = title_rows
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.6


def tables_workbook(tables: list, campaign: dict, contacts: dict | None = None, hidden: dict | None = None, note: str = ""):
    """An openpyxl workbook with one sheet per statistics table, each in the official 附件3 layout:
    the title, a line 填报单位 / 填报人 / 联系电话, 编号 over two columns with each item's number
    merged over its lines, set up to print on A4. contacts: unit id -> (填报人, 联系电话) from the
    union's report, for the private outputs only; the public downloads leave them blank. hidden:
    unit id -> keys shown as disclosure.HIDDEN (public downloads), explained by note."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side

    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    wb = Workbook()
    wb.remove(wb.active)
    year = campaign["year"]
    used = set()
    groups = _item_groups()
    for table in tables:
        uid = table.unit_id
        name = "".join(ch for ch in table.unit_name if ch not in "[]:*?/\\")[:31] or uid
        while name in used:
            name = (name[:28] + uid[-3:])[:31]
        used.add(name)
        ws = wb.create_sheet(name)
        ws.merge_cells("A1:D1")
        cellsafe.set_value(ws["A1"], f"{year}年“金秋助学”和“阳光就业”行动情况统计表")
        ws["A1"].font = Font(bold=True, size=14)
        ws["A1"].alignment = Alignment(horizontal="center")
        filled_by, phone = (contacts or {}).get(uid, ("", ""))
        cellsafe.set_value(ws["A2"], f"填报单位：{table.unit_name}　　填报人：{filled_by or ''}　　联系电话：{phone or ''}")
        ws.merge_cells("A2:D2")
        ws.append(cellsafe.xlsx_row(ws, ["编  号", "", "项      目", "数量"]))
        ws.merge_cells(start_row=3, start_column=1, end_row=3, end_column=2)
        for item, letter, label, key, value, _typed in table.rows():
            shown = disclosure.HIDDEN if key in (hidden or {}).get(uid, ()) else _number(table.values[key])
            ws.append(cellsafe.xlsx_row(ws, [f"（{item}）" if item else "", f"（{letter}）" if letter else "", label, shown]))
        for first, last in groups:
            if last > first:
                ws.merge_cells(start_row=4 + first, start_column=1, end_row=4 + last, end_column=1)
        ws.append(cellsafe.xlsx_row(ws, [f"填报说明：数据统计截止日期为{_cn_date(campaign['statistics_as_of'])}。{note}"]))
        ws.merge_cells(start_row=ws.max_row, start_column=1, end_row=ws.max_row, end_column=4)
        for row in ws.iter_rows(min_row=3, max_row=ws.max_row - 1, max_col=4):
            for cell in row:
                cell.border = box
                cell.alignment = Alignment(wrap_text=True, vertical="center",
                                           horizontal="center" if cell.column in (1, 2) or cell.row == 3 else None)
        ws.column_dimensions["A"].width = 8
        ws.column_dimensions["B"].width = 6
        ws.column_dimensions["C"].width = 60
        ws.column_dimensions["D"].width = 14
        _print_setup(ws, "3:3")
    return wb


def statistics_xlsx(view: PublicView, path: Path) -> None:
    """附件3 in the official layout: the city and each district or industry union on its own sheet,
    and every union side by side on the last sheet."""
    wb = tables_workbook([view.tables[u] for u in _ordered_units(view)
                          if LEVEL_OF_KIND.get(view.units[u]["kind"]) >= 2], view.campaign,
                         hidden=view.hidden, note=disclosure_note(view))
    ws = wb.create_sheet("全部工会")
    order = _ordered_units(view)
    ws.append(cellsafe.xlsx_row(ws, ["编号", "项目", *[view.units[u]["name"] for u in order]]))
    for item, letter, label, key in stats.ROWS:
        ws.append(cellsafe.xlsx_row(ws, [key, label.format(year=view.campaign["year"]), *[_number(view.shown(u, key)) for u in order]]))
    ws.append(cellsafe.xlsx_row(ws, ["", disclosure_note(view)]))
    ws.column_dimensions["B"].width = 40
    ws.freeze_panes = "C2"
    _print_setup(ws, "1:1", landscape=True)
    ws.print_title_cols = "A:B"
    wb.save(path)


def _statistics_xlsx_memo(view: PublicView, path: Path, memo: dict | None, previous: Path | None) -> None:
    """statistics_xlsx, or a copy of the workbook previous holds when it was made from the same
    figures (its bytes as written then: nobody changed it since)."""
    import hashlib
    import json

    if memo is None or previous is None:
        statistics_xlsx(view, path)
        return
    order = _ordered_units(view)
    h = hashlib.sha256()
    for source in (Path(__file__), Path(cellsafe.__file__), Path(stats.__file__), Path(disclosure.__file__)):
        h.update(source.read_bytes())
    h.update(json.dumps([view.campaign, disclosure_note(view), [view.units[u] for u in order],
                         [[u, view.tables[u].unit_name, list(view.tables[u].rows()), sorted(view.hidden.get(u, ()))]
                          for u in order]], ensure_ascii=False, sort_keys=True, default=str).encode())
    key = h.hexdigest()
    old = previous / "downloads" / path.name
    was = memo.get("xlsx")
    if isinstance(was, list) and was[:2] == [key, path.name] and old.is_file() and not old.is_symlink():
        raw = old.read_bytes()
        if hashlib.sha256(raw).hexdigest() == was[2]:
            path.write_bytes(raw)
            return
    statistics_xlsx(view, path)
    memo["xlsx"] = [key, path.name, hashlib.sha256(path.read_bytes()).hexdigest()]


def _number(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _cn_date(iso: str) -> str:
    d = date.fromisoformat(iso)
    return f"{d.year}年{d.month}月{d.day}日"


# ---------------------------------------------------------------- the site's configuration

URL = re.compile(r"https?://[^\s\"'<>`\\]+")


def site_config(site_url: str | None = None, repo_url: str | None = None) -> dict:
    """mkdocs.yml as the build uses it: site_url and extra.repository from the options when given,
    else as the file has them. Each is an http(s) address or unset; anything else stops the build."""
    import yaml

    cfg = yaml.safe_load(MKDOCS_YML.read_text(encoding="utf-8"))
    extra = cfg.setdefault("extra", {}) or {}
    cfg["extra"] = extra
    if site_url:
        cfg["site_url"] = site_url
    if repo_url:
        extra["repository"] = repo_url
    for where, value in (("site_url", cfg.get("site_url")), ("extra.repository", extra.get("repository"))):
        if value in (None, ""):
            continue
        if not isinstance(value, str) or not URL.fullmatch(value):
            raise ValueError(f"mkdocs.yml 的 {where} 应为 http:// 或 https:// 开头的网址：{value}")
    if cfg.get("site_url"):
        cfg["site_url"] = cfg["site_url"].rstrip("/") + "/"
    else:
        cfg.pop("site_url", None)
    if not extra.get("repository"):
        extra.pop("repository", None)
    return cfg


def write_config(cfg: dict, work: Path) -> None:
    """The configuration and the theme's custom_dir into the build folder, beside docs/."""
    import yaml

    (work / "mkdocs.yml").write_text("# written by build.py from mkdocs.yml\n" + yaml.safe_dump(
        cfg, allow_unicode=True, sort_keys=False, width=1000), encoding="utf-8")
    theme = work / cfg["theme"]["custom_dir"]
    if theme.exists():
        shutil.rmtree(theme)
    shutil.copytree(SITE_THEME, theme)


# ---------------------------------------------------------------- rendering


def _notice_markdown(text: str) -> Markup:
    """The campaign's notice text: validate refuses anything outside the safe subset; checked again
    here so that no path (--allow-invalid, a stale cache) publishes it unchecked."""
    try:
        return safemd.render(text)
    except ValueError as exc:
        raise PageError(f"活动文件的“通知正文”不符合要求：{exc}") from None


class PageError(Exception):
    """A page cannot be written; the message is one line for people."""


def environment(place: str = "") -> jinja2.Environment:
    """The site's templates; place: the city's place name, which short union names leave out."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES / "site")),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=safemd.finalize,  # every string from data is literal text, in Markdown as in HTML
    )
    env.filters["notice_markdown"] = _notice_markdown
    env.filters["fmt"] = stats.fmt
    env.filters["cn_date"] = _cn_date
    env.filters["short_name"] = lambda name: short_name(name, place)
    return env


def notice_left_out_text(counts: dict) -> str:
    """How many approved students the 公示 leaves out and why, in words: "本人未同意公示 3 名；…"."""
    return "；".join(f"{label} {counts[key]} 名" for key, label in privacy.LEFT_OUT_REASONS.items() if counts.get(key))


def write_pages(view: PublicView, docs: Path, memo: dict | None = None, previous: Path | None = None) -> list[str]:
    """Write every page and download into docs (emptied first); returns the files written. memo and
    previous (the site the last build wrote): the statistics workbook is taken from previous when
    what it shows is what it showed then (memo, updated here, holds the digest of both)."""
    if docs.exists():
        shutil.rmtree(docs)
    shutil.copytree(SITE_SRC, docs)
    env = environment(citycon.of_units(view.units).place)
    year = view.campaign["year"]
    figures = home_figures(view)
    level2 = [uid for uid in _ordered_units(view) if LEVEL_OF_KIND.get(view.units[uid]["kind"]) == 2]
    city = [uid for uid in _ordered_units(view) if view.units[uid]["kind"] == "city"]
    below = subtrees(view.units)
    has_report = {uid for uid, members in below.items() if members & view.reports.keys()}
    apps_of = {uid: [] for uid in level2}
    top = {u: uid for uid in level2 for u in below[uid]}
    for a in view.apps:
        if a["unit"] in top:
            apps_of[top[a["unit"]]].append(a)
    common = {
        "view": view,
        "campaign": view.campaign,
        "year": year,
        "deadlines": [(label, view.campaign[key], days_left(view.today, view.campaign[key])) for key, label in DEADLINES],
        "timeline_chart": lambda uid, name: timeline_chart(view, uid, name),
        "disclosure_note": disclosure_note(view),
        "stages": STAGES,
        "data_date": view.data_date(),
        "report_keys": stats.REPORT_KEYS,
        "has_report": has_report,
    }
    city_raised = view.tables[city[0]].values["01A"] if city else Decimal(0)
    pages = {
        "index.md": env.get_template("index.md").render(
            **common, f=figures, charts=home_charts(figures),
            band=summary_band(view, view.apps, city_raised, bool(view.reports)),
            over_time=timeline_chart(view, city[0], view.units[city[0]]["name"]) if city else Markup("")),
        "progress.md": env.get_template("progress.md").render(**common, rows=progress_rows(view)),
        "notice.md": env.get_template("notice.md").render(**common, rows=view.notice_rows,
                                                          left_out=sum(view.notice_left_out.values()),
                                                          left_out_why=notice_left_out_text(view.notice_left_out),
                                                          open=in_notice_window(view.campaign, view.today)),
        "statistics/index.md": env.get_template("statistics.md").render(
            **common, table=view.tables[city[0]] if city else None, unions=[view.tables[u] for u in level2],
            units=view.units, rows_of=view.public_rows, is_city=True, band=None,
            reported=bool(view.reports)),
    }
    for uid in level2:
        reported = uid in view.reports
        pages[f"statistics/{uid}.md"] = env.get_template("statistics.md").render(
            **common, table=view.tables[uid], unions=[], units=view.units, rows_of=view.public_rows,
            is_city=False, reported=reported,
            band=summary_band(view, apps_of[uid], view.tables[uid].values["01A"], uid in has_report))
    written = []
    for rel, text in pages.items():
        path = docs / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(rel)
    downloads = docs / "downloads"
    downloads.mkdir(exist_ok=True)
    (downloads / f"statistics-{year}.csv").write_text(statistics_csv(view), encoding="utf-8", newline="")
    _statistics_xlsx_memo(view, downloads / f"statistics-{year}.xlsx", memo, previous)
    written += [f"downloads/statistics-{year}.csv", f"downloads/statistics-{year}.xlsx"]
    return written
