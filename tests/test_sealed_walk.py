"""A sealed city's real path, walked by the command line in a real git repository (issue 21): a clerk
files from a sheet with no key, a grassroots reviewer reads it with their own key and approves it with a
real ssh-keygen signature, the clerk corrects it twice (re-importing with their key), and each
correction sends the application back to level 1 for a new round, which the reviewers sign again.

The invariants: a correction of any sealed value makes every approval before it stale, judged with no
key; a new round on the corrected content counts again; the approval a reviewer signs is over what
`show` opened for them; a member of another union cannot open it at any point."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import openpyxl
import pytest
from io_fixtures import HEADERS_NEW, row_new

from jinqiu import cli
from jinqiu.check import validate
from jinqiu.records import sealed
from jinqiu.sample import demo
from jinqiu.trust import digest, verify

ROOT = Path(__file__).resolve().parent.parent
MEMBERS = {  # sealing.yaml member id -> the union whose keyrings they are in
    "r-zs1-01": "dl-zs-0001", "r-zs-01": "dl-zs", "r-dl-01": "dl", "r-xg1-01": "dl-xg-0001", "m-clerk": "dl-zs-0001"}


def run(*argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main([str(a) for a in argv], out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def city(tmp_path, monkeypatch):
    for name in ("JINQIU_IDENTITY", "JINQIU_KEYS", "JINQIU_PASSPHRASE"):
        monkeypatch.delenv(name, raising=False)
    lab = demo.Lab(tmp_path / "lab")
    demo.world(lab)
    text = (ROOT / "tests" / "cases" / "base" / "campaigns" / "2011.yaml").read_text(encoding="utf-8")
    lab.write("campaigns/2011.yaml", text)
    ids = tmp_path / "identities"
    ids.mkdir()
    public = {}
    for who in [*MEMBERS, "build", "escrow"]:
        code, out, err = run("keys", "init", "--out", ids / who, "--no-passphrase")
        assert code == 0, err
        public[who] = out.strip()
    members = "".join(f"- id: {who}\n  unit: {unit}\n  recipient: {public[who]}\n  valid_from: \"2011-01-01\"\n"
                      for who, unit in MEMBERS.items())
    lab.write("sealing.yaml", f"since: 2011\nretain_years: 5\nbuild: {public['build']}\nescrow: {public['escrow']}\n"
                              f"members:\n{members}groups: {{}}\n")
    keys = tmp_path / "keys"
    subprocess.run(["git", "init", "-q", "-b", "main", str(keys)], check=True)
    code, out, err = run("keys", "new-year", "2011", "--data", lab.data, "--keys", keys, "--admin-key", lab.keys / "r-dl-01",
                         "--today", "2011-06-01")
    assert code == 0, err
    code, out, err = run("keys", "seal-reviewers", "--data", lab.data)  # the reviewers' own ID numbers too
    assert code == 0 and "位审核人的身份证号码加密保存" in err, err
    lab.commit("个人信息自 2011 年度起加密保存", key="r-dl-01", date="2011-06-02")
    for k, v in demo.GIT_ID.items():
        monkeypatch.setenv(k, v)
    monkeypatch.chdir(lab.repo)
    return {"lab": lab, "ids": ids, "keys": keys}


def sheet(tmp_path: Path, row: list) -> Path:
    wb = openpyxl.Workbook()
    wb.active.append(HEADERS_NEW)
    wb.active.append(row)
    path = tmp_path / "和平区某厂.xlsx"
    wb.save(path)
    return path


def as_reviewer(lab, rid):
    lab.git("config", "user.signingkey", str(lab.keys / rid))
    lab.git("config", "gpg.format", "ssh")


def status(lab, rel):
    statuses, problems = verify.run(None, lab.data, display_root="data", use_cache=False)
    st = statuses.get(f"data/{rel}") or statuses.get(rel)
    return st, [p for p in problems if p.severity == "error"]


def approve(city, rid, rel, day):
    """The reviewer reads the whole application with their own key, then signs it."""
    lab = city["lab"]
    code, shown, err = run("show", f"data/{rel}", "--identity", city["ids"] / rid, "--keys", city["keys"])
    assert code == 0, err
    as_reviewer(lab, rid)
    code, out, err = run("approve", "--data", "data", f"data/{rel}", "--opinion", "情况属实，同意", "--date", day)
    assert code == 0, out + err
    return shown


def test_two_corrections_and_three_rounds_in_a_sealed_city(city, tmp_path):
    lab = city["lab"]
    row = row_new(3)
    name = row[1]
    code, out, err = run("import", sheet(tmp_path, row), "--unit", "dl-zs-0001", "--data", "data")
    assert code == 0, out + err
    rel = next(p.relative_to(lab.data).as_posix() for p in (lab.data / "applications").rglob("*.yaml"))
    stored = (lab.data / rel).read_text(encoding="utf-8")
    assert name not in stored and row[5] not in stored and "ENC[jq1," in stored
    lab.commit("和平区某厂工会 2011 年度申请", date="2011-07-20")
    assert run("check-sealed", "--data", "data")[0] == 0

    # round 1: the grassroots reviewer reads it (their key) and signs the key-free digest
    shown = approve(city, "r-zs1-01", rel, "2011-07-21")
    assert name in shown and row[5] in shown
    st, errors = status(lab, rel)
    assert (st.state, st.level) == ("approved", 1) and not errors, [p.text() for p in errors]
    # a member of another union cannot open it
    code, out, err = run("show", f"data/{rel}", "--identity", city["ids"] / "r-xg1-01", "--keys", city["keys"])
    assert code != 0 and name not in out + err

    def correct(column, value, day, message):
        row[column] = value
        code, out, err = run("import", sheet(tmp_path, row), "--unit", "dl-zs-0001", "--data", "data",
                             "--identity", city["ids"] / "m-clerk", "--keys", city["keys"])
        assert code == 0 and "更新 1 个" in err, out + err
        lab.commit(message, date=day)

    # the clerk's first correction (a phone number): round 1 no longer counts, with no key
    before = digest.of(next(r for r in validate.load(lab.data, "data").applications if r.rel == rel).data)
    correct(7, "13904119999", "2011-07-22", "更正联系电话")
    after = digest.of(next(r for r in validate.load(lab.data, "data").applications if r.rel == rel).data)
    assert after != before
    st, _ = status(lab, rel)
    assert (st.state, st.level) == ("stale", 0)

    # round 2 from level 1; then level 2
    shown = approve(city, "r-zs1-01", rel, "2011-07-23")
    assert "13904119999" in shown
    approve(city, "r-zs-01", rel, "2011-07-24")
    st, errors = status(lab, rel)
    assert (st.state, st.level) == ("approved", 2) and not errors, [p.text() for p in errors]

    # the clerk's second correction (the household income): round 2 is stale too
    correct(9, 812.5, "2011-07-25", "更正家庭月人均收入")
    st, _ = status(lab, rel)
    assert (st.state, st.level) == ("stale", 0)

    # round 3: every level again, and it is complete
    for rid, day in (("r-zs1-01", "2011-07-26"), ("r-zs-01", "2011-07-27"), ("r-dl-01", "2011-07-28")):
        shown = approve(city, rid, rel, day)
        assert "812.5" in shown
    st, errors = status(lab, rel)
    assert (st.state, st.level, st.complete, st.verified) == ("approved", 3, True, True), [p.text() for p in errors]
    assert not errors

    # history, with no key, tells the three rounds apart and shows no personal value
    code, out, err = run("history", f"data/{rel}", "--data", "data")
    assert code == 0, err
    assert "第 3 轮（现行的一轮" in out and "第 1 轮（已由第 3 轮取代" in out and "第 2 轮（已由第 3 轮取代" in out
    assert name not in out and row[5] not in out and "13904119999" not in out
    # the file still holds no personal value in clear, and the keyed checks pass on the city's machine
    assert run("check-sealed", "--data", "data")[0] == 0
    code, out, err = run("validate", "--data", "data", "--keyed", "--identity", city["ids"] / "build", "--keys", city["keys"])
    assert code == 0, out + err
    assert sealed.is_sealed(next(r for r in validate.load(lab.data, "data").applications if r.rel == rel).data)


def test_the_clerk_corrects_from_an_exported_sheet_opened_with_their_own_key(city, tmp_path):
    lab = city["lab"]
    row = row_new(4)
    assert run("import", sheet(tmp_path, row), "--unit", "dl-zs-0001", "--data", "data")[0] == 0
    lab.commit("和平区某厂工会 2011 年度申请", date="2011-07-20")
    files = lambda: {p: p.read_bytes() for p in sorted((lab.data / "applications").rglob("*.yaml"))}  # noqa: E731
    before = files()
    # no key: nothing is written (a sheet of ciphertext could neither be read nor imported back)
    out_file = tmp_path / "导出.xlsx"
    code, out, err = run("export", "--data", "data", "--unit", "dl-zs-0001", "--year", "2011", "--out", out_file)
    assert code == 2 and "--identity" in err and not out_file.exists()
    # a member of another union: refused, naming the file, nothing written
    code, out, err = run("export", "--data", "data", "--unit", "dl-zs-0001", "--year", "2011", "--out", out_file,
                         "--identity", city["ids"] / "r-xg1-01", "--keys", city["keys"])
    assert code == 2 and "2011-dl-zs-0001-001.yaml" in err and not out_file.exists()
    assert row[1] not in out + err
    # the clerk's own key: the values in clear, and the sheet goes back in changing nothing
    mine = ("--identity", city["ids"] / "m-clerk", "--keys", city["keys"])
    code, out, err = run("export", "--data", "data", "--unit", "dl-zs-0001", "--year", "2011", "--out", out_file, *mine)
    assert code == 0, err
    wb = openpyxl.load_workbook(out_file)
    ws = wb.worksheets[0]
    header = [c.value for c in ws[1]]
    values = [c.value for c in ws[2]]
    assert values[header.index("职工姓名")] == row[1] and values[header.index("身份证号码")] == row[5]
    assert not any(isinstance(v, str) and v.startswith("ENC[") for v in values)
    code, out, err = run("import", out_file, "--unit", "dl-zs-0001", "--data", "data", *mine)
    assert code == 0 and "未变 1 个" in err, out + err
    assert files() == before
    # one corrected cell: one file changes, and the corrected value is sealed, not in clear
    ws.cell(row=2, column=header.index("联系电话") + 1, value="13904118888")
    wb.save(out_file)
    code, out, err = run("import", out_file, "--unit", "dl-zs-0001", "--data", "data", *mine)
    assert code == 0 and "更新 1 个" in err, out + err
    after = files()
    assert [p for p in after if after[p] != before[p]] and all(b"13904118888" not in v for v in after.values())
    code, shown, err = run("show", next(iter(after)).relative_to(lab.repo).as_posix(), *mine)
    assert code == 0 and "13904118888" in shown, err


def test_a_wrong_key_file_is_said_in_chinese_and_writes_nothing(city, tmp_path):
    lab = city["lab"]
    (tmp_path / "不是密钥").write_text("not a key\n", encoding="utf-8")
    sealing = (lab.data / "sealing.yaml").read_bytes()
    keyrings = sorted(p.relative_to(city["keys"]) for p in city["keys"].rglob("*") if ".git" not in p.parts)
    for argv, said in (
            (("keys", "new-year", "2012", "--keys", city["keys"], "--admin-key", tmp_path / "没有这个文件"), "不存在"),
            (("keys", "new-year", "2012", "--keys", city["keys"], "--admin-key", tmp_path / "不是密钥"), "不是可用的 SSH 私钥"),
            (("keys", "sync", "2011", "--keys", city["keys"], "--admin-key", lab.keys / "r-dl-01",
              "--identity", tmp_path / "没有这个文件"), "文件不存在"),
            (("validate", "--data", "data", "--keyed", "--identity", tmp_path / "不是密钥", "--keys", city["keys"]), "不是 age 私钥")):
        code, out, err = run(*argv)
        assert code == 2 and said in err and "Traceback" not in out + err, (argv, out, err)
        assert (lab.data / "sealing.yaml").read_bytes() == sealing
        assert sorted(p.relative_to(city["keys"]) for p in city["keys"].rglob("*") if ".git" not in p.parts) == keyrings
