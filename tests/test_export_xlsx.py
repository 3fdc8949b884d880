"""The record export's .xlsx, cell by cell and setting by setting, against what the openpyxl writer
it replaced wrote: the faster writer may not drop a style, a number format, a quote prefix, a frozen
row or anything else a clerk's Excel shows.

The reference below is the openpyxl write-only export as it stood before (exporter.write_xlsx up
to the XlsxWriter change), kept here as the oracle."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import openpyxl
import pytest

from jinqiu.edit import exporter
from jinqiu.sheets import cellsafe, columns as sheets


def reference_write_xlsx(path, tables) -> None:
    """The openpyxl write-only export that exporter.write_xlsx replaced."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    for name, cols, rows in tables:
        ws = wb.create_sheet(name)
        ws.freeze_panes = "A2"
        ws.append([cellsafe.xlsx_cell(ws, c.title, font=bold) for c in cols])
        formats = ["@" if c.type in exporter._TEXT_TYPES else "yyyy-mm-dd" if c.type == sheets.DATE else None for c in cols]
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


# values a column of each type can hold in an export, hostile and odd ones included
_BY_TYPE = {
    sheets.ID_NUMBER: ["21020219600110001X", "010203196001100012", 210202196001100012],
    sheets.PHONE: ["0411-84123456", "13800000000", "=1+1"],
    sheets.MONTH: ["1968-03", "1968-3", date(1968, 3, 1)],
    sheets.DATE: [date(2011, 7, 20), "2011-02-30", datetime(2011, 7, 20, 9, 30)],
    sheets.INTEGER: [3, 0, "三"],
    sheets.NUMBER: [Decimal("5000"), Decimal("500.50"), Decimal("0.1"), 12.5],
    sheets.BOOLEAN: ["是", "否", True],
    sheets.SERVICES: ["实习见习 2011-06-01\n求职补贴 2011-07-01 500.50元 提供方：市职工帮扶中心", "", "-"],
    sheets.TEXT: ['=HYPERLINK("http://evil.invalid","x")', "@SUM(1+1)", "+1+cmd|' /C calc'!A0", "-2+3",
                  "\t=1+1", " =1", "#N/A", "王建一", "  两头空格  ", "第一行\n第二行", "0411", 42, False, ""],
    sheets.INFO: ["已填报", "=cmd|' /C calc'!A0", "区总工会审查通过（另有 1 条审批未通过核验，不计入）"],
}


def _table(kind: str, rows: int) -> tuple:
    cols = sheets.columns(kind) + ([sheets.STATUS] if kind == "application" else [])
    out = []
    for r in range(rows):
        row = []
        for c, col in enumerate(cols):
            values = _BY_TYPE.get(col.type, _BY_TYPE[sheets.TEXT])
            row.append(None if (r + c) % 7 == 3 else values[(r + c) % len(values)])
        out.append(row)
    return cols, out


def _cells(ws) -> list:
    """Each cell as Excel shows and keeps it (an empty cell's type is no part of it)."""
    return [[(c.value, c.data_type if c.value is not None else None, c.number_format, bool(c.quotePrefix), bool(c.font.b), bool(c.font.i),
              c.alignment.wrap_text, c.alignment.horizontal, c.protection.locked, c.fill.fill_type)
             for c in row] for row in ws.iter_rows()]


def _settings(ws) -> dict:
    return {
        "title": ws.title,
        "freeze_panes": ws.freeze_panes,
        "dimensions": (ws.max_row, ws.max_column),
        "merged": sorted(str(r) for r in ws.merged_cells.ranges),
        "validations": sorted((dv.type, dv.formula1, str(dv.sqref)) for dv in ws.data_validations.dataValidation),
        "widths": {k: d.width for k, d in ws.column_dimensions.items() if d.customWidth},
        "heights": {k: d.height for k, d in ws.row_dimensions.items() if d.height},
        "auto_filter": ws.auto_filter.ref,
        "conditional": len(ws.conditional_formatting),
        "print": (ws.page_setup.orientation, ws.page_setup.paperSize, ws.page_setup.fitToWidth,
                  ws.print_options.gridLines, ws.print_title_rows, ws.print_area),
        "protected": ws.protection.sheet,
        "state": ws.sheet_state,
    }


@pytest.mark.parametrize("rows", [0, 1, 30])
def test_the_export_writes_what_the_openpyxl_export_wrote(tmp_path, rows):
    tables = [("申请", *_table("application", rows)), ("毕业生", *_table("graduate", rows))]
    new, old = tmp_path / "new.xlsx", tmp_path / "old.xlsx"
    exporter.write_xlsx(new, tables)
    reference_write_xlsx(old, tables)
    a, b = openpyxl.load_workbook(new), openpyxl.load_workbook(old)
    assert a.sheetnames == b.sheetnames == ["申请", "毕业生"]
    for name in a.sheetnames:
        assert _settings(a[name]) == _settings(b[name])
        got, want = _cells(a[name]), _cells(b[name])
        assert len(got) == len(want) == rows + 1
        for r, (g, w) in enumerate(zip(got, want), 1):
            assert g == w, f"{name} row {r}"
    assert a.epoch == b.epoch


def test_no_text_becomes_a_formula_and_formula_like_text_keeps_its_quote_prefix(tmp_path):
    cols, rows = _table("application", 30)
    out = tmp_path / "e.xlsx"
    exporter.write_xlsx(out, [("申请", cols, rows)])
    ws = openpyxl.load_workbook(out)["申请"]
    seen = 0
    for row in ws.iter_rows(min_row=2):
        for c in row:
            if isinstance(c.value, str):
                assert c.data_type == "s"
                assert bool(c.quotePrefix) == cellsafe.evaluated(c.value), c.value
                seen += cellsafe.evaluated(c.value)
    assert seen >= 30


def test_an_unwritable_export_is_an_os_error(tmp_path):
    with pytest.raises(OSError):
        exporter.write_xlsx(tmp_path / "no-such-folder" / "e.xlsx", [("申请", *_table("application", 1))])
