"""Every decision has a second pass, end to end through the command line in real repositories with
real ssh-keygen signatures: re-approval after an edit at every level, a fix after a rejection,
withdrawing one's own decision, an unsigned removal that changes nothing, payouts by the right and
the wrong reviewer, and dates that count by when they entered the repository, not what was typed."""

from __future__ import annotations

import re

import pytest

from jinqiu.sample import demo
from jinqiu.trust import status, verify
from tests.test_approve import APP, APP2, as_reviewer, campaign, main, state

LEVEL = {1: "r-zs1-01", 2: "r-zs-01", 3: "r-dl-01"}


@pytest.fixture
def lab(tmp_path, monkeypatch):
    """The small world, the 2011 campaign (materials due 08-10), two applications filed 07-20."""
    lab = demo.Lab(tmp_path)
    demo.world(lab)
    campaign(lab)
    lab.write(APP, demo.application_yaml("2011-dl-zs-0001-001", "dl-zs-0001", worker_seq=1))
    lab.write(APP2, demo.application_yaml("2011-dl-zs-0001-002", "dl-zs-0001", worker_seq=3, student="李小红"))
    lab.commit("File", date="2011-07-20")
    for k, v in demo.GIT_ID.items():
        monkeypatch.setenv(k, v)
    monkeypatch.chdir(lab.repo)
    return lab


def at(monkeypatch, day):
    """Commits made from now on are dated that day (as if the reviewer worked then)."""
    stamp = f"{day}T10:00:00+08:00"
    monkeypatch.setenv("GIT_COMMITTER_DATE", stamp)
    monkeypatch.setenv("GIT_AUTHOR_DATE", stamp)


def approve(lab, level, *files, date, reject=False, opinion="同意", reviewer=None):
    as_reviewer(lab, reviewer or LEVEL[level])
    return main("approve", "--data", "data", *[f"data/{f}" for f in files], "--opinion", opinion, "--date", date,
                *(["--reject"] if reject else []))


def statuses(lab):
    found, problems = verify.run(None, lab.data, display_root="data", use_cache=False)
    return found, problems


def codes(problems, rel=APP):
    return {p.code for p in problems if p.path == f"data/{rel}"}


def edit(lab, rel, old, new, day):
    lab.write(rel, lab.read(rel).replace(old, new))
    lab.commit("Correct the record", date=day)


# ---------------------------------------------------------------- rounds


def test_edit_then_reapprove_at_every_level(lab, monkeypatch):
    """An approved application is corrected: its round goes stale; todo lists it; approve appends a
    second round from level 1 at every level (single files and --pending); the first stays as history."""
    for level, day in ((1, "2011-07-21"), (2, "2011-07-22"), (3, "2011-07-23")):
        at(monkeypatch, day)
        code, out, err = approve(lab, level, APP, date=day)
        assert code == 0, err
    edit(lab, APP, "household_size: 3", "household_size: 4", "2011-07-25")
    st, problems = statuses(lab)
    assert st[APP].state == status.STALE and st[APP].round == 1
    stale = [p for p in problems if p.code == "approval-stale"]
    assert len(stale) == 3 and all("approve 会在列表末尾从第 1 级开始新一轮审批" in p.message for p in stale)
    code, out, _ = main("todo", "--unit", "dl-zs-0001", "--today", "2011-07-25")
    assert f"data/{APP}" in out.split("二、内容改动后待重新审批")[1].split("三、")[0]
    assert "第 1 轮审批之后内容改动过，需从第 1 级开始第 2 轮" in out
    assert f"data/{APP}" in out.split("一、等待第 1 级")[1].split("二、")[0]
    # level 2 may not go first in the new round
    at(monkeypatch, "2011-07-26")
    code, out, err = approve(lab, 2, APP, date="2011-07-26")
    assert code == 1 and "内容改动后的新一轮（第 2 轮）审批须从第 1 级开始" in err
    code, out, err = approve(lab, 1, APP, date="2011-07-26")
    assert code == 0 and "已审批 1 份申请" in out, err
    code, out, err = approve(lab, 1, APP, date="2011-07-26")
    assert code == 1 and "第 1 级审批重复" in err  # the second round has its level 1 now
    at(monkeypatch, "2011-07-27")
    as_reviewer(lab, "r-zs-01")
    code, out, err = main("approve", "--data", "data", "--pending", "--yes", "--opinion", "同意", "--date", "2011-07-27")
    assert code == 0 and f"data/{APP}" in out and "已审批 1 份申请" in out, out + err
    at(monkeypatch, "2011-07-28")
    code, out, err = approve(lab, 3, APP, date="2011-07-28")
    assert code == 0, err
    st, problems = statuses(lab)
    assert st[APP] == status.Status(status.APPROVED, 3, True, True) and st[APP].round == 2
    assert [p.index for p in st[APP].proofs] == [3, 4, 5]  # the second round's entries count
    assert not [p for p in problems if p.severity == "error"], [p.text() for p in problems]
    assert not [p for p in problems if p.code == "approval-stale"]  # the first round is history now
    assert lab.read(APP).count("- level:") == 6
    code, out, err = main("validate", "--data", "data")
    assert code == 0, out + err
    code, out, err = main("history", f"data/{APP}")
    assert code == 0
    assert "第 1 轮（已由第 2 轮取代，留作记录）" in out and "第 2 轮（现行的一轮，决定申请的状态）" in out
    first = out.split("  第 1 轮（")[1].split("  第 2 轮（")[0]
    assert "第 3 级 同意，审核人 r-dl-01，2011-07-23：不计入" in first
    assert "第 3 级 同意，审核人 r-dl-01，2011-07-28：核验通过，计入" in out.split("第 2 轮（")[1]


