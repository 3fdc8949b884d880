"""approve through the command line, with the reviewer's own git signing configuration."""

from __future__ import annotations

import io

import pytest

from jinqiu import cli, demo, status, verify

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
    as_reviewer(lab, "r-zs1-01")
    assert main("approve", "--data", "data", "--pending", "--opinion", "同意", "--date", "2011-07-21")[0] == 0
    as_reviewer(lab, "r-zs2-01")
    assert main("approve", "--data", "data", "--pending", "--opinion", "同意", "--date", "2011-07-21")[0] == 0
    as_reviewer(lab, "r-zs-01")
    code, out, err = main("approve", "--data", "data", "--pending", "--unit", "dl-zs", "--opinion", "同意资助", "--date", "2011-07-22")
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
