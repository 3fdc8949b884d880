"""init-city sets up sealing from the questionnaire (issue 21): an optional section 加密保存 and each
person's age public key beside their ssh key make data/sealing.yaml in the administrator's signed first
commit; bad answers are refused with the questionnaire's line, nothing written. Real ssh-keygen keys,
real age keys made by `keys init`, real git."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from test_city import PEOPLE, Office, answers_text, init_city

from jinqiu import cli
from jinqiu.records import sealed, yamlstrict

CLERK = "清洁工"


def age_key(folder: Path, who: str) -> str:
    """`keys init` as the person runs it on their own machine; the public line they hand in."""
    out, err = io.StringIO(), io.StringIO()
    folder.mkdir(parents=True, exist_ok=True)
    code = cli.main(["keys", "init", "--out", str(folder / who), "--no-passphrase"], out, err)
    assert code == 0, err.getvalue()
    return out.getvalue().strip()


def sealed_answers(office: Office, since=2012, extra_person: str = "", clerk_unit="沈阳某机床厂工会") -> str:
    """The questionnaire with each person's age key file beside their ssh key, and the section 加密保存."""
    pub = office.root / "加密公钥"
    secrets = office.root / "machines"
    pub.mkdir(exist_ok=True)
    for who in [*PEOPLE, "build", "escrow", "clerk"]:
        if not (pub / f"{who}.txt").exists():
            (pub / f"{who}.txt").write_text(age_key(secrets, who) + "\n", encoding="utf-8")
    text = answers_text()
    for login in PEOPLE:
        text = text.replace(f"  公钥: 公钥/{login}.pub\n", f"  公钥: 公钥/{login}.pub\n  加密公钥: 加密公钥/{login}.txt\n")
    return text + extra_person + (f"加密保存:\n  起始年度: {since}\n  保存年数: 5\n  构建密钥: 加密公钥/build.txt\n"
                                  f"  托管密钥: 加密公钥/escrow.txt\n  经办人:\n  - 姓名: 周经办\n    工会: {clerk_unit}\n"
                                  f"    加密公钥: 加密公钥/clerk.txt\n")


def test_the_first_commit_holds_sealing_yaml_and_the_next_step_is_said(tmp_path):
    office = Office(tmp_path)
    p = init_city(office, sealed_answers(office))
    assert p.returncode == 0, p.stdout + p.stderr
    repo = tmp_path / "沈阳金秋"
    assert "keys new-year 2012" in p.stdout and "密钥仓库" in p.stdout
    committed = office.git(repo, "show", "HEAD:data/sealing.yaml")
    assert office.git(repo, "log", "--format=%s").startswith("建库") and "gpgsig" in office.git(repo, "cat-file", "commit", "HEAD")
    cfg = sealed.config_from_bytes(committed.encode(), "sealing.yaml")
    assert cfg.since == 2012 and cfg.retain_years == 5 and cfg.groups == {}
    pub = {who: (tmp_path / "加密公钥" / f"{who}.txt").read_text(encoding="utf-8").strip() for who in [*PEOPLE, "build", "escrow", "clerk"]}
    assert cfg.build == pub["build"] and cfg.escrow == pub["escrow"]
    members = {m["id"]: m for m in cfg.members}
    reviewers = yamlstrict.load((repo / "data/reviewers.yaml").read_bytes(), "r")[0]["reviewers"]
    for r in reviewers:  # every reviewer under their own id and union, with the key they handed in
        login = r["forge_logins"]["gitea"]
        assert members[r["id"]]["recipient"] == pub[login] and members[r["id"]]["unit"] == r["unit"]
    assert members["m-sy-hp-0001-01"]["recipient"] == pub["clerk"]
    # the step it names works: keys new-year in a key repository of its own, then verify is clean
    keys = tmp_path / "金秋密钥"
    subprocess.run(["git", "init", "-q", "-b", "main", str(keys)], check=True)
    p = office.run(repo, "keys", "new-year", "2012", "--keys", keys, "--admin-key", office.keys / "liming", "--today", "2012-06-01")
    assert p.returncode == 0, p.stdout + p.stderr
    assert sorted(sealed.load_config(repo / "data").groups["2012"]) == ["sy-hp-0001", "sy-hp-0002", "sy-tx-0001"]
    office.git(repo, "add", "data/sealing.yaml")
    office.git(repo, "commit", "-q", "-S", "-m", "各工会的公开加密钥", who="liming")
    p = office.run(repo, "verify", who=None)
    assert p.returncode == 0 and "0 个错误" in p.stderr, p.stdout + p.stderr


