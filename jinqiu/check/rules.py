"""The rules about one record that JSON Schema cannot express.

Each rule is a small generator whose docstring states the rule in one sentence. It takes a
Record whose data passed the YAML loader (types may still be wrong where the schema check
complains; rules skip values that are not of the expected type) and yields
(pointer, code, message) or (pointer, code, message, severity).
Rules that need other files are in crossrules.py.
"""

from __future__ import annotations

import re
from decimal import Decimal

from . import identity, ids, rounds
from .unitref import UNIT_LEVEL
from .values import filled, iso_date, value_at
from ..records import layout, sealed
from ..problems import WARNING

COLLEGE = ("高职", "大专", "本科", "研究生")


def _check_id(kind, pointer, number):
    if filled(number) and not sealed.is_small_enc(number):  # a reviewer's sealed number: the keyed tier's to check
        why = ids.id_problem(number)
        if why:
            yield pointer, "id-number-invalid", f"“{layout.label(kind, pointer)}”{ids.mask_id(number)} 无效：{why}"


# ---- applications -------------------------------------------------------------------------


def id_numbers_valid(record):
    """Every ID number carries a correct GB 11643 check digit and a real birth date."""
    d = record.data
    yield from _check_id(record.kind, "/worker/id_number", value_at(d, "worker", "id_number"))
    yield from _check_id(record.kind, "/student/id_number", value_at(d, "student", "id_number"))


def worker_agrees_with_id(record):
    """The worker's 性别 and 出生年月 agree with the worker's ID number."""
    number = value_at(record.data, "worker", "id_number")
    if not filled(number) or ids.id_problem(number):
        return
    born = ids.id_birth_date(number)
    month = value_at(record.data, "worker", "birth_month")
    if filled(month) and month != f"{born.year:04d}-{born.month:02d}":
        yield "/worker/birth_month", "birth-month-mismatch", (
            f"“出生年月”{month} 与身份证号码 {ids.mask_id(number)} 不一致：身份证上为 {born.year:04d}-{born.month:02d}")
    gender = value_at(record.data, "worker", "gender")
    if gender in ("男", "女") and gender != ids.id_gender(number):
        yield "/worker/gender", "gender-mismatch", (
            f"“性别”{gender} 与身份证号码 {ids.mask_id(number)} 不一致：第 17 位表示{ids.id_gender(number)}")


def student_agrees_with_id(record):
    """The student's 出生日期, when given with the student's ID number, is the birth date the number carries."""
    number, born = value_at(record.data, "student", "id_number"), iso_date(value_at(record.data, "student", "birth_date"))
    if not filled(number) or ids.id_problem(number) or born is None:
        return
    carried = ids.id_birth_date(number).isoformat()
    if born != carried:
        yield "/student/birth_date", "birth-date-mismatch", (
            f"“学生出生日期”与学生身份证号码 {ids.mask_id(number)} 上的出生日期不一致，请核对")


def money_in_fen(record):
    """Money is a Decimal with at most two decimal places (元 and 分), never negative."""
    for pointer in ("/aid/amount", "/worker/income_per_capita"):
        value = value_at(record.data, *pointer.strip("/").split("/"))
        if isinstance(value, Decimal) and value.as_tuple().exponent < -2:
            yield pointer, "money-precision", f"“{layout.label(record.kind, pointer)}”{value} 最多保留两位小数（分）"


def form_matches_stage(record):
    """附件1 and 附件2 are for college students only (高职、大专、本科、研究生)."""
    form = record.data.get("form")
    education = value_at(record.data, "student", "education")
    if form in ("new", "continuing") and isinstance(education, str) and education not in COLLEGE:
        which = "附件1（当年考入大学学生）" if form == "new" else "附件2（大学在读学生）"
        yield "/student/education", "form-stage-mismatch", (
            f"“所学学历”为{education}，不能用{which}；中小学和高中阶段的资助请用 form: local")


