"""tables.read_xlsx reads a sheet exactly as openpyxl's read-only worksheet does (iter_rows with the
claimed dimension reset), only faster: compared cell by cell on sheets written by openpyxl (both
modes), by XlsxWriter, and by hand with every kind of cell a clerk's or an attacker's file holds."""

from __future__ import annotations

import zipfile
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from jinqiu.sheets import tables

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def openpyxl_rows(path: Path) -> list:
    """What tables read before: ReadOnlyWorksheet.iter_rows, trimmed and padded the same way."""
    wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
    out = []
    for ws in wb.worksheets:
        ws.reset_dimensions()
        rows = []
        for row in ws.iter_rows(min_row=1, max_col=tables.MAX_COLUMNS + 1, values_only=True):
            end = min(len(row), tables.MAX_COLUMNS)
            while end and row[end - 1] is None:
                end -= 1
            rows.append(list(row[:end]))
        width = max(map(len, rows), default=0)
        out.append((ws.title, [r + [None] * (width - len(r)) for r in rows]))
    wb.close()
    return out


def assert_same(path: Path) -> list:
    got = [(t.name, t.rows) for t in tables.read_xlsx(path)]
    want = openpyxl_rows(path)
    assert got == want
    assert [[[type(v) for v in r] for r in rows] for _, rows in got] == [[[type(v) for v in r] for r in rows] for _, rows in want]
    return got


VALUES = ["王建一", "  两头空格  ", "第一行\n第二行", "", "0411-84123456", "21020219600110001X", 210202196001100012,
          3, 12.5, Decimal("500.50"), True, False, date(2011, 7, 20), datetime(2011, 7, 20, 9, 30), time(8, 0),
          "=HYPERLINK(\"http://evil.invalid\",\"x\")", "=SUM(A1:A2)", "@SUM(1)", "+1", "#N/A", "'0411", None]


def _grid(n: int) -> list:
    return [[VALUES[(r * 7 + c) % len(VALUES)] for c in range(9)] for r in range(n)]


@pytest.mark.parametrize("write_only", [True, False])
def test_openpyxl_written_sheets_read_the_same(tmp_path, write_only):
    wb = openpyxl.Workbook(write_only=write_only)
    ws = wb.create_sheet("申请") if write_only else wb.active
    for row in [["编号", "职工姓名"]] + _grid(40):
        ws.append(row)
    second = wb.create_sheet("第二张")
    second.append(["a", None, None, "d"])
    path = tmp_path / "a.xlsx"
    wb.save(path)
    rows = assert_same(path)
    assert rows[0][1][0][:2] == ["编号", "职工姓名"] and len(rows[0][1]) == 41


def test_xlsxwriter_sheets_read_the_same(tmp_path):
    from test_export_xlsx import _table

    from jinqiu.edit import exporter

    path = tmp_path / "x.xlsx"
    exporter.write_xlsx(path, [("申请", *_table("application", 30)), ("毕业生", *_table("graduate", 5))])
    rows = assert_same(path)
    assert len(rows) == 2 and len(rows[0][1]) == 31


def _with_sheet(tmp_path: Path, body: str, name: str = "raw.xlsx") -> Path:
    plain = tmp_path / "plain.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["x"])
    wb.save(plain)
    xml = (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{NS}">'
           f"<sheetData>{body}</sheetData></worksheet>").encode()
    out = tmp_path / name
    with zipfile.ZipFile(plain) as a, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as b:
        for item in a.infolist():
            b.writestr(item, xml if item.filename == "xl/worksheets/sheet1.xml" else a.read(item.filename))
    return out


ODD_CELLS = [
    '<c r="A1" t="inlineStr"><is><t>plain</t></is></c>',
    '<c r="B1" t="inlineStr"><is><t xml:space="preserve">  spaced  </t></is></c>',
    '<c r="C1" t="inlineStr"><is><t/></is></c>',
    '<c r="D1" t="inlineStr"><is><r><t>ri</t></r><r><rPr><b/></rPr><t>ch</t></r></is></c>',
    '<c r="E1" t="inlineStr"><is><t>base</t><rPh sb="0" eb="1"><t>phonetic</t></rPh></is></c>',
    '<c r="F1" t="inlineStr"><is><t>a</t><t>b</t></is></c>',
    '<c r="G1" t="inlineStr"><f>1+1</f><is><t>cached</t></is></c>',
    '<c r="H1" t="inlineStr"></c>',
    '<c r="I1" t="inlineStr"><is></is></c>',
    '<c r="J1" t="inlineStr" s="0"><is><t>&lt;&amp;&gt;"\'</t></is></c>',
    '<c r="K1"><f>SUM(A1:A2)</f><v>3</v></c>',
    '<c r="L1" t="str"><f>"=x"</f><v>=x</v></c>',
    '<c r="M1" t="b"><v>1</v></c>',
    '<c r="N1" t="e"><v>#N/A</v></c>',
    '<c r="O1"><v>41475</v></c>',
    '<c r="P1" t="d"><v>2011-07-20T00:00:00</v></c>',
    '<c r="Q1" t="inlineStr"><is><t>\u738b\u5efa\u4e00 \U00020000</t></is></c>',
    '<c t="inlineStr"><is><t>no reference</t></is></c>',
    '<c t="inlineStr"><is><t>no reference either</t></is></c>',
    '<c r="Z1" t="inlineStr"><is><t>far right</t></is></c>',
]


def test_hand_written_cells_read_the_same(tmp_path):
    rows = (f'<row r="1">{"".join(ODD_CELLS)}</row>'
            '<row r="3"><c r="A3" t="inlineStr"><is><t>after a gap</t></is></c></row>'
            '<row r="2"><c r="A2" t="inlineStr"><is><t>out of order</t></is></c></row>'
            '<row><c r="B4" t="inlineStr"><is><t>no row number</t></is></c></row>'
            '<row r="6"></row>'
            '<row r="7"><c r="A7" t="inlineStr"><is><t>x</t></is></c><c r="A7" t="inlineStr"><is><t>same cell</t></is></c></row>')
    got = assert_same(_with_sheet(tmp_path, rows))
    (name, grid), = got
    assert grid[0][:3] == ["plain", "  spaced  ", ""] and grid[0][3] == "rich"
    assert grid[0][6] == "=1+1" and grid[0][10] == "=SUM(A1:A2)"  # formulas read as formulas, never their values
    assert len(grid) == 7 and grid[1][0] is None and grid[2][0] == "after a gap"


def test_a_cell_anywhere_past_the_column_limit_is_refused_not_dropped(tmp_path):
    at_limit = '<row r="1"><c r="IV1" t="inlineStr"><is><t>256th</t></is></c></row>'
    assert_same(_with_sheet(tmp_path, at_limit, "at.xlsx"))
    for name, column in (("over.xlsx", "IW"), ("beyond.xlsx", "IX"), ("far.xlsx", "XFD")):
        over = f'<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c></row><row r="2"><c r="{column}2" t="inlineStr"><is><t>lost?</t></is></c></row>'
        with pytest.raises(tables.TableError, match="第 2 行超过 256 列"):
            tables.read_xlsx(_with_sheet(tmp_path, over, name))
