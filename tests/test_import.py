"""Import from real .xlsx (openpyxl) and .csv files: every kind of Excel damage, headers, encodings."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from io_fixtures import HEADERS_NEW, id_number, make_data, row_new

from jinqiu import cli
from jinqiu.check import validate


def run(*argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main([str(a) for a in argv], out, err)
    return code, out.getvalue(), err.getvalue()


def xlsx(path: Path, rows: list, title: str = "Sheet1", extra=None) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    for r in rows:
        ws.append(r)
    if extra:
        extra(wb, ws)
    wb.save(path)
    return path


def files(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted((root / "applications").rglob("*.yaml"))} \
        if (root / "applications").exists() else {}


@pytest.fixture
def data(tmp_path):
    return make_data(tmp_path / "data")


def do_import(data, path, *more):
    return run("import", path, "--unit", "dl-zs-0001", "--data", data, *more)


def test_a_good_sheet_becomes_valid_files_and_a_second_import_changes_nothing(data, tmp_path):
    sheet = xlsx(tmp_path / "a.xlsx", [HEADERS_NEW] + [row_new(i) for i in range(5)])
    code, out, err = do_import(data, sheet)
    assert code == 0, out + err
    written = files(data)
    assert len(written) == 5
    assert "新建 5 个文件" in err
    _, problems = validate.run(data, str(data))
    assert [p for p in problems if p.severity == "error"] == []
    text = written["applications/2011/dl-zs-0001/2011-dl-zs-0001-001.yaml"].decode()
    assert 'id_number: "2102' in text and "phone: \"1380411" in text
    code, out, err = do_import(data, sheet)
    assert code == 0 and "未变 5 个" in err
    assert files(data) == written


def _one_bad(data, tmp_path, column: str, value, extra=None):
    """Import a sheet with one good row and one row whose `column` is `value`; return the output."""
    bad = row_new(1)
    bad[HEADERS_NEW.index(column)] = value
    sheet = xlsx(tmp_path / "b.xlsx", [HEADERS_NEW, row_new(0), bad], extra=extra)
    code, out, err = do_import(data, sheet)
    return code, out, files(data)


@pytest.mark.parametrize("value, words", [
    (2.10202196803151e17, "第 15 位以后的数字已丢失"),  # shown by Excel as 2.10202E+17
    (210202196803151000, "第 15 位以后的数字已丢失"),  # 15 significant digits, then zeros
    (21020219680315123, "只有 17 位"),  # 17 digits: the check digit is not guessed
    ("2.10202E+17", "科学计数法"),  # a CSV cell or a text cell showing Excel's display
    ("210202196803151000", "000 结尾"),  # text saved from a number-formatted column
    ("210202196803151235", "校验位"),
])
def test_id_numbers_excel_damaged_are_refused_and_the_row_is_not_written(data, tmp_path, value, words):
    code, out, written = _one_bad(data, tmp_path, "身份证号码", value)
    assert code == 1
    assert f"b.xlsx:Sheet1!3: error: " in out and words in out, out
    assert "210202196803151" not in out  # masked
    assert len(written) == 1  # the good row only


def test_an_id_number_kept_whole_in_a_number_cell_is_accepted_with_a_warning(data, tmp_path):
    """Excel and openpyxl keep 15-17 significant digits, but WPS and scripts may write all 18
    digits into a number cell's XML; nothing is lost then."""
    import zipfile

    number = int(id_number(birth="19700101", seq=17))
    assert not str(number).endswith("000")
    bad = row_new(1)
    bad[HEADERS_NEW.index("身份证号码")] = 987654321
    bad[HEADERS_NEW.index("出生年月")] = "1970-01"
    plain = xlsx(tmp_path / "plain.xlsx", [HEADERS_NEW, row_new(0), bad])
    sheet = tmp_path / "b.xlsx"
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(sheet, "w") as dst:
        for item in src.infolist():
            body = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                assert body.count(b"<v>987654321</v>") == 1
                body = body.replace(b"<v>987654321</v>", f"<v>{number}</v>".encode())
            dst.writestr(item, body)
    code, out, err = do_import(data, sheet)
    written = files(data)
    assert code == 0, out
    assert "Sheet1!3: warning:" in out and "存成了数字" in out
    assert any(f'"{number}"'.encode() in b for b in written.values())


