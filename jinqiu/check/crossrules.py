"""The rules that need more than one file: references, policy, deadlines and duplicate aid.

Each rule is a small generator whose docstring states the rule in one sentence. It takes the
Dataset and yields (record, pointer, code, message) or (record, pointer, code, message, severity).
"""

from __future__ import annotations

from decimal import Decimal

from . import city, dupetags, identity, ids, unitref
from ..records import layout
from ..problems import WARNING
from .unitref import UNIT_LEVEL
from .values import filled, iso_date, value_at


_HIDDEN = "$sealed"  # jinqiu.records.sealed.HIDDEN: a keyless view of a sealed record
_OPENED = "$opened"  # jinqiu.records.sealed.OPENED: a sealed record opened by the keyed tier
_COMMIT = "$commit"  # jinqiu.records.sealed.COMMIT: the commitment of the values a view stands for


def _ancestors(units: dict, unit_id: str) -> list[str]:
    """unit_id and every union above it, nearest first."""
    chain, seen = [], set()
    while unit_id in units and unit_id not in seen:
        chain.append(unit_id)
        seen.add(unit_id)
        unit_id = units[unit_id].get("parent")
    return chain


PHONE_POINTERS = ("/worker/phone", "/graduate/phone", "/phone")


def phones_valid(data):
    """A 联系电话 is a mobile number (11 digits from 1) or a landline with its area code and a hyphen,
    shown in the city's own form (its area code, from units.yaml)."""
    conventions = None
    for record in data.applications + data.graduates + data.reports:
        for pointer in PHONE_POINTERS:
            phone = value_at(record.data, *pointer.strip("/").split("/"))
            if not filled(phone) or ids.phone_ok(phone):
                continue
            conventions = conventions or city.of_units(data.units)
            meant = city.lost_zero(str(phone), conventions.area_codes)
            hint = (f"像是固定电话丢了开头的 0，应为 {ids.mask_phone(meant)}" if meant else
                    f"应为 11 位手机号，或带区号和连字符的固定电话（例如 {conventions.phone_example()}）")
            yield record, pointer, "phone-invalid", f"“{layout.label(record.kind, pointer)}”{ids.mask_phone(str(phone))} 不是有效号码：{hint}"


def filing_units_exist(data):
    """An application or graduate record is filed by an existing grassroots (enterprise or street) union."""
    units = data.units
    for record in data.applications + data.graduates:
        unit = record.data.get("unit")
        if not filled(unit):
            continue
        if unit not in units:
            yield record, "/unit", "unit-unknown", f"“单位”{unit} 不在工会名单（units.yaml）中"
        elif UNIT_LEVEL.get(units[unit].get("kind")) != 1:
            yield record, "/unit", "unit-not-grassroots", f"“单位”{unit}（{units[unit].get('name')}）不是基层工会：申请由企业工会或街道工会填报"
    for record in data.reports:
        unit = record.data.get("unit")
        if filled(unit) and unit not in units:
            yield record, "/unit", "unit-unknown", f"“填报单位”{unit} 不在工会名单（units.yaml）中"


