"""new: a record file with every field of its form, labelled, in the right place, canonical."""

from __future__ import annotations

import pytest
from io_fixtures import make_data
from test_import import run

from jinqiu.edit import fmt
from jinqiu.records import yamlstrict
from jinqiu.sheets import columns as sheets


@pytest.fixture
def data(tmp_path):
    return make_data(tmp_path / "data")


def pointers(tree, prefix=""):
    out = set()
    for k, v in tree.items():
        out.add(f"{prefix}/{k}")
        if isinstance(v, dict):
            out |= pointers(v, f"{prefix}/{k}")
    return out


@pytest.mark.parametrize("form", ["new", "continuing", "local"])
def test_a_new_application_has_every_field_of_its_form(data, form):
    code, out, err = run("new", "application", "--unit", "dl-zs-0001", "--year", "2011", "--form", form,
                         "--date", "2011-07-01", "--data", data)
    assert code == 0, err
    path = data / "applications/2011/dl-zs-0001/2011-dl-zs-0001-001.yaml"
    assert out.strip() == f"{data}/applications/2011/dl-zs-0001/2011-dl-zs-0001-001.yaml"
    text = path.read_text(encoding="utf-8")
    tree, _ = yamlstrict.load(text.encode(), "x")
    assert tree["unit"] == "dl-zs-0001" and tree["year"] == "2011" and tree["form"] == form
    # the notice: the city funds 附件1 and 附件2; a union funds its own local aid
    assert tree["filed_on"] == "2011-07-01" and tree["aid"]["funding_unit"] == ("dl-zs-0001" if form == "local" else "dl")
    have = pointers(tree)
    for c in sheets.template_columns(form):
        if c.pointer not in ("/student/id_number", "/student/birth_date", "/aid/paid_on", "/government_aid/source", "/government_aid/amount"):
            assert c.pointer in have, c.pointer
    assert "  name: \"\" # 职工姓名：" in text and "  id_number: \"\" # 身份证号码：" in text
    assert run("fmt", "--check", "--data", data)[0] == 0  # already canonical, comments and all
    assert fmt.canonical(text.encode(), "application", "x")[0] == text


def test_ids_are_fresh(data):
    for _ in range(3):
        run("new", "application", "--unit", "dl-zs-0001", "--year", "2011", "--data", data)
    names = sorted(p.name for p in (data / "applications/2011/dl-zs-0001").iterdir())
    assert names == [f"2011-dl-zs-0001-00{i}.yaml" for i in (1, 2, 3)]
    code, out, _ = run("new", "graduate", "--unit", "dl-zs-0001", "--year", "2011", "--data", data)
    assert code == 0 and out.strip().endswith("graduates/2011/dl-zs-0001/2011-dl-zs-0001-g001.yaml")


def test_a_filled_in_new_file_validates(data):
    from io_fixtures import id_number

    from jinqiu.check import validate

    run("new", "application", "--unit", "dl-zs-0001", "--year", "2011", "--date", "2011-07-01", "--data", data)
    path = data / "applications/2011/dl-zs-0001/2011-dl-zs-0001-001.yaml"
    number = id_number(birth="19650505", seq=7)
    fill = {
        'name: "" # 职工姓名': "name: 王建国 # 职工姓名", 'gender: ""': "gender: 男", 'birth_month: ""': 'birth_month: "1965-05"',
        'employer: ""': "employer: 大连某机床厂", 'id_number: ""': f'id_number: "{number}"',
        'address: ""': "address: 大连市中山区人民路1号", 'phone: ""': 'phone: "13804110000"',
        'household_size: ""': "household_size: 3", 'income_per_capita: ""': "income_per_capita: 800",
        'employment: ""': "employment: 下岗", 'hardship_cause: ""': "hardship_cause: 疾病致困",
        'name: "" # 学生姓名': "name: 王小明 # 学生姓名", 'school: ""': "school: 大连理工大学", 'major: ""': "major: 机械",
        'education: ""': "education: 本科", 'admission_year: ""': "admission_year: 2011", 'amount: ""': "amount: 5000",
        "in_archive: false": "in_archive: true", "admission_notice: false": "admission_notice: true",
        "exam_scores: false": "exam_scores: true", "system_printout: false": "system_printout: true",
    }
    text = path.read_text(encoding="utf-8")
    for a, b in fill.items():
        assert a in text, a
        text = text.replace(a, b, 1)
    path.write_text(text, encoding="utf-8")
    _, problems = validate.run(data, str(data))
    assert [p for p in problems if p.severity == "error"] == []
    assert run("fmt", "--check", "--data", data)[0] == 0


def test_a_new_report_and_only_one_a_year(data):
    code, out, _ = run("new", "report", "--unit", "dl-zs", "--year", "2011", "--data", data)
    assert code == 0
    text = (data / "reports/2011/dl-zs.yaml").read_text(encoding="utf-8")
    assert "funds: # 筹集资金" in text and "  total: \"\" # 共筹集资金（万元）" in text
    code, _, err = run("new", "report", "--unit", "dl-zs", "--year", "2011", "--data", data)
    assert code == 2 and "已存在" in err


def test_new_usage_errors(data):
    assert run("new", "application", "--unit", "nobody", "--year", "2011", "--data", data)[0] == 2
    assert run("new", "application", "--unit", "dl-zs-0001", "--year", "2011", "--date", "7/1", "--data", data)[0] == 2
