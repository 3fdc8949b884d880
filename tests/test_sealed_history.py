"""check-sealed --since: a value in clear in any commit of a branch is refused before merge, not only
in the branch's last version (issue 21, invariant 1: a clone holds the whole history, and a merged
commit can never be taken out of 300 clones).

Real git repository, real age keys and keyrings (the sealed city of test_sealed_walk)."""

from __future__ import annotations

import re

from test_sealed_walk import city, run, sheet  # noqa: F401  (city is a fixture)
from io_fixtures import row_new

CLEAR = re.compile(r"[0-9]{17}[0-9X]|1[3-9][0-9]{9}")


def _base(lab) -> str:
    return lab.git("rev-parse", "HEAD").strip()


def test_a_clear_version_sealed_by_a_later_commit_of_the_branch_is_refused(city, tmp_path):
    lab = city["lab"]
    base = _base(lab)
    row = row_new(5)
    # the clerk writes the record in clear first (say, by hand), commits, then seals it and commits again
    code, out, err = run("import", sheet(tmp_path, row), "--unit", "dl-zs-0001", "--data", "data")
    assert code == 0, out + err
    rel = next(p.relative_to(lab.data).as_posix() for p in (lab.data / "applications").rglob("*.yaml"))
    sealed_text = (lab.data / rel).read_text(encoding="utf-8")
    code, shown, err = run("show", f"data/{rel}", "--identity", city["ids"] / "m-clerk", "--keys", city["keys"])
    assert code == 0, err
    (lab.data / rel).write_text(shown, encoding="utf-8")
    leaked = lab.commit("填报（忘了加密）", date="2011-07-20")
    (lab.data / rel).write_text(sealed_text, encoding="utf-8")
    lab.commit("加密", date="2011-07-20")
    # the last version is sealed: the work tree's check alone passes
    code, out, err = run("check-sealed", "--data", "data")
    assert code == 0, out + err
    code, out, err = run("check-sealed", "--data", "data", "--since", base)
    assert code == 1, out + err
    assert f"提交 {leaked[:10]} 中的版本" in out and rel in out and "此文件是明文" in out
    assert not CLEAR.search(out + err) and row[1] not in out + err  # the message shows nothing it found
    # github annotations name the file
    code, out, err = run("check-sealed", "--data", "data", "--since", base, "--format", "github")
    assert code == 1 and f"file=data/{rel}" in out


def test_a_number_once_typed_into_an_opinion_is_refused_though_removed_since(city, tmp_path):
    lab = city["lab"]
    assert run("import", sheet(tmp_path, row_new(6)), "--unit", "dl-zs-0001", "--data", "data")[0] == 0
    lab.commit("填报", date="2011-07-20")
    base = _base(lab)
    rel = next(p.relative_to(lab.data).as_posix() for p in (lab.data / "applications").rglob("*.yaml"))
    text = (lab.data / rel).read_text(encoding="utf-8")
    (lab.data / rel).write_text(text.replace("school: 大连理工大学", "school: 大连理工大学 13804112345"), encoding="utf-8")
    lab.commit("补充", date="2011-07-21")
    (lab.data / rel).write_text(text, encoding="utf-8")
    lab.commit("删去", date="2011-07-21")
    assert run("check-sealed", "--data", "data")[0] == 0
    code, out, err = run("check-sealed", "--data", "data", "--since", base)
    assert code == 1 and "像身份证号码或手机号的数字 138******45" in out, out + err
    # a branch that never held a clear value passes
    assert run("check-sealed", "--data", "data", "--since", "HEAD")[0] == 0
    assert run("check-sealed", "--data", "data", "--since", "HEAD~1")[0] == 0