def funding_unit_in_chain(data):
    """The funding union is the filing union itself or one above it, and the city funds no local aid."""
    units = data.units
    for record in data.applications:
        unit, funder = record.data.get("unit"), value_at(record.data, "aid", "funding_unit")
        if not (filled(unit) and filled(funder)) or unit not in units:
            continue
        chain = _ancestors(units, unit)
        if funder not in chain:
            index = unitref.UnitIndex(units)
            names = index.listing(chain)
            try:
                meant = index.resolve(funder)
                hint = f"“{funder}”即 {index.label(meant)}，这里要写工会编号 {meant}。" if meant != funder else ""
            except unitref.UnknownUnit:
                near = index.nearest(funder, 3)
                hint = f"没有这个工会编号（相近的有 {index.listing(near)}）。" if funder not in units and near else ""
            yield record, "/aid/funding_unit", "funding-unit-not-ancestor", f"“资助单位”{funder} 应为填报单位或它的上级之一：{names}。{hint}".rstrip("。") + "。"
        elif record.data.get("form") == "local" and UNIT_LEVEL.get(units[funder].get("kind")) == 3:
            yield record, "/aid/funding_unit", "local-aid-by-city", "市总工会资助的是大学新生（附件1）和在读生（附件2）；form: local 只用于区市县和基层工会自行资助"
        elif record.data.get("form") in ("new", "continuing") and UNIT_LEVEL.get(units[funder].get("kind"), 3) < 3:
            yield (record, "/aid/funding_unit", "funded-below-city",
                   f"“资助单位”为 {units[funder].get('name', funder)}（{funder}）：审批到该工会即完成，不报市总工会审批，"
                   "也不算市总工会资助；如由市总工会资助，请把资助单位改为市总工会的编号", WARNING)


def reviewers_exist(data):
    """Every approval names a registered reviewer, and every reviewer belongs to an existing union of their level."""
    reviewers, units = data.reviewers, data.units
    for record in data.applications:
        for i, entry in enumerate(record.data.get("approvals") or []):
            who = entry.get("reviewer") if isinstance(entry, dict) else None
            if filled(who) and who not in reviewers:
                yield record, f"/approvals/{i}/reviewer", "reviewer-unknown", f"“审核人”{who} 不在审核人登记（reviewers.yaml）中"
    for record in data.of("reviewers"):
        for i, r in enumerate(record.data.get("reviewers") or []):
            if not isinstance(r, dict) or not filled(r.get("unit")):
                continue
            unit = units.get(r["unit"])
            if unit is None:
                yield record, f"/reviewers/{i}/unit", "reviewer-unit-unknown", f"审核人 {r.get('id')} 的“所在工会”{r['unit']} 不存在"
            elif isinstance(r.get("level"), int) and UNIT_LEVEL.get(unit.get("kind")) != r["level"]:
                yield record, f"/reviewers/{i}/level", "reviewer-level", (
                    f"审核人 {r.get('id')} 的“审批层级”{r['level']} 与所在工会 {unit.get('name')} 的层级 {UNIT_LEVEL.get(unit.get('kind'))} 不符")


def campaign_exists(data):
    """Every application, graduate record and report belongs to a year that has a campaign file."""
    years = data.campaigns
    for record in data.applications + data.graduates + data.reports:
        year = record.data.get("year")
        if isinstance(year, int) and year not in years:
            yield record, "/year", "campaign-missing", f"没有 {year} 年度的活动文件 campaigns/{year}.yaml"


def amount_within_policy(data):
    """The aid amount does not exceed the campaign's amount for its form and 学历 (and equals it when the city pays)."""
    units = data.units
    for record in data.applications:
        campaign = data.campaigns.get(record.data.get("year"))
        amount = value_at(record.data, "aid", "amount")
        form, education = record.data.get("form"), value_at(record.data, "student", "education")
        if not campaign or not isinstance(amount, (Decimal, int)) or form not in ("new", "continuing", "local"):
            continue
        table = value_at(campaign, "amounts", form) or {}
        limit = table.get(education)
        form_zh = {"new": "新生资助标准", "continuing": "在读生奖学金标准", "local": "各级工会自行资助上限"}[form]
        if limit is None:
            yield record, "/student/education", "policy-missing", f"{record.data['year']} 年度的{form_zh}中没有“{education}”的金额"
        elif amount > limit:
            yield record, "/aid/amount", "amount-over-policy", f"“助学资金”{amount} 元超过 {record.data['year']} 年度{education}的{form_zh} {limit} 元"
        elif form != "local" and UNIT_LEVEL.get(units.get(value_at(record.data, "aid", "funding_unit"), {}).get("kind")) == 3 and amount != limit:
            yield record, "/aid/amount", "amount-not-standard", f"市总工会资助的“助学资金”应为{form_zh} {limit} 元，现为 {amount} 元", WARNING