def test_dates_as_excel_serial_numbers_and_date_cells_are_converted(data, tmp_path):
    sheet = [HEADERS_NEW]
    r = row_new(0)
    r[0] = 40744  # General-formatted cell holding the serial of 2011-07-20
    sheet.append(r)
    r = row_new(1)
    r[0] = datetime(2011, 7, 21)  # a real date cell
    r[3] = datetime(1961, 2, 1)  # 出生年月 as a date cell
    sheet.append(r)
    r = row_new(2)
    r[0] = "2011年7月22日"
    sheet.append(r)
    code, out, _ = do_import(data, xlsx(tmp_path / "d.xlsx", sheet))
    assert code == 0, out
    texts = [b.decode() for b in files(data).values()]
    assert 'filed_on: "2011-07-20"' in texts[0]
    assert 'filed_on: "2011-07-21"' in texts[1] and 'birth_month: "1961-02"' in texts[1]
    assert 'filed_on: "2011-07-22"' in texts[2]


def test_a_serial_number_that_is_no_date_is_refused(data, tmp_path):
    code, out, written = _one_bad(data, tmp_path, "填表日期", 12.5)
    assert code == 1 and "不是 Excel 日期序号" in out or "不是日期" in out


@pytest.mark.parametrize("value", [41184123456, "411-84123456", 41184123456.0])
def test_a_dalian_landline_that_lost_its_zero_is_repaired_with_a_warning(data, tmp_path, value):
    code, out, written = _one_bad(data, tmp_path, "联系电话", value)
    assert code == 0, out
    assert "Sheet1!3: warning:" in out and "丢了开头的 0" in out
    assert any(b'phone: "0411-84123456"' in b for b in written.values())


@pytest.mark.parametrize("value", [84123456, 2784123456, "41184123", "1380411000"])
def test_a_phone_that_cannot_be_restored_for_certain_is_refused(data, tmp_path, value):
    code, out, written = _one_bad(data, tmp_path, "联系电话", value)
    assert code == 1 and "Sheet1!3: error:" in out and "无法确定原号码" in out, out
    assert len(written) == 1


def test_header_variants_are_recognised(data, tmp_path):
    headers = list(HEADERS_NEW)
    headers[headers.index("身份证号码")] = "身份证号"
    headers[headers.index("助学资金")] = "助学资金（元）"
    headers[headers.index("职工姓名")] = " 职工 姓名 *"
    headers[headers.index("家庭月人均收入")] = "家庭月人均收入(元)"
    headers[headers.index("学生姓名")] = "考上大学子女姓名"
    code, out, err = do_import(data, xlsx(tmp_path / "h.xlsx", [headers, row_new(0)]))
    assert code == 0, out
    assert "不认识" not in out
    assert len(files(data)) == 1


def test_merged_header_cells_and_a_title_row(data, tmp_path):
    """Row 1: a title merged across; row 2: groups merged over their columns, and fields merged
    over rows 2-3; row 3: the fields under each group."""
    groups = {"职工姓名": "职工情况", "身份证号码": "职工情况", "学生姓名": "学生情况"}
    top = ["2011年“金秋助学”审批登记表"] + [None] * (len(HEADERS_NEW) - 1)
    row2, row3 = [], []
    for h in HEADERS_NEW:
        if h in groups:
            row2.append(groups[h])
            row3.append("姓名" if h.endswith("姓名") else "身份证号")
        else:
            row2.append(h)
            row3.append(None)
    # Excel keeps only the first cell of a merged range; the others read as empty.
    for i in range(1, len(row2)):
        if row2[i] == row2[i - 1] and row2[i] in groups.values():
            row2[i] = None

    def merge(wb, ws):
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADERS_NEW))
        for i, h in enumerate(HEADERS_NEW, 1):
            if h not in groups:
                ws.merge_cells(start_row=2, start_column=i, end_row=3, end_column=i)
        a, b = HEADERS_NEW.index("职工姓名") + 1, HEADERS_NEW.index("身份证号码") + 1
        if b == a + 1:
            ws.merge_cells(start_row=2, start_column=a, end_row=2, end_column=b)

    sheet = xlsx(tmp_path / "m.xlsx", [top, row2, row3, row_new(0), row_new(1)], extra=merge)
    code, out, err = do_import(data, sheet)
    assert code == 0, out + err
    texts = [b.decode() for b in files(data).values()]
    assert len(texts) == 2
    assert "name: 王建一" in texts[0] and "name: 王小甲0" in texts[0]


