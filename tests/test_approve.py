"""approve through the command line, with the reviewer's own git signing configuration."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest

from jinqiu import cli
from jinqiu.sample import demo
from jinqiu.trust import status, verify

ROOT = Path(__file__).resolve().parent.parent
APP = "applications/2011/dl-zs-0001/2011-dl-zs-0001-001.yaml"
APP2 = "applications/2011/dl-zs-0001/2011-dl-zs-0001-002.yaml"
APP3 = "applications/2011/dl-zs-0002/2011-dl-zs-0002-001.yaml"


@pytest.fixture
def lab(tmp_path, monkeypatch):
    lab = demo.Lab(tmp_path)
    demo.world(lab)
    lab.write(APP, demo.application_yaml("2011-dl-zs-0001-001", "dl-zs-0001", worker_seq=1))
    lab.write(APP2, demo.application_yaml("2011-dl-zs-0001-002", "dl-zs-0001", worker_seq=2))
    lab.write(APP3, demo.application_yaml("2011-dl-zs-0002-001", "dl-zs-0002", worker_seq=3))
    lab.commit("File", date="2011-07-20")
    for k, v in demo.GIT_ID.items():
        monkeypatch.setenv(k, v)
    monkeypatch.chdir(lab.repo)
    return lab


def campaign(lab, years=(2011,)):
    for year in years:
        text = (ROOT / "tests" / "cases" / "base" / "campaigns" / "2011.yaml").read_text(encoding="utf-8")
        lab.write(f"campaigns/{year}.yaml", text.replace("2011", str(year)))
    lab.commit("Campaigns", key="r-dl-01", date="2011-06-20")  # trust data: signed by the city's administrator


def state(lab):
    """Everything approve may touch: HEAD, the index, the work tree's status and every file's text."""
    files = {p.relative_to(lab.repo).as_posix(): p.read_bytes() for p in lab.repo.rglob("*") if p.is_file() and ".git" not in p.parts}
    return (lab.git("rev-parse", "HEAD"), lab.git("ls-files", "-s"), lab.git("status", "--porcelain", "--untracked-files=all"),
            files)


def as_reviewer(lab, rid):
    lab.git("config", "user.signingkey", str(lab.keys / rid))
    lab.git("config", "gpg.format", "ssh")


def main(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def test_approve_appends_and_makes_one_signed_commit(lab):
    before = lab.read(APP)
    as_reviewer(lab, "r-zs1-01")
    code, out, err = main("approve", "--data", "data", f"data/{APP}", f"data/{APP2}", "--opinion", "情况属实，同意上报",
                          "--date", "2011-07-21")
    assert code == 0, err
    assert "已审批 2 份申请" in out
    assert lab.git("rev-list", "--count", "HEAD") == "3"
    assert "gpgsig -----BEGIN SSH SIGNATURE-----" in lab.git("cat-file", "commit", "HEAD")
    after = lab.read(APP)
    assert after.startswith(before.replace("approvals: []\n", "approvals:\n"))  # nothing else reformatted
    assert "reviewer: r-zs1-01" in after and "digest: sha256:" in after and "BEGIN SSH SIGNATURE" in after
    statuses, problems = verify.run(None, lab.data, display_root="data", use_cache=False)
    assert problems == []
    assert statuses[APP] == status.Status(status.APPROVED, 1, False, True)


def test_batch_pending_for_a_district_reviewer(lab):
    campaign(lab)
    as_reviewer(lab, "r-zs1-01")
    assert main("approve", "--data", "data", "--pending", "--yes", "--opinion", "同意", "--date", "2011-07-21")[0] == 0
    as_reviewer(lab, "r-zs2-01")
    assert main("approve", "--data", "data", "--pending", "--yes", "--opinion", "同意", "--date", "2011-07-21")[0] == 0
    as_reviewer(lab, "r-zs-01")
    code, out, err = main("approve", "--data", "data", "--pending", "--yes", "--unit", "dl-zs", "--opinion", "同意资助",
                          "--date", "2011-07-22")
    assert code == 0, err
    assert "已审批 3 份申请" in out
    statuses, problems = verify.run(None, lab.data, display_root="data", use_cache=False)
    assert problems == []
    assert {s.level for s in statuses.values()} == {2}


def test_refuses_what_verify_would_reject(lab):
    as_reviewer(lab, "r-zs-01")  # level 2, but level 1 has not approved yet
    code, _, err = main("approve", "--data", "data", f"data/{APP}", "--opinion", "同意")
    assert code == 1
    assert f"data/{APP}" in err and "跳过了第 1 级" in err
    as_reviewer(lab, "r-zs2-01")  # level 1 of another union
    code, _, err = main("approve", "--data", "data", f"data/{APP}", "--opinion", "同意")
    assert code == 1 and "dl-zs-0001" in err
    assert lab.git("rev-list", "--count", "HEAD") == "2"
    assert "approvals: []" in lab.read(APP)


def test_refuses_an_unregistered_key(lab):
    lab.key("stranger")
    as_reviewer(lab, "stranger")
    code, _, err = main("approve", "--data", "data", f"data/{APP}", "--opinion", "同意")
    assert code == 1 and "没有在审核人登记" in err


def test_detached_signature_survives_a_squash_merge(lab):
    lab.git("checkout", "-q", "-b", "review")
    as_reviewer(lab, "r-zs1-01")
    assert main("approve", "--data", "data", f"data/{APP}", "--opinion", "同意", "--date", "2011-07-21")[0] == 0
    lab.git("checkout", "-q", "main")
    lab.git("merge", "-q", "--squash", "review")
    lab.commit("Approvals (#3)", date="2011-07-22")
    statuses, problems = verify.run(None, lab.data, display_root="data", use_cache=False)
    assert problems == []
    assert statuses[APP].level == 1
    # the same entry copied, signature and all, to another application is caught
    block = lab.read(APP).split("approvals:\n", 1)[1]
    lab.write(APP2, lab.read(APP2).replace("approvals: []\n", "approvals:\n" + block))
    lab.commit("Copy", date="2011-07-23")
    statuses, problems = verify.run(None, lab.data, display_root="data", use_cache=False)
    assert {p.code for p in problems if p.path == f"data/{APP2}"} >= {"approval-copied", "approval-bad-signature"}
    assert statuses[APP2].state == status.FILED


def test_verify_command_exit_codes(lab):
    as_reviewer(lab, "r-zs1-01")
    main("approve", "--data", "data", f"data/{APP}", "--opinion", "同意", "--date", "2011-07-21")
    code, out, err = main("verify", "--data", "data", "--status")
    assert code == 0 and "0 个错误" in err
    assert f"{APP}: 企业工会（街道工会）审查通过" in out
    lab.write(APP, lab.read(APP).replace("reviewer: r-zs1-01", "reviewer: r-zs2-01"))
    lab.commit("Claim another reviewer", key="r-zs2-01", date="2011-07-22")
    code, out, err = main("verify", "--data", "data", "--format", "github")
    assert code == 1
    assert f"::error file=data/{APP},line=" in out
    assert main("verify", "--data", "nowhere")[0] == 2


def test_demo_command_on_a_small_world(tmp_path, lab):
    code, out, err = main("demo", "--data", str(lab.data), "--out", str(tmp_path / "demo"))
    assert code == 0, out + err
    assert "0 个错误，0 个警告" in err
    pub = (tmp_path / "demo" / "keys" / "r-dl-01.pub").read_text()
    assert "TEST KEY" in pub


# ---------------------------------------------------------------- atomic, and in Chinese

def no_identity(monkeypatch, tmp_path):
    """A reviewer who never told git their name and email (no global config, no environment)."""
    for k in demo.GIT_ID:
        monkeypatch.delenv(k, raising=False)
    monkeypatch.delenv("EMAIL", raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


def test_no_git_identity_is_said_in_chinese_and_nothing_is_written(lab, monkeypatch, tmp_path):
    as_reviewer(lab, "r-zs1-01")
    no_identity(monkeypatch, tmp_path)
    before = state(lab)
    code, out, err = main("approve", "--data", "data", f"data/{APP}", f"data/{APP2}", "--opinion", "同意", "--date", "2011-07-21")
    assert code == 1
    assert "git 身份" in err and "git config --global user.name" in err and "docs/review.md" in err
    assert "identity" not in err.lower() and "Author" not in err
    assert state(lab) == before
    # the same after setting it up: it works, and the second run does not say "nothing to approve"
    lab.git("config", "user.name", "张伟")
    lab.git("config", "user.email", "zhangwei@example.cn")
    code, out, err = main("approve", "--data", "data", f"data/{APP}", f"data/{APP2}", "--opinion", "同意", "--date", "2011-07-21")
    assert code == 0, err
    assert "已审批 2 份申请" in out
    assert lab.git("log", "-1", "--format=%an") == "张伟"


def test_a_key_that_cannot_sign_leaves_work_tree_and_index_as_they_were(lab, monkeypatch):
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    lab.git("config", "gpg.format", "ssh")
    lab.git("config", "user.signingkey", "key::" + lab.key("r-zs1-01"))  # registered, but no agent holds it
    lab.write(APP2, lab.read(APP2).replace("amount: 5000", "amount: 4000"))  # the reviewer's own unstaged edit
    lab.git("add", lab.data.joinpath(APP).as_posix())
    before = state(lab)
    code, out, err = main("approve", "--data", "data", f"data/{APP}", f"data/{APP2}", "--opinion", "同意", "--date", "2011-07-21")
    assert state(lab) == before
    assert code == 1
    assert "签名提交失败，没有写入任何内容" in err


def test_commit_messages_are_chinese(lab):
    as_reviewer(lab, "r-zs1-01")
    main("approve", "--data", "data", f"data/{APP}", "--opinion", "同意", "--date", "2011-07-21")
    as_reviewer(lab, "r-zs-01")
    code, _, err = main("approve", "--data", "data", f"data/{APP}", "--opinion", "材料不全", "--reject", "--date", "2011-07-22")
    assert code == 0, err
    subjects = lab.git("log", "-2", "--format=%s").splitlines()
    assert subjects == ["审批：第 2 级不同意 1 份申请（审核人 r-zs-01）", "审批：第 1 级同意 1 份申请（审核人 r-zs1-01）"]
    assert APP in lab.git("log", "-1", "--format=%b")


def test_a_date_before_the_keys_revocation_is_refused(tmp_path, monkeypatch):
    lab = demo.Lab(tmp_path)
    demo.world(lab, key_overrides={"r-zs1-01": [{"public_key": lab.key("r-zs1-01"), "valid_from": "2011-01-01",
                                                  "revoked_on": "2011-07-25"}]})
    lab.write(APP, demo.application_yaml("2011-dl-zs-0001-001", "dl-zs-0001"))
    lab.commit("File", date="2011-07-20")
    for k, v in demo.GIT_ID.items():
        monkeypatch.setenv(k, v)
    monkeypatch.chdir(lab.repo)
    as_reviewer(lab, "r-zs1-01")
    before = state(lab)
    code, _, err = main("approve", "--data", "data", f"data/{APP}", "--opinion", "同意", "--date", "2011-07-22")
    assert code == 1 and "已于 2011-07-25 吊销" in err
    assert state(lab) == before
    _, problems = verify.run(None, lab.data, display_root="data", use_cache=False)
    assert problems == []


def test_a_date_after_today_is_refused(lab):
    as_reviewer(lab, "r-zs1-01")
    before = state(lab)
    code, _, err = main("approve", "--data", "data", f"data/{APP}", "--opinion", "同意", "--date", "2999-01-01")
    assert code == 1 and "晚于这次提交的日期" in err
    assert state(lab) == before


# ---------------------------------------------------------------- --pending at every level

@pytest.fixture
def campaign_lab(tmp_path, monkeypatch):
    """2011 (the current campaign) and 2010 files at every union of the small world: city-funded,
    district-funded and grassroots-funded ones, and one whose level-1 entry nobody signed."""
    lab = demo.Lab(tmp_path)
    demo.world(lab)
    campaign(lab, (2010, 2011))
    files = {
        "zs1-city": ("2011-dl-zs-0001-001", "dl-zs-0001", "dl"),
        "zs1-district": ("2011-dl-zs-0001-002", "dl-zs-0001", "dl-zs"),
        "zs1-own": ("2011-dl-zs-0001-003", "dl-zs-0001", "dl-zs-0001"),
        "zs1-forged": ("2011-dl-zs-0001-004", "dl-zs-0001", "dl"),
        "zs2-city": ("2011-dl-zs-0002-001", "dl-zs-0002", "dl"),
        "xg1-city": ("2011-dl-xg-0001-001", "dl-xg-0001", "dl"),
        "zs1-2010": ("2010-dl-zs-0001-001", "dl-zs-0001", "dl"),
    }
    lab.files = {}
    for n, (name, (rid, unit, funder)) in enumerate(files.items(), 1):
        rel = f"applications/{rid[:4]}/{unit}/{rid}.yaml"
        lab.write(rel, demo.application_yaml(rid, unit, worker_seq=n, funding_unit=funder))
        lab.files[name] = rel
    lab.commit("File", date="2011-07-20")
    from tests.test_verify import entry

    entry(lab, lab.files["zs1-forged"], 1, "r-zs1-01")
    lab.commit("An unsigned level-1 entry", date="2011-07-20")
    for k, v in demo.GIT_ID.items():
        monkeypatch.setenv(k, v)
    monkeypatch.chdir(lab.repo)
    return lab


def pending(lab, rid, *extra, date="2011-07-21"):
    as_reviewer(lab, rid)
    return main("approve", "--data", "data", "--pending", "--yes", "--opinion", "同意", "--date", date, *extra)


def test_pending_works_at_every_level(campaign_lab):
    lab = campaign_lab
    f = lab.files
    code, out, err = pending(lab, "r-zs1-01")
    assert code == 0, out + err
    assert "将审批以下 3 份申请" in out and "跳过以下 1 份申请" in out
    assert f"data/{f['zs1-forged']}：第 1 级审批重复" in out  # listed with the reason; the batch goes on
    assert "已审批 3 份申请" in out and "跳过 1 份" in out
    assert f["zs1-2010"] not in out and "approvals: []" in lab.read(f["zs1-2010"])  # not this year's
    assert pending(lab, "r-zs2-01")[0] == 0
    assert pending(lab, "r-xg1-01")[0] == 0
    code, out, err = pending(lab, "r-zs-01", date="2011-07-22")  # district: never the grassroots-funded file
    assert code == 0, out + err
    assert "将审批以下 3 份申请" in out and f["zs1-own"] not in out.split("跳过")[0]
    code, out, err = pending(lab, "r-xg-01", date="2011-07-22")
    assert code == 0 and "将审批以下 1 份申请" in out
    code, out, err = pending(lab, "r-dl-01", "--unit", "dl-zs", date="2011-07-23")  # the city, one district
    assert code == 0, out + err
    assert "将审批以下 2 份申请" in out and f["xg1-city"] not in out  # zs1-district ends at level 2
    code, out, err = pending(lab, "r-dl-01", date="2011-07-23")  # the city, the rest
    assert code == 0 and "将审批以下 1 份申请" in out and f["xg1-city"] in out
    code, out, err = pending(lab, "r-dl-02", date="2011-07-23")
    assert code == 0 and "没有等待第 3 级审批的申请" in out
    statuses, problems = verify.run(None, lab.data, display_root="data", use_cache=False)
    assert {(p.path, p.code) for p in problems if p.severity == "error"} == {(f"data/{f['zs1-forged']}", "approval-unsigned")}
    assert {name: (statuses[rel].level, statuses[rel].complete) for name, rel in f.items()} == {
        "zs1-city": (3, True), "zs1-district": (2, True), "zs1-own": (1, True), "zs1-forged": (0, False),
        "zs2-city": (3, True), "xg1-city": (3, True), "zs1-2010": (0, False)}


def test_pending_lists_then_asks(campaign_lab, monkeypatch):
    lab = campaign_lab
    as_reviewer(lab, "r-zs1-01")
    before = state(lab)
    code, out, err = main("approve", "--data", "data", "--pending", "--opinion", "同意", "--date", "2011-07-21")
    assert code == 1 and "确认审批以上 3 份申请？" in out and "未确认，没有写入任何内容" in out
    assert state(lab) == before
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    assert main("approve", "--data", "data", "--pending", "--opinion", "同意", "--date", "2011-07-21")[0] == 1
    assert state(lab) == before
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    code, out, err = main("approve", "--data", "data", "--pending", "--opinion", "同意", "--date", "2011-07-21")
    assert code == 0 and "已审批 3 份申请" in out
    assert re.search(r"签名提交 [0-9a-f]{10}", out)


def test_pending_messages_are_chinese(campaign_lab):
    code, out, err = pending(campaign_lab, "r-zs1-01")
    assert code == 0 and out
    for line in (out + err).splitlines():
        assert re.search(r"[\u4e00-\u9fff]", line), line


def test_pending_says_why_nothing_waits_when_no_root_is_pinned(campaign_lab):
    lab = campaign_lab
    assert pending(lab, "r-zs1-01")[0] == 0
    lab.pin_root()  # a fresh clone: no root of trust pinned
    code, out, err = pending(lab, "r-zs-01", date="2011-07-22")
    assert code == 0 and "没有等待第 2 级审批的申请" in out
    assert "没有固定信任根" in err
