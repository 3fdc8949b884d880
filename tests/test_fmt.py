"""fmt: one canonical form, comments kept, a value's meaning never changed, CI's --check."""

from __future__ import annotations

import random

import pytest
import yaml
from io_fixtures import application, make_data, write_record
from test_import import run

from jinqiu.edit import fmt
from jinqiu.records import yamlstrict, yamlwrite

MESSY = """\
# 王家的申请，2011 年
year: 2011
id: 2011-dl-zs-0001-001
unit: dl-zs-0001
form: new
filed_on: 2011-07-20
worker:
  phone: 0411-84123456   # 单位电话，不是手机

  id_number: 210202196505050012
  name: 王建国
  gender: 男
  birth_month: 1965-05
  employer: "大连某机床厂"
  address: '大连市中山区人民路1号 # 3 单元'
  household_size: 3
  income_per_capita: 800.50
  employment: 下岗
  hardship_cause: 疾病致困
student: {name: 王小明, school: 大连理工大学, education: 本科, admission_year: 2011}
flags:
  in_archive: 是
  migrant_worker: false
documents:
  admission_notice: true
  exam_scores: true
  system_printout: true
aid:
  funding_unit: dl
  amount: 5000
note: |  # 说明
  第一行 # 这不是注释
  第二行
approvals: []
# 文件结束
"""


@pytest.fixture
def data(tmp_path):
    return make_data(tmp_path / "data")


def test_a_messy_file_is_made_canonical_keeping_comments_and_meaning(data):
    path = data / "applications/2011/dl-zs-0001/2011-dl-zs-0001-001.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(MESSY, encoding="utf-8")
    code, out, err = run("fmt", "--check", "--data", data)
    assert code == 1 and "2011-dl-zs-0001-001.yaml:1: error: 文件不是统一格式" in out
    assert path.read_text(encoding="utf-8") == MESSY  # --check never writes
    code, out, err = run("fmt", "--data", data)
    assert code == 0, out + err
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# 王家的申请，2011 年\nid: \"2011-dl-zs-0001-001\"\nform: new\nyear: 2011\n")
    assert '  phone: "0411-84123456" # 单位电话，不是手机\n' in text
    assert '  id_number: "210202196505050012"\n' in text
    assert 'birth_month: "1965-05"' in text and "income_per_capita: 800.50" in text
    assert "address: '大连市中山区人民路1号 # 3 单元'" in text or 'address: 大连市中山区人民路1号 # 3 单元' not in text
    assert "note: | # 说明\n  第一行 # 这不是注释\n  第二行\n" in text
    assert text.endswith("approvals: []\n# 文件结束\n")
    assert "\n\n" not in text
    old, _ = yamlstrict.load(MESSY.encode(), "a")
    new, _ = yamlstrict.load(text.encode(), "a")
    assert new["worker"]["phone"] == "0411-84123456" and new["worker"]["id_number"] == "210202196505050012"
    assert new["flags"]["in_archive"] == "true"  # 是 and true mean the same to the schema
    assert run("fmt", "--check", "--data", data)[0] == 0
    assert run("fmt", "--data", data)[1] == ""  # idempotent: nothing left to do


def test_records_written_by_yamlwrite_are_already_canonical(data):
    for i in range(1, 6):
        write_record(data, application(2011, "dl-zs-0001", i, approved_to=i % 4))
    code, out, err = run("fmt", "--check", "--data", data)
    assert code == 0, out + err


def test_a_file_the_strict_loader_refuses_is_reported_and_left_alone(data):
    path = data / "applications/2011/dl-zs-0001/2011-dl-zs-0001-001.yaml"
    path.parent.mkdir(parents=True)
    path.write_text("id: &a x\nform: *a\n", encoding="utf-8")
    code, out, err = run("fmt", "--data", data)
    assert code == 1 and "锚点" in out
    assert path.read_text(encoding="utf-8") == "id: &a x\nform: *a\n"


def test_fmt_refuses_to_write_when_the_meaning_would_change(data, monkeypatch):
    path = write_record(data, application(2011, "dl-zs-0001", 1))
    path.write_text(path.read_text(encoding="utf-8") + "# 尾注\n", encoding="utf-8")
    before = path.read_bytes()
    real = yamlwrite.dump
    monkeypatch.setattr(yamlwrite, "dump", lambda record, kind, **kw: real(record, kind).replace('"0411-84123456"', "0411"))
    code, out, err = run("fmt", "--data", data)
    assert code == 1 and "改变某个值的含义" in out
    assert path.read_bytes() == before


def test_paths_limit_fmt_and_must_be_inside_the_data_directory(data, tmp_path):
    a = write_record(data, application(2011, "dl-zs-0001", 1))
    b = write_record(data, application(2011, "dl-zs-0002", 1))
    a.write_text("# x\n" + a.read_text(encoding="utf-8").replace("form: new\n", "") + "form: new\n", encoding="utf-8")
    b.write_text(b.read_text(encoding="utf-8").replace("form: new\n", "") + "form: new\n", encoding="utf-8")
    code, out, _ = run("fmt", a, "--data", data)
    assert code == 0 and out.count("已整理") == 1
    assert run("fmt", "--check", "--data", data)[0] == 1
    assert run("fmt", tmp_path, "--data", data)[0] == 2


def test_comments_are_found_only_outside_text():
    text = 'a: "x # y" # c1\nb: |\n  # not\n# c2\nc: d#e\n'
    assert [(c.line, c.own_line, c.text) for c in fmt.comments(text)] == [(1, False, "# c1"), (4, True, "# c2")]


def test_the_fast_and_the_python_emitter_write_the_same_text():
    """yamlwrite uses libyaml's emitter when it writes the same bytes as the Python one."""
    rng = random.Random(7)
    alphabet = ([chr(c) for c in range(0x20, 0x7f)] + [chr(c) for c in range(0x4e00, 0x4e30)]
                + list("　，。：；“”（）\t\n\r\u2028\u2029\ufeff\x85\x07\u00a0") + ["\U00020000", "😀"])
    for _ in range(3000):
        s = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 10)))
        record = {"note": s, "worker": {"name": s}}
        fast = yamlwrite.dump(record, "application")
        slow = yamlwrite.dump(record, "application", fast=False)
        assert fast == slow, repr(s)
        if "\x85" not in s:  # PyYAML's Python emitter folds a raw NEL (known; fmt refuses such a file)
            assert yaml.safe_load(fast)["note"] == s


def test_the_shared_base_tree_and_the_sample_data_are_canonical():
    """tests/cases/base (and data/, once the sample data is in the repository) pass fmt --check."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    for tree in (root / "tests/cases/base", root / "data"):
        if tree.is_dir():
            code, out, err = run("fmt", "--check", "--data", tree)
            assert code == 0, out + err
