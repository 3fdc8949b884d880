"""The grassroots clerk's everyday path (issue 10, items 1-5): a blank 资助单位, quotes in cells,
ID typos, union names and codes, and the small traps of validate, import and new."""

from __future__ import annotations

from datetime import date

import openpyxl
import pytest
from io_fixtures import HEADERS_NEW, application, id_number, make_data, row_new, write_record
from test_import import files, run, xlsx

from jinqiu.check import ids, validate
from jinqiu.records import yamlstrict


@pytest.fixture
def data(tmp_path):
    return make_data(tmp_path / "data")


def _funder(data, rel="applications/2011/dl-zs-0001/2011-dl-zs-0001-001.yaml"):
    tree, _ = yamlstrict.load((data / rel).read_bytes(), rel)
    return tree["aid"]["funding_unit"]


# ---- 1. a blank 资助单位 ----------------------------------------------------------------


@pytest.mark.parametrize("headers_extra, value", [([], None), (["资助单位"], ""), (["资助单位"], None)])
def test_a_blank_funder_on_a_new_student_form_is_the_city(data, tmp_path, headers_extra, value):
    row = row_new(0) + ([value] if headers_extra else [])
    code, out, err = run("import", xlsx(tmp_path / "a.xlsx", [HEADERS_NEW + headers_extra, row]),
                         "--unit", "dl-zs-0001", "--data", data)
    assert code == 0, out + err
    assert _funder(data) == "dl"
    assert "warning" not in out  # the notice's own rule needs no warning


def test_a_blank_funder_on_local_aid_is_the_union_itself(data, tmp_path):
    headers = [h for h in HEADERS_NEW if h not in ("录取通知书", "高考成绩通知单复印件")] + ["表格"]
    row = [v for h, v in zip(HEADERS_NEW, row_new(0)) if h not in ("录取通知书", "高考成绩通知单复印件")] + ["local"]
    row[headers.index("助学资金")] = 1000
    row[headers.index("所学学历")] = "高中"
    code, out, err = run("import", xlsx(tmp_path / "a.xlsx", [headers, row]), "--unit", "dl-zs-0001", "--data", data)
    assert code == 0, out + err
    assert _funder(data) == "dl-zs-0001"


@pytest.mark.parametrize("typed, funder", [("大连市中山区总工会", "dl-zs"), ("dl-zs", "dl-zs"), ("中山区总工会", "dl-zs"),
                                           ("大连某机床厂工会", "dl-zs-0001")])
def test_a_funder_below_the_city_by_name_or_code_is_taken_with_a_warning_every_time(data, tmp_path, typed, funder):
    row = row_new(0) + [typed]
    row[HEADERS_NEW.index("助学资金")] = 1000
    sheet = xlsx(tmp_path / "a.xlsx", [HEADERS_NEW + ["资助单位"], row])
    for _ in range(2):  # the warning is said again on a re-import that changes nothing
        code, out, err = run("import", sheet, "--unit", "dl-zs-0001", "--data", data)
        assert code == 0, out + err
        assert "Sheet1!2: warning: “资助单位”为" in out and "不报市总工会审批" in out
    assert "未变 1 个" in err
    assert _funder(data) == funder
    # validate says it too
    _, problems = validate.run(data, "data")
    assert [p.code for p in problems if p.severity == "warning" and p.code == "funded-below-city"] == ["funded-below-city"]


@pytest.mark.parametrize("typed", ["市总工会", "大连市总工会", "dl", "DL", "  dl "])
def test_the_city_by_any_of_its_names(data, tmp_path, typed):
    code, out, err = run("import", xlsx(tmp_path / "a.xlsx", [HEADERS_NEW + ["资助单位"], row_new(0) + [typed]]),
                         "--unit", "dl-zs-0001", "--data", data)
    assert code == 0, out + err
    assert _funder(data) == "dl" and "warning" not in out


@pytest.mark.parametrize("typed, words", [
    ("市总", None),
    ("中山区某厂工会", "没有“中山区某厂工会”这个工会"),
    ("dl-xg", "不是本单位或它的上级"),  # exists, but not above the filing union
])
def test_an_unknown_or_foreign_funder_is_refused_and_nothing_is_written(data, tmp_path, typed, words):
    code, out, err = run("import", xlsx(tmp_path / "a.xlsx", [HEADERS_NEW + ["资助单位"], row_new(0) + [typed]]),
                         "--unit", "dl-zs-0001", "--data", data)
    if words is None:  # 市总 is a usual short name of the city
        assert code == 0 and _funder(data) == "dl"
        return
    assert code == 1 and words in out
    assert files(data) == {}
    if "没有" in words:
        assert "最接近的有" in out and "python build.py units" in out