def test_reject_fix_approve(lab, monkeypatch):
    """A rejection ends its round; nothing more on that content; the clerk's fix starts a new round
    that the same levels can approve; the rejection stays as history."""
    at(monkeypatch, "2011-07-21")
    assert approve(lab, 1, APP, date="2011-07-21")[0] == 0
    at(monkeypatch, "2011-07-22")
    code, out, err = approve(lab, 2, APP, date="2011-07-22", reject=True, opinion="家庭人口与户口簿不符")
    assert code == 0 and "已不同意 1 份申请" in out, err
    st, problems = statuses(lab)
    assert st[APP].state == status.REJECTED and st[APP].level == 2
    assert "approval-stale" not in codes(problems)
    code, out, err = approve(lab, 2, APP, date="2011-07-22")
    assert code == 1 and "本轮已有第 2 级“不同意”（r-zs-01，2011-07-22），审批到此结束" in err
    assert "已由其后" not in err  # nothing came after it
    code, out, err = approve(lab, 1, APP, date="2011-07-22")
    assert code == 1 and "本轮已有第 2 级“不同意”" in err
    # the clerk fixes the record: a new round
    edit(lab, APP, "household_size: 3", "household_size: 4", "2011-07-23")
    code, out, _ = main("todo", "--unit", "dl-zs", "--today", "2011-07-23")
    assert f"data/{APP}" in out.split("二、内容改动后待重新审批")[1].split("三、")[0]
    at(monkeypatch, "2011-07-24")
    code, out, err = approve(lab, 1, APP, date="2011-07-24")
    assert code == 0, err
    at(monkeypatch, "2011-07-25")
    code, out, err = approve(lab, 2, APP, date="2011-07-25")
    assert code == 0, err
    st, problems = statuses(lab)
    assert st[APP] == status.Status(status.APPROVED, 2, False, True) and st[APP].round == 2
    assert not [p for p in problems if p.severity == "error"], [p.text() for p in problems]
    assert main("validate", "--data", "data")[0] == 0


# ---------------------------------------------------------------- withdrawal


