"""Export a union's records as real .xlsx and .csv files; import them back and nothing changes."""

from __future__ import annotations

import openpyxl
import pytest
from io_fixtures import HEADERS_NEW, application, make_data, row_new, write_record
from test_import import files, run, xlsx

from jinqiu.sheets import columns as sheets


@pytest.fixture
def data(tmp_path):
    root = make_data(tmp_path / "data")
    run("import", xlsx(tmp_path / "a.xlsx", [HEADERS_NEW] + [row_new(i) for i in range(4)]),
        "--unit", "dl-zs-0001", "--data", root)
    write_record(root, application(2011, "dl-zs-0002", 1, approved_to=3, education="大专"))
    write_record(root, application(2011, "dl-zs-0002", 2, form="continuing", admission_year=2009, worker_seq=40))
    write_record(root, application(2011, "dl-xg-0001", 1, worker_seq=50))
    headers = ["登记日期", "毕业生姓名", "性别", "身份证号码", "联系电话", "毕业学校", "学历", "毕业年度", "在本地就读",
               "职工姓名", "职工身份证号码", "困难职工档案内", "就业服务", "已就业"]
    from io_fixtures import id_number
    row = ["2011-07-01", "李明", "男", id_number(birth="19890101", seq=11), "13900000000", "大连大学", "本科", 2011, "是",
           "李大", id_number(birth="19650101", seq=21), "是", "实习见习 2011-06-01\n求职补贴 2011-07-01 500.50元 提供方：市职工帮扶中心", "否"]
    code, out, err = run("import", xlsx(tmp_path / "g.xlsx", [headers, row]), "--unit", "dl-zs-0001", "--data", root)
    assert code == 0, out
    return root