@pytest.mark.parametrize("change, expected", [
    (lambda t: t.replace("  加密公钥: 加密公钥/sunli.txt\n", "  加密公钥: 公钥/sunli.pub\n"), "孙丽的加密公钥不是 age 公钥"),
    (lambda t: t.replace("  加密公钥: 加密公钥/zhaogang.txt\n", ""), "缺少赵刚的“加密公钥”"),
    (lambda t: t.replace("构建密钥: 加密公钥/build.txt", "构建密钥: machines/build"), "是加密私钥"),
    (lambda t: t.replace("    工会: 沈阳某机床厂工会\n    加密公钥", "    工会: 沈阳某某厂工会\n    加密公钥"), "“工会”沈阳某某厂工会 不在工会名单中"),
    (lambda t: t.replace("  - 姓名: 周经办\n    工会: 沈阳某机床厂工会\n", "  - 姓名: 周经办\n"), "经办人周经办缺少“工会”；“人员”里也没有 周经办"),
    (lambda t: t.replace("起始年度: 2012", "起始年度: 2013"), "“起始年度”2013 晚于第一个年度活动 2012"),
    (lambda t: t.replace("  经办人:\n", "  审核人:\n  - 姓名: 钱某\n    加密公钥: 加密公钥/clerk.txt\n  经办人:\n"), "“人员”里没有审核人 钱某"),
    (lambda t: t.replace("  经办人:\n", "  审核人:\n  - 姓名: 孙丽\n    加密公钥: 加密公钥/clerk.txt\n  经办人:\n"), "孙丽 的加密公钥已写在“人员”里"),
    (lambda t: t.replace("加密公钥/wangfang.txt", "加密公钥/liming.txt"), "王芳的加密公钥已是李明的"),
])
def test_bad_sealing_answers_name_their_line_and_nothing_is_written(tmp_path, change, expected):
    office = Office(tmp_path)
    text = change(sealed_answers(office))
    p = init_city(office, text)
    assert p.returncode == 1, p.stdout + p.stderr
    assert expected in p.stdout, p.stdout
    line = next(ln for ln in p.stdout.splitlines() if expected in ln)
    n = int(line.split("建库.yaml:", 1)[1].split(":", 1)[0])
    assert 1 < n <= len(text.splitlines())
    assert "没有建库" in p.stderr and not (tmp_path / "沈阳金秋").exists()


def test_a_reviewers_age_key_handed_in_later_goes_under_the_section_by_name(tmp_path):
    office = Office(tmp_path)
    text = sealed_answers(office).replace("  加密公钥: 加密公钥/zhaogang.txt\n", "").replace(
        "  经办人:\n", "  审核人:\n  - 姓名: 赵刚\n    加密公钥: 加密公钥/zhaogang.txt\n  经办人:\n")
    p = init_city(office, text)
    assert p.returncode == 0, p.stdout + p.stderr
    cfg = sealed.load_config(tmp_path / "沈阳金秋" / "data")
    zhao = next(m for m in cfg.members if m["id"] == "r-sy-hp-01")
    assert zhao["recipient"] == (tmp_path / "加密公钥" / "zhaogang.txt").read_text(encoding="utf-8").strip()


def test_age_keys_without_the_section_are_refused_and_a_clear_city_stays_clear(tmp_path):
    office = Office(tmp_path)
    text = sealed_answers(office).split("加密保存:\n")[0]
    p = init_city(office, text)
    assert p.returncode == 1 and "却没有“加密保存”一项" in p.stdout, p.stdout
    p = init_city(office, answers_text())
    assert p.returncode == 0, p.stdout + p.stderr
    assert not (tmp_path / "沈阳金秋/data/sealing.yaml").exists() and "keys new-year" not in p.stdout
