"""Export a union's records (and those of every union below it) as .xlsx or .csv, and blank sheets.

The columns are those the importer reads (jinqiu.sheets.columns), headed by the forms' Chinese labels,
plus 审批状态 for the reader (ignored on import). A sheet exported and imported again changes
nothing: every row carries its 编号, so the importer finds the very record it came from.

In .xlsx, ID numbers and phones are text cells (formatted as text, so Excel never turns them
into numbers), dates are date cells, money is a number. A .csv is UTF-8 with a byte-order mark
(so Excel shows the Chinese), and ID numbers and phones are written as ="…", the one form that
Excel opens as text; the importer reads ="…" back as the text inside.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from . import importer
from ..check import city
from ..check.unitref import UNIT_LEVEL
from ..records import dataset
from ..sheets import cellsafe, columns
from ..trust import status

SHEET_NAMES = {"application": "申请", "graduate": "毕业生"}
TEMPLATE_NAMES = columns.TEMPLATE_NAMES


def chain_end(units: dict | None, funding_unit) -> int:
    """The approval level at which an application's chain ends: the funding union's level."""
    u = (units or {}).get(funding_unit)
    return UNIT_LEVEL.get(u.get("kind"), 3) if u else 3


def select(root: Path, display_root: str, kind: str, unit_ids: set, year: int | None, records: list | None = None) -> list:
    """The records of a kind for the given unions (and year), sorted by year, union and id: from
    `records` (every record of the data directory, as loaded already) when given, else read."""
    top_name = "applications" if kind == "application" else "graduates"
    if records is not None:
        chosen = []
        for r in records:
            parts = r.rel.split("/")
            if (len(parts) == 4 and parts[0] == top_name and parts[2] in unit_ids and parts[3].endswith(".yaml")
                    and (year is None or parts[1] == str(year)) and r.data is not None):
                chosen.append((parts[1], parts[2], parts[3], r))
        return [r for *_, r in sorted(chosen, key=lambda t: t[:3])]
    top = root / top_name
    found = []
    if not top.is_dir():
        return found
    for year_dir in sorted(top.iterdir()):
        if not year_dir.is_dir() or (year is not None and year_dir.name != str(year)):
            continue
        for unit in sorted(unit_ids):
            d = year_dir / unit
            if not d.is_dir():
                continue
            for p in sorted(d.glob("*.yaml")):
                rel = p.relative_to(root).as_posix()
                record = dataset.read_one(root, display_root, rel)[0]
                if record.data is not None:
                    found.append(record)
    return found


def verified_statuses(root: Path, display_root: str, loaded: list | None = None) -> dict:
    """{record rel: Status} from verify: only approvals it proves count, never what the YAML claims.
    The dataset verify had to load, if any, is appended to `loaded` (see verify.run)."""
    from ..trust import verify

    statuses, _ = verify.run(None, root, display_root=display_root, loaded=loaded)
    return statuses


def status_label(data: dict, st) -> str:
    """The verified status, and how many decisions of the file's latest round did not verify."""
    st = st or status.Status(status.FILED)
    label = st.label
    claimed = status.from_claims(data, 3)  # the latest round as written: how many decisions it claims
    unproved = (claimed.level if claimed.state != status.FILED else 0) - len(st.proofs)
    if st.state == status.STALE or unproved <= 0:  # a stale chain says so itself
        return label
    return label + f"（另有 {unproved} 条审批未通过核验，不计入）"


def _value(column: columns.Column, data: dict, units, st=None):
    if column is columns.STATUS:
        return status_label(data, st)
    value = importer._get(data, column.pointer)
    if value is importer.cells.MISSING or value is None:
        return None
    if column.type == columns.SERVICES:
        return importer.services_text(value)
    if column.type == columns.BOOLEAN and isinstance(value, bool):
        return "是" if value else "否"
    if column.type == columns.DATE and isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    return value


def table(kind: str, records: list, units, statuses: dict | None = None) -> tuple[list, list]:
    """(columns, rows of cell values) for records of one kind; 审批状态 from statuses ({rel: Status},
    verified_statuses), 已填报 for a record verify has no status for."""
    cols = columns.columns(kind) + ([columns.PAID, columns.STATUS] if kind == "application" else [])
    statuses = statuses or {}
    return cols, [[_value(c, r.data, units, statuses.get(r.rel)) for c in cols] for r in records]


_TEXT_TYPES = (columns.ID_NUMBER, columns.PHONE, columns.MONTH, columns.TEXT)