def admission_year_fits_form(record):
    """A new student (附件1) was admitted in the campaign year; a continuing one (附件2) in an earlier year."""
    form, year = record.data.get("form"), record.data.get("year")
    admitted = value_at(record.data, "student", "admission_year")
    if not isinstance(year, int) or not isinstance(admitted, int):
        return
    if form == "new" and admitted != year:
        yield "/student/admission_year", "new-student-year", f"附件1 是当年考入大学的新生：“考取年度”应为 {year}，现为 {admitted}"
    if form == "continuing" and admitted >= year:
        yield "/student/admission_year", "continuing-student-year", f"附件2 是往年考入的在读学生：“考取年度”应早于 {year}，现为 {admitted}"
    if admitted > year:
        yield "/student/admission_year", "admission-in-future", f"“考取年度”{admitted} 晚于活动年度 {year}"


def documents_attached(record):
    """Every document the form asks for is marked as attached (a missing one is a warning)."""
    docs = record.data.get("documents")
    if not isinstance(docs, dict):
        return
    for key, value in docs.items():
        if value is False:
            yield f"/documents/{key}", "document-missing", f"“{layout.label(record.kind, '/documents/' + key)}”尚未附上", WARNING


def government_aid_stated(record):
    """已获政府资助 names its programme when ticked, and has no programme or amount when not."""
    aid = record.data.get("government_aid")
    if not isinstance(aid, dict):
        return
    if aid.get("received") is True and not filled(aid.get("source")):
        yield "/government_aid/source", "government-aid-source", "勾选了“已获政府资助”，须写明“政府资助项目”（例如 国家助学金）"
    if aid.get("received") is False and ("source" in aid or "amount" in aid):
        yield "/government_aid/received", "government-aid-unticked", "填写了政府资助项目或金额，但“已获政府资助”为否"


def single_mother_is_female(record):
    """困难单亲女职工 can only be ticked for a female worker."""
    if value_at(record.data, "flags", "single_mother") is True and value_at(record.data, "worker", "gender") == "男":
        yield "/flags/single_mother", "single-mother-gender", "勾选了“困难单亲女职工”，但“性别”为男"


def carried_view(data: dict, entries: list) -> list:
    """The entries as the rounds read them in a record migrated from a clear repository (jinqiu migrate):
    its old decisions sign the old content's digest (`carried_from`), the decisions appended after the
    migration sign the sealed content's; a decision after the last old one that continues their chain
    (any level but 1) continues their round, so the old digest reads as its digest. Only the order is
    read here: whether the old decisions count is verify's, through the signed carry-over map."""
    v1 = data.get("carried_from")
    if not isinstance(v1, str) or not entries:
        return entries
    last = max((i for i, e in enumerate(entries) if str(e.get("digest", "")) == v1), default=None)
    if last is None:
        return entries
    nxt = next((e for e in entries[last + 1:] if e.get("decision") != rounds.WITHDRAW and str(e.get("digest") or v1) != v1), None)
    if nxt is None or nxt.get("level") == 1:
        return entries
    out, renamed = [], {}
    for e in entries:
        if str(e.get("digest", "")) == v1:
            view = dict(e, digest=nxt.get("digest"))
            renamed[rounds.ref(e)] = rounds.ref(view)
            out.append(view)
        else:
            out.append(e)
    return [dict(e, withdraws=renamed[str(e["withdraws"])]) if str(e.get("withdraws", "")) in renamed else e for e in out]


def approvals_in_order(record):
    """Approvals run in rounds (jinqiu.check.rounds): each round from level 1 up in order on one content,
    none after a rejection unless it is withdrawn, withdrawals naming a decision in force; every
    entry dated from the filing date on and no earlier than the one before it."""
    approvals = record.data.get("approvals")
    if not isinstance(approvals, list):
        return
    listed = [(i, e) for i, e in enumerate(approvals) if isinstance(e, dict)]
    walked = rounds.walk(carried_view(record.data, [e for _, e in listed]))
    for (i, entry), step in zip(listed, walked.steps):
        if step.problem:
            code, message, severity = step.problem
            if code == "approval-after-reject":
                yield f"/approvals/{i}", code, message
            elif code.startswith("withdraw-"):
                yield f"/approvals/{i}/withdraws", code, message, severity
            else:
                yield f"/approvals/{i}/level", "approval-level-order", f"第 {i + 1} 条审批意见：{message}"
    filed = iso_date(record.data.get("filed_on")) or ""
    previous_date = filed
    for i, entry in listed:
        date = iso_date(entry.get("date"))
        if date and previous_date and date < previous_date:
            what = "填表日期" if previous_date == filed else "上一条审批的日期"
            yield f"/approvals/{i}/date", "approval-date-order", f"审批日期 {date} 早于{what} {previous_date}"
        if date:
            previous_date = max(previous_date, date)
    paid = iso_date(value_at(record.data, "aid", "paid_on"))
    if paid and previous_date and paid < previous_date:
        yield "/aid/paid_on", "paid-before-approval", f"“发放日期”{paid} 早于最后一次审批或填表日期 {previous_date}"