def test_an_empty_sheet_is_reported_and_nothing_written(data, tmp_path):
    sheet = xlsx(tmp_path / "e.xlsx", [])
    code, out, err = do_import(data, sheet)
    assert code == 1
    assert "e.xlsx:Sheet1: warning: 工作表是空的" in out
    assert "没有可导入的数据" in out
    assert files(data) == {}


def test_an_empty_sheet_beside_a_good_one_is_only_a_warning(data, tmp_path):
    def second(wb, ws):
        wb.create_sheet("Sheet2")
    code, out, err = do_import(data, xlsx(tmp_path / "e.xlsx", [HEADERS_NEW, row_new(0)], extra=second))
    assert code == 0 and "Sheet2: warning: 工作表是空的" in out
    assert len(files(data)) == 1


def test_a_sheet_without_a_known_header_is_refused(data, tmp_path):
    code, out, _ = do_import(data, xlsx(tmp_path / "x.xlsx", [["甲", "乙", "丙"], [1, 2, 3]]))
    assert code == 1 and "找不到表头" in out


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_in_each_encoding_chinese_excel_writes(data, tmp_path, encoding):
    import csv

    path = tmp_path / f"c-{encoding}.csv"
    with open(path, "w", encoding=encoding, newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADERS_NEW)
        for i in range(3):
            w.writerow(row_new(i))
        bad = row_new(3)
        bad[HEADERS_NEW.index("身份证号码")] = "2.10202E+17"  # what Excel writes for a number-formatted ID
        w.writerow(bad)
    code, out, err = do_import(data, path)
    assert code == 1
    assert f"c-{encoding}.csv:c-{encoding}!5: error:" in out and "科学计数法" in out
    written = files(data)
    assert len(written) == 3
    assert "name: 王建一" in list(written.values())[0].decode()


def test_a_corrected_sheet_updates_the_record_it_matches(data, tmp_path):
    do_import(data, xlsx(tmp_path / "a.xlsx", [HEADERS_NEW, row_new(0), row_new(1)]))
    before = files(data)
    fixed = row_new(1)
    fixed[HEADERS_NEW.index("家庭住址")] = "大连市中山区新地址9号"
    code, out, err = do_import(data, xlsx(tmp_path / "b.xlsx", [HEADERS_NEW, row_new(0), fixed]))
    assert code == 0, out
    assert "更新 1 个" in err and "未变 1 个" in err
    after = files(data)
    assert set(after) == set(before)
    changed = [k for k in after if after[k] != before[k]]
    assert changed == ["applications/2011/dl-zs-0001/2011-dl-zs-0001-002.yaml"]
    assert "新地址9号" in after[changed[0]].decode()


def test_a_corrected_row_updates_an_approved_application_and_says_its_approvals_need_a_new_round(data, tmp_path):
    do_import(data, xlsx(tmp_path / "a.xlsx", [HEADERS_NEW, row_new(0)]))
    target = data / "applications/2011/dl-zs-0001/2011-dl-zs-0001-001.yaml"
    text = target.read_text(encoding="utf-8").replace(
        "approvals: []",
        'approvals:\n- level: 1\n  decision: approve\n  opinion: 情况属实\n  reviewer: r-1\n  date: "2011-07-25"')
    target.write_text(text, encoding="utf-8")
    # the same row again: nothing to change, so no complaint
    code, out, err = do_import(data, xlsx(tmp_path / "a.xlsx", [HEADERS_NEW, row_new(0)]))
    assert code == 0 and "未变 1 个" in err
    fixed = row_new(0)
    fixed[HEADERS_NEW.index("助学资金")] = 4000
    code, out, err = do_import(data, xlsx(tmp_path / "b.xlsx", [HEADERS_NEW, fixed]))
    assert code == 0 and "更新 1 个" in err
    assert "b.xlsx:Sheet1!2: warning: 已更正" in out and "applications/2011/dl-zs-0001/2011-dl-zs-0001-001.yaml（改动了 助学资金）" in out
    assert "需要从第 1 级开始重新审批" in out
    after = target.read_text(encoding="utf-8")
    assert "amount: 4000" in after and after.endswith(text[text.index("approvals:"):])  # the approvals stay as history
    # a paid application is another matter: the payout was a signed act on that content
    target.write_text(after.replace("  amount: 4000\n", '  amount: 4000\n  paid_on: "2011-08-20"\n  paid_by: r-1\n'), encoding="utf-8")
    code, out, err = do_import(data, xlsx(tmp_path / "c.xlsx", [HEADERS_NEW, row_new(0)]))
    assert code == 1 and "已登记发放" in out