def test_withdraw_own_decision(lab, monkeypatch):
    """A reviewer withdraws their own rejection with a signed entry; the level decides again. Nobody
    withdraws another's decision but an administrator; a withdrawal takes the levels above with it."""
    at(monkeypatch, "2011-07-21")
    assert approve(lab, 1, APP, date="2011-07-21")[0] == 0
    at(monkeypatch, "2011-07-22")
    assert approve(lab, 2, APP, date="2011-07-22", reject=True, opinion="材料不全")[0] == 0
    before = state(lab)
    as_reviewer(lab, "r-zs1-01")  # level 1 cannot withdraw level 2's rejection
    code, out, err = main("approve", "--data", "data", f"data/{APP}", "--withdraw", "--level", "2", "--opinion", "撤回")
    assert code == 1 and "不是你做的：只能撤回自己的审批" in err
    as_reviewer(lab, "r-dl-02")  # a city reviewer who is not an administrator
    code, out, err = main("approve", "--data", "data", f"data/{APP}", "--withdraw", "--opinion", "撤回")
    assert code == 1 and "在效力中的审批里没有你做的" in err
    assert state(lab) == before
    at(monkeypatch, "2011-07-23")
    as_reviewer(lab, "r-zs-01")
    code, out, err = main("approve", "--data", "data", f"data/{APP}", "--withdraw", "--opinion", "材料已补齐，撤回不同意",
                          "--date", "2011-07-23")
    assert code == 0, err
    assert "已撤回 1 份申请的审批" in out and "须重新审批" in out
    assert lab.git("log", "-1", "--format=%s") == "撤回：撤回 1 份申请的第 2 级审批（审核人 r-zs-01）"
    assert "第 2 级“不同意”（r-zs-01，2011-07-22）" in lab.git("log", "-1", "--format=%b")
    text = lab.read(APP)
    assert "decision: withdraw" in text and "withdraws: sha256:" in text and text.count("BEGIN SSH SIGNATURE") == 3
    st, problems = statuses(lab)
    assert st[APP] == status.Status(status.APPROVED, 1, False, True)
    assert not [p for p in problems if p.severity == "error"], [p.text() for p in problems]
    code, out, err = main("approve", "--data", "data", f"data/{APP}", "--withdraw", "--opinion", "再撤一次")
    assert code == 1 and "在效力中的审批里没有你做的" in err  # nothing of theirs is in force any more
    code, out, err = approve(lab, 2, APP, date="2011-07-23")
    assert code == 0, err
    st, _ = statuses(lab)
    assert st[APP].level == 2 and st[APP].state == status.APPROVED
    code, out, err = main("history", f"data/{APP}")
    assert "撤回第 2 级“不同意”（r-zs-01，2011-07-22），审核人 r-zs-01，2011-07-23：核验通过，生效" in out
    assert re.search(r"第 2 级 不同意，审核人 r-zs-01，2011-07-22.*：不计入\n\s+原因：已被撤回", out), out
    # the administrator withdraws level 1: level 2 rested on it and goes with it
    at(monkeypatch, "2011-07-24")
    as_reviewer(lab, "r-dl-01")
    code, out, err = main("approve", "--data", "data", f"data/{APP}", "--withdraw", "--level", "1",
                          "--opinion", "职工档案有误，撤回审查", "--date", "2011-07-24")
    assert code == 0, err
    st, problems = statuses(lab)
    assert st[APP].state == status.FILED and st[APP].round == 1
    assert not [p for p in problems if p.severity == "error"], [p.text() for p in problems]
    assert main("validate", "--data", "data")[0] == 0
    code, out, _ = main("todo", "--unit", "dl-zs-0001", "--today", "2011-07-24")
    assert f"data/{APP}" in out.split("一、等待第 1 级")[1].split("二、")[0]


def test_a_withdrawal_by_someone_else_counts_for_nothing(lab, monkeypatch):
    """Written by hand and signed by another reviewer's own key, a withdrawal of a decision that is
    not theirs does nothing, and verify says why."""
    from jinqiu.check import rounds
    from jinqiu.trust import approve as approve_lib

    at(monkeypatch, "2011-07-21")
    assert approve(lab, 1, APP, date="2011-07-21")[0] == 0
    text = lab.read(APP)
    first = approve_lib.validate.load(lab.data, "data")
    record = next(r for r in first.applications if r.rel == APP)
    target = record.data["approvals"][0]
    forged = {"level": 1, "decision": "withdraw", "opinion": "撤回", "reviewer": "r-zs2-01", "date": "2011-07-22",
              "digest": target["digest"], "withdraws": rounds.ref(target)}
    lab.write(APP, approve_lib.append_entry(text, forged))
    lab.commit("Withdraw someone else's approval", key="r-zs2-01", date="2011-07-22")
    st, problems = statuses(lab)
    assert st[APP].level == 1
    p = next(p for p in problems if p.code == "withdraw-not-entitled")
    assert p.severity == "error" and "只能由审核人 r-zs1-01 本人或管理员撤回" in p.message


