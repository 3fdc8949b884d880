"""The grassroots clerk's whole path, driven only through build.py as a clerk would run it (issue 10,
"done when"): a blank template → filled in a spreadsheet → a dry run → import (a bad row refused,
the good ones written) → validate for the union → fmt --check (what CI runs) → a branch and a commit
for the pull request. Every message the clerk reads is checked to be Chinese."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import openpyxl
from chinese import english_words
from io_fixtures import HEADERS_NEW, make_data, row_new

ROOT = Path(__file__).resolve().parent.parent


def build(repo: Path, *args) -> tuple[int, str]:
    proc = subprocess.run([sys.executable, str(ROOT / "build.py"), *map(str, args)], capture_output=True,
                          text=True, cwd=repo)
    out = proc.stdout + proc.stderr
    assert "Traceback" not in out, out
    assert english_words(out) == [], (args, out)
    return proc.returncode, out


def git(repo: Path, *args) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout


def test_clerk_flow_from_template_to_pull_request_branch(tmp_path):
    repo = tmp_path / "repo"
    make_data(repo / "data")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=市总工会", "-c", "user.email=city@example.invalid", "commit", "-q", "-m", "起始数据")

    # 1. A blank 附件1 sheet, its header row made from the schema's labels.
    code, out = build(repo, "export", "--template", "new", "--out", tmp_path / "附件1.xlsx", "--data", "data")
    assert code == 0 and "附件1.xlsx" in out
    wb = openpyxl.load_workbook(tmp_path / "附件1.xlsx")
    ws = wb.worksheets[0]
    headers = [c.value for c in ws[1]]
    assert "资助单位" in headers and "身份证号码" in headers
    assert any("填写说明" in (ws2.title or "") for ws2 in wb.worksheets)

    # 2. The clerk fills three rows by column name, leaves 资助单位 blank (the city funds new students),
    #    and mistypes one ID number (two digits swapped).
    rows = [dict(zip(HEADERS_NEW, row_new(i))) for i in range(3)]
    number = rows[2]["身份证号码"]
    rows[2]["身份证号码"] = number[:3] + number[4] + number[3] + number[5:]
    assert rows[2]["身份证号码"] != number
    for r, values in enumerate(rows, start=2):
        for c, header in enumerate(headers, start=1):
            if header in values:
                ws.cell(row=r, column=c, value=values[header])
    wb.save(tmp_path / "附件1.xlsx")

    # 3. A dry run writes nothing and says what it would write.
    code, out = build(repo, "import", tmp_path / "附件1.xlsx", "--unit", "大连某机床厂工会", "--dry-run", "--data", "data")
    assert "将新建 2 个文件" in out, out
    assert not (repo / "data" / "applications").exists()

    # 4. Import: the good rows become files; the bad row is named with its row and never written, and
    #    the message never suggests which digit to type.
    code, out = build(repo, "import", tmp_path / "附件1.xlsx", "--unit", "大连某机床厂工会", "--data", "data")
    written = sorted((repo / "data" / "applications").rglob("*.yaml"))
    assert len(written) == 2, out
    assert "!4: error:" in out and "身份证原件" in out, out  # the sheet and its row 4
    assert "校验位应为" not in out
    assert code == 1  # a row was refused: the clerk must look
    for path in written:
        text = path.read_text(encoding="utf-8")
        assert "funding_unit: dl\n" in text  # blank 资助单位 on 附件1: the city
    assert number not in "".join(p.read_text(encoding="utf-8") for p in written)

    # 5. The clerk corrects the number on the sheet and imports again: the third file appears, the
    #    first two are unchanged.
    before = {p: p.read_bytes() for p in written}
    wb = openpyxl.load_workbook(tmp_path / "附件1.xlsx")
    ws = wb.worksheets[0]
    ws.cell(row=4, column=headers.index("身份证号码") + 1, value=number)
    wb.save(tmp_path / "附件1.xlsx")
    code, out = build(repo, "import", tmp_path / "附件1.xlsx", "--unit", "dl-zs-0001", "--data", "data")
    assert code == 0, out
    written = sorted((repo / "data" / "applications").rglob("*.yaml"))
    assert len(written) == 3
    assert all(p.read_bytes() == b for p, b in before.items())

    # 6. Validate the union's own records, and the canonical form CI checks.
    code, out = build(repo, "validate", "--unit", "大连某机床厂工会", "--data", "data")
    assert code == 0, out
    code, out = build(repo, "fmt", "--check", "--data", "data")
    assert code == 0, out

    # 7. A branch and a commit: what the forge's web page turns into a pull request.
    git(repo, "switch", "-q", "-c", "2011-dl-zs-0001-附件1")
    git(repo, "add", "data")
    git(repo, "-c", "user.name=基层工会", "-c", "user.email=clerk@example.invalid", "commit", "-q", "-m", "填报：附件1 三份")
    changed = git(repo, "diff", "--name-only", "main", "HEAD").split()
    assert sorted(changed) == sorted(p.relative_to(repo).as_posix() for p in written)