# ---- 2. quotes in cells ----------------------------------------------------------------


@pytest.mark.parametrize("wrap", ['"{}"', "'{}'", "“{}”", "'{}", " \"{}\" "])
def test_quotes_around_an_id_number_or_phone_are_not_part_of_it(data, tmp_path, wrap):
    row = row_new(0)
    number, phone = row[HEADERS_NEW.index("身份证号码")], row[HEADERS_NEW.index("联系电话")]
    row[HEADERS_NEW.index("身份证号码")] = wrap.format(number)
    row[HEADERS_NEW.index("联系电话")] = wrap.format(phone)
    code, out, err = run("import", xlsx(tmp_path / "a.xlsx", [HEADERS_NEW, row]), "--unit", "dl-zs-0001", "--data", data)
    assert code == 0, out + err
    text = next(iter(files(data).values())).decode()
    assert f'id_number: "{number}"' in text and f'phone: "{phone}"' in text


def test_a_csv_with_quoted_values_imports(data, tmp_path):
    row = row_new(0)
    number = row[HEADERS_NEW.index("身份证号码")]
    row[HEADERS_NEW.index("身份证号码")] = f"'{number}"
    path = tmp_path / "a.csv"
    path.write_text(",".join(HEADERS_NEW) + "\n" + ",".join(str(v) for v in row) + "\n", encoding="utf-8")
    code, out, err = run("import", path, "--unit", "dl-zs-0001", "--data", data)
    assert code == 0, out + err


# ---- 3. an ID number typo --------------------------------------------------------------


def _swapped(number: str) -> str:
    """Two neighbouring digits swapped: the usual typo, which the check digit catches."""
    for i in range(8, 16):
        if number[i] != number[i + 1]:
            candidate = number[:i] + number[i + 1] + number[i] + number[i + 2:]
            if ids.id_problem(candidate) and "校验位" in ids.id_problem(candidate):
                return candidate
    raise AssertionError("no swap changes the check")


def test_a_check_digit_error_never_suggests_a_digit(data, tmp_path):
    row = row_new(0)
    number = row[HEADERS_NEW.index("身份证号码")]
    bad = _swapped(number)
    row[HEADERS_NEW.index("身份证号码")] = bad
    code, out, _ = run("import", xlsx(tmp_path / "a.xlsx", [HEADERS_NEW, row]), "--unit", "dl-zs-0001", "--data", data)
    assert code == 1
    assert "有一位数字写错" in out and "颠倒" in out and "对照身份证" in out
    assert "应为" not in out.split("身份证号码", 1)[1].split("\n")[0]
    assert ids.check_digit(bad[:17]) not in ids.id_problem(bad)  # the "right" last digit is nowhere
    assert files(data) == {}


# ---- 4. union names and codes ----------------------------------------------------------


@pytest.mark.parametrize("command", [
    ["import", "SHEET", "--unit"], ["export", "--out", "OUT", "--unit"], ["new", "application", "--year", "2011", "--unit"],
    ["validate", "--unit"], ["renewals", "2011", "--unit"],
])
def test_every_unit_option_takes_a_name_or_a_code_and_names_the_nearest_when_unknown(data, tmp_path, command):
    sheet = xlsx(tmp_path / "a.xlsx", [HEADERS_NEW, row_new(0)])
    argv = [str(sheet) if a == "SHEET" else str(tmp_path / "o.xlsx") if a == "OUT" else a for a in command]
    code, out, err = run(*argv, "大连某机床厂工会", "--data", data)
    assert code == 0, out + err
    code, out, err = run(*argv, "大连某机床场工会", "--data", data)
    assert code == 2 and "没有“大连某机床场工会”这个工会" in err and "大连某机床厂工会（dl-zs-0001）" in err
    assert "Traceback" not in err


def test_the_unit_column_of_a_sheet_takes_names(data, tmp_path):
    sheet = xlsx(tmp_path / "a.xlsx", [HEADERS_NEW + ["单位"], row_new(0) + ["中山区青泥洼桥街道工会"], row_new(1) + ["某某工会"]])
    code, out, err = run("import", sheet, "--unit", "dl-zs", "--form", "new", "--data", data)
    assert code == 1 and "Sheet1!3: error: “单位”：没有“某某工会”这个工会" in out
    assert list(files(data)) == ["applications/2011/dl-zs-0002/2011-dl-zs-0002-001.yaml"]


def test_units_lists_every_code_and_finds_by_part_of_a_name(data):
    code, out, err = run("units", "--data", data)
    assert code == 0
    assert "dl  大连市总工会（市总工会）" in out and "    dl-zs-0001  大连某机床厂工会（企业工会）" in out
    code, out, _ = run("units", "机床", "--data", data)
    assert code == 0 and out.strip() == "dl-zs-0001  大连某机床厂工会（企业工会）"
    code, out, _ = run("units", "--under", "大连市西岗区总工会", "--data", data)
    assert [line.split()[0] for line in out.splitlines()] == ["dl-xg", "dl-xg-0001"]