def test_unsigned_removal_keeps_the_decision_in_force(lab, monkeypatch):
    """An unsigned commit deletes a verified level-2 rejection: verify fails (exit 1), says the
    decision is still in force, and every reader keeps it: status, todo, approve --pending, the site."""
    at(monkeypatch, "2011-07-21")
    assert approve(lab, 1, APP, APP2, date="2011-07-21")[0] == 0
    at(monkeypatch, "2011-07-22")
    assert approve(lab, 2, APP, date="2011-07-22", reject=True, opinion="不符合条件")[0] == 0
    text = lab.read(APP)
    lab.write(APP, text[:text.rindex("- level: 2")])
    removing = lab.commit("Tidy up", date="2011-07-23")
    st, problems = statuses(lab)
    assert st[APP].state == status.REJECTED and st[APP].level == 2
    assert [p.index for p in st[APP].proofs] == [0, -1]  # the rejection counts from the history, not the file
    code, out, err = main("verify", "--data", "data", "--status")
    assert code == 1
    assert f"被提交 {removing[:10]} 删除" in out and "它仍然有效、照常计入" in out
    assert f"{APP}: 区市县、产业工会审核未通过" in out
    code, out, _ = main("todo", "--unit", "dl-zs", "--today", "2011-07-23")
    assert f"data/{APP}" not in out.split("一、等待第 2 级")[1].split("二、")[0]
    as_reviewer(lab, "r-zs-01")
    code, out, err = main("approve", "--data", "data", "--pending", "--yes", "--opinion", "同意", "--date", "2011-07-23")
    assert f"data/{APP}" not in out and f"data/{APP2}" in out  # the rejected one is not offered again
    code, out, err = main("history", f"data/{APP}")
    assert "第 2 级审批已从文件中被删除，但删除它的提交没有审核人本人或管理员的签名：它仍然有效，计入" in out
    code, out, err = main("build", "--data", "data", "--out", str(lab.root / "out"), "--no-forms", "--today", "2011-07-23")
    page = (lab.root / "out" / "site" / "index.html").read_text(encoding="utf-8")
    assert re.search(r"未通过</th>\s*<td[^>]*>1</td>", page), page[page.index("申请按审批进度"):][:3000]


# ---------------------------------------------------------------- payout


def _complete(lab, monkeypatch, *files):
    for level, day in ((1, "2011-07-21"), (2, "2011-07-22"), (3, "2011-07-23")):
        at(monkeypatch, day)
        code, out, err = approve(lab, level, *files, date=day)
        assert code == 0, err


def test_payout_by_the_right_and_the_wrong_reviewer(lab, monkeypatch):
    at(monkeypatch, "2011-07-21")
    assert approve(lab, 1, APP, date="2011-07-21")[0] == 0
    as_reviewer(lab, "r-dl-02")
    before = state(lab)
    code, out, err = main("pay", "--data", "data", f"data/{APP}", "--amount", "5000", "--date", "2011-07-21")
    assert code == 1 and "审批还没有经核验完成到资助单位 dl" in err and "没有写入任何内容" in err
    _complete(lab, monkeypatch, APP2)
    at(monkeypatch, "2011-07-22")
    assert approve(lab, 2, APP, date="2011-07-22")[0] == 0
    at(monkeypatch, "2011-07-23")
    assert approve(lab, 3, APP, date="2011-07-23")[0] == 0
    at(monkeypatch, "2011-08-20")
    as_reviewer(lab, "r-zs-01")  # the district: not the funding union
    before = state(lab)
    code, out, err = main("pay", "--data", "data", f"data/{APP}", "--amount", "5000", "--date", "2011-08-20")
    assert code == 1 and "由 大连市总工会（dl）资助，你是 dl-zs 的审核人：发放须由资助单位的审核人登记" in err
    as_reviewer(lab, "r-dl-02")
    code, out, err = main("pay", "--data", "data", f"data/{APP}", "--amount", "4000", "--date", "2011-08-20")
    assert code == 1 and "审批的助学金是 5000 元，--amount 写的是 4000 元" in err
    code, out, err = main("pay", "--data", "data", f"data/{APP}", "--amount", "5000", "--date", "2011-07-01")
    assert code == 1 and "早于最后一级审批（或填表）的日期 2011-07-23" in err
    assert state(lab) == before
    code, out, err = main("pay", "--data", "data", f"data/{APP}", f"data/{APP2}", "--amount", "5000", "--date", "2011-08-20")
    assert code == 0 and "已登记 2 份申请的发放，签名提交" in out, err
    assert lab.git("log", "-1", "--format=%s") == "发放：登记 2 份申请的助学金已于 2011-08-20 发放，每份 5000 元（发放登记人 r-dl-02）"
    assert "gpgsig -----BEGIN SSH SIGNATURE-----" in lab.git("cat-file", "commit", "HEAD")
    text = lab.read(APP)
    assert 'paid_on: "2011-08-20"\n  paid_by: r-dl-02\n  paid_signature: |\n' in text
    st, problems = statuses(lab)
    assert st[APP].state == status.PAID and st[APP2].state == status.PAID and st[APP].paid_day == "2011-08-20"
    assert not [p for p in problems if p.severity == "error"], [p.text() for p in problems]
    assert main("validate", "--data", "data")[0] == 0
    code, out, err = main("pay", "--data", "data", f"data/{APP}", "--amount", "5000", "--date", "2011-08-20")
    assert code == 1 and "已登记发放（2011-08-20，r-dl-02），不能重复登记" in err


