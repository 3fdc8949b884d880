"""renewals: continuing students due an application, per union; --write drafts them. Funded means
verified: the records live in a real repository whose approvals are signed (ssh-keygen TEST keys),
and one whose file claims approvals nobody signed funds nobody."""

from __future__ import annotations

import pytest
from io_fixtures import CAMPAIGN, application, write_record
from test_import import run
from test_verify import entry

from jinqiu.check import schemacheck
from jinqiu.records import dataset
from jinqiu.sample import demo

REVIEWER = {("dl-zs-0001", 1): "r-zs1-01", ("dl-zs-0002", 1): "r-zs2-01", ("dl-zs-0001", 2): "r-zs-01",
            ("dl-zs-0002", 2): "r-zs-01", ("dl-zs-0001", 3): "r-dl-01", ("dl-zs-0002", 3): "r-dl-01"}


@pytest.fixture
def data(tmp_path):
    lab = demo.Lab(tmp_path)
    demo.world(lab, key_overrides={rid: [{"public_key": lab.key(rid), "valid_from": "2000-01-01"}] for rid in demo.WORLD_REVIEWERS})
    for y in (2009, 2010, 2011, 2012):
        lab.write(f"campaigns/{y}.yaml", CAMPAIGN.format(year=y))
    lab.commit("Campaigns", key="r-dl-01", date="2009-06-01")
    root = lab.data
    records = [  # (record, the level its approvals are signed up to)
        (application(2009, "dl-zs-0001", 1, education="本科", worker_seq=1, student="甲学生"), 3),  # funded by the city
        (application(2010, "dl-zs-0001", 1, form="continuing", education="本科", admission_year=2009, worker_seq=1,
                     student="甲学生"), 3),
        (application(2009, "dl-zs-0001", 2, education="大专", worker_seq=2, student="乙学生"), 3),
        (application(2010, "dl-zs-0001", 3, education="本科", worker_seq=3, student="丙学生"), 2),
        (application(2010, "dl-zs-0002", 1, funding_unit="dl-zs-0002", worker_seq=4, student="丁学生"), 1),
        (application(2010, "dl-xg-0001", 1, form="local", worker_seq=5, student="戊学生"), 0),
        (application(2010, "dl-zs-0001", 4, education="本科", worker_seq=6, student="己学生"), 0),  # claims, unsigned
    ]
    for data, _ in records:
        write_record(root, data)
    lab.commit("File", date="2010-07-20")
    for data, upto in records:
        rel = f"applications/{data['year']}/{data['unit']}/{data['id']}.yaml"
        for level in range(1, upto + 1):
            rid = REVIEWER[(data["unit"], level)]
            entry(lab, rel, level, rid, date=f"{data['year']}-07-2{level}")
            lab.commit(f"Approve {data['id']} at level {level}", key=rid, date="2010-07-25")
    rel = "applications/2010/dl-zs-0001/2010-dl-zs-0001-004.yaml"
    for level in (1, 2, 3):
        entry(lab, rel, level, REVIEWER[("dl-zs-0001", level)], date=f"2010-07-2{level}")
    lab.commit("Approvals typed in, never signed", date="2010-07-26")
    return root


def test_who_is_due_in_2011(data):
    code, out, err = run("renewals", "2011", "--data", data)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "dl-zs-0001 大连港集团工会：2 名"
    assert "2010-dl-zs-0001-001" in out  # the latest of 甲's applications
    assert "2009-dl-zs-0001-001" not in out
    assert "2009-dl-zs-0001-002" in out and "学业至 2011 年" in out  # 大专: 2009-2011
    assert "2010-dl-zs-0001-003" not in out  # approved to level 2 only, the city funds it
    assert "dl-zs-0002 中山区青泥洼桥街道工会：1 名" in out  # its own funding: level 1 ends the chain
    assert "2010-dl-zs-0001-004" not in out  # its file claims three approvals, but nobody signed them
    assert "戊" not in out and "dl-xg" not in out  # locally funded pupils are not 附件2 students
    assert "甲学生" not in out and "甲*生" in out  # masked
    assert "应续在读生继续资助申请 3 份" in err


def test_a_finished_course_is_not_due(data):
    code, out, _ = run("renewals", "2012", "--data", data)
    assert "2009-dl-zs-0001-002" not in out  # 大专 2009 finished in 2011
    assert "2010-dl-zs-0001-001" in out


def test_write_drafts_continuing_applications_once(data):
    code, out, err = run("renewals", "2011", "--unit", "dl-zs-0001", "--write", "--date", "2011-07-01", "--data", data)
    assert code == 0, err
    made = sorted((data / "applications/2011/dl-zs-0001").glob("*.yaml"))
    assert [p.name for p in made] == ["2011-dl-zs-0001-001.yaml", "2011-dl-zs-0001-002.yaml"]
    for p in made:
        record = dataset.read_one(data, str(data), p.relative_to(data).as_posix())[0]
        d = record.data
        assert d["form"] == "continuing" and d["approvals"] == [] and d["filed_on"] == "2011-07-01"
        assert d["continues"] in ("2010-dl-zs-0001-001", "2009-dl-zs-0001-002")
        assert d["documents"] == {"scholarship_letter": False, "transcript": False, "system_printout": False}
        assert list(schemacheck.check("application", d)) == []
        assert p.read_text(encoding="utf-8").startswith("# 由 renewals 生成")
    first = [p for p in made if "2010-dl-zs-0001-001" in p.read_text(encoding="utf-8")][0]
    text = first.read_text(encoding="utf-8")
    assert "name: 甲学生" in text and "amount: 3000" in text  # the campaign's continuing standard for 本科
    code, out, err = run("fmt", "--check", "--data", data)
    assert "applications/2011" not in out + err, out + err  # the drafts are in the one canonical form
    code, out, err = run("renewals", "2011", "--unit", "dl-zs-0001", "--data", data)
    assert "0 份" in err and out == ""  # the drafts exist now: nobody is due twice


def test_renewals_needs_the_campaign_file(data):
    code, _, err = run("renewals", "2013", "--data", data)
    assert code == 2 and "campaigns/2013.yaml" in err


def test_without_a_root_nobody_is_due_and_it_says_why(data):
    import subprocess

    subprocess.run(["git", "-C", str(data.parent), "config", "--unset-all", "jinqiu.rootKey"], check=True)
    code, out, err = run("renewals", "2011", "--data", data)
    assert code == 0 and out == "" and "核验结果不计任何审批" in err


@pytest.mark.parametrize("name", ["乙学生\u200b", "乙\u3000学生", "乙·学生"], ids=["zero-width space", "ideographic space", "middle dot"])
def test_a_student_who_applied_this_year_under_a_disguised_name_is_not_due_again(data, name):
    """乙 (funded in 2009, verified; due in 2011 by test_who_is_due_in_2011) has a 2011 application
    already, filed by another union for the same worker with the student's name disguised: the same
    child as validate sees it (worker's ID number and canonical name), so no second continuing
    application is drafted."""
    again = application(2011, "dl-xg-0001", 9, form="continuing", approved_to=0, education="大专", admission_year=2009,
                        worker_seq=2, student=name)
    again["continues"] = "2009-dl-zs-0001-002"
    write_record(data, again)
    code, out, err = run("renewals", "2011", "--data", data)
    assert code == 0, err
    assert "2009-dl-zs-0001-002" not in out
    assert "2010-dl-zs-0001-001" in out  # 甲 is still due
