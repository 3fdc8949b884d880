"""Import a sheet of applications or graduates: one YAML file per good row, a message per bad one.

Stages: read the file into tables (jinqiu.sheets.tables) → find each sheet's header (jinqiu.sheets.columns) →
read every cell (jinqiu.sheets.cells) → build the record, merged into the record it matches if there is
one → check it (schema and record rules) → only then write. A row with any error writes nothing.

A row matches an existing record by its 编号 when the sheet has one, else by what identifies an
application within a union and a year: the worker's ID number and the student's name (for a
graduate: the graduate's ID number). A matched record that would not change is left alone, so
importing the same sheet twice changes nothing. A matched record that already carries decisions
is corrected like any other, and the row's message says so: the decisions were made on the old
content, so their round is stale and the application goes through a new round of approvals (the
old entries stay in the file as history). Only a record whose payout was recorded is refused: the
payout is a signed act on that content.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from ..check import cache, city, identity, ids, rules, schemacheck, unitref
from . import fmt
from ..records import dataset, layout
from ..sheets import cells, columns, tables
from ..problems import ERROR, WARNING
from ..check.unitref import descendants

INSTRUCTIONS = "填写说明"  # the instructions sheet of the blank templates, skipped quietly
FORMS = ("new", "continuing", "local", "graduate")
_FORM_NAMES = {"new": "new", "continuing": "continuing", "local": "local", "graduate": "graduate",
               "附件1": "new", "新生": "new", "当年考入大学": "new", "附件2": "continuing", "在读": "continuing",
               "在读生": "continuing", "大学在读": "continuing", "自行资助": "local", "毕业生": "graduate"}


@dataclass(frozen=True)
class Note:
    """Something about one row (or one sheet) of the imported file."""

    where: str  # FILE:sheet!row or FILE:sheet
    severity: str
    message: str

    def text(self) -> str:
        return f"{self.where}: {self.severity}: {self.message}"


@dataclass
class Outcome:
    notes: list = field(default_factory=list)
    created: list = field(default_factory=list)  # relative paths
    updated: list = field(default_factory=list)
    unchanged: int = 0
    refused: int = 0


@dataclass
class Options:
    unit: str
    form: str | None = None
    year: int | None = None
    units: dict | None = None  # id -> unit dict, when the data has units.yaml
    dry_run: bool = False




# ---------------------------------------------------------------------------
# existing records
# ---------------------------------------------------------------------------


class Existing:
    """The records already in the data directory, read one union-year directory at a time."""

    def __init__(self, root: Path, display_root: str):
        self.root = root
        self.display_root = display_root
        self._dirs: dict = {}
        self._index: dict = {}  # (kind, year, unit) -> {id or key: record}
        self._next: dict = {}

    def folder(self, kind: str, year: int, unit: str) -> list:
        key = (kind, year, unit)
        if key not in self._dirs:
            top = "applications" if kind == "application" else "graduates"
            found = []
            d = self.root / top / str(year) / unit
            if d.is_dir():
                rels = [f"{top}/{year}/{unit}/{p.name}" for p in sorted(d.glob("*.yaml"))]
                for record, _ in cache.check_all(self.root, self.display_root, rels, _read_record):
                    if record.data is not None:
                        found.append(record)
            self._dirs[key] = found
            index = self._index[key] = {}
            for r in found:
                self._remember(index, kind, r)
        return self._dirs[key]

    @staticmethod
    def _remember(index: dict, kind: str, record) -> None:
        index.setdefault(("id", record.data.get("id")), record)
        index.setdefault(("key",) + match_key(kind, record.data), record)

    def add(self, kind: str, year: int, unit: str, record) -> None:
        self.folder(kind, year, unit).append(record)
        self._remember(self._index[(kind, year, unit)], kind, record)

    def find(self, kind: str, year: int, unit: str, record_id: str | None, key: tuple):
        self.folder(kind, year, unit)
        index = self._index[(kind, year, unit)]
        if record_id:
            return index.get(("id", record_id))
        return index.get(("key",) + key)

    def new_id(self, kind: str, year: int, unit: str) -> str:
        k = (kind, year, unit)
        if k not in self._next:
            g = "g" if kind == "graduate" else ""
            pattern = re.compile(rf"^{year}-{re.escape(unit)}-{g}(\d+)$")
            used = [int(m.group(1)) for r in self.folder(kind, year, unit)
                    for m in [pattern.match(str(r.data.get("id", "")))] if m]
            top = "applications" if kind == "application" else "graduates"
            d = self.root / top / str(year) / unit
            if d.is_dir():
                used += [int(m.group(1)) for p in d.glob("*.yaml") for m in [pattern.match(p.stem)] if m]
            self._next[k] = max(used, default=0) + 1
        n = self._next[k]
        self._next[k] = n + 1
        return f"{year}-{unit}-{'g' if kind == 'graduate' else ''}{n:03d}"


def _read_record(root: Path, display_root: str, rel: str):
    """(record, problems) of one file, as read (cache.check_all reads a large folder on every core)."""
    return dataset.read_one(root, display_root, rel)[:2]


def _copy(tree):
    """A copy of a record's tree: its mappings and lists copied, its leaves (text, numbers, dates) shared."""
    if isinstance(tree, dict):
        return {k: _copy(v) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_copy(v) for v in tree]
    if tree is None or isinstance(tree, (str, int, float, Decimal, date)):
        return tree
    return copy.deepcopy(tree)