def test_pay_pending_takes_what_the_reviewers_union_funds(lab, monkeypatch):
    _complete(lab, monkeypatch, APP, APP2)
    lab.write(APP2, lab.read(APP2))  # unchanged
    at(monkeypatch, "2011-08-20")
    as_reviewer(lab, "r-dl-01")
    code, out, err = main("pay", "--data", "data", "--pending", "--yes", "--amount", "5000", "--date", "2011-08-20")
    assert code == 0, out + err
    assert "将登记以下 2 份申请已发放（每份 5000 元）" in out and "已登记 2 份申请的发放" in out
    code, out, err = main("pay", "--data", "data", "--pending", "--yes", "--amount", "5000")
    assert code == 0 and "没有待登记发放的申请" in out


def test_an_unsigned_payout_edit_is_refused_by_pay_and_by_verify(lab, monkeypatch):
    _complete(lab, monkeypatch, APP)
    lab.write(APP, lab.read(APP).replace("  amount: 5000\n", '  amount: 5000\n  paid_on: "2011-08-20"\n  paid_by: r-dl-01\n'))
    lab.commit("Paid (by hand)", date="2011-08-20")
    st, problems = statuses(lab)
    assert st[APP].state == status.APPROVED and "payment-unsigned" in codes(problems)
    as_reviewer(lab, "r-dl-01")
    code, out, err = main("pay", "--data", "data", f"data/{APP}", "--amount", "5000", "--date", "2011-08-20")
    assert code == 1 and "发放须用 pay 命令登记" in err


# ---------------------------------------------------------------- trusted time


def test_a_typed_early_date_committed_late_is_late(lab, monkeypatch):
    """Two applications sent to the city with level-2 approvals typed 08-09: one committed on 08-09,
    one committed after the deadline (today's clock). Only the first is on time; and a payment typed
    08-20 but committed after the statistics date does not count in 附件3."""
    for level, day in ((1, "2011-07-21"),):
        at(monkeypatch, day)
        assert approve(lab, level, APP, APP2, date=day)[0] == 0
    at(monkeypatch, "2011-08-09")
    assert approve(lab, 2, APP, date="2011-08-09")[0] == 0
    monkeypatch.delenv("GIT_COMMITTER_DATE")
    monkeypatch.delenv("GIT_AUTHOR_DATE")
    code, out, err = approve(lab, 2, APP2, date="2011-08-09")  # committed now, typed as 08-09
    assert code == 0, err
    st, _ = statuses(lab)
    assert st[APP].proof(2).day == "2011-08-09" and st[APP2].proof(2).day > "2011-08-10"
    code, out, err = main("history", f"data/{APP2}")
    assert re.search(r"第 2 级 同意，审核人 r-zs-01，2011-08-09，20\d\d-\d\d-\d\d 进入仓库（按此判断是否按时）", out), out
    out_dir = lab.root / "out"
    code, out, err = main("build", "--data", "data", "--out", str(out_dir), "--no-forms", "--today", "2011-08-31")
    assert (out_dir / "site" / "progress.html").is_file(), out + err
    progress = (out_dir / "site" / "progress.html").read_text(encoding="utf-8")
    assert "全市按时报送 1 份，逾期报送 1 份" in progress
    assert "是否按时，按每一项进入仓库主分支的日期判断" in progress


# ---------------------------------------------------------------- the clerk's sheet


