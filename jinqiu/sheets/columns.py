"""The columns of the Excel sheets, taken from the schemas' Chinese titles, and header matching.

A sheet's header row holds the forms' own labels (the schemas' `title`s). Clerks' sheets differ
in small ways, so a header is normalised before it is compared: full-width characters become
half-width, spaces and required-markers (*) go, notes in brackets go (助学资金（元） → 助学资金),
and a few usual variants are accepted (身份证号 for 身份证号码, 考上大学子女姓名 for 学生姓名).
A two-row header whose upper row groups columns (职工情况 over 姓名, 身份证号…) is read as
职工姓名, 职工身份证号… — Excel leaves every cell of a merged group but the first empty, so the
group label is carried to the right until the next one.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ..records import layout

# The kinds of value a column holds; they decide how a cell is read (importer) and written.
TEXT, INTEGER, NUMBER, BOOLEAN, DATE, MONTH, ID_NUMBER, PHONE, SERVICES, INFO = (
    "text", "integer", "number", "boolean", "date", "month", "id_number", "phone", "services", "info",
)


@dataclass(frozen=True)
class Column:
    """One column of a sheet: where its value goes in a record, its header and how it is read."""

    pointer: str
    title: str
    type: str
    aliases: tuple = ()


# Application fields that belong to one form only (documents listed in the schema's allOf).
_FORM_ONLY = {
    "/continues": ("continuing",),
    "/documents/admission_notice": ("new",),
    "/documents/exam_scores": ("new",),
    "/documents/scholarship_letter": ("continuing",),
    "/documents/transcript": ("continuing",),
}

# Usual variants of headers, by pointer (normalised like headers are).
_ALIASES = {
    "application": {
        "/id": ("申请编号",),
        "/form": ("表格类别", "类别"),
        "/unit": ("基层工会", "工会编号", "填报单位"),
        "/filed_on": ("填报日期",),
        "/worker/name": ("职工", "困难职工姓名"),
        "/worker/birth_month": ("出生日期", "职工出生年月"),
        "/worker/employer": ("职工工作单位",),
        "/worker/id_number": ("职工身份证号码", "身份证"),
        "/worker/address": ("住址", "家庭地址"),
        "/worker/phone": ("电话", "手机", "手机号码", "联系方式", "职工联系电话"),
        "/worker/household_size": ("人口", "家庭人口数", "家庭人数"),
        "/worker/income_per_capita": ("月人均收入", "家庭人均月收入", "人均月收入"),
        "/worker/hardship_cause": ("致困原因",),
        "/student/name": ("考上大学子女姓名", "子女姓名", "学生"),
        "/student/school": ("考入学校名称", "学校", "学生学校名称"),
        "/student/major": ("学生专业", "所学专业"),
        "/student/education": ("学历", "学生学历"),
        "/student/admission_year": ("考取年份", "入学年度", "入学年份"),
        "/flags/in_archive": ("在档", "困难职工档案", "是否在档"),
        "/flags/migrant_worker": ("困难农民工", "农民工"),
        "/flags/single_mother": ("单亲女职工", "困难单亲女职工子女"),
        "/aid/amount": ("资助金额", "金额", "助学金"),
        "/note": ("备注",),
    },
    "graduate": {
        "/id": ("登记编号",),
        "/unit": ("基层工会", "工会编号"),
        "/graduate/name": ("姓名", "毕业生"),
        "/graduate/id_number": ("毕业生身份证号码", "身份证"),
        "/graduate/phone": ("电话", "手机", "毕业生联系电话"),
        "/graduate/school": ("学校", "学校名称"),
        "/graduate/major": ("所学专业",),
        "/graduate/graduation_year": ("毕业年份", "毕业时间"),
        "/family/hardship_cause": ("致困原因",),
        "/family/employer": ("职工工作单位",),
        "/note": ("备注",),
    },
}

# Columns that exports add for the reader and imports ignore: the verified status, and the payout
# (recorded only by `pay`, a signed act of the funding union).
STATUS = Column("", "审批状态", INFO)
PAID = Column("/aid/paid_on", "发放日期", INFO)

_SKIP = {"application": ("/approvals", "/carried_from", "/aid/paid_on", "/aid/paid_by", "/aid/paid_signature"), "graduate": ()}  # signed acts, not typed


def _type_of(kind: str, pointer: str, node: dict) -> str:
    if pointer.endswith("id_number"):
        return ID_NUMBER
    if pointer.endswith("/phone"):
        return PHONE
    if pointer == "/worker/birth_month":
        return MONTH
    if node.get("format") == "date":
        return DATE
    return {"integer": INTEGER, "number": NUMBER, "boolean": BOOLEAN}.get(node.get("type"), TEXT)


def _leaves(kind: str, node: dict, root: dict, pointer: str = ""):
    node = layout._resolve(node, root)
    for key, sub in node.get("properties", {}).items():
        ptr = f"{pointer}/{key}"
        if ptr in _SKIP[kind]:
            continue
        sub = layout._resolve(sub, root)
        if ptr == "/services":
            yield Column(ptr, sub["title"], SERVICES, ("服务",))
        elif sub.get("type") == "object":
            yield from _leaves(kind, sub, root, ptr)
        else:
            aliases = tuple(normalize(a) for a in _ALIASES[kind].get(ptr, ()))
            yield Column(ptr, sub.get("title", key), _type_of(kind, ptr, sub), aliases)


def columns(kind: str) -> list[Column]:
    """Every column a sheet of this kind (application or graduate) may have, in form order."""
    root = layout.schema(kind)
    return list(_leaves(kind, root, root))


def template_columns(form: str) -> list[Column]:
    """The columns of the blank sheet for one form (new, continuing, local or graduate)."""
    if form == "graduate":
        return [c for c in columns("graduate") if c.pointer not in ("/id", "/year", "/unit")]
    skip = {"/id", "/form", "/year", "/unit"}
    return [
        c for c in columns("application")
        if c.pointer not in skip and form in _FORM_ONLY.get(c.pointer, (form,))
    ]


def kind_of_form(form: str) -> str:
    return "graduate" if form == "graduate" else "application"


# ---------------------------------------------------------------------------
# header matching
# ---------------------------------------------------------------------------

_BRACKETS = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】|〔[^〔〕]*〕")
_DROP = re.compile(r"[\s*:：?？、.。·_\-]+")


def normalize(header) -> str:
    """A header as compared: half-width, no spaces, markers or bracketed notes, 号 → 号码."""
    if header is None:
        return ""
    text = unicodedata.normalize("NFKC", str(header))
    text = _BRACKETS.sub("", text)
    text = _DROP.sub("", text).lower()
    if text.endswith("身份证号"):
        text += "码"
    return text


class Matcher:
    """Finds the column a header means, for one kind of record."""

    def __init__(self, kind: str):
        self.kind = kind
        self.columns = columns(kind)
        self._by_name: dict[str, Column] = {}
        for c in self.columns:  # titles first, so a title always wins over another's alias
            self._by_name.setdefault(normalize(c.title), c)
        for c in self.columns:
            for a in c.aliases:
                self._by_name.setdefault(a, c)
        self._by_name.setdefault(normalize(STATUS.title), STATUS)
        if kind == "application":
            self._by_name.setdefault(normalize(PAID.title), PAID)

    def match(self, header: str, group: str = "") -> Column | None:
        """The column for a header (under a group label from the row above, if any)."""
        name = normalize(header)
        if not name:
            return None
        if group:
            g = normalize(group)
            for suffix in ("情况", "信息", "基本情况", "资料"):
                if g.endswith(suffix) and len(g) > len(suffix):
                    g = g[: -len(suffix)]
            if g and not name.startswith(g):
                hit = self._by_name.get(g + name)
                if hit is not None:
                    return hit
        return self._by_name.get(name)


@dataclass
class Header:
    """Where the header of a sheet is and which column each sheet column is."""

    row: int  # 0-based index of the last header row among the rows given
    columns: dict  # sheet column index -> Column
    unknown: list  # header texts that match nothing


def find_header(rows: list[list], matcher: Matcher, max_rows: int = 12) -> Header | None:
    """The header among the first rows: the row that names the most known columns (at least 3).

    A cell that is empty in that row takes the text above it (a header merged over two rows);
    a label in the row above that is followed by empty cells groups the columns under it."""
    best = None
    top = rows[:max_rows]
    for r, row in enumerate(top):
        above = top[r - 1] if r > 0 else []
        groups, current = [], ""
        for c in range(max(len(row), len(above))):
            text = above[c] if c < len(above) else None
            if text not in (None, ""):
                current = str(text)
            groups.append(current)
        found, unknown = {}, []
        for c in range(len(row)):
            text = row[c]
            group = groups[c] if c < len(groups) else ""
            if text in (None, "") and c < len(above) and above[c] not in (None, ""):
                text, group = above[c], ""
            if text in (None, ""):
                continue
            col = matcher.match(str(text), group)
            if col is None or any(col is other for other in found.values()):
                unknown.append(str(text).strip())
            else:
                found[c] = col
        real = [c for c in found.values() if c.type != INFO]
        if len(real) >= 3 and (best is None or len(real) > len([c for c in best.columns.values() if c.type != INFO])):
            best = Header(r, found, unknown)
    return best


# The names of the blank templates (their sheet, and the file `export --template` writes), by form:
# a sheet or a CSV file so named is that form's, with no --form needed.
TEMPLATE_NAMES = {
    "new": "附件1 当年考入大学学生", "continuing": "附件2 大学在读学生",
    "local": "自行资助学生", "graduate": "阳光就业 毕业生",
}
_NAME_HINTS = (("自行资助", "local"), ("附件2", "continuing"), ("大学在读", "continuing"), ("附件1", "new"),
               ("当年考入大学", "new"), ("毕业生", "graduate"))


def form_of_name(name: str) -> str | None:
    """The form a sheet's (or a CSV file's) name says it holds, e.g. 模板-自行资助学生 -> local."""
    text = unicodedata.normalize("NFKC", str(name or ""))
    return next((form for hint, form in _NAME_HINTS if hint in text), None)