def match_key(kind: str, data: dict) -> tuple:
    """What identifies a record within one union and year, besides its id."""
    if kind == "graduate":
        return (_canonical((data.get("graduate") or {}).get("id_number")),)
    return (_canonical((data.get("worker") or {}).get("id_number")), _canonical((data.get("student") or {}).get("name")))


def _canonical(value):
    """A name or ID number in the one form validate compares (jinqiu.check.identity)."""
    return identity.canonical(value) if isinstance(value, str) else value


def describe_key(kind: str, key: tuple) -> str:
    if kind == "graduate":
        return f"毕业生身份证号码 {ids.mask_id(key[0] or '')}"
    return f"职工身份证号码 {ids.mask_id(key[0] or '')}、学生 {ids.mask_name(key[1] or '')}"


# ---------------------------------------------------------------------------
# building a record from a row
# ---------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _parts(pointer: str) -> tuple:
    return tuple(pointer.strip("/").split("/"))


def _set(tree: dict, pointer: str, value) -> None:
    *parents, last = _parts(pointer)
    for p in parents:
        tree = tree.setdefault(p, {})
    tree[last] = value


def _delete(tree: dict, pointer: str) -> None:
    *parents, last = _parts(pointer)
    for p in parents:
        tree = tree.get(p)
        if not isinstance(tree, dict):
            return
    tree.pop(last, None)


def _get(tree: dict, pointer: str):
    for p in _parts(pointer):
        if not isinstance(tree, dict) or p not in tree:
            return cells.MISSING
        tree = tree[p]
    return tree


def _leaves(tree, pointer: str = "", out: dict | None = None) -> dict:
    """{pointer: value} of every leaf of a record but its approvals."""
    out = {} if out is None else out
    if isinstance(tree, dict):
        for k, v in tree.items():
            if pointer or k != "approvals":
                _leaves(v, f"{pointer}/{k}", out)
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            _leaves(v, f"{pointer}/{i}", out)
    else:
        out[pointer] = tree
    return out


def stale_message(shown: str, old: dict, new: dict) -> str:
    """What a correction to an application that already has decisions does: the fields it changed
    (by their labels; no values, they may be personal), and that the decisions now need a new round."""
    before, after = _leaves(old), _leaves(new)
    changed = []
    for pointer in sorted(set(before) | set(after)):
        if before.get(pointer, cells.MISSING) != after.get(pointer, cells.MISSING):
            try:
                label = layout.label("application", pointer)
            except Exception:  # a field the schema does not know
                label = pointer
            if label not in changed:
                changed.append(label)
    return (f"已更正 {shown}（改动了 {'、'.join(changed)}）：这份申请已有审批，审批针对的是改动前的内容，"
            "现在失效，需要从第 1 级开始重新审批（新一轮；原来的审批留在文件里作为记录）")


def _required_booleans(kind: str, form: str) -> list[str]:
    """Boolean fields a form must have; an empty checkbox means 否, as on the paper form."""
    if kind == "graduate":
        return ["/graduate/studies_locally", "/family/in_archive", "/outcome/employed"]
    out = ["/flags/in_archive", "/flags/migrant_worker", "/documents/system_printout", "/government_aid/received"]
    if form == "new":
        out += ["/documents/admission_notice", "/documents/exam_scores"]
    elif form == "continuing":
        out += ["/documents/scholarship_letter", "/documents/transcript"]
    return out