def all_files(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.yaml"))}


def test_xlsx_export_holds_the_union_and_those_below_it_only(data, tmp_path):
    out = tmp_path / "e.xlsx"
    code, _, err = run("export", "--unit", "dl-zs", "--data", data, "--out", out)
    assert code == 0, err
    wb = openpyxl.load_workbook(out)
    apps = wb["申请"]
    header = [c.value for c in apps[1]]
    assert header[:4] == ["编号", "表格", "年度", "单位"] and header[-1] == "审批状态"
    ids_ = [r[0] for r in apps.iter_rows(min_row=2, values_only=True)]
    assert len(ids_) == 6 and not any("dl-xg" in i for i in ids_)
    col = header.index("身份证号码") + 1
    cell = apps.cell(2, col)
    assert cell.data_type == "s" and cell.number_format == "@" and len(cell.value) == 18
    status = {r[0]: r[-1] for r in apps.iter_rows(min_row=2, values_only=True)}
    # not in git, so nothing is proved: the three approvals the file claims do not count
    assert status["2011-dl-zs-0002-001"] == "已填报（另有 3 条审批未通过核验，不计入）"
    assert status["2011-dl-zs-0001-001"] == "已填报"
    assert wb["毕业生"].max_row == 2


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_export_then_import_changes_nothing(data, tmp_path, fmt):
    before = all_files(data)
    out = tmp_path / f"e.{fmt}"
    assert run("export", "--unit", "dl-zs", "--data", data, "--format", fmt, "--out", out)[0] == 0
    code, text, err = run("import", out, "--unit", "dl-zs", "--data", data)
    assert code == 0, text + err
    assert "新建 0 个文件，更新 0 个" in err and f"未变 {7 if fmt == 'xlsx' else 6} 个" in err
    if fmt == "csv":
        out = tmp_path / "g.csv"
        assert run("export", "--unit", "dl-zs", "--data", data, "--format", "csv", "--kind", "graduate", "--out", out)[0] == 0
        code, text, err = run("import", out, "--unit", "dl-zs", "--data", data)
        assert code == 0 and "未变 1 个" in err, text + err
    assert all_files(data) == before


def test_csv_export_is_excel_safe(data, tmp_path):
    out = tmp_path / "e.csv"
    run("export", "--unit", "dl-zs-0001", "--data", data, "--format", "csv", "--out", out)
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert '"=""2102' in text  # ID numbers as ="…", which Excel opens as text


def test_an_export_edited_in_excel_updates_only_what_changed(data, tmp_path):
    out = tmp_path / "e.xlsx"
    run("export", "--unit", "dl-zs", "--data", data, "--out", out)
    wb = openpyxl.load_workbook(out)
    ws = wb["申请"]
    header = [c.value for c in ws[1]]
    for r in range(2, ws.max_row + 1):
        if ws.cell(r, 1).value in ("2011-dl-zs-0001-002", "2011-dl-zs-0002-001"):
            ws.cell(r, header.index("家庭住址") + 1).value = "大连市中山区改后地址8号"
    wb.save(out)
    before = all_files(data)
    code, text, err = run("import", out, "--unit", "dl-zs", "--data", data)
    assert code == 0, text + err  # the approved one is corrected too, and the message says its approvals need a new round
    assert "2011-dl-zs-0002-001.yaml（改动了 家庭住址）：这份申请已有审批" in text and "需要从第 1 级开始重新审批" in text
    assert "大连市中山区改后地址8号" not in text  # the values changed are personal: never in a message
    after = all_files(data)
    assert [k for k in after if after[k] != before[k]] == ["applications/2011/dl-zs-0001/2011-dl-zs-0001-002.yaml",
                                                          "applications/2011/dl-zs-0002/2011-dl-zs-0002-001.yaml"]
    assert "approvals:\n- level: 1" in after["applications/2011/dl-zs-0002/2011-dl-zs-0002-001.yaml"].decode()  # kept as history


@pytest.mark.parametrize("form", ["new", "continuing", "local", "graduate"])
def test_blank_templates_are_generated_from_the_schemas(tmp_path, form):
    out = tmp_path / f"{form}.xlsx"
    code, _, err = run("export", "--template", form, "--out", out)
    assert code == 0, err
    wb = openpyxl.load_workbook(out)
    ws = wb.worksheets[0]
    header = [c.value for c in ws[1]]
    assert header == [c.title for c in sheets.template_columns(form)]
    if form != "graduate":
        assert ws.cell(2, header.index("身份证号码") + 1).number_format == "@"
        assert ("录取通知书" in header) == (form == "new")
        assert ("上年资助记录" in header) == (form == "continuing")
    # the instructions: a note on every column, in words about cells, never YAML advice
    info = [[c for c in r if c is not None] for r in wb["填写说明"].iter_rows(values_only=True)]
    start = info.index(["栏目", "怎么填"]) + 1
    assert [r[0] for r in info[start:]] == header and all(len(r) == 2 and r[1] for r in info[start:])
    text = "\n".join(str(c) for r in info for c in r)
    for yaml_word in ("请加引号", "加引号书写", "true", "false", "YAML", "form:"):
        assert yaml_word not in text, yaml_word
    assert "不要加引号" in text and "python build.py units" in text
    if form in ("new", "continuing"):
        assert "“资助单位”空着即为市总工会资助" in text


def test_a_filled_template_imports(tmp_path):
    root = make_data(tmp_path / "data")
    out = tmp_path / "t.xlsx"
    run("export", "--template", "new", "--out", out)
    wb = openpyxl.load_workbook(out)
    ws = wb.worksheets[0]
    header = [c.value for c in ws[1]]
    values = dict(zip(HEADERS_NEW, row_new(3)))
    for i, h in enumerate(header, 1):
        if h in values:
            ws.cell(2, i).value = values[h]
    wb.save(out)
    code, text, err = run("import", out, "--unit", "dl-zs-0001", "--data", root)
    assert code == 0, text
    assert len(files(root)) == 1


def test_statistics_export_in_the_official_layout(data, tmp_path):
    code, _, err = run("export", "--statistics", "--unit", "dl-zs", "--year", "2011", "--data", data,
                       "--out", tmp_path / "s.xlsx")
    assert code == 0, err
    wb = openpyxl.load_workbook(tmp_path / "s.xlsx")
    ws = wb.worksheets[0]
    assert "行动情况统计表" in ws["A1"].value and "中山区" in ws["A2"].value
    labels = [row[2] for row in ws.iter_rows(min_row=4, values_only=True) if len(row) > 2 and row[2]]
    assert any("共筹集资金" in label for label in labels)
    assert any("往届未就业" in label for label in labels)


def test_export_usage_errors(data, tmp_path):
    assert run("export", "--data", data)[0] == 2
    assert run("export", "--unit", "nobody", "--data", data)[0] == 2
    assert run("export", "--unit", "dl-zs", "--data", data, "--out", tmp_path / "x.csv")[0] == 2


def test_the_status_column_is_what_verify_proves_not_what_the_yaml_claims(tmp_path, monkeypatch):
    """A signed level-1 approval counts; a level-2 entry nobody signed is claimed in the file but
    does not count, and the sheet says so."""
    from jinqiu.check import validate
    from jinqiu.sample import demo
    from jinqiu.trust import approve

    lab = demo.Lab(tmp_path / "lab")
    demo.world(lab)
    rel = "applications/2011/dl-zs-0001/2011-dl-zs-0001-001.yaml"
    lab.write(rel, demo.application_yaml("2011-dl-zs-0001-001", "dl-zs-0001"))
    lab.commit("File", date="2011-07-20")
    data = validate.load(lab.data, "data")
    signing = approve.Signing("ssh", str(lab.keys / "r-zs1-01"), lab.fingerprint("r-zs1-01"))
    approve.approve(lab.repo, lab.data, data.applications, opinion="同意", signing=signing, dataset=data,
                    env=lab.signing_env("r-zs1-01", "2011-07-21"), today=demo._date("2011-07-21"))
    data = validate.load(lab.data, "data")
    forged = {"level": 2, "decision": "approve", "opinion": "同意", "reviewer": "r-zs-01", "date": "2011-07-22",
              "digest": __import__("jinqiu.trust.digest", fromlist=["of"]).of(data.applications[0].data)}
    lab.write(rel, approve.append_entry(lab.read(rel), forged))
    lab.commit("A level-2 entry nobody signed", date="2011-07-22")
    out = tmp_path / "e.xlsx"
    code, _, err = run("export", "--unit", "dl-zs", "--data", lab.data, "--out", out)
    assert code == 0, err
    apps = openpyxl.load_workbook(out)["申请"]
    header = [c.value for c in apps[1]]
    (row,) = list(apps.iter_rows(min_row=2, values_only=True))
    assert row[header.index("审批状态")] == "企业工会（街道工会）审查通过（另有 1 条审批未通过核验，不计入）"


@pytest.mark.parametrize("kind", ["application", "graduate"])
@pytest.mark.parametrize("year", [None, 2011, 2012])
def test_the_export_picks_the_same_records_from_verifys_dataset_as_from_the_folders(data, kind, year):
    """The export takes its records from the dataset verify loaded (one read of every file)."""
    from jinqiu.check import validate
    from jinqiu.edit import exporter

    loaded = validate.load(data, "data")
    for units in ({"dl-zs-0001"}, {"dl-zs-0001", "dl-zs-0002", "dl-zs"}, {"dl-xg-0001"}, set()):
        from_disk = exporter.select(data, "data", kind, units, year)
        from_dataset = exporter.select(data, "data", kind, units, year, loaded.records)
        assert [(r.rel, r.data) for r in from_dataset] == [(r.rel, r.data) for r in from_disk]
    assert exporter.select(data, "data", kind, {"dl-zs-0001", "dl-zs-0002"}, None, loaded.records)  # not vacuous