def test_validate_names_the_code_of_a_funder_written_as_a_name(data):
    record = application(2011, "dl-zs-0001", 1, funding_unit="市总工会")
    write_record(data, record)
    _, problems = validate.run(data, "data")
    [p] = [p for p in problems if p.code == "funding-unit-not-ancestor"]
    assert "“市总工会”即 大连市总工会（dl），这里要写工会编号 dl" in p.message


# ---- 5. validate --unit, dry run, new's date, a short date, the continuing year rule -----------


def test_validate_unit_reports_only_that_union_and_those_below(data):
    bad = application(2011, "dl-zs-0001", 1)
    bad["worker"]["phone"] = "12345"
    write_record(data, bad)
    other = application(2011, "dl-xg-0001", 1, worker_seq=7)
    other["worker"]["phone"] = "12345"
    write_record(data, other)
    code, out, err = run("validate", "--unit", "dl-zs", "--data", data)
    assert code == 1 and "dl-zs-0001-001.yaml" in out and "dl-xg" not in out
    assert "另有 1 个错误" in err
    code, out, err = run("validate", "--unit", "大连市西岗区总工会", "--data", data)
    assert code == 1 and "dl-xg-0001-001.yaml" in out and "dl-zs-0001" not in out


def test_a_dry_run_says_how_many_files_it_would_write(data, tmp_path):
    sheet = xlsx(tmp_path / "a.xlsx", [HEADERS_NEW] + [row_new(i) for i in range(3)])
    code, out, err = run("import", sheet, "--unit", "dl-zs-0001", "--dry-run", "--data", data)
    assert code == 0 and "将新建 3 个文件" in err and "?" not in err
    assert files(data) == {}


def test_new_dates_a_record_from_its_campaign_not_todays_clock(data):
    from jinqiu.commands import new
    from jinqiu import cli

    args = cli.parser().parse_args(["new", "application", "--unit", "dl-zs-0001", "--year", "2011", "--data", str(data)])
    import io

    err = io.StringIO()
    assert new.run(args, io.StringIO(), err, today=date(2026, 11, 29)) == 0
    tree, _ = yamlstrict.load((data / "applications/2011/dl-zs-0001/2011-dl-zs-0001-001.yaml").read_bytes(), "x")
    assert tree["filed_on"] == "2011-08-10" and "暂定" in err.getvalue()  # no starts_on in this campaign file
    args = cli.parser().parse_args(["new", "application", "--unit", "dl-zs-0001", "--year", "2011", "--data", str(data)])
    assert new.run(args, io.StringIO(), io.StringIO(), today=date(2011, 7, 3)) == 0
    tree, _ = yamlstrict.load((data / "applications/2011/dl-zs-0001/2011-dl-zs-0001-002.yaml").read_bytes(), "x")
    assert tree["filed_on"] == "2011-07-03"
    code, _, err = run("new", "application", "--unit", "dl-zs-0001", "--year", "2031", "--data", data)
    assert code == 2 and "没有 2031 年度的活动文件" in err


def test_a_short_date_gets_one_clear_message(base_data):
    """Not also a false late warning (text 2011-7-7 sorts after 2011-08-10) nor an approval "before" filing."""
    path = base_data / "applications/2011/dl-zs-0001/2011-dl-zs-0001-001.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace('filed_on: "2011-07-15"', "filed_on: 2011-7-7"), encoding="utf-8")
    _, problems = validate.run(base_data, "data")
    mine = [p for p in problems if p.path.endswith(path.name)]
    assert len(mine) == 1, [p.text() for p in mine]
    assert mine[0].code == "schema-format" and "应写成 2011-07-07" in mine[0].message


def test_the_continuing_year_rule_is_a_warning_in_words(data):
    campaign = data / "campaigns/2011.yaml"
    campaign.write_text(campaign.read_text(encoding="utf-8") + "continuing_years:\n- 2009\n", encoding="utf-8")
    first = application(2010, "dl-zs-0001", 1, approved_to=3)
    write_record(data, first)
    write_record(data, application(2011, "dl-zs-0001", 1, form="continuing", admission_year=2010))
    _, problems = validate.run(data, "data")
    [p] = [p for p in problems if p.code == "continuing-year-not-covered"]
    assert p.severity == "warning" and isinstance(p.message, str) and "('" not in p.message
    assert p.message == "2011 年度的奖学金只继续资助 2009 年考入的学生"
