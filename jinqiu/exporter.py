"""Export a union's records (and those of every union below it) as .xlsx or .csv, and blank sheets.

The columns are those the importer reads (jinqiu.sheets), headed by the forms' Chinese labels,
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

from . import cellsafe, dataset, importer, sheets, status

UNIT_LEVEL = {"city": 3, "district": 2, "county_city": 2, "county": 2, "industry": 2, "enterprise": 1, "street": 1}
SHEET_NAMES = {"application": "申请", "graduate": "毕业生"}
TEMPLATE_NAMES = {
    "new": "附件1 当年考入大学学生", "continuing": "附件2 大学在读学生",
    "local": "自行资助学生", "graduate": "阳光就业 毕业生",
}


def chain_end(units: dict | None, funding_unit) -> int:
    """The approval level at which an application's chain ends: the funding union's level."""
    u = (units or {}).get(funding_unit)
    return UNIT_LEVEL.get(u.get("kind"), 3) if u else 3


def select(root: Path, display_root: str, kind: str, unit_ids: set, year: int | None) -> list:
    """The records of a kind for the given unions (and year), sorted by year, union and id."""
    top = root / ("applications" if kind == "application" else "graduates")
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


def verified_statuses(root: Path, display_root: str) -> dict:
    """{record rel: Status} from verify: only approvals it proves count, never what the YAML claims."""
    from . import verify

    statuses, _ = verify.run(None, root, display_root=display_root)
    return statuses


def status_label(data: dict, st) -> str:
    """The verified status, and how many of the entries the file holds did not verify."""
    st = st or status.Status(status.FILED)
    label = st.label
    claimed = len([e for e in data.get("approvals") or [] if isinstance(e, dict)])
    unproved = claimed - len(st.proofs)
    if st.state == status.STALE or unproved <= 0:  # a stale chain says so itself
        return label
    return label + f"（另有 {unproved} 条审批未通过核验，不计入）"


def _value(column: sheets.Column, data: dict, units, st=None):
    if column is sheets.STATUS:
        return status_label(data, st)
    value = importer._get(data, column.pointer)
    if value is importer.cells.MISSING or value is None:
        return None
    if column.type == sheets.SERVICES:
        return importer.services_text(value)
    if column.type == sheets.BOOLEAN and isinstance(value, bool):
        return "是" if value else "否"
    if column.type == sheets.DATE and isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    return value


def table(kind: str, records: list, units, statuses: dict | None = None) -> tuple[list, list]:
    """(columns, rows of cell values) for records of one kind; 审批状态 from statuses ({rel: Status},
    verified_statuses), 已填报 for a record verify has no status for."""
    cols = sheets.columns(kind) + ([sheets.STATUS] if kind == "application" else [])
    statuses = statuses or {}
    return cols, [[_value(c, r.data, units, statuses.get(r.rel)) for c in cols] for r in records]


_TEXT_TYPES = (sheets.ID_NUMBER, sheets.PHONE, sheets.MONTH, sheets.TEXT)


def write_xlsx(path: Path, tables: list) -> None:
    """tables: [(sheet name, columns, rows)]; write-only, so 10,000 rows take a second or two."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    for name, cols, rows in tables:
        ws = wb.create_sheet(name)
        ws.freeze_panes = "A2"
        ws.append([cellsafe.xlsx_cell(ws, c.title, font=bold) for c in cols])
        formats = ["@" if c.type in _TEXT_TYPES else "yyyy-mm-dd" if c.type == sheets.DATE else None for c in cols]
        for row in rows:
            out = []
            for value, f in zip(row, formats):
                if value is None:
                    out.append(None)
                    continue
                cell = cellsafe.xlsx_cell(ws, value)
                if f is not None:
                    cell.number_format = f if (f != "@" or isinstance(value, str)) else "General"
                out.append(cell)
            ws.append(out)
    wb.save(path)


def write_csv(path: Path, cols: list, rows: list) -> None:
    """UTF-8 with a BOM; ID numbers and phones as ="…"; every other text cell through cellsafe."""
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(cellsafe.csv_row(c.title for c in cols))
        for row in rows:
            w.writerow([
                cellsafe.csv_text_formula(v) if v is not None and c.type in (sheets.ID_NUMBER, sheets.PHONE)
                else cellsafe.csv_cell(v)
                for c, v in zip(cols, row)
            ])


def write_template(path: Path, form: str, rows: int = 500) -> None:
    """A blank sheet for one form, generated from the schema: headers, text-formatted ID and
    phone columns, 是/否 and choice lists as drop-downs, and a sheet of instructions."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    from . import layout

    cols = sheets.template_columns(form)
    kind = sheets.kind_of_form(form)
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
        choices = ["是", "否"] if c.type == sheets.BOOLEAN else node.get("enum")
        if choices and c.type != sheets.SERVICES:
            dv = DataValidation(type="list", formula1='"' + ",".join(map(str, choices)) + '"', allow_blank=True)
            ws.add_data_validation(dv)
            dv.add(f"{letter}2:{letter}{rows + 1}")
        if c.type in (sheets.ID_NUMBER, sheets.PHONE, sheets.MONTH):
            for r in range(2, rows + 2):
                ws.cell(r, i).number_format = "@"
        elif c.type == sheets.DATE:
            for r in range(2, rows + 2):
                ws.cell(r, i).number_format = "yyyy-mm-dd"
    info = wb.create_sheet(importer.INSTRUCTIONS)
    info.append(["栏目", "说明"])
    for c in cols:
        info.append([c.title, layout.field(kind, c.pointer).get("description", "")])
    info.column_dimensions["A"].width = 24
    info.column_dimensions["B"].width = 90
    wb.save(path)


class StatisticsUnavailable(Exception):
    """The statistics module (jinqiu.statistics, from the publishing work) is not in this tree."""


def export_statistics(root: Path, display_root: str, unit: str, year: int, path: Path, fmt: str = "xlsx") -> None:
    """`export --statistics`: 附件3 for the union and each union below it down to the district and
    industry unions, computed as the public site computes it (jinqiu.statistics, from verified
    statuses). As .xlsx in the official layout (site.tables_workbook), with 填报人 and 联系电话 from
    each union's report (this file is for the unions, not the public site); or as .csv, one row per
    item and one column per union, with 填报人 and 联系电话 as the last two rows."""
    from . import publish, site, statistics, validate
    from .crossrules import _ancestors

    data, _ = validate.run(root, display_root)
    if year not in data.campaigns:
        raise StatisticsUnavailable(f"数据中没有 {year} 年度的活动文件（campaigns/{year}.yaml）")
    statuses, _ = publish.statuses(data)
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
    from . import cellsafe, statistics

    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(cellsafe.csv_row(["编号", "项目", *[f"{t.unit_name}（{t.unit_id}）" for t in tables]]))
        for _item, _letter, label, key in statistics.ROWS:
            year = tables[0].year if tables else ""
            w.writerow(cellsafe.csv_row([key, label.format(year=year), *[statistics.fmt(t.values[key], key) for t in tables]]))
        w.writerow(cellsafe.csv_row(["", "填报人", *[contacts.get(t.unit_id, ("", ""))[0] or "" for t in tables]]))
        w.writerow(["", "联系电话", *[cellsafe.csv_text_formula(p) if p else "" for p in (contacts.get(t.unit_id, ("", ""))[1] for t in tables)]])