def filed_before_deadline(data):
    """Applications filed after the materials deadline, and reports filed after the report deadline, are flagged."""
    for record in data.applications:
        campaign = data.campaigns.get(record.data.get("year")) or {}
        due, filed = iso_date(campaign.get("materials_due")), iso_date(record.data.get("filed_on"))
        if due and filed and filed > due:
            yield record, "/filed_on", "filed-late", f"“填表日期”{filed} 晚于申报材料截止日期 {due}", WARNING
    for record in data.reports:
        campaign = data.campaigns.get(record.data.get("year")) or {}
        due, filed = iso_date(campaign.get("report_due")), iso_date(record.data.get("filed_on"))
        if due and filed and filed > due:
            yield record, "/filed_on", "report-late", f"“报送日期”{filed} 晚于总结和统计表截止日期 {due}", WARNING


def _city_funded(record, units) -> bool:
    funder = value_at(record.data, "aid", "funding_unit")
    return record.data.get("form") in ("new", "continuing") and UNIT_LEVEL.get(units.get(funder, {}).get("kind")) == 3


def city_aid_in_archive(data):
    """The city funds the children of workers in the hardship archive (在档困难职工) only (the notice, 二)."""
    for record in data.applications:
        if _city_funded(record, data.units) and value_at(record.data, "flags", "in_archive") is False:
            yield record, "/flags/in_archive", "city-aid-not-archived", (
                "市总工会资助的新生和在读生须是在档困难职工（困难劳模、困难农民工）的子女，但“困难职工档案内”为否；"
                "不在档的可由区市县或基层工会自行资助")


def income_within_threshold(data):
    """家庭月人均收入 is not above the campaign's 家庭月人均收入上限 when the campaign sets one."""
    for record in data.applications:
        limit = value_at(data.campaigns.get(record.data.get("year")) or {}, "eligibility", "income_limit")
        income = value_at(record.data, "worker", "income_per_capita")
        if isinstance(limit, (Decimal, int)) and isinstance(income, (Decimal, int)) and income > limit:
            yield record, "/worker/income_per_capita", "income-over-threshold", (
                f"“家庭月人均收入”{income} 元高于 {record.data['year']} 年度的资助条件 {limit} 元，不予资助；请核对收入（是否把年收入或家庭总收入填成了月人均收入）")


def no_double_relief(data):
    """A student who already has government aid this year is flagged (避免重复救助): a warning, or an error when the campaign says refuse."""
    for record in data.applications:
        aid = record.data.get("government_aid")
        if not isinstance(aid, dict) or aid.get("received") is not True:
            continue
        policy = value_at(data.campaigns.get(record.data.get("year")) or {}, "eligibility", "government_aid")
        what = f"{aid.get('source') or '政府资助'}" + (f" {aid['amount']} 元" if isinstance(aid.get("amount"), (Decimal, int)) else "")
        if policy == "refuse":
            yield record, "/government_aid/received", "government-aid-duplicate", (
                f"学生本年度已获{what}；{record.data.get('year')} 年度的资助条件规定已获政府资助的不再资助（避免重复救助）")
        else:
            yield (record, "/government_aid/received", "government-aid-duplicate",
                   f"学生本年度已获{what}：工会资助国家助学体系暂未覆盖的学生，请审核人核实是否重复救助", WARNING)


_DOCUMENTS = {"new": ("admission_notice", "exam_scores", "system_printout"),
              "continuing": ("scholarship_letter", "transcript", "system_printout")}