def test_corrected_row_import_in_a_signed_repository(lab, monkeypatch, tmp_path):
    """The clerk corrects an approved application in the exported sheet and imports it: the file is
    updated, the message says the approvals need a new round, verify calls it stale, and level 1
    approves the corrected content in a second round."""
    import openpyxl

    at(monkeypatch, "2011-07-21")
    assert approve(lab, 1, APP, date="2011-07-21")[0] == 0
    sheet = tmp_path / "zs1.xlsx"
    code, out, err = main("export", "--unit", "dl-zs-0001", "--data", "data", "--out", str(sheet))
    assert code == 0, err
    wb = openpyxl.load_workbook(sheet)
    ws = wb["申请"]
    header = [c.value for c in ws[1]]
    assert header[-2:] == ["发放日期", "审批状态"]
    for r in range(2, ws.max_row + 1):
        if ws.cell(r, 1).value == "2011-dl-zs-0001-001":
            assert ws.cell(r, len(header)).value == "企业工会（街道工会）审查通过"
            ws.cell(r, header.index("家庭人口") + 1).value = 4
    wb.save(sheet)
    code, out, err = main("import", str(sheet), "--unit", "dl-zs-0001", "--data", "data")
    assert code == 0, out + err
    assert "更新 1 个" in err and "未变 1 个" in err
    assert (f"zs1.xlsx:申请!2: warning: 已更正 data/{APP}（改动了 家庭人口）：这份申请已有审批，审批针对的是改动前的内容，"
            "现在失效，需要从第 1 级开始重新审批（新一轮；原来的审批留在文件里作为记录）") in out
    assert "household_size: 4" in lab.read(APP) and lab.read(APP).count("- level: 1") == 1
    lab.commit("导入更正", date="2011-07-22")
    st, _ = statuses(lab)
    assert st[APP].state == status.STALE
    at(monkeypatch, "2011-07-23")
    assert approve(lab, 1, APP, date="2011-07-23")[0] == 0
    st, problems = statuses(lab)
    assert st[APP].state == status.APPROVED and st[APP].level == 1 and st[APP].round == 2
    assert not [p for p in problems if p.severity == "error"]


def _filled_local_template(tmp_path, name):
    """export --template local, filled with one row as a clerk would (a high-school student)."""
    import openpyxl

    from tests.io_fixtures import HEADERS_NEW, row_new

    path = tmp_path / name
    code, out, err = main("export", "--template", "local", "--out", str(path))
    assert code == 0, err
    wb = openpyxl.load_workbook(path)
    ws = wb.worksheets[0]
    header = [c.value for c in ws[1]]
    values = dict(zip(HEADERS_NEW, row_new(5)))
    values.update({"所学学历": "高中", "助学资金": 1500, "考取年度": 2010, "学校名称": "大连市第二十四中学",
                   "工会帮扶工作管理系统中职工本人打印页": "是"})
    for i, h in enumerate(header, 1):
        if h in values:
            ws.cell(2, i).value = values[h]
    wb.save(path)
    return path, header, [ws.cell(2, i).value for i in range(1, len(header) + 1)]


@pytest.mark.parametrize("encoding", ["xlsx", "gbk", "utf-8-sig"])
def test_local_sheet_round_trips_with_no_flag(tmp_path, encoding):
    """export --template local → fill → import, no --form: the sheet's (or the CSV file's) name says
    which form it is, and its columns give everything the form requires (申报材料 included)."""
    import csv

    from tests.io_fixtures import make_data

    data = make_data(tmp_path / "data")
    path, header, row = _filled_local_template(tmp_path, "模板-自行资助学生.xlsx")
    if encoding != "xlsx":
        csv_path = tmp_path / "模板-自行资助学生.csv"  # Excel's 另存为 CSV keeps the name
        with open(csv_path, "w", encoding=encoding, newline="") as f:
            csv.writer(f).writerows([header, ["" if v is None else v for v in row]])
        path = csv_path
    code, out, err = main("import", str(path), "--unit", "dl-zs-0001", "--data", str(data))
    assert code == 0, out + err
    assert "新建 1 个文件" in err and "error" not in out
    written = list((data / "applications" / "2011" / "dl-zs-0001").glob("*.yaml"))
    assert len(written) == 1
    text = written[0].read_text(encoding="utf-8")
    assert "form: local" in text and "documents:\n  system_printout: true" in text and "funding_unit: dl-zs-0001" in text
    assert main("validate", "--data", str(data))[0] == 0
    # and back: exported and imported again, nothing changes
    again = tmp_path / "again.xlsx"
    assert main("export", "--unit", "dl-zs-0001", "--data", str(data), "--out", str(again))[0] == 0
    code, out, err = main("import", str(again), "--unit", "dl-zs-0001", "--data", str(data))
    assert code == 0 and "未变 1 个" in err and written[0].read_text(encoding="utf-8") == text