def write_xlsx(path: Path, tables: list) -> None:
    """tables: [(sheet name, columns, rows)]. Bold headers and the first row frozen; text columns
    (ID numbers, phones, 出生年月, names) formatted as text, so Excel never turns them into numbers;
    dates as date cells formatted yyyy-mm-dd; every text through cellsafe (a string cell, never a
    formula). Written with XlsxWriter: 1.6 s for 10,000 rows of 41 columns, where openpyxl took 4.2 s."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), cellsafe.XLSXWRITER_OPTIONS)
    cells = cellsafe.XlsxCells(wb)
    for name, cols, rows in tables:
        ws = wb.add_worksheet(name)
        ws.freeze_panes(1, 0)
        for c, column in enumerate(cols):
            cells.write(ws, 0, c, column.title, bold=True)
        formats = ["@" if c.type in _TEXT_TYPES else "yyyy-mm-dd" if c.type == columns.DATE else None for c in cols]
        for r, row in enumerate(rows, 1):
            for c, (value, f) in enumerate(zip(row, formats)):
                if value is not None:
                    cells.write(ws, r, c, value, f if (f != "@" or isinstance(value, str)) else "General")
    cellsafe.close_xlsx(wb)


def write_csv(path: Path, cols: list, rows: list) -> None:
    """UTF-8 with a BOM; ID numbers and phones as ="…"; every other text cell through cellsafe."""
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(cellsafe.csv_row(c.title for c in cols))
        for row in rows:
            w.writerow([
                cellsafe.csv_text_formula(v) if v is not None and c.type in (columns.ID_NUMBER, columns.PHONE)
                else cellsafe.csv_cell(v)
                for c, v in zip(cols, row)
            ])


def write_template(path: Path, form: str, rows: int = 500, conventions: city.City | None = None) -> None:
    """A blank sheet for one form, generated from the schema: headers, text-formatted ID and
    phone columns, 是/否 and choice lists as drop-downs, and a sheet of instructions whose examples
    are the city's (conventions, from units.yaml; none given: examples that name no city)."""
    conventions = conventions or city.City()
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    from ..records import layout

    cols = columns.template_columns(form)
    kind = columns.kind_of_form(form)
    wb = Workbook()
    ws = wb.active
    ws.title = TEMPLATE_NAMES[form]
    ws.append([c.title for c in cols])
    ws.freeze_panes = "A2"
    for i, c in enumerate(cols, 1):
        letter = get_column_letter(i)
        ws.cell(1, i).font = Font(bold=True)
        ws.cell(1, i).alignment = Alignment(wrap_text=True)
        ws.column_dimensions[letter].width = max(10, min(30, len(c.title) * 2 + 2))
        node = layout.field(kind, c.pointer)
        choices = ["是", "否"] if c.type == columns.BOOLEAN else node.get("enum")
        if choices and c.type != columns.SERVICES:
            dv = DataValidation(type="list", formula1='"' + ",".join(map(str, choices)) + '"', allow_blank=True)
            ws.add_data_validation(dv)
            dv.add(f"{letter}2:{letter}{rows + 1}")
        if c.type in (columns.ID_NUMBER, columns.PHONE, columns.MONTH):
            for r in range(2, rows + 2):
                ws.cell(r, i).number_format = "@"
        elif c.type == columns.DATE:
            for r in range(2, rows + 2):
                ws.cell(r, i).number_format = "yyyy-mm-dd"
    info = wb.create_sheet(importer.INSTRUCTIONS)
    for line in template_intro(form, conventions):
        info.append([line])
    info.append([])
    info.append(["栏目", "怎么填"])
    info.cell(info.max_row, 1).font = Font(bold=True)
    info.cell(info.max_row, 2).font = Font(bold=True)
    for c in cols:
        info.append([c.title, cell_instruction(kind, form, c, conventions)])
    info.column_dimensions["A"].width = 24
    info.column_dimensions["B"].width = 90
    wb.save(path)


# The 填写说明 sheet speaks of cells: what to type in a cell, never how a YAML file is written. Its
# examples are the city's own (jinqiu.check.city: its unions and its area code).
def template_intro(form: str, conventions: city.City) -> list[str]:
    """The instructions above the columns of a blank sheet for one form."""
    lines = [
        "填写说明：每一行填一名学生（毕业生表每一行一名毕业生）；第一行是栏目名称，请不要改动。",
        "身份证号码、联系电话、出生年月各栏已设为“文本”格式：直接输入号码即可，不要加引号、空格或撇号。",
        "有下拉箭头的栏目（是/否、所学学历等）请从下拉中选择。空着的勾选栏按“否”处理，和纸质表上不打勾一样。",
        f"{conventions.unit_example()}；编号可用 python build.py units 查询。",
        "填好后保存为 .xlsx，用 python build.py import 文件名.xlsx --unit 本单位 导入；有问题的行不会导入，并会逐行说明原因。",
    ]
    if form in ("new", "continuing"):
        lines.append("“资助单位”空着即为市总工会资助（附件1、附件2 由市总工会资助）；只有本单位或区市县、产业工会自己出资时才填写，"
                     "此时审批到该工会即完成，不报市总工会。")
    elif form == "local":
        lines.append("“资助单位”空着即为本单位自行资助；由区市县、产业工会出资时填写该工会。")
    return lines