def path_matches_record(record):
    """A record's file name, year folder and union folder agree with its 编号, 年度 and 单位."""
    d, parts = record.data, record.parts
    if "id" in parts and filled(d.get("id")) and d["id"] != parts["id"]:
        yield "/id", "path-id-mismatch", f"“编号”{d['id']} 与文件名 {parts['id']}.yaml 不一致"
    if "year" in parts and isinstance(d.get("year"), int) and str(d["year"]) != parts["year"]:
        yield "/year", "path-year-mismatch", f"“年度”{d['year']} 与所在目录 {parts['year']} 不一致"
    if "unit" in parts and filled(d.get("unit")) and d["unit"] != parts["unit"]:
        yield "/unit", "path-unit-mismatch", f"“{layout.label(record.kind, '/unit')}”{d['unit']} 与所在目录 {parts['unit']} 不一致"
    if filled(d.get("id")) and isinstance(d.get("year"), int) and filled(d.get("unit")) and record.kind in ("application", "graduate"):
        if not d["id"].startswith(f"{d['year']}-{d['unit']}-"):
            yield "/id", "id-prefix", f"“编号”应以 {d['year']}-{d['unit']}- 开头（年度-单位-序号），现为 {d['id']}"


# ---- graduates ----------------------------------------------------------------------------


def graduate_ids_valid(record):
    """The graduate's and the worker's ID numbers are valid, and the graduate's 性别 agrees with it."""
    number = value_at(record.data, "graduate", "id_number")
    yield from _check_id(record.kind, "/graduate/id_number", number)
    yield from _check_id(record.kind, "/family/worker_id_number", value_at(record.data, "family", "worker_id_number"))
    gender = value_at(record.data, "graduate", "gender")
    if filled(number) and not ids.id_problem(number) and gender in ("男", "女") and gender != ids.id_gender(number):
        yield "/graduate/gender", "gender-mismatch", f"“性别”{gender} 与身份证号码 {ids.mask_id(number)} 不一致"


def graduate_years_fit(record):
    """A graduate finished no later than the campaign year, and each service falls in that year."""
    year = record.data.get("year")
    grad = value_at(record.data, "graduate", "graduation_year")
    if isinstance(year, int) and isinstance(grad, int) and grad > year:
        yield "/graduate/graduation_year", "graduation-in-future", f"“毕业年度”{grad} 晚于活动年度 {year}"
    for i, service in enumerate(record.data.get("services") or []):
        if isinstance(service, dict) and filled(service.get("date")) and isinstance(year, int):
            if not service["date"].startswith(f"{year}-"):
                yield f"/services/{i}/date", "service-year", f"服务日期 {service['date']} 不在 {year} 年内", WARNING


def service_amounts(record):
    """A small loan or a job-seeking subsidy states its amount; other services have none."""
    for i, service in enumerate(record.data.get("services") or []):
        if not isinstance(service, dict):
            continue
        needs = service.get("kind") in ("small_loan", "subsidy")
        if needs and "amount" not in service:
            yield f"/services/{i}", "service-amount-missing", "小额担保贷款和求职补贴须填写“金额”（元）"
        if not needs and "amount" in service:
            yield f"/services/{i}/amount", "service-amount-unexpected", "只有小额担保贷款和求职补贴有“金额”"


def employment_dated(record):
    """An employed graduate has a 就业日期; one not employed has none."""
    outcome = record.data.get("outcome")
    if not isinstance(outcome, dict):
        return
    if outcome.get("employed") is True and not filled(outcome.get("employed_on")):
        yield "/outcome", "employed-without-date", "“已就业”为 true 时须填写“就业日期”"
    if outcome.get("employed") is False and filled(outcome.get("employed_on")):
        yield "/outcome/employed_on", "date-without-employment", "填写了“就业日期”，但“已就业”为 false"