@pytest.mark.parametrize("form", ["new", "continuing", "local", "graduate"])
def test_every_template_covers_what_its_form_requires(form):
    """Every field the schema requires of a form is a column of its blank sheet, or filled by the
    import itself (编号, 表格, 年度, 单位 from --unit, an empty approvals list, 资助单位 by default,
    a 是/否 box left blank is 否)."""
    from jinqiu.records import layout
    from jinqiu.sheets import columns

    kind = columns.kind_of_form(form)
    schema = layout.schema(kind)
    filled_by_import = {"/id", "/form", "/year", "/unit", "/approvals", "/services", "/aid/funding_unit"}
    have = {c.pointer for c in columns.template_columns(form)} | filled_by_import

    def required(node, pointer=""):
        node = layout._resolve(node, schema)
        need = list(node.get("required", []))
        for cond in node.get("allOf", []):
            if cond.get("if", {}).get("properties", {}).get("form", {}).get("const") == form:
                need += cond["then"].get("required", [])
                for key, sub in cond["then"].get("properties", {}).items():
                    yield from (f"{pointer}/{key}/{r}" for r in sub.get("required", []))
        for key in need:
            sub = layout._resolve(node.get("properties", {}).get(key, {}), schema)
            here = f"{pointer}/{key}"
            if sub.get("type") == "object" and here not in filled_by_import:
                inner = list(required(sub, here))
                yield from inner
                if not inner and not any(p.startswith(here + "/") for p in have):
                    yield here  # an object the form requires that no column creates
            else:
                yield here

    missing = sorted(p for p in set(required(schema)) if p not in have)
    assert missing == [], missing


# ---------------------------------------------------------------- the demo and the first run


def test_demo_replays_decisions_and_payouts_dated_in_the_campaign(tmp_path, monkeypatch):
    """build.py demo replays a data tree day by day (filings, decisions, payouts, each signed by its
    own reviewer and dated the day of its facts): its payouts count, and its site shows the campaign
    over time, the axis running to the last payout (in September) and the two deadlines of 08-25
    sharing one marker."""
    src = demo.Lab(tmp_path / "src")
    demo.world(src)
    campaign(src)
    entries = "".join(
        f"- level: {level}\n  decision: approve\n  opinion: 同意\n  reviewer: {rid}\n  date: \"{day}\"\n"
        for level, rid, day in ((1, "r-zs1-01", "2011-07-21"), (2, "r-zs-01", "2011-08-02"), (3, "r-dl-01", "2011-08-05")))
    paid = demo.application_yaml("2011-dl-zs-0001-001", "dl-zs-0001", worker_seq=1, paid_on="2011-09-05")
    src.write(APP, paid.replace('  paid_on: "2011-09-05"\n', '  paid_on: "2011-09-05"\n  paid_by: r-dl-02\n')
              .replace("approvals: []\n", "approvals:\n" + entries))
    src.write(APP2, demo.application_yaml("2011-dl-zs-0001-002", "dl-zs-0001", worker_seq=3, student="李小红")
              .replace("approvals: []\n", "approvals:\n" + entries.split("- level: 2")[0]))
    monkeypatch.chdir(tmp_path)
    code, out, err = main("demo", "--data", str(src.data), "--out", str(tmp_path / "demo"), "--site", "--today", "2011-09-10")
    assert code == 0, out + err
    assert "0 个错误" in err and "已发放：1" in out and "演示网站：" in out
    import subprocess

    days = subprocess.run(["git", "-C", str(tmp_path / "demo" / "repo"), "log", "--format=%cd %s", "--date=short"],
                          capture_output=True, text=True).stdout
    assert "2011-09-05 发放：登记 1 份申请的助学金已于 2011-09-05 发放" in days and "2011-07-20 填报（演示）" in days
    page = (tmp_path / "demo" / "site" / "index.html").read_text(encoding="utf-8")
    chart = page[page.index("jq-timeline"):]
    chart = chart[:chart.index("</details>")]
    assert "已发放（1）" in chart and "审批完成（1）" in chart and "已填报（2）" in chart
    assert "9月5日" in chart  # the axis runs past the campaign's end to the payout
    assert chart.count('stroke-dasharray="4 3"') == 2 and "2：活动总结和统计表报市总工会、活动结束（8月25日）" in chart
    progress = (tmp_path / "demo" / "site" / "progress.html").read_text(encoding="utf-8")
    assert "全市按时报送 1 份" in progress  # level 2 entered the history on 08-02