_CELL_TEXT = {
    columns.ID_NUMBER: "18 位身份证号码，最后一位可以是 X。直接输入，不加引号或空格；请对照身份证原件逐位核对。",
    columns.PHONE: "手机号 11 位；固定电话写区号和连字符，例如 {phone}。直接输入，不加引号。",
    columns.MONTH: "年和月，例如 1968-03。",
    columns.DATE: "日期，例如 2011-08-01；写 2011/8/1、2011年8月1日 或用 Excel 的日期格式也可以。",
    columns.BOOLEAN: "从下拉中选“是”或“否”；空着按“否”。",
    columns.SERVICES: "每项一行（单元格内按 Alt+Enter 换行）：类别 日期[ 金额元][ 提供方：…]，例如 求职补贴 2011-07-01 500元 提供方：市职工帮扶中心。",
}
_POINTER_TEXT = {
    "/aid/funding_unit": "出资的工会，写名称或编号。附件1、附件2 空着即为市总工会；自行资助空着即为本单位。",
    "/aid/amount": "助学资金（元），填数字，可以带“元”。",
    "/aid/paid_on": "实际发放助学资金的日期；尚未发放就空着。",
    "/continues": "往年资助这名学生的申请编号（导出的表格里有），例如 {record_id}。",
}


def cell_instruction(kind: str, form: str, column: columns.Column, conventions: city.City | None = None) -> str:
    """What to type in one column's cells (the 填写说明 sheet), with the city's own examples."""
    from ..records import layout

    conventions = conventions or city.City()
    examples = {"phone": conventions.phone_example(), "record_id": conventions.record_id_example(2010)}
    if column.pointer in _POINTER_TEXT:
        return _POINTER_TEXT[column.pointer].format(**examples)
    node = layout.field(kind, column.pointer)
    description = node.get("description", "")
    if column.type in _CELL_TEXT:
        text = _CELL_TEXT[column.type].format(**examples)
        return f"{description.rstrip('。')}。{text}" if column.type == columns.BOOLEAN and description else text
    if node.get("enum"):
        return f"从下拉中选择：{'、'.join(map(str, node['enum']))}。"
    if column.type in (columns.INTEGER, columns.NUMBER):
        return f"{description}填数字。".replace("。填", "，填")
    return description


class StatisticsUnavailable(Exception):
    """The statistics module (jinqiu.publish.statistics, from the publishing work) is not in this tree."""


def export_statistics(root: Path, display_root: str, unit: str, year: int, path: Path, fmt: str = "xlsx") -> None:
    """`export --statistics`: 附件3 for the union and each union below it down to the district and
    industry unions, computed as the public site computes it (jinqiu.publish.statistics, from verified
    statuses). As .xlsx in the official layout (site.tables_workbook), with 填报人 and 联系电话 from
    each union's report (this file is for the unions, not the public site); or as .csv, one row per
    item and one column per union, with 填报人 and 联系电话 as the last two rows."""
    from ..check import validate
    from ..publish import pipeline, site, statistics
    from ..check.crossrules import _ancestors

    data, _ = validate.run(root, display_root)
    if year not in data.campaigns:
        raise StatisticsUnavailable(f"数据中没有 {year} 年度的活动文件（campaigns/{year}.yaml）")
    statuses, _ = pipeline.statuses(data)
    tables = statistics.compute_all(data, year, statuses)
    units = data.units
    chosen = [u for u in tables if unit in _ancestors(units, u) and (u == unit or site.LEVEL_OF_KIND.get(units[u]["kind"], 1) >= 2)]
    contacts = {r.data["unit"]: (r.data.get("filled_by", ""), r.data.get("phone", ""))
                for r in data.reports if r.data.get("year") == year}
    if fmt == "csv":
        write_statistics_csv(path, [tables[u] for u in chosen], contacts)
    else:
        site.tables_workbook([tables[u] for u in chosen], data.campaigns[year], contacts).save(path)


def write_statistics_csv(path: Path, tables: list, contacts: dict) -> None:
    """附件3 as CSV (UTF-8 with BOM): 编号, 项目, then one column per union; phones as ="…"."""
    from ..publish import statistics
    from ..sheets import cellsafe

    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(cellsafe.csv_row(["编号", "项目", *[f"{t.unit_name}（{t.unit_id}）" for t in tables]]))
        for _item, _letter, label, key in statistics.ROWS:
            year = tables[0].year if tables else ""
            w.writerow(cellsafe.csv_row([key, label.format(year=year), *[statistics.fmt(t.values[key], key) for t in tables]]))
        w.writerow(cellsafe.csv_row(["", "填报人", *[contacts.get(t.unit_id, ("", ""))[0] or "" for t in tables]]))
        w.writerow(["", "联系电话", *[cellsafe.csv_text_formula(p) if p else "" for p in (contacts.get(t.unit_id, ("", ""))[1] for t in tables)]])
