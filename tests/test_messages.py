"""Every command's error paths, run as a clerk runs them (from the repository's top, `--data data`):
one path style in every message. A path is shown as it is typed from where the command runs
(data/…, .github/CODEOWNERS, 表格.xlsx), never as an absolute path, and no message is a traceback."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from jinqiu.sample import demo

ROOT = Path(__file__).resolve().parent.parent
CAMPAIGN = ROOT / "tests" / "cases" / "base" / "campaigns" / "2011.yaml"
APP = "applications/2011/dl-zs-0001/2011-dl-zs-0001-001.yaml"
APP2 = "applications/2011/dl-zs-0001/2011-dl-zs-0001-002.yaml"
# An absolute POSIX path: a slash that starts a word (after a space, a bracket, a quote or a colon)
# and is followed by a name; URLs (https://…) and fractions (1/2) are not.
ABSOLUTE = re.compile(r"(?:^|[\s（(“\"'‘：:=，,])(/[^\s/:：，。；（）()“”\"']+(?:/[^\s:：，。；（）()“”\"']*)*)", re.M)
POINTER = re.compile(r'"pointer": "[^"]*"')  # --format json: a JSON pointer (/worker/name) is not a path


SIGNATURE_BLOCK = re.compile(r"signature: \|\n(?:[ \t]+\S+\n?)+")  # a record shown whole: base64 lines may start with /


def absolute_paths(text: str) -> list[str]:
    return ABSOLUTE.findall(POINTER.sub("", SIGNATURE_BLOCK.sub("", text)))


def test_the_pattern_finds_absolute_paths_and_nothing_else():
    assert absolute_paths("已写入 /tmp/x/.github/CODEOWNERS") == ["/tmp/x/.github/CODEOWNERS"]
    assert absolute_paths("/root/a.yaml:1: error: x") == ["/root/a.yaml"]
    assert absolute_paths("文件（/home/u/表格.xlsx）不存在") == ["/home/u/表格.xlsx"]
    assert absolute_paths("见 https://example.org/a/b，日期 2011/8/1，data/a.yaml:3: error: 1/2") == []
    assert absolute_paths('{"path": "data/a.yaml", "pointer": "/worker/name", "x": "/etc/passwd"}') == ["/etc/passwd"]


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    """A real repository: the demo's unions and reviewers (TEST keys, root pinned), a campaign, two
    applications, one approved at level 1 by a signed commit; a second data tree `bad/` (not
    committed) with one mistake of each kind; a sheet with a bad row; the reviewer's key configured."""
    base = tmp_path_factory.mktemp("messages")
    lab = demo.Lab(base)
    demo.world(lab)
    lab.write("campaigns/2011.yaml", CAMPAIGN.read_text(encoding="utf-8"))
    lab.commit("活动", key="r-dl-01", date="2011-06-20")
    lab.write(APP, demo.application_yaml("2011-dl-zs-0001-001", "dl-zs-0001", worker_seq=1))
    lab.write(APP2, demo.application_yaml("2011-dl-zs-0001-002", "dl-zs-0001", worker_seq=2))
    lab.commit("申请", date="2011-07-20")
    env = environment(base)
    lab.git("config", "user.signingkey", str(lab.keys / "r-zs1-01"))
    code, text = run(lab.repo, env, "approve", f"data/{APP}", "--opinion", "情况属实，同意上报", "--date", "2011-07-25")
    assert code == 0, text
    bad = lab.repo / "bad"
    shutil.copytree(lab.data, bad)
    path = bad / APP2
    path.write_text(path.read_text(encoding="utf-8").replace("amount: 5000", "amount: -5")
                    .replace("household_size: 3", "household_size:   3"), encoding="utf-8")
    (bad / "applications/2011/dl-zs-0001/2011-dl-zs-0001-003.yml").write_text("id: x\n", encoding="utf-8")
    (lab.repo / "表格.csv").write_text("职工姓名,身份证号码,学生姓名\n王大山,12345,王小明\n", encoding="utf-8")
    return lab, env


def environment(base: Path) -> dict:
    home = base / "home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "JINQIU_ROOT", "GITHUB_", "GITEA_"))}
    return {**env, **demo.GIT_ID, "HOME": str(home), "LC_ALL": "C.UTF-8"}