def documents_complete_for_city(data):
    """An application the district or industry union passes on to the city carries every document the notice lists for its form."""
    for record in data.applications:
        if not _city_funded(record, data.units):
            continue
        entries = [e for e in record.data.get("approvals") or [] if isinstance(e, dict)]
        passed = any(e.get("level") == 2 and e.get("decision") == "approve" for e in entries)
        if any(e.get("decision") == "reject" for e in entries):
            continue  # refused (for want of materials, say): nothing goes on to the city
        docs = record.data.get("documents") if isinstance(record.data.get("documents"), dict) else {}
        missing = [k for k in _DOCUMENTS[record.data["form"]] if docs.get(k) is not True]
        if passed and missing:
            from ..records import layout

            names = "、".join(layout.label("application", f"/documents/{k}") for k in missing)
            yield record, "/documents", "documents-incomplete-for-city", (
                f"区市县、产业工会审核通过后报市总工会的材料须齐全，还缺：{names}（通知 五、1）")


def child_keys(data) -> list[tuple]:
    """The keys that identify the aided child, in canonical form (identity.canonical): the student's
    ID number, and the worker's ID number with the student's name."""
    return dupetags.clear_keys(data)


def _child_keys(record) -> list[tuple]:
    return child_keys(record.data)


def _tags(data) -> dupetags.Tags:
    return getattr(data, "tags", None) or dupetags.Tags()


def _year_keys(data):
    """record -> its keys for the duplicates of one year: the clear keys, or for a keyless view of a
    sealed record the build's signed tags made for its current values (none: the keyed tier's to say)."""
    tags = _tags(data)

    def keys(record) -> list[tuple]:
        if not record.data.get(_HIDDEN):
            return _child_keys(record)
        entry = tags.of(record.data, _COMMIT)
        return [("tag", kind, t) for kind in ("student", "family") for t in (entry or {}).get(kind, [])]

    return keys


def _child_label(record) -> str:
    name = value_at(record.data, "student", "name")
    return ids.mask_name(name) if filled(name) else "该学生"


def no_duplicate_aid(data):
    """The same child (by canonical ID number, or worker's ID number and name) is aided at most once a year, by one union or by two; the error names both files."""
    first = {}
    keys_of = _year_keys(data)
    for record in sorted(data.applications, key=lambda r: r.rel):
        year = record.data.get("year")
        for key in keys_of(record):
            other = first.setdefault((year, key), record)
            if other is not record:
                how = "，按构建机的查重标记" if key[0] == "tag" else ""
                for one, two in ((record, other), (other, record)):
                    yield one, "/student", "duplicate-aid", (
                        f"重复资助：{_child_label(one)} 在 {year} 年度另有申请 {two.path}（同一学生一年只资助一次，避免重复救助{how}）")
                break


def new_student_aid_once(data):
    """新生资助 (附件1) is given once: a child who had it in an earlier year cannot have it again."""
    earlier = {}
    for record in sorted(data.applications, key=lambda r: (r.data.get("year") or 0, r.rel)):
        if record.data.get("form") != "new":
            continue
        year = record.data.get("year")
        for key in _child_keys(record):
            other = earlier.get(key)
            if other is not None and other.data.get("year") != year:
                yield record, "/form", "new-aid-repeated", (
                    f"{_child_label(record)} 已在 {other.data.get('year')} 年度作为新生受助（{other.path}），往后应以在读生（附件2，form: continuing）申请")
                break
        for key in _child_keys(record):
            earlier.setdefault(key, record)


