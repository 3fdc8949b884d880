"""`build.py todo`: a read-only queue for a union or a reviewer: what awaits their level, what is
stale and needs re-approval, and what is late. Statuses come only from verify (one run)."""

from __future__ import annotations

import datetime as dt

from ..check import ids, validate
from ..trust import approve, registry, verify, when
from ..problems import UserError
from .common import add_data_argument, data_dir, forge_checker, resolve_unit

HELP = "待办：列出某个工会（及其下级工会）或某位审核人等待审批、需重新审批和逾期的申请（只读）"

FORMS = {"new": "新生", "continuing": "在读生", "local": "本单位资助"}


def add_arguments(p) -> None:
    add_data_argument(p)
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--unit", metavar="工会", help="工会（编号或名称）：列出它及其下级工会的申请")
    who.add_argument("--reviewer", metavar="审核人编号", help="审核人编号（reviewers.yaml 中的 id）")
    p.add_argument("--year", type=int, help="活动年度（默认最新的活动）")
    p.add_argument("--today", metavar="日期", help="以这一天判断是否逾期（YYYY-MM-DD，默认今天）")


def describe(r, units: dict) -> str:
    """A line about an application with nothing personal unmasked: id, form, union, masked name."""
    d = r.data
    unit = str(d.get("unit"))
    name = (d.get("student") or {}).get("name")
    who = f"，学生 {ids.mask_name(name)}" if isinstance(name, str) and name else ""
    return f"{r.path}（{d.get('id')}，{FORMS.get(d.get('form'), '申请')}，{units.get(unit, {}).get('name', unit)}{who}）"


def run(args, out, err) -> int:
    root = data_dir(args)
    today = dt.date.today()
    if args.today:
        try:
            today = dt.date.fromisoformat(args.today)
        except ValueError:
            raise UserError(f"--today：日期 {args.today} 应写成 2011-08-01 这样（年-月-日）") from None
    small = validate.load(root, args.data, rels=approve.small_rels(root))  # units, reviewers, campaigns
    units = small.units
    if args.reviewer is not None:
        reviewer = small.reviewers.get(args.reviewer)
        if reviewer is None:
            raise UserError(f"--reviewer：审核人登记（reviewers.yaml）中没有编号为 {args.reviewer} 的审核人")
        if not isinstance(reviewer.get("level"), int) or reviewer.get("unit") not in units:
            raise UserError(f"审核人 {args.reviewer} 的登记不完整（缺少层级或工会）")
        top = reviewer["unit"]
    else:
        top = resolve_unit(units, args.unit)
        if top not in units:
            raise UserError(f"--unit：没有编号为 {args.unit} 的工会")
        reviewer = {"unit": top, "level": _level_of(top, units)}
    year = args.year if args.year is not None else approve.current_year(small)
    if year is None:
        raise UserError("数据中没有活动文件（campaigns/<年度>.yaml），不知道本年度是哪一年")
    # only what the queue decides on: the year's applications of the unions below top, and what their statuses rest on
    dataset = approve.load_units(root, args.data, approve.descendants(units, top), year)
    statuses, _ = verify.statuses_of(root, dataset, forge_checker())
    level = reviewer["level"]
    plan = approve.pending_for(dataset, reviewer, None, statuses, year)
    waiting_here = {r.rel for r in plan.take} | {r.rel for r, _ in plan.skip}
    # everything of the year in the union's subtree (a reviewer: the unions it acts for)
    within = approve.descendants(units, top)
    mine = [r for r in sorted(dataset.applications, key=lambda r: r.rel)
            if r.data.get("year") == year and str(r.data.get("unit")) in within]
    if args.reviewer is not None:
        mine = [r for r in mine if r.rel in waiting_here
                or registry.reviewer_unit_for(level, str(r.data.get("unit")), units) == top]
    campaign = dataset.campaigns.get(year) or {}
    due = campaign.get("materials_due") if isinstance(campaign.get("materials_due"), str) else None
    stale, lower, late = [], [], []
    # whether the history can date the filings: not when every record of the year entered it after the campaign
    fallback = when.starts_after([statuses[r.rel].filed_day for r in dataset.applications
                                  if r.data.get("year") == year and r.rel in statuses], campaign) is not None
    for r in mine:
        st = statuses.get(r.rel)
        if st is None:
            continue
        if st.state == "stale":
            stale.append(r)
        elif r.rel not in waiting_here and not (st.state in ("rejected", "paid") or st.complete):
            nxt = st.level + 1
            unit = str(r.data.get("unit"))
            if registry.funding_level(unit, (r.data.get("aid") or {}).get("funding_unit"), units) >= nxt:
                acting = registry.reviewer_unit_for(nxt, unit, units)
                if acting != top and nxt <= level:
                    lower.append((r, nxt, acting))
        filed = r.data.get("filed_on")
        day = when.judged(st.filed_day, filed, fallback)
        if due and day and day > due:
            told = f"填表日期 {filed}" if fallback or day == filed else f"申请 {st.filed_day} 才进入仓库" + (
                f"（填表日期写的是 {filed}）" if filed != st.filed_day else "")
            late.append((r, f"{told}，晚于申报材料截止日期 {due}"))
        elif due and today.isoformat() > due and st.state not in ("rejected", "paid") and not st.complete:
            late.append((r, f"申报材料截止日期 {due} 已过，仍未审批完成（{st.label}）"))

    who = (f"审核人 {args.reviewer}（第 {level} 级，{units[top].get('name', top)}）" if args.reviewer is not None
           else f"{units[top].get('name', top)}（{top}）及其下级工会")
    out.write(f"{who}，{year} 年度待办：\n")
    if not getattr(statuses, "verified", True):
        out.write("注意：没有固定信任根或信任数据不是管理员签名的版本（见 docs/trust.md），核验结果不计任何审批。\n")
    out.write(f"\n一、等待第 {level} 级（{units[top].get('name', top)}）审批：{len(plan.take) + len(plan.skip)} 份\n")
    for r in plan.take:
        out.write(f"  {describe(r, units)}\n")
    for r, why in plan.skip:
        out.write(f"  {describe(r, units)}：{why}\n")
    out.write(f"\n二、内容改动后待重新审批：{len(stale)} 份\n")
    for r in stale:
        n = statuses[r.rel].round
        out.write(f"  {describe(r, units)}：第 {n} 轮审批之后内容改动过，需从第 1 级开始第 {n + 1} 轮\n")
    out.write(f"\n三、逾期：{len(late)} 份\n")
    for r, why in late:
        out.write(f"  {describe(r, units)}：{why}\n")
    if lower:
        out.write(f"\n另有 {len(lower)} 份尚待下级工会审批：\n")
        for r, nxt, acting in lower:
            out.write(f"  {describe(r, units)}：等待第 {nxt} 级（{units.get(acting, {}).get('name', acting)}）\n")
    return 0


def _level_of(uid: str, units: dict) -> int:
    """The approval level a union acts at: the city 3, a union with a parent that has none... by depth."""
    u = units.get(uid) or {}
    if u.get("kind") == "city":
        return 3
    parent = u.get("parent")
    if parent and (units.get(parent) or {}).get("kind") == "city":
        return 2
    return 1