def run(cwd: Path, env: dict, *argv) -> tuple[int, str]:
    proc = subprocess.run([sys.executable, str(ROOT / "build.py"), *argv], cwd=cwd, env=env,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)
    return proc.returncode, proc.stdout + proc.stderr


# (arguments, the exit codes it may end with): every command, each way it can go wrong.
ERROR_PATHS = [
    (["validate", "--data", "bad"], {1}),
    (["validate", "--data", "bad", "--format", "json"], {1}),
    (["validate", "--data", "bad", "--format", "github"], {1}),
    (["validate", "--data", "missing"], {2}),
    (["validate", "--unit", "不存在的工会"], {2}),
    (["validate", "--changed-since", "no-such-ref"], {0, 1, 2}),
    (["new", "application", "--unit", "不存在的工会", "--year", "2011"], {2}),
    (["new", "report", "--unit", "dl-zs-0001", "--year", "2011", "--data", "missing"], {2}),
    (["new", "application", "--unit", "dl-zs-0001", "--year", "2011", "--date", "2011-13-01"], {2}),
    (["import", "no-such.xlsx", "--unit", "dl-zs-0001"], {2}),
    (["import", "表格.csv", "--unit", "dl-zs-0001", "--dry-run"], {1}),
    (["import", "表格.csv", "--unit", "不存在的工会"], {2}),
    (["import", "data/units.yaml", "--unit", "dl-zs-0001"], {1, 2}),
    (["export", "--unit", "不存在的工会"], {2}),
    (["export"], {2}),
    (["export", "--statistics", "--unit", "dl"], {2}),
    (["export", "--unit", "dl-zs", "--out", "no-such-folder/x.xlsx"], {2}),
    (["export", "--unit", "dl-zs", "--out", "x.csv"], {2}),
    (["export", "--template", "new", "--out", "no-such-folder/x.xlsx"], {2}),
    (["renewals", "2011", "--unit", "不存在的工会"], {2}),
    (["renewals", "1999", "--write"], {1, 2}),
    (["fmt", "--check", "--data", "bad"], {1}),
    (["fmt", "--data", "bad", "no-such.yaml"], {1, 2}),
    (["verify", "--data", "bad"], {1, 2}),
    (["verify", "--changed-since", "no-such-ref"], {0, 1, 2}),  # the full run instead, saying why
    (["verify", "--root-key", "SHA256:not-a-key"], {1, 2}),
    (["approve", "--opinion", "同意", "no-such.yaml"], {1, 2}),
    (["approve", "--opinion", "同意", f"data/{APP}"], {1}),  # level 1 has approved it already
    (["approve", "--opinion", "同意", "--pending", "--unit", "不存在的工会"], {1, 2}),
    (["approve", "data/" + APP2], {2}),
    (["approve", "--opinion", "同意", "--data", "bad", "data/" + APP2], {1, 2}),
    (["approve", "--withdraw", "--opinion", "撤回", f"data/{APP2}"], {1}),  # nothing of theirs to withdraw
    (["approve", "--withdraw", "--opinion", "撤回", "--pending"], {2}),
    (["pay", "--amount", "5000", "no-such.yaml"], {2}),
    (["pay", "--amount", "5000", f"data/{APP}"], {1}),  # approved at level 1 only
    (["pay", "--amount", "五千", f"data/{APP}"], {2}),
    (["pay", "--amount", "5000", "--pending", "--unit", "不存在的工会"], {1, 2}),
    (["pay", "--amount", "5000", "--data", "missing", f"data/{APP}"], {2}),
    (["codeowners", "--check"], {1}),
    (["codeowners", "--output", "x"], {2}),
    (["codeowners", "--data", "bad", "--check"], {1, 2}),
    (["demo", "--data", "missing"], {2}),
    (["demo", "--out", "data"], {2}),
    (["units", "不存在的工会"], {1, 2}),
    (["units", "--under", "不存在的工会"], {2}),
    (["todo", "--unit", "不存在的工会"], {2}),
    (["todo", "--reviewer", "no-such-reviewer"], {2}),
    (["todo", "--unit", "dl-zs", "--today", "2011-13-01"], {2}),
    (["history", "no-such.yaml"], {1, 2}),
    (["history", "data/units.yaml"], {1, 2}),
    (["build", "--today", "2011-13-01"], {2}),
    (["build", "--data", "bad", "--out", "out", "--no-forms"], {1}),
    (["build", "--data", "missing"], {2}),
    (["init-city"], {2}),
    (["init-city", "新仓库", "--answers", "no-such.yaml"], {1}),
    (["init-city", "新仓库", "--answers", "data/units.yaml"], {1}),
    (["init-city", "data", "--answers", "表格.csv"], {1}),
    (["init-city", "--template", "data/units.yaml"], {2}),
    (["migrate", "no-such-dir", "新仓库", "--admin-key", "no-such-key", "--identity", "no-such-key", "--keys", "k"], {1}),
    (["migrate", ".", "新仓库", "--admin-key", "no-such-key"], {2}),
    (["migrate", ".", "data", "--admin-key", "no-such-key", "--identity", "no-such-key", "--keys", "k"], {1}),
    (["upgrade", "no-such-dir"], {1}),
    (["upgrade", "."], {1}),
    (["check-sealed", "--data", "missing"], {2}),
    (["seal", "no-such.yaml"], {2}),
    (["show", "no-such.yaml"], {2}),
    (["show", f"data/{APP}", "--identity", "no-such-key", "--keys", "."], {0, 2}),
    (["keys", "init"], {2}),
    (["keys", "revoke", "r-x", "--on", "2011-01-01"], {2}),
    (["keys", "new-year", "2011", "--keys", "k", "--admin-key", "no-such-key"], {2}),
    (["shred", "2009", "--keys", "k"], {2}),
    (["tags", "--signing-key", "k"], {2}),
]


