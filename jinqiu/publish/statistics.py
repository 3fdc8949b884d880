"""The statistics table (附件3): its 16 items, computed from the records for one union and all below it.

Every row of the official table has a key: the item number and letter (``03B``); the second
quantity of an item on an unlettered line below it (the amount after a number of people, the
posts after the job fairs, the yuan after the loans) adds ``_amount`` (``04B_amount``,
``09A_amount``, ``11C_amount``); the unlettered 往届 line of item 06 is ``06C``. These are the keys
a union uses for ``typed_statistics`` in its report.

What is counted (统计口径):
- 02–05: applications of the year whose aid was paid (approved up to the funding union, and the
  payout made on or before the campaign's ``statistics_as_of`` as the history proves it: the day
  it entered the branch, and ``aid.paid_on``; see jinqiu.trust.when), by the union that filed them;
- 06–08, 11–16: graduate records of the year; each service dated on or before ``statistics_as_of``
  counts once (人次);
- 01, 09, 10: the unions' own reports, summed over the union and every union below it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from ..trust import status as st
from ..trust import when


def campaign_days(dataset, year: int, statuses: dict) -> list[str]:
    """The day each application of the year entered the history (statuses by application id)."""
    return [getattr(statuses.get(r.data.get("id")), "filed_day", "") for r in dataset.applications if r.data.get("year") == year]

WAN = Decimal(10000)

# (item, letter, label, key) in the official order; letter "" is an unlettered line.
ROWS = [
    ("01", "A", "{year}年助学活动共筹集资金（万元）", "01A"),
    ("", "B", "其中各级党委政府资助（万元）", "01B"),
    ("", "C", "其中社会捐助（万元）", "01C"),
    ("", "D", "其中各级工会投入（万元）", "01D"),
    ("", "E", "其中其它方面筹集（万元）", "01E"),
    ("02", "A", "{year}年助学活动共发放助学款（万元）", "02A"),
    ("", "B", "其中小学和初中阶段（万元）", "02B"),
    ("", "C", "其中高中和中等职业教育阶段（万元）", "02C"),
    ("", "D", "其中大专以上（万元）", "02D"),
    ("03", "A", "{year}年助学活动中共资助困难职工和困难农民工子女（人）", "03A"),
    ("", "B", "其中小学和初中阶段（人）", "03B"),
    ("", "C", "其中高中和中等职业教育阶段（人）", "03C"),
    ("", "D", "其中大专以上（人）", "03D"),
    ("04", "A", "{year}年助学活动中共资助困难农民工子女（人）", "04A"),
    ("", "", "共发放助学款（万元）", "04A_amount"),
    ("", "B", "其中小学和初中阶段（人）", "04B"),
    ("", "", "发放助学款（万元）", "04B_amount"),
    ("", "C", "其中高中和中等职业教育阶段（人）", "04C"),
    ("", "", "发放助学款（万元）", "04C_amount"),
    ("", "D", "大专以上（人）", "04D"),
    ("", "", "发放助学款（万元）", "04D_amount"),
    ("05", "A", "{year}年助学活动中共资助困难单亲女职工子女（人）", "05A"),
    ("", "", "共发放助学款（万元）", "05A_amount"),
    ("06", "A", "共有困难职工家庭高校毕业生(人)", "06A"),
    ("", "B", "其中应届毕业生（人）", "06B"),
    ("", "", "其中往届毕业生（人）", "06C"),
    ("07", "A", "共为困难职工家庭高校毕业生提供实习见习机会（人次)", "07A"),
    ("08", "A", "向困难职工家庭高校毕业生提供就业技能培训(人次)", "08A"),
    ("", "B", "帮助通过职业技能鉴定获得相应职业资格证书(人次)", "08B"),
    ("09", "A", "共举办就业招聘会等就业服务系列活动(场)", "09A"),
    ("", "", "提供适合高校毕业生的就业岗位(个)", "09A_amount"),
    ("10", "A", "运用国有大中型企业、劳模企业、社会爱心企业及政府公益性岗位等资源，为困难职工家庭高校毕业生提供就业岗位(个)", "10A"),
    ("11", "A", "共为困难职工家庭高校毕业生提供创业指导(人次)", "11A"),
    ("", "B", "提供创业培训(人次)", "11B"),
    ("", "C", "提供小额担保贷款（人次）", "11C"),
    ("", "", "提供小额担保贷款（元）", "11C_amount"),
    ("12", "A", "共帮助落实对困难职工家庭高校毕业生的就业扶持政策（人次）", "12A"),
    ("13", "A", "共帮助困难职工家庭高校毕业生实现就业（人次）", "13A"),
    ("14", "A", "共资助困难职工家庭高校毕业生（人次）", "14A"),
    ("", "B", "发放求职补贴（万元）", "14B"),
    ("15", "A", "在本地就读的尚未签约就业的应届困难职工家庭高校毕业生（含本地和外地生源学生）（人）", "15A"),
    ("16", "A", "往届未就业的困难职工家庭高校毕业生（人）", "16A"),
]
KEYS = [row[3] for row in ROWS]
WAN_KEYS = {k for _, _, label, k in ROWS if "（万元）" in label}

# 学历 → the stage letter used by items 02–04.
STAGE = {"小学": "B", "初中": "B", "高中": "C", "中职": "C", "高职": "D", "大专": "D", "本科": "D", "研究生": "D"}
STAGE_LABELS = {"B": "小学和初中", "C": "高中和中等职业教育", "D": "大专以上"}

SERVICE_KEYS = {
    "internship": "07A",
    "skills_training": "08A",
    "certificate": "08B",
    "startup_guidance": "11A",
    "startup_training": "11B",
    "small_loan": "11C",
    "policy_support": "12A",
    "subsidy": "14A",
}

FUND_KEYS = {"total": "01A", "government": "01B", "donations": "01C", "unions": "01D", "other": "01E"}
# The rows that come from the unions' own reports (01, 09, 10): unknown, not 0, until a union reports.
REPORT_KEYS = frozenset([*FUND_KEYS.values(), "09A", "09A_amount", "10A"])


def _sum_rule(total, parts):
    def rule(values):
        expected = sum((values[p] for p in parts), Decimal(0))
        if values[total] != expected:
            yield total, f"{total} 应等于 {' + '.join(parts)}（{fmt(expected, total)}），实为 {fmt(values[total], total)}"

    rule.__doc__ = f"{total} equals the sum of {', '.join(parts)}."
    return rule


def _le_rule(small, big):
    def rule(values):
        if values[small] > values[big]:
            yield small, f"{small}（{fmt(values[small], small)}）不应大于 {big}（{fmt(values[big], big)}）"

    rule.__doc__ = f"{small} is at most {big}."
    return rule


# The consistency rules the notice implies; each yields (key, message) when broken.
RULES = [
    _sum_rule("01A", ["01B", "01C", "01D", "01E"]),
    _sum_rule("02A", ["02B", "02C", "02D"]),
    _sum_rule("03A", ["03B", "03C", "03D"]),
    _sum_rule("04A", ["04B", "04C", "04D"]),
    _sum_rule("04A_amount", ["04B_amount", "04C_amount", "04D_amount"]),
    _sum_rule("06A", ["06B", "06C"]),
    _le_rule("04A", "03A"),
    *(_le_rule(f"04{s}", f"03{s}") for s in "BCD"),
    _le_rule("05A", "03A"),
    _le_rule("13A", "06A"),
]


@dataclass
class StatisticsTable:
    """附件3 for one union (its own figures plus every union below it)."""

    year: int
    unit_id: str
    unit_name: str
    values: dict  # key -> Decimal (万元 and 元 figures) or int (counts)
    broken: list = field(default_factory=list)  # (key, message): consistency rules not met
    typed: dict = field(default_factory=dict)  # the union's own figures, if it typed any
    differences: list = field(default_factory=list)  # (key, computed, typed)
    typed_broken: list = field(default_factory=list)  # rules its typed figures break

    def rows(self):
        """(item, letter, label, key, value text, typed text or '') in the official order."""
        for item, letter, label, key in ROWS:
            typed = self.typed.get(key)
            yield item, letter, label.format(year=self.year), key, fmt(self.values[key], key), "" if typed is None else fmt(typed, key)


def fmt(value, key: str = "") -> str:
    """A figure as printed: counts as integers, money without trailing zeros (0.25, 1.3, 12)."""
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f") if value else "0"
        return text
    return str(value)


def empty() -> dict:
    return {k: (Decimal(0) if k in WAN_KEYS or k == "11C_amount" else 0) for k in KEYS}


def _add(into: dict, other: dict) -> None:
    for k, v in other.items():
        into[k] += v


def own_tallies(dataset, year: int, statuses: dict, as_of: str, typed_only: bool | None = None) -> dict:
    """unit id -> the figures from that union's own records (not those below it). A payment counts
    when it was made by the statistics date as the history proves it (the day it entered the branch,
    jinqiu.trust.when), never by its typed 发放日期 alone; typed_only (default: worked out from the
    statuses): the history cannot date this campaign's facts, the typed dates are all there is."""
    tallies: dict[str, dict] = {}
    if typed_only is None:
        typed_only = when.typed_only(campaign_days(dataset, year, statuses), dataset.campaigns.get(year, {}))

    def t(unit):
        if unit not in tallies:
            tallies[unit] = empty()
        return tallies[unit]

    for rec in dataset.applications:
        d = rec.data
        if d.get("year") != year:
            continue
        s = statuses.get(d["id"])
        paid_on = (d.get("aid") or {}).get("paid_on")
        if s is None or s.state != st.PAID or not paid_on:
            continue
        day = when.judged(s.paid_day, paid_on, typed_only)
        if not day or day > as_of:
            continue
        stage = STAGE.get(d["student"]["education"])
        if stage is None:
            continue
        amount = Decimal(d["aid"]["amount"]) / WAN
        v = t(d["unit"])
        v["02A"] += amount
        v["02" + stage] += amount
        v["03A"] += 1
        v["03" + stage] += 1
        flags = d.get("flags") or {}
        if flags.get("migrant_worker"):
            v["04A"] += 1
            v["04A_amount"] += amount
            v["04" + stage] += 1
            v["04" + stage + "_amount"] += amount
        if flags.get("single_mother"):
            v["05A"] += 1
            v["05A_amount"] += amount
    for rec in dataset.graduates:
        d = rec.data
        if d.get("year") != year:
            continue
        v = t(d["unit"])
        grad = d["graduate"]
        v["06A"] += 1
        current = grad["graduation_year"] >= year
        v["06B" if current else "06C"] += 1
        for service in d.get("services") or []:
            if service.get("date", "") > as_of:
                continue
            key = SERVICE_KEYS.get(service["kind"])
            if key:
                v[key] += 1
            if service["kind"] == "small_loan":
                v["11C_amount"] += Decimal(service.get("amount", 0))
            if service["kind"] == "subsidy":
                v["14B"] += Decimal(service.get("amount", 0)) / WAN
        outcome = d.get("outcome") or {}
        employed = bool(outcome.get("employed")) and outcome.get("employed_on", "") <= as_of
        if employed and outcome.get("helped_by_union"):
            v["13A"] += 1
        if not employed and current and grad.get("studies_locally"):
            v["15A"] += 1
        if not employed and not current:
            v["16A"] += 1
    for rec in dataset.reports:
        d = rec.data
        if d.get("year") != year:
            continue
        v = t(d["unit"])
        for name, key in FUND_KEYS.items():
            v[key] += Decimal(d["funds"][name])
        v["09A"] += d.get("job_fairs", 0)
        v["09A_amount"] += d.get("posts_offered", 0)
        v["10A"] += d.get("partner_posts", 0)
    return tallies