def test_first_run_on_data_entered_after_the_campaign_says_so(tmp_path):
    """The shipped sample entered git long after 2011: the chart is replaced by a plain sentence, and
    the deadlines say they rest on typed dates (tests/site_data is such a tree: committed in this
    project's own history)."""
    from pathlib import Path

    data = Path(__file__).parent / "site_data" / "data"
    code, out, err = main("build", "--data", str(data), "--out", str(tmp_path), "--no-forms", "--today", "2011-08-20")
    assert code == 0, out + err
    page = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    section = page[page.rindex("活动进展（逐日）"):]
    section = section[:section.index("</h2>", 10) if "</h2>" in section[10:] else len(section)]
    assert "年度的记录是在活动结束之后" in section and "才录入仓库的" in section and "不画逐日进展图" in section
    assert "<polyline" not in section
    assert "python3 build.py demo --site" in section  # a TEST root: the sample, and where to see it replayed
    progress = (tmp_path / "site" / "progress.html").read_text(encoding="utf-8")
    assert "是否按时只能按记录中填写的日期判断" in progress


# ---------------------------------------------------------------- the reviewers' guide, executed


SY_UNITS = """units:
- id: sy
  name: 沈阳市总工会
  kind: city
- id: sy-hp
  name: 沈阳市和平区总工会
  kind: district
  parent: sy
- id: sy-hp-0001
  name: 和平某机床厂工会
  kind: enterprise
  parent: sy-hp
"""
SY_REVIEWERS = {"r-sy-01": ("李明", "sy", 3, True), "r-sy-hp-01": ("王芳", "sy-hp", 2, False),
                "r-sy-hp-0001-01": ("赵刚", "sy-hp-0001", 1, False)}


def test_the_guides_example_runs_as_written(tmp_path, monkeypatch):
    """docs/review.md 四之二: the complete example, each command run as written by the reviewer its
    comment names, in order, in a city set up as the guides' examples are (沈阳, 2012); it ends paid,
    with nothing verify refuses."""
    import shlex
    from pathlib import Path

    lab = demo.Lab(tmp_path)
    lab.write("units.yaml", SY_UNITS)
    lab.write("reviewers.yaml", "reviewers:\n" + "".join(
        demo.reviewer_yaml(rid, name, unit, level, [{"public_key": lab.key(rid)}], admin=admin, id_number=demo.id_number(900 + n))
        for n, (rid, (name, unit, level, admin)) in enumerate(SY_REVIEWERS.items())))
    lab.write("root-of-trust.txt", f"# TEST root of trust\n{lab.fingerprint('r-sy-01')}  # r-sy-01\n")
    lab.pin_root("r-sy-01")
    base = (Path(__file__).parent / "cases" / "base" / "campaigns" / "2011.yaml").read_text(encoding="utf-8")
    lab.write("campaigns/2012.yaml", base.replace("2011", "2012"))
    lab.commit("登记工会、审核人和活动", key="r-sy-01", date="2012-06-01")
    rel = "applications/2012/sy-hp-0001/2012-sy-hp-0001-001.yaml"
    lab.write(rel, demo.application_yaml("2012-sy-hp-0001-001", "sy-hp-0001", worker_seq=1, funding_unit="sy"))
    lab.commit("填报", date="2012-07-20")
    for k, v in demo.GIT_ID.items():
        monkeypatch.setenv(k, v)
    monkeypatch.chdir(lab.repo)

    text = (Path(__file__).resolve().parent.parent / "docs" / "review.md").read_text(encoding="utf-8")
    block = text.split("一个完整的例子")[1].split("```sh\n", 1)[1].split("```", 1)[0]
    who, ran = None, 0
    for line in block.splitlines():
        if line.startswith("#"):
            who = re.search(r"（(r-[a-z0-9-]+)）", line).group(1)
            continue
        argv = shlex.split(line)
        assert argv[:2] == ["python3", "build.py"], line
        as_reviewer(lab, who)
        code, out, err = main(*argv[2:])
        assert code == 0, (line, out, err)
        ran += 1
    assert ran == 7
    assert "撤回第 2 级“不同意”" in out  # the last command is history
    st, problems = verify.run(None, lab.data, display_root="data", use_cache=False)
    assert st[rel].state == status.PAID and st[rel].round == 1
    assert not [p for p in problems if p.severity == "error"], [p.text() for p in problems]