# ---- reports, campaigns, units, reviewers -------------------------------------------------


def funds_add_up(record):
    """A report's 共筹集资金 equals the sum of its four sources exactly."""
    funds = record.data.get("funds")
    if not isinstance(funds, dict):
        return
    parts = [funds.get(k) for k in ("government", "donations", "unions", "other")]
    total = funds.get("total")
    if isinstance(total, Decimal | int) and all(isinstance(p, Decimal | int) for p in parts):
        if Decimal(total) != sum(Decimal(p) for p in parts):
            yield "/funds/total", "funds-sum", (
                f"“共筹集资金（万元）”{total} 不等于各项之和 {sum(Decimal(p) for p in parts)}"
                f"（党委政府 {parts[0]} + 社会捐助 {parts[1]} + 工会投入 {parts[2]} + 其它 {parts[3]}）")


def campaign_dates_in_order(record):
    """A campaign's dates run start ≤ materials due ≤ report due ≤ statistics date, and the year fits its file."""
    d = record.data
    if "year" in record.parts and isinstance(d.get("year"), int) and str(d["year"]) != record.parts["year"]:
        yield "/year", "path-year-mismatch", f"“年度”{d['year']} 与文件名 {record.parts['year']}.yaml 不一致"
    order = ["starts_on", "materials_due", "report_due", "statistics_as_of"]
    present = [(k, d[k]) for k in order if filled(d.get(k))]
    for (k1, v1), (k2, v2) in zip(present, present[1:]):
        if v2 < v1:
            yield f"/{k2}", "campaign-date-order", f"“{layout.label('campaign', '/' + k2)}”{v2} 早于“{layout.label('campaign', '/' + k1)}”{v1}"
    notice = d.get("public_notice")
    if isinstance(notice, dict) and notice.get("enabled") is True:
        if not (filled(notice.get("from")) and filled(notice.get("to"))):
            yield "/public_notice", "notice-window", "开启公示时须填写“公示开始日期”和“公示结束日期”"
        elif notice["to"] < notice["from"]:
            yield "/public_notice/to", "notice-window", "“公示结束日期”早于“公示开始日期”"


def notice_text_safe(record):
    """The campaign's notice text uses only the safe Markdown subset (jinqiu.check.safemd): no HTML, no
    remote images, links only to relative paths or http/https addresses."""
    text = record.data.get("notice_text")
    if not filled(text):
        return
    from . import safemd

    for line, message in safemd.check(text):
        yield "/notice_text", "notice-text-unsafe", f"“通知正文”第 {line} 行：{message}"


def units_form_a_tree(record):
    """Unit ids are unique, every parent exists one level up, and only the city has no parent."""
    units = [u for u in record.data.get("units") or [] if isinstance(u, dict)]
    by_id, seen = {}, {}
    for i, u in enumerate(units):
        if u.get("id") in seen:
            yield f"/units/{i}/id", "unit-duplicate", f"工会编号 {u['id']} 重复（第 {seen[u['id']] + 1} 项已用）"
        seen.setdefault(u.get("id"), i)
        by_id.setdefault(u.get("id"), u)
    for i, u in enumerate(units):
        level = UNIT_LEVEL.get(u.get("kind"))
        parent = u.get("parent")
        if level == 3:
            if parent is not None:
                yield f"/units/{i}/parent", "unit-parent", "市总工会没有上级工会"
            continue
        if parent is None:
            yield f"/units/{i}", "unit-parent", f"{u.get('name', u.get('id'))} 须填写“上级工会”"
        elif parent not in by_id:
            yield f"/units/{i}/parent", "unit-parent", f"“上级工会”{parent} 不存在"
        elif level is not None and UNIT_LEVEL.get(by_id[parent].get("kind"), 0) <= level:
            yield f"/units/{i}/parent", "unit-parent", f"“上级工会”{parent} 的层级不高于 {u.get('id')}：企业、街道工会属区县或产业工会，区县和产业工会属市总工会"


def area_codes_on_the_city(record):
    """Only the city federation states the city's telephone area codes."""
    for i, u in enumerate(record.data.get("units") or []):
        if isinstance(u, dict) and u.get("area_codes") is not None and u.get("kind") != "city":
            yield f"/units/{i}/area_codes", "unit-area-codes", f"“电话区号”只在市总工会一项填写，{u.get('name', u.get('id'))} 不填"