def children(units: dict) -> dict:
    """unit id -> the ids of the unions directly below it."""
    out: dict[str, list] = {uid: [] for uid in units}
    for uid, u in units.items():
        parent = u.get("parent")
        if parent in out:
            out[parent].append(uid)
    return out


def check(values: dict) -> list:
    """Every consistency rule the figures break, as (key, message)."""
    return [problem for rule in RULES for problem in rule(values)]


def _typed(dataset, year: int) -> dict:
    out = {}
    for rec in dataset.reports:
        if rec.data.get("year") == year and rec.data.get("typed_statistics"):
            out[rec.data["unit"]] = rec.data["typed_statistics"]
    return out


def _finish(table: StatisticsTable) -> StatisticsTable:
    table.broken = check(table.values)
    if table.typed:
        for key in KEYS:
            if key in table.typed and Decimal(table.typed[key]) != Decimal(table.values[key]):
                table.differences.append((key, table.values[key], table.typed[key]))
        full = dict(table.values)
        full.update({k: Decimal(v) for k, v in table.typed.items() if k in full})
        typed_only = {k for k in table.typed if k in full}
        table.typed_broken = [(k, m) for k, m in check(full) if k in typed_only]
    return table


def compute_all(dataset, year: int, statuses: dict) -> dict:
    """unit id -> StatisticsTable for every union (each with everything below it)."""
    units = dataset.units
    campaign = dataset.campaigns.get(year, {})
    as_of = campaign.get("statistics_as_of", f"{year}-12-31")
    own = own_tallies(dataset, year, statuses, as_of)
    kids = children(units)
    typed = _typed(dataset, year)
    totals: dict[str, dict] = {}

    def total(uid):  # iterative post-order, no recursion limit on deep trees
        stack = [(uid, False)]
        while stack:
            node, done = stack.pop()
            if node in totals:
                continue
            if done:
                v = empty()
                _add(v, own.get(node, {}))
                for c in kids.get(node, []):
                    _add(v, totals[c])
                totals[node] = v
            else:
                stack.append((node, True))
                stack.extend((c, False) for c in kids.get(node, []) if c not in totals)
        return totals[uid]

    tables = {}
    for uid, u in units.items():
        tables[uid] = _finish(StatisticsTable(year, uid, u.get("name", uid), total(uid), typed=typed.get(uid, {})))
    return tables


def compute(dataset, year: int, unit_id: str, statuses: dict) -> StatisticsTable:
    """附件3 for one union: its own figures plus those of every union below it.

    statuses maps an application id to its jinqiu.trust.status.Status."""
    return compute_all(dataset, year, statuses)[unit_id]