def continuing_is_linked(data):
    """A continuing student (附件2) links to an earlier year's record of the same child (that the earlier
    record was approved is checked by verify, from verified approvals only)."""
    by_id = {r.data.get("id"): r for r in data.applications if filled(r.data.get("id"))}
    for record in data.applications:
        if record.data.get("form") != "continuing":
            continue
        year, link = record.data.get("year"), record.data.get("continues")
        if filled(link):
            previous = by_id.get(link)
            if previous is None:
                yield record, "/continues", "continues-unknown", f"“上年资助记录”{link} 不存在"
            else:
                if not isinstance(year, int) or not isinstance(previous.data.get("year"), int) or previous.data["year"] >= year:
                    yield record, "/continues", "continues-not-earlier", f"“上年资助记录”{link} 不是更早年度的记录"
                if (not (record.data.get(_HIDDEN) or previous.data.get(_HIDDEN))  # sealed: the keyed tier's to say
                        and not set(_child_keys(record)) & set(_child_keys(previous))):
                    yield record, "/continues", "continues-other-child", f"“上年资助记录”{link} 资助的不是同一名学生（职工身份证号码和学生姓名不符）"
                # whether the earlier record was approved is verify's to say (continues-not-approved):
                # only a verified approval counts, never what the file claims


def continuing_within_course(data):
    """A continuing student is still within the course, and admitted in a year the campaign's scholarship covers."""
    for record in data.applications:
        if record.data.get("form") != "continuing":
            continue
        year = record.data.get("year")
        campaign = data.campaigns.get(year) or {}
        education = value_at(record.data, "student", "education")
        admitted = value_at(record.data, "student", "admission_year")
        course = (campaign.get("course_years") or {}).get(education)
        if isinstance(course, int) and isinstance(admitted, int) and isinstance(year, int) and year - admitted >= course:
            yield record, "/student/admission_year", "course-finished", (
                f"{admitted} 年考入的{education}学生（学制 {course} 年）在 {year} 年已经完成学业，不再继续资助")
        allowed = campaign.get("continuing_years")
        if isinstance(allowed, list) and allowed and isinstance(admitted, int) and admitted not in allowed:
            yield (record, "/student/admission_year", "continuing-year-not-covered",
                   f"{year} 年度的奖学金只继续资助 {'、'.join(map(str, allowed))} 年考入的学生", WARNING)


def no_duplicate_graduate(data):
    """A graduate has one record a year (ID numbers compared in canonical form)."""
    first = {}
    tags = _tags(data)
    for record in sorted(data.graduates, key=lambda r: r.rel):
        number = value_at(record.data, "graduate", "id_number")
        if record.data.get(_HIDDEN):
            for t in (tags.of(record.data, _COMMIT) or {}).get("graduate", []):
                other = first.setdefault((record.data.get("year"), ("tag", t)), record)
                if other is not record:
                    yield record, "/graduate", "duplicate-graduate", f"毕业生在本年度已有登记 {other.path}（按构建机的查重标记）"
        elif filled(number) and identity.canonical(number):
            other = first.setdefault((record.data.get("year"), identity.canonical(number)), record)
            if other is not record:
                yield record, "/graduate/id_number", "duplicate-graduate", f"毕业生 {ids.mask_id(number)} 在本年度已有登记 {other.path}"


# Rules that look at one application or graduate record at a time, with the small files (units,
# reviewers, campaigns) beside it: validate runs them in the workers that read each file.
def sealed_approval_not_self(data):
    """No reviewer approved a sealed application of their own or their family's (the keyed tier: verify reads
    the sealed form and cannot compare the ID numbers)."""
    for record in data.applications:
        if not record.data.get(_OPENED):
            continue
        people = [(who, identity.canonical(str(n))) for who, n in (
            ("职工", value_at(record.data, "worker", "id_number")), ("学生", value_at(record.data, "student", "id_number"))) if filled(n)]
        for i, entry in enumerate(record.data.get("approvals") or []):
            rv = data.reviewers.get(str(entry.get("reviewer"))) if isinstance(entry, dict) else None
            if not rv:
                continue
            own = {identity.canonical(str(n)) for n in [rv.get("id_number"), *(rv.get("family_id_numbers") or [])] if n}
            for who, number in people:
                if number and number in own:
                    yield record, f"/approvals/{i}", "approval-self", (
                        f"审核人 {entry.get('reviewer')} 审批的是本人或家属的申请（与{who}的身份证号码相同），须回避")
                    break