def reviewers_well_formed(record):
    """Reviewer ids are unique, keys' dates are in order, and ID numbers are valid."""
    seen = {}
    for i, r in enumerate(record.data.get("reviewers") or []):
        if not isinstance(r, dict):
            continue
        if r.get("id") in seen:
            yield f"/reviewers/{i}/id", "reviewer-duplicate", f"审核人编号 {r['id']} 重复（第 {seen[r['id']] + 1} 项已用）"
        seen.setdefault(r.get("id"), i)
        yield from _check_id("reviewers", f"/reviewers/{i}/id_number", r.get("id_number"))
        for j, number in enumerate(r.get("family_id_numbers") or []):
            yield from _check_id("reviewers", f"/reviewers/{i}/family_id_numbers/{j}", number)
        for j, key in enumerate(r.get("keys") or []):
            if isinstance(key, dict) and filled(key.get("valid_until")) and filled(key.get("valid_from")):
                if key["valid_until"] < key["valid_from"]:
                    yield f"/reviewers/{i}/keys/{j}/valid_until", "key-dates", "“失效日期”早于“生效日期”"


# ---- names and ID numbers: one identity per person (jinqiu.check.identity) -------------------

_NAMES = {
    "application": ("/worker/name", "/student/name"),
    "graduate": ("/graduate/name", "/family/worker_name"),
    "report": ("/filled_by",),
}
_ID_NUMBERS = {
    "application": ("/worker/id_number", "/student/id_number"),
    "graduate": ("/graduate/id_number", "/family/worker_id_number"),
}
_ID_WITH_NEWLINE = re.compile(r"[0-9]{17}[0-9X]\n")  # what the schema's pattern (Python's $) lets through


def _people_fields(record):
    """(pointer, value, is a name) of every person's name and ID number in the record."""
    if record.kind == "reviewers":
        for i, r in enumerate(record.data.get("reviewers") or []):
            if isinstance(r, dict):
                yield f"/reviewers/{i}/name", r.get("name"), True
                if not sealed.is_small_enc(r.get("id_number")):
                    yield f"/reviewers/{i}/id_number", r.get("id_number"), False
                for j, number in enumerate(r.get("family_id_numbers") or []):
                    if not sealed.is_small_enc(number):
                        yield f"/reviewers/{i}/family_id_numbers/{j}", number, False
        return
    for pointer in _NAMES.get(record.kind, ()):
        yield pointer, value_at(record.data, *pointer.strip("/").split("/")), True
    for pointer in _ID_NUMBERS.get(record.kind, ()):
        yield pointer, value_at(record.data, *pointer.strip("/").split("/")), False


def names_plain(record):
    """A person's name holds no control, format, bidirectional or other invisible character and no
    space but single ordinary ones, and an ID number no trailing line break (so that no duplicate
    hides behind one; the comparison looks through them anyway)."""
    for pointer, value, is_name in _people_fields(record):
        if not filled(value):
            continue
        label = layout.label(record.kind, pointer)
        if is_name:
            why = identity.name_problem(value)
            if why:
                yield pointer, "name-invisible", f"“{label}”{why}"
        elif _ID_WITH_NEWLINE.fullmatch(value):
            yield pointer, "id-number-invisible", f"“{label}”{ids.mask_id(value.strip())} 末尾有换行：应为 18 位，17 位数字加一位数字或大写 X，前后不能有空白"


RECORD_RULES = {
    "application": [
        path_matches_record, names_plain, id_numbers_valid, worker_agrees_with_id, student_agrees_with_id, money_in_fen,
        form_matches_stage, admission_year_fits_form, documents_attached, single_mother_is_female,
        government_aid_stated, approvals_in_order,
    ],
    "graduate": [path_matches_record, names_plain, graduate_ids_valid, graduate_years_fit, service_amounts, employment_dated],
    "report": [path_matches_record, names_plain, funds_add_up],
    "campaign": [campaign_dates_in_order, notice_text_safe],
    "units": [units_form_a_tree, area_codes_on_the_city],
    "reviewers": [reviewers_well_formed, names_plain],
}