SERVICE_NAMES = {
    "internship": "实习见习", "skills_training": "就业技能培训", "certificate": "职业资格证书",
    "job_fair": "招聘会", "job_post": "推荐岗位", "startup_guidance": "创业指导",
    "startup_training": "创业培训", "small_loan": "小额担保贷款", "policy_support": "就业扶持政策",
    "subsidy": "求职补贴",
}
_SERVICE_KEYS = {v: k for k, v in SERVICE_NAMES.items()} | {k: k for k in SERVICE_NAMES}


def services_text(services: list) -> str:
    """Services as one cell: one per line, 类别 日期[ 金额元][ 提供方：…][ 说明：…]."""
    lines = []
    for s in services or []:
        parts = [SERVICE_NAMES.get(s.get("kind"), str(s.get("kind"))), str(s.get("date", ""))]
        if "amount" in s:
            parts.append(f"{format(s['amount'], 'f')}元")
        if s.get("provider"):
            parts.append(f"提供方：{s['provider']}")
        if s.get("note"):
            parts.append(f"说明：{s['note']}")
        lines.append(" ".join(parts))
    return "\n".join(lines)


def read_services(value, epoch) -> tuple:
    """The services cell back into a list (the format services_text writes)."""
    out, notes = [], []
    for n, line in enumerate(str(value).replace("；", "\n").splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        m = re.match(r"^(\S+)\s+(\S+)(?:\s+([0-9.]+)元)?(?:\s+提供方：(.*?))?(?:\s+说明：(.*))?$", line)
        if not m or m.group(1) not in _SERVICE_KEYS:
            notes.append((cells.ERROR, f"就业服务第 {n} 项“{line}”看不懂；应写作 类别 日期[ 金额元][ 提供方：…]，类别为 {'、'.join(SERVICE_NAMES.values())}"))
            continue
        date, dn = cells.read_date(m.group(2), epoch=epoch)
        if dn:
            notes.extend(dn)
            continue
        item = {"kind": _SERVICE_KEYS[m.group(1)], "date": date}
        if m.group(3):
            item["amount"], _ = cells.read_number(m.group(3), integer=False)
        if m.group(4):
            item["provider"] = m.group(4).strip()
        if m.group(5):
            item["note"] = m.group(5).strip()
        out.append(item)
    return out, notes


_QUOTES = {'"': '"', "'": "'"}
_CJK_QUOTES = {"“": "”", "‘": "’", "「": "」", "『": "』", "＂": "＂", "＇": "＇"}


def unquote(value, column_type: str):
    """A cell as the clerk meant it: quotes around the whole value (old advice written for YAML
    files, or habit) and a leading apostrophe (Excel's mark for text, kept by CSV) are not part
    of the value. Chinese quotation marks are taken off only where a value is never prose (ID
    numbers, phones, dates, numbers, 是/否); a name or a school may be written with them."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("'") and not text.endswith("'"):
        return text[1:]
    pairs = _QUOTES if column_type in (columns.TEXT, columns.SERVICES) else _QUOTES | _CJK_QUOTES
    if len(text) >= 2 and pairs.get(text[0]) == text[-1]:
        return text[1:-1].strip()
    return value


class SheetImport:
    """Import the rows of one table."""

    def __init__(self, file_label: str, table: tables.Table, opts: Options, existing: Existing, outcome: Outcome):
        self.file_label = file_label
        self.table = table
        self.opts = opts
        self.existing = existing
        self.outcome = outcome
        self.writes: list = []  # (rel, text, created)
        self.area_codes = city.of_units(opts.units).area_codes if opts.units else ()

    def where(self, row: int | None = None) -> str:
        return f"{self.file_label}:{self.table.name}" + (f"!{row}" if row else "")

    def note(self, row, severity, message):
        self.outcome.notes.append(Note(self.where(row), severity, message))

    def kind(self, header) -> str | None:
        """Graduate sheet or application sheet, from --form or the headers."""
        if self.opts.form:
            return columns.kind_of_form(self.opts.form)
        return None

    def run(self) -> None:
        rows = self.table.rows
        if not any(any(not cells.is_empty(v) for v in r) for r in rows):
            self.note(None, WARNING, "工作表是空的，没有可导入的行")
            return
        kind = self.kind(None)
        if kind is None:
            ha = columns.find_header(rows, columns.Matcher("application"))
            hg = columns.find_header(rows, columns.Matcher("graduate"))
            score = lambda h: len(h.columns) if h else 0  # noqa: E731
            is_grad = hg is not None and any(c.pointer == "/graduate/name" for c in hg.columns.values())
            kind = "graduate" if is_grad and score(hg) >= score(ha) else "application"
        header = columns.find_header(rows, columns.Matcher(kind))
        if header is None:
            self.no_header = True  # an error only if no sheet of the file has a header (run)
            return
        self.kind_ = kind
        self.header = header
        for text in header.unknown:
            self.note(header.row + 1, WARNING, f"不认识的栏目“{text}”，已忽略")
        pointers = {c.pointer for c in header.columns.values()}
        form_fixed = self.opts.form
        if kind == "application" and not form_fixed and "/form" not in pointers:
            named = columns.form_of_name(self.table.name)
            if "/continues" in pointers or "/documents/scholarship_letter" in pointers:
                form_fixed = "continuing"
            elif "/documents/admission_notice" in pointers:
                form_fixed = "new"
            elif named in ("new", "continuing", "local"):
                form_fixed = named  # the blank template's own name (its sheet, or the CSV file saved from it)
            else:
                self.note(header.row + 1, ERROR, f"无法判断是哪种表格：请用 --form {'|'.join(FORMS)} 指明，或加“表格”一栏"
                          "（用 export --template 导出的空白表格不必指明）")
                self.outcome.refused += 1
                return
        self.form_fixed = form_fixed
        seen: dict = {}
        for index in range(header.row + 1, len(rows)):
            row = rows[index]
            if all(cells.is_empty(v) for v in row):
                continue
            self.row(index + 1, row, seen)

    def row(self, rownum: int, row: list, seen: dict) -> None:
        kind, opts = self.kind_, self.opts
        values, notes, empty = {}, [], set()
        for c, column in self.header.columns.items():
            if column.type == columns.INFO:
                continue
            raw = row[c] if c < len(row) else None
            refused = cells.formula_notes(raw)
            if not refused:
                unquoted = unquote(raw, column.type)
                if unquoted is not raw:
                    refused = cells.formula_notes(unquoted)  # a formula inside quotes is still a formula
                raw = unquoted
            if refused:
                value, n = cells.MISSING, refused
            elif cells.is_empty(raw):
                value, n = ([], []) if column.type == columns.SERVICES else (cells.MISSING, [])
            elif column.type == columns.SERVICES:
                value, n = read_services(raw, self.table.epoch)
            else:
                value, n = cells.read_value(column, raw, self.table.epoch, self.area_codes)
            if n:
                label = column.title
                notes.extend((sev, msg if msg.startswith(label) else f"{label}：{msg}") for sev, msg in n)
            if value is cells.MISSING:
                if not n:
                    empty.add(column.pointer)
            else:
                values[column.pointer] = value
        errors = [m for s, m in notes if s == ERROR]
        for s, m in notes:
            if s == WARNING:
                self.note(rownum, WARNING, m)
        if errors:
            for m in errors:
                self.note(rownum, ERROR, m)
            self.outcome.refused += 1
            return

        # where the record goes; a union may be typed as its code or its name
        unit = values.pop("/unit", None) or opts.unit
        funder = values.pop("/aid/funding_unit", None)
        index = self.unit_index()
        if index is not None:
            for label, text in (("单位", unit), ("资助单位", funder)):
                try:
                    resolved = index.resolve(text) if text is not None else None
                except unitref.UnknownUnit as exc:
                    return self.refuse(rownum, f"“{label}”：{exc}")
                unit, funder = (resolved, funder) if label == "单位" else (unit, resolved)
        if opts.units is not None and unit != opts.unit:
            if unit not in self.allowed_units():
                return self.refuse(rownum, f"单位 {unit} 不是 {opts.unit} 或它下属的工会")
        if opts.units is not None and unit not in opts.units:
            return self.refuse(rownum, f"工会编号 {unit} 不在 units.yaml 中")
        form = None
        if kind == "application":
            form_text = values.pop("/form", None)
            form = _FORM_NAMES.get(str(form_text).strip()) if form_text else None
            if form_text and form is None:
                return self.refuse(rownum, f"表格“{form_text}”应为 new、continuing 或 local")
            if opts.form and form and form != opts.form:
                return self.refuse(rownum, f"表格一栏为 {form}，与 --form {opts.form} 不符")
            form = form or self.form_fixed
        year = values.pop("/year", None) or opts.year
        if year is None:
            filed = values.get("/filed_on")
            if not filed:
                return self.refuse(rownum, "无法确定年度：请填写填表日期，或用 --year 指明")
            year = int(filed[:4])
        record_id = values.pop("/id", None)
        empty -= {"/id", "/form", "/year", "/unit"}

        probe: dict = {}
        for p, v in values.items():
            _set(probe, p, v)
        key = match_key(kind, probe)
        if None in key:
            missing = "身份证号码" if key[0] is None else "学生姓名"
            return self.refuse(rownum, f"缺少{missing}，无法建立或对应记录")
        sheet_key = (year, unit, record_id or key)
        if sheet_key in seen:
            return self.refuse(rownum, f"与第 {seen[sheet_key]} 行是同一{'申请' if kind == 'application' else '登记'}（{describe_key(kind, key)}），未导入")
        seen[sheet_key] = rownum

        old = self.existing.find(kind, year, unit, record_id, key)
        if record_id and old is None:
            target = f"{'applications' if kind == 'application' else 'graduates'}/{year}/{unit}/{record_id}.yaml"
            if (self.existing.root / target).exists():
                return self.refuse(rownum, f"编号 {record_id} 的文件 {target} 无法读取，请先运行 validate 修正")
        if old is not None:
            data = _copy(old.data)
            if kind == "application" and form and data.get("form") != form:
                data["form"] = form
        else:
            data = {"id": record_id or "", "year": year, "unit": unit}
            if kind == "application":
                data.update({"form": form, "approvals": [], "aid": {}})
            else:
                data.update({"services": []})
        for p, v in values.items():
            _set(data, p, v)
        for p in empty:
            if p == "/government_aid/received" and old is not None:
                continue  # a blank cell leaves an existing record as it is (see below)
            _delete(data, p)
        if kind == "application":
            why, warning = self.funding(data, funder, "/aid/funding_unit" in empty, index)
            if why:
                return self.refuse(rownum, why)
            if warning:
                self.note(rownum, WARNING, warning)
        for p in _required_booleans(kind, data.get("form")):
            if p == "/government_aid/received" and old is not None:
                continue  # a blank cell leaves an existing record as it is (exported before the field existed)
            if _get(data, p) is cells.MISSING:
                _set(data, p, False)
        if old is None:
            if not data["id"]:
                data["id"] = self.existing.new_id(kind, year, unit)
            elif not re.fullmatch(rf"{year}-{re.escape(unit)}-[a-z0-9-]+", data["id"]):
                return self.refuse(rownum, f"编号 {data['id']} 应以 {year}-{unit}- 开头")
        top = "applications" if kind == "application" else "graduates"
        rel = f"{top}/{year}/{unit}/{data['id']}.yaml"
        shown = dataset.display_path(self.existing.display_root, rel)

        if old is not None and data == old.data:
            self.outcome.unchanged += 1
            for severity, message in self.check(kind, data, rel, shown):  # still needs attention: say it every time
                if severity == WARNING:
                    self.note(rownum, severity, message)
            return
        decided = old is not None and any(isinstance(e, dict) for e in old.data.get("approvals") or [])
        if decided and any((old.data.get("aid") or {}).get(k) for k in ("paid_on", "paid_by", "paid_signature")):
            return self.refuse(rownum,
                f"与已有申请 {shown} 不同，但该申请已登记发放：发放所依据的内容不能再通过导入改动；"
                "如确需更正，请先由发放登记人或管理员撤回发放")
        problems = self.check(kind, data, rel, shown)
        if any(s == ERROR for s, _ in problems):
            for s, m in problems:
                self.note(rownum, s, m)
            self.outcome.refused += 1
            return
        for s, m in problems:
            self.note(rownum, s, m)
        if decided:
            self.note(rownum, WARNING, stale_message(shown, old.data, data))
        old_bytes = dataset.read_bytes(self.existing.root, rel) if old is not None else None
        text = fmt.render(data, kind, old_bytes)
        self.writes.append((rel, text, old is None))
        if old is not None:
            old.data = data
        else:
            self.existing.add(kind, year, unit, dataset.Record(kind, shown, rel, data))

    def unit_index(self):
        if not hasattr(self, "_index"):
            self._index = unitref.UnitIndex(self.opts.units) if self.opts.units is not None else None
        return self._index

    @staticmethod
    def funding(data: dict, funder: str | None, blank: bool, index) -> tuple[str | None, str | None]:
        """Set 资助单位 on an application: (why the row is refused, a warning), each or None.

        Typed: the union itself or one above it. Left blank (or no such column) on a new record,
        or blanked: the city for 附件1 and 附件2 (the notice: the city funds new and continuing
        college students), the filing union itself for local aid. A 附件1/附件2 funded below the
        city ends its approval chain there, is never seen by the city, and does not count as the
        city's aid: that is said every time."""
        unit, form = data["unit"], data.get("form")
        if funder is None and (blank or _get(data, "/aid/funding_unit") is cells.MISSING):
            if form in ("new", "continuing"):
                funder = index.city_of(unit) if index is not None else None
                if funder is None:
                    return "“资助单位”空着时为市总工会，但工会名单（units.yaml）中找不到本单位之上的市总工会；请填写资助单位", None
            else:
                funder = unit
        if funder is not None:
            _set(data, "/aid/funding_unit", funder)
        funder = _get(data, "/aid/funding_unit")
        if index is None:
            return None, None
        chain = index.chain(unit)
        if funder not in chain:
            return f"“资助单位”{index.label(funder)} 不是本单位或它的上级；应为 {index.listing(chain)} 之一（附件1、附件2 一般由市总工会资助，可以空着）", None
        level = index.level(funder)
        if form == "local" and level == 3:
            return "“资助单位”是市总工会，但自行资助（local）是区市县和基层工会自己出资；市总工会资助的大学生请用附件1（new）或附件2（continuing）", None
        if form in ("new", "continuing") and level is not None and level < 3:
            return None, (f"“资助单位”为 {index.label(funder)}：审批到该工会即完成，不报市总工会审批，"
                          "也不算市总工会资助；如由市总工会资助，请把资助单位留空或填“市总工会”")
        return None, None

    def allowed_units(self) -> set:
        if not hasattr(self, "_allowed"):
            self._allowed = descendants(self.opts.units, self.opts.unit)
        return self._allowed

    def refuse(self, rownum: int, message: str) -> None:
        self.note(rownum, ERROR, message)
        self.outcome.refused += 1

    def check(self, kind: str, data: dict, rel: str, shown: str) -> list:
        """The schema and the per-record rules, as (severity, message) with the form's labels."""
        out = []
        for pointer, code, message in schemacheck.check(kind, data):
            out.append((ERROR, message))
        kind_, match = layout.classify(rel)
        record = dataset.Record(kind, shown, rel, data, match.groupdict() if match else {})
        record.line_of = lambda pointer: 1
        for rule in rules.RECORD_RULES.get(kind, ()):
            for pointer, code, message, *severity in rule(record):
                out.append(((severity or [ERROR])[0], message))
        return out


def run(path: Path, file_label: str, root: Path, display_root: str, opts: Options) -> Outcome:
    """Import one file into the data directory; every note is collected, nothing is raised for data."""
    outcome = Outcome()
    existing = Existing(root, display_root)
    try:
        tabs = tables.read(path)
    except tables.TableError as exc:
        outcome.notes.append(Note(file_label, ERROR, str(exc)))
        outcome.refused += 1
        return outcome
    imports = []
    for table in tabs:
        s = SheetImport(file_label, table, opts, existing, outcome)
        s.no_header = False
        s.run()
        imports.append(s)
    headed = any(getattr(s, "header", None) for s in imports)
    for s in imports:
        if s.no_header and headed:
            if s.table.name != INSTRUCTIONS:
                s.note(None, WARNING, "没有找到表头，整张工作表已跳过")
        elif s.no_header:
            s.note(None, ERROR, "找不到表头：前 12 行里没有一行包含至少 3 个表格栏目名称（如 职工姓名、身份证号码、学生姓名）；"
                   "请使用 export --template 导出的空白表格")
            outcome.refused += 1
    if not headed and not any(s.no_header for s in imports):
        outcome.notes.append(Note(file_label, ERROR, "文件里没有可导入的数据（所有工作表都是空的）"))
        outcome.refused += 1
    for s in imports:
        for rel, text, created in s.writes:
            if not opts.dry_run:
                try:
                    dataset.write_text(root, rel, text)  # never through a link
                except dataset.NotRegularFile as exc:
                    outcome.notes.append(Note(dataset.display_path(display_root, rel), ERROR, f"{exc.reason}；未写入"))
                    outcome.refused += 1
                    continue
            (outcome.created if created else outcome.updated).append(rel)
    return outcome