def tagged_approval_not_self(data):
    """No reviewer approved a sealed application of their own or their family's, found without a key:
    the record's person tags against the reviewer's, both made by the city build for the current values."""
    tags = _tags(data)
    if not tags.years:
        return
    for record in data.applications:
        if not record.data.get(_HIDDEN):
            continue
        entry = tags.of(record.data, _COMMIT)
        people = set((entry or {}).get("person") or [])
        if not people:
            continue
        for i, approval in enumerate(record.data.get("approvals") or []):
            rid = str(approval.get("reviewer")) if isinstance(approval, dict) else ""
            rv = data.reviewers.get(rid)
            if rv and people & tags.reviewer(record.data.get("year"), rid, rv):
                yield record, f"/approvals/{i}", "approval-self", (
                    f"审核人 {rid} 审批的是本人或家属的申请（构建机的查重标记显示身份证号码相同），须回避")


def tags_agree(data):
    """The keyed tier: every tag the build signed is the one the opened values give under the year's
    tag key (a wrong tag is an error, whoever signed it); a sealed record without current tags is said."""
    keys = getattr(data, "tag_keys", None) or {}
    if not keys:
        return
    tags = _tags(data)
    for record in [*data.applications, *data.graduates]:
        year = record.data.get("year")
        if not record.data.get(_OPENED) or year not in keys:
            continue
        want = dupetags.record_tags(keys[year], record.data)
        entry = tags.of(record.data, _COMMIT)
        if entry is None and year in tags.years:
            yield (record, "", "tags-missing", f"{year} 年度的查重标记中没有这份记录当前内容的标记；"
                   "构建机运行 python3 build.py tags 后提交", WARNING)
        elif entry is not None and {k: sorted(entry.get(k) or []) for k in dupetags.KINDS} != {k: sorted(want.get(k) or []) for k in dupetags.KINDS}:
            yield record, "", "tags-wrong", (f"data/tags/{year}.yaml 中这份记录的查重标记与解密出的身份证号码不符："
                                              "标记文件被改动或伪造；构建机重新运行 python3 build.py tags")
    for year, key in keys.items():
        found = tags.years.get(year)
        holder = next((r for r in data.of("tags") if isinstance(r.data, dict) and r.data.get("year") == year), None)
        for rid, rv in data.reviewers.items() if found and holder else ():
            want = dupetags.reviewer_tags(key, rv)
            got = found.get("reviewers", {}).get(rid)
            if got is not None and got.get("ids") == want["ids"] and sorted(got.get("person") or []) != want["person"]:
                yield holder, f"/reviewers/{rid}", "tags-wrong", (f"审核人 {rid} 的查重标记与审核人登记中的身份证号码不符："
                                                                 "标记文件被改动或伪造；构建机重新运行 python3 build.py tags")


LOCAL_RULES = [
    sealed_approval_not_self,
    phones_valid,
    filing_units_exist,
    funding_unit_in_chain,
    reviewers_exist,
    campaign_exists,
    amount_within_policy,
    filed_before_deadline,
    city_aid_in_archive,
    income_within_threshold,
    no_double_relief,
    documents_complete_for_city,
    continuing_within_course,
]
# Rules between records: run once over every record.
COLLISION_RULES = [
    no_duplicate_aid,
    tagged_approval_not_self,
    tags_agree,
    new_student_aid_once,
    continuing_is_linked,
    no_duplicate_graduate,
]
DATASET_RULES = LOCAL_RULES + COLLISION_RULES
# What COLLISION_RULES read of an application or graduate record (jinqiu.records.dataset.restrict's
# spec): the build keeps this much of every record, not the whole record, to run them over all.
# A rule that reads more of a record names it here (the build's equivalence test fails otherwise).
JOIN_FIELDS = {"id": True, "year": True, "form": True, "continues": True,
               "student": {"id_number": True, "name": True}, "worker": {"id_number": True},
               "graduate": {"id_number": True}}