def test_every_command_has_error_paths_here():
    from jinqiu import cli

    assert {argv[0] for argv, _ in ERROR_PATHS} == set(cli.COMMANDS)


@pytest.mark.parametrize("argv, codes", ERROR_PATHS, ids=[" ".join(a) for a, _ in ERROR_PATHS])
def test_error_messages_show_no_absolute_path(repo, argv, codes):
    lab, env = repo
    code, text = run(lab.repo, env, *argv)
    assert code in codes, (code, text)
    assert text.strip(), "an error path says nothing"
    assert "Traceback" not in text, text
    assert absolute_paths(text) == [], text
    for place in {str(lab.root), str(lab.root.resolve()), env["HOME"], str(ROOT)}:
        assert place not in text, text


def signing_key(env: dict, key: str) -> dict:
    return {**env, "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "user.signingkey", "GIT_CONFIG_VALUE_0": key}


def test_a_signing_key_is_named_as_the_reviewer_configured_it(repo):
    """A key that is not registered is named by its fingerprint; one that cannot be read, by the
    value of git config user.signingkey as written (~/.ssh/…), not the path it expands to."""
    lab, env = repo
    home = Path(env["HOME"])
    (home / ".ssh").mkdir(exist_ok=True)
    lab.key("stranger")
    for name in ("id_stranger", "id_stranger.pub"):
        shutil.copy(lab.keys / name.replace("id_", ""), home / ".ssh" / name)
    shutil.copy(lab.keys / "stranger.pub", home / ".ssh" / "id_public_only.pub")
    for key, words in (("~/.ssh/id_stranger.pub", "没有在审核人登记"), ("~/.ssh/id_missing", "读不到签名公钥 ~/.ssh/id_missing.pub"),
                       ("~/.ssh/id_public_only.pub", "找不到签名私钥 ~/.ssh/id_public_only：")):
        for argv in (["approve", "--opinion", "同意", f"data/{APP2}"], ["approve", "--opinion", "同意", "--pending", "--yes"]):
            code, text = run(lab.repo, signing_key(env, key), *argv)
            assert code == 1 and words in text, text
            assert absolute_paths(text) == [] and env["HOME"] not in text, text


def test_messages_naming_a_written_file_show_it_from_where_the_command_runs(repo, tmp_path):
    """codeowners, export (blank sheet, records, statistics) and demo name what they wrote relative
    to the current directory; an export without --out goes to private/export/ (ignored by git), so
    nothing lands untracked in the repository; with --out into the work tree, a warning says so."""
    lab, env = repo
    work = tmp_path / "copy"
    shutil.copytree(lab.repo, work, symlinks=True)
    (work / ".gitignore").write_text("/private/\n", encoding="utf-8")
    subprocess.run(["git", "-C", str(work), "add", ".gitignore"], check=True, capture_output=True)
    subprocess.run(["git", "-C", str(work), "commit", "-qm", "ignore"], check=True, capture_output=True, env=env)
    untracked = lambda: subprocess.run(["git", "-C", str(work), "status", "--porcelain", "--untracked-files=all"],  # noqa: E731
                                       capture_output=True, text=True, check=True).stdout
    before = untracked()
    runs = [
        (["codeowners"], "已写入 .github/CODEOWNERS"),
        (["export", "--template", "new"], "已写出空白表格 private/export/模板-"),
        (["export", "--unit", "dl-zs", "--year", "2011"], "已写出 private/export/dl-zs-2011.xlsx"),
        (["export", "--statistics", "--unit", "dl-zs", "--year", "2011"], "已写出统计表 private/export/统计表-dl-zs-2011.xlsx"),
        (["demo", "--out", "demo-out", "--limit", "1"], "演示仓库：demo-out/repo"),
        (["demo", "--limit", "1"], "演示仓库：临时目录（已删除）"),
    ]
    for argv, words in runs:
        code, text = run(work, env, *argv)
        assert code in (0, 1) and words in text, (argv, text)
        assert absolute_paths(text) == [] and str(work) not in text, text
    assert (work / "private/export/dl-zs-2011.xlsx").is_file()
    new = set(untracked().splitlines()) - set(before.splitlines())
    assert new == {"?? .gitea/CODEOWNERS", "?? .github/CODEOWNERS"} | {
        line for line in new if line.startswith("?? demo-out/")}, new  # CODEOWNERS is meant to be committed
    # Run from a folder inside the data: the file written at the top is named from there.
    code, text = run(work / "data", env, "export", "--template", "graduate")
    assert code == 0 and "已写出空白表格 ../private/export/模板-" in text, text
    # --out into the work tree where git would not ignore it: written, and said.
    code, text = run(work, env, "export", "--unit", "dl-zs", "--out", "mine.xlsx")
    assert code == 0 and "注意：mine.xlsx 在 git 仓库的工作区中，没有被 .gitignore 忽略；含个人信息，请不要提交它" in text, text
    code, text = run(work, env, "export", "--template", "new", "--out", "private/export/空白.xlsx")
    assert code == 0 and "注意" not in text, text
    # Outside any repository the current directory is the default.
    outside = tmp_path / "outside"
    outside.mkdir()
    code, text = run(outside, env, "export", "--template", "local")
    assert code == 0 and "已写出空白表格 模板-" in text and "注意" not in text, text
    assert len(list(outside.glob("模板-*.xlsx"))) == 1


def test_import_usage_message_and_guide_name_the_same_forms(repo):
    from jinqiu.edit import importer

    lab, env = repo
    forms = "|".join(importer.FORMS)
    assert forms == "new|continuing|local|graduate"
    code, text = run(lab.repo, env, "import", "表格.csv", "--unit", "dl-zs-0001", "--dry-run")
    assert f"--form {forms} 指明" in text, text
    assert "{" + forms.replace("|", ",") + "}" in run(lab.repo, env, "import", "-h")[1]
    assert f"--form {forms}`" in (ROOT / "docs" / "excel.md").read_text(encoding="utf-8")


def test_approve_heads_its_list_with_the_union_named_as_todo_does(repo, tmp_path):
    lab, env = repo
    key = signing_key(env, str(lab.keys / "r-zs-01"))  # level 2, 大连市中山区总工会
    code, text = run(lab.repo, key, "approve", "--opinion", "同意", "--pending", "--unit", "dl-zs")
    first = text.splitlines()[0]
    assert first.startswith("审核人 r-zs-01（第 2 级，大连市中山区总工会），2011 年度，大连市中山区总工会（dl-zs）及其下级工会"), text
    code, todo = run(lab.repo, env, "todo", "--reviewer", "r-zs-01")
    assert "审核人 r-zs-01（第 2 级，大连市中山区总工会）" in todo, todo