def test_a_branch_cannot_shrink_the_sealed_years_for_itself(city, tmp_path):
    lab = city["lab"]
    base = _base(lab)
    text = (lab.data / "sealing.yaml").read_text(encoding="utf-8")
    (lab.data / "sealing.yaml").write_text(text.replace("since: 2011", "since: 2099"), encoding="utf-8")
    from jinqiu.sample import demo

    lab.write("applications/2011/dl-zs-0001/2011-dl-zs-0001-009.yaml",
              demo.application_yaml("2011-dl-zs-0001-009", "dl-zs-0001", worker_seq=9))
    lab.commit("不再加密", date="2011-07-20")
    code, out, err = run("check-sealed", "--data", "data")
    assert code == 0  # by its own sealing.yaml, nothing is sealed any more
    code, out, err = run("check-sealed", "--data", "data", "--since", base)
    assert code == 1 and "仍按 2011 年度起检查" in out and "2011-dl-zs-0001-009.yaml" in out, out + err
    (lab.data / "sealing.yaml").unlink()
    lab.commit("删去加密设置", date="2011-07-21")
    code, out, err = run("check-sealed", "--data", "data", "--since", base)
    assert code == 1 and "删去了加密设置" in out and "2011-dl-zs-0001-009.yaml" in out, out + err


def test_an_unknown_base_is_said_in_chinese(city):
    code, out, err = run("check-sealed", "--data", "data", "--since", "0123456789abcdef")
    assert code == 2 and "没有这个提交" in err and "Traceback" not in err


def test_a_server_pre_receive_hook_refuses_a_push_with_a_clear_value_and_takes_a_sealed_one(city, tmp_path):
    """check-sealed --pre-receive as the forge's server-side hook, in a real bare repository: a push
    whose commits hold a clear version is refused whole (nothing of it lands on the server), a sealed
    one is taken. The hook sees only what the push brings that no ref of the server had."""
    import os
    import stat
    import subprocess
    import sys
    from pathlib import Path

    lab = city["lab"]
    root = Path(__file__).resolve().parent.parent
    server = tmp_path / "server.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(lab.repo), str(server)], check=True)
    hook = server / "hooks" / "pre-receive"
    from docrun import FENCE  # the hook as docs/sealing.md gives it, with this machine's paths

    given = next(m.group(3) for m in FENCE.finditer((root / "docs" / "sealing.md").read_text(encoding="utf-8"))
                 if "--pre-receive" in m.group(3))
    hook.write_text(given.replace("python3 /opt/jinqiu/build.py", f"{sys.executable} {root / 'build.py'}"), encoding="utf-8")
    assert str(root) in hook.read_text(encoding="utf-8")
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR)
    lab.git("remote", "add", "server", str(server))
    row = row_new(6)
    code, out, err = run("import", sheet(tmp_path, row), "--unit", "dl-zs-0001", "--data", "data")
    assert code == 0, out + err
    rel = next(p.relative_to(lab.data).as_posix() for p in (lab.data / "applications").rglob("*.yaml"))
    sealed_text = (lab.data / rel).read_text(encoding="utf-8")
    code, shown, err = run("show", f"data/{rel}", "--identity", city["ids"] / "m-clerk", "--keys", city["keys"])
    (lab.data / rel).write_text(shown, encoding="utf-8")
    leaked = lab.commit("填报（忘了加密）", date="2011-07-20")
    (lab.data / rel).write_text(sealed_text, encoding="utf-8")
    lab.commit("加密", date="2011-07-20")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    push = subprocess.run(["git", "-C", str(lab.repo), "push", "server", "HEAD:refs/heads/填报"], capture_output=True, text=True, env=env)
    assert push.returncode != 0 and "推送被拒绝" in push.stderr and leaked[:10] in push.stderr and rel in push.stderr, push.stderr
    assert not CLEAR.search(push.stderr) and row[1] not in push.stderr
    assert subprocess.run(["git", "-C", str(server), "cat-file", "-e", leaked], capture_output=True).returncode != 0
    # the clerk rewrites the branch without the clear commit: the push is taken
    lab.git("reset", "-q", "--hard", "HEAD~2")
    (lab.data / rel).parent.mkdir(parents=True, exist_ok=True)
    (lab.data / rel).write_text(sealed_text, encoding="utf-8")
    lab.commit("填报", date="2011-07-20")
    push = subprocess.run(["git", "-C", str(lab.repo), "push", "server", "HEAD:refs/heads/填报"], capture_output=True, text=True, env=env)
    assert push.returncode == 0 and "加密检查通过" in push.stderr and "1 个记录版本" in push.stderr, push.stderr
