"""`todo` and `history`, and the reviewer flow todo → approve → verify → todo driven only through
the CLI (subprocess), every message checked to be Chinese."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from jinqiu.sample import demo
from tests.chinese import english_words
from tests.test_approve import as_reviewer, campaign

ROOT = Path(__file__).resolve().parent.parent
A = "applications/2011/dl-zs-0001/2011-dl-zs-0001-001.yaml"
B = "applications/2011/dl-zs-0001/2011-dl-zs-0001-002.yaml"
LATE = "applications/2011/dl-zs-0002/2011-dl-zs-0002-001.yaml"


@pytest.fixture
def lab(tmp_path):
    lab = demo.Lab(tmp_path)
    demo.world(lab)
    campaign(lab)
    lab.write(A, demo.application_yaml("2011-dl-zs-0001-001", "dl-zs-0001", worker_seq=1, funding_unit="dl"))
    lab.write(B, demo.application_yaml("2011-dl-zs-0001-002", "dl-zs-0001", worker_seq=2, funding_unit="dl"))
    late = demo.application_yaml("2011-dl-zs-0002-001", "dl-zs-0002", worker_seq=3, funding_unit="dl")
    due = _due()
    lab.write(LATE, _set_filed(late, f"{due[:8]}{int(due[8:]) + 1:02d}"))
    lab.commit("File", date="2011-07-20")
    return lab


def _due() -> str:
    import yaml

    return str(yaml.safe_load((ROOT / "tests/cases/base/campaigns/2011.yaml").read_text(encoding="utf-8"))["materials_due"])


def _set_filed(text: str, day: str) -> str:
    import re

    return re.sub(r'(?m)^filed_on: .*$', f'filed_on: "{day}"', text)


def cli(lab, *argv):
    env = dict(os.environ, **demo.GIT_ID)
    env["PYTHONPATH"] = str(ROOT)
    proc = subprocess.run([sys.executable, str(ROOT / "build.py"), *argv], cwd=lab.repo, env=env,
                          capture_output=True, text=True)
    text = proc.stdout + proc.stderr
    import re

    assert english_words(re.sub(r"\b[0-9a-f]{7,40}\b", " ", text)) == [], text  # commit ids aside, every message a person reads is Chinese
    assert "Traceback" not in text
    return proc.returncode, proc.stdout, proc.stderr


def section(out: str, title: str) -> str:
    part = out.split(title, 1)[1]
    return part.split("\n\n", 1)[0]


def test_reviewer_flow_todo_approve_verify_todo(lab):
    code, out, err = cli(lab, "todo", "--unit", "dl-zs-0001", "--today", "2011-07-21")
    assert code == 0, out + err
    waiting = section(out, "一、等待第 1 级")
    assert f"data/{A}" in waiting and f"data/{B}" in waiting and LATE not in waiting
    assert "彭" not in out and "worker" not in out  # no personal data unmasked (names masked: x*y)
    as_reviewer(lab, "r-zs1-01")
    code, out, err = cli(lab, "approve", "--data", "data", "--opinion", "情况属实，同意上报", "--date", "2011-07-21",
                         f"data/{A}")
    assert code == 0, out + err
    code, out, err = cli(lab, "verify", "--data", "data", "--status")
    assert code == 0, out + err
    assert f"{A}: 企业工会（街道工会）审查通过" in out
    code, out, err = cli(lab, "history", f"data/{A}")
    assert code == 0 and "第 1 轮（现行的一轮，决定申请的状态）" in out, out
    # the date typed, and beside it the day the approval entered the repository (it was committed today)
    assert re.search(r"第 1 级 同意，审核人 r-zs1-01，2011-07-21，20\d\d-\d\d-\d\d 进入仓库（按此判断是否按时）：核验通过，计入", out), out
    assert "有签名" in section(out, "一、版本").split("2. ")[1]  # the approval commit is signed
    code, out, err = cli(lab, "todo", "--unit", "dl-zs-0001", "--today", "2011-07-21")
    waiting = section(out, "一、等待第 1 级")
    assert f"data/{A}" not in waiting and f"data/{B}" in waiting  # A moved on to the district
    code, out, err = cli(lab, "todo", "--unit", "dl-zs", "--today", "2011-07-21")
    assert code == 0
    assert f"data/{A}" in section(out, "一、等待第 2 级") and f"data/{B}" not in section(out, "一、等待第 2 级")
    assert f"data/{B}" in out.split("尚待下级工会审批")[1]
    code, out, err = cli(lab, "todo", "--reviewer", "r-zs-01", "--today", "2011-07-21")
    assert code == 0 and f"data/{A}" in section(out, "一、等待第 2 级")
    # content changed after approval: stale, needs re-approval
    lab.write(A, lab.read(A).replace("household_size: 3", "household_size: 4"))
    lab.commit("Edit", date="2011-07-22")
    code, out, err = cli(lab, "todo", "--unit", "dl-zs", "--today", "2011-07-22")
    assert f"data/{A}" in section(out, "二、内容改动后待重新审批") and f"data/{A}" not in section(out, "一、等待第 2 级")
    # history: every version and decision, with why the approval no longer counts
    code, out, err = cli(lab, "history", f"data/{A}")
    assert code == 0, out + err
    versions = section(out, "一、版本")
    assert versions.count("提交 ") == 3, out
    assert "审批记录 0 条 → 1 条" in versions
    assert "改动 家庭人口：" in versions  # the field's label from the schema; values masked
    assert "第 1 轮（审批之后内容被改动过，这一轮已失效，需从第 1 级重新审批）" in out
    assert "第 1 级 同意，审核人 r-zs1-01，2011-07-21：不计入" in out and "原因：" in out


def test_todo_late(lab):
    due = _due()
    code, out, err = cli(lab, "todo", "--unit", "dl-zs", "--today", due)
    late = section(out, "三、逾期")
    assert f"data/{LATE}" in late and "晚于申报材料截止日期" in late and f"data/{A}" not in late
    code, out, err = cli(lab, "todo", "--unit", "dl-zs", "--today", f"{int(due[:4])}-12-31")
    late = section(out, "三、逾期")
    assert f"data/{A}" in late and "仍未审批完成" in late


def test_usage_errors_are_chinese_and_exit_2(lab):
    assert cli(lab, "todo")[0] == 2
    assert cli(lab, "todo", "--unit", "没有这个工会")[0] == 2
    assert cli(lab, "todo", "--reviewer", "r-nobody")[0] == 2
    assert cli(lab, "todo", "--unit", "dl", "--today", "明天")[0] == 2
    code, out, err = cli(lab, "history", "data/units.yaml")
    assert code == 2 and "不是数据目录 data/ 中的申请文件" in err
    code, out, err = cli(lab, "history", "data/nothing.yaml")
    assert code == 2 and "不存在" in err
    new = "applications/2011/dl-zs-0001/2011-dl-zs-0001-009.yaml"
    lab.write(new, demo.application_yaml("2011-dl-zs-0001-009", "dl-zs-0001", worker_seq=9))
    code, out, err = cli(lab, "history", f"data/{new}")
    assert code == 2 and "还没有提交到 git" in err


def test_history_masks_personal_values(lab):
    text = lab.read(B)
    import re

    phone = re.search(r'(?m)^  phone: "?([^"\n]+)', text).group(1)
    lab.write(B, text.replace(phone, "13800001234"))
    lab.commit("Phone", date="2011-07-22")
    code, out, err = cli(lab, "history", f"data/{B}")
    assert code == 0
    assert "13800001234" not in out and phone not in out
    assert "138******34" in out