def test_the_same_application_twice_in_one_sheet(data, tmp_path):
    code, out, _ = do_import(data, xlsx(tmp_path / "a.xlsx", [HEADERS_NEW, row_new(0), row_new(0)]))
    assert code == 1 and "Sheet1!3: error: 与第 2 行是同一申请" in out
    assert len(files(data)) == 1


def test_a_row_failing_the_schema_is_refused_with_the_forms_label(data, tmp_path):
    code, out, written = _one_bad(data, tmp_path, "所学学历", "博士后")
    assert code == 1 and "Sheet1!3: error:" in out and "所学学历" in out
    assert len(written) == 1


def test_a_union_outside_the_importing_union_is_refused(data, tmp_path):
    headers = HEADERS_NEW + ["单位"]
    code, out, _ = run("import", xlsx(tmp_path / "u.xlsx", [headers, row_new(0) + ["dl-xg-0001"]]),
                       "--unit", "dl-zs", "--form", "new", "--data", data)
    assert code == 1 and "不是 dl-zs 或它下属的工会" in out


def test_usage_errors_exit_2(data, tmp_path):
    assert run("import", tmp_path / "none.xlsx", "--unit", "dl-zs-0001", "--data", data)[0] == 2
    sheet = xlsx(tmp_path / "a.xlsx", [HEADERS_NEW, row_new(0)])
    code, _, err = run("import", sheet, "--unit", "nobody", "--data", data)
    assert code == 2 and "nobody" in err
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    code, out, _ = do_import(data, tmp_path / "old.xls")
    assert code == 1 and "另存为” .xlsx" in out


def test_a_graduate_sheet(data, tmp_path):
    headers = ["登记日期", "毕业生姓名", "性别", "身份证号码", "联系电话", "毕业学校", "学历", "毕业年度", "在本地就读",
               "职工姓名", "职工身份证号码", "困难职工档案内", "就业服务", "已就业"]
    row = ["2011-07-01", "李明", "男", id_number(birth="19890101", seq=11), "13900000000", "大连大学", "本科", 2011, "是",
           "李大", id_number(birth="19650101", seq=21), "是", "实习见习 2011-06-01\n求职补贴 2011-07-01 500元 提供方：市职工帮扶中心", "否"]
    code, out, err = run("import", xlsx(tmp_path / "g.xlsx", [headers, row]), "--unit", "dl-zs-0001", "--data", data)
    assert code == 0, out
    [path] = list((data / "graduates/2011/dl-zs-0001").glob("*.yaml"))
    assert path.name == "2011-dl-zs-0001-g001.yaml"
    text = path.read_text(encoding="utf-8")
    assert "kind: subsidy" in text and "amount: 500" in text and "provider: 市职工帮扶中心" in text
    _, problems = validate.run(data, str(data))
    assert [p for p in problems if p.severity == "error"] == []


def test_scale_a_sheet_of_10000_rows(data, tmp_path):
    """Slow scale test (about 10-20 s on a shared 2-core machine): 10,000 rows, two of them damaged."""
    path = tmp_path / "big.xlsx"
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("申请")
    ws.append(HEADERS_NEW)
    for i in range(10_000):
        r = row_new(i)
        if i == 4_999:
            r[HEADERS_NEW.index("身份证号码")] = 2.10202196803151e17
        if i == 9_998:
            r[HEADERS_NEW.index("联系电话")] = 41184123456
        ws.append(r)
    wb.save(path)
    code, out, err = do_import(data, path)
    assert code == 1
    lines = out.splitlines()
    assert len(lines) == 2
    assert "big.xlsx:申请!5001: error: 身份证号码被 Excel 存成了数字（2102" in lines[0]
    assert "申请!10000: warning:" in lines[1]
    assert "新建 9999 个文件" in err
    assert len(list((data / "applications/2011/dl-zs-0001").iterdir())) == 9_999
