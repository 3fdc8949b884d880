"""docs/sealing.md is executed: every command block in order, in a temporary home holding a city's
repository (the project's code, a small union tree, a registry signed by its administrator, whose
root is pinned), with real ssh-keygen keys and real age keys made by the page's own commands.

The test plays the other people and places: the two reviewers' public encryption keys arriving in the
office's folder (made by `keys init` on "their machines"), and the clerk's spreadsheet."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
from docrun import blocks, run
from io_fixtures import HEADERS_NEW, row_new

from jinqiu.edit import newcity
from jinqiu.sample import demo

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "sealing.md"
PASSPHRASE = "口令-for-the-test-1"
UNITS = """units:
- id: sy
  name: 沈阳市总工会
  kind: city
  area_codes:
  - "024"
- id: sy-hp
  name: 沈阳市和平区总工会
  kind: district
  parent: sy
- id: sy-hp-0001
  name: 和平区某机床厂工会
  kind: enterprise
  parent: sy-hp
- id: sy-hp-0002
  name: 和平区某街道工会
  kind: street
  parent: sy-hp
"""
PEOPLE = {"r-sy-01": ("李明", "sy", 3), "r-sy-hp-01": ("王芳", "sy-hp", 2), "r-sy-hp-0001-01": ("赵刚", "sy-hp-0001", 1)}


def git(*args, cwd, env):
    p = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def city(tmp: Path) -> tuple[dict, Path]:
    """A home with the administrator's signing key and git set up as review.md says, and the city's
    repository: the project's code and a registry signed by the administrator, the root pinned."""
    home = tmp / "home"
    (home / ".ssh").mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "SSH_", "JINQIU_"))}
    env.update(HOME=str(home), LANG="C.UTF-8", JINQIU_PASSPHRASE=PASSPHRASE)
    key = home / ".ssh" / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "李明", "-f", str(key)], check=True)
    (home / ".gitconfig").write_text(f"[user]\n\tname = 李明\n\temail = liming@example.cn\n\tsigningkey = {key}.pub\n"
                                     "[gpg]\n\tformat = ssh\n[init]\n\tdefaultBranch = main\n", encoding="utf-8")
    repo = home / "沈阳金秋"
    for rel in newcity.code_files(ROOT):
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, repo / rel)
    data = repo / "data"
    (data / "campaigns").mkdir(parents=True)
    (data / "units.yaml").write_text(UNITS, encoding="utf-8")
    (data / "campaigns" / "2011.yaml").write_text((ROOT / "data" / "campaigns" / "2011.yaml").read_text(encoding="utf-8"),
                                                  encoding="utf-8")
    others = tmp / "their-machines"
    others.mkdir()
    parts = ["reviewers:\n"]
    for rid, (name, unit, level) in PEOPLE.items():
        path = key if rid == "r-sy-01" else others / rid
        if not path.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(path)], check=True)
        parts.append(demo.reviewer_yaml(rid, name, unit, level, [{"public_key": Path(f"{path}.pub").read_text().strip(),
                                                                   "valid_from": "2011-01-01"}], admin=rid == "r-sy-01"))
    (data / "reviewers.yaml").write_text("".join(parts), encoding="utf-8")
    fingerprint = subprocess.run(["ssh-keygen", "-lf", f"{key}.pub"], capture_output=True, text=True).stdout.split()[1]
    (data / "root-of-trust.txt").write_text(f"{fingerprint}  # r-sy-01 李明\n", encoding="utf-8")
    git("init", "-q", "-b", "main", cwd=repo, env=env)
    git("config", "jinqiu.rootKey", fingerprint, cwd=repo, env=env)
    subprocess.run(["python3", "build.py", "fmt"], cwd=repo, env=env, capture_output=True)
    git("add", "-A", cwd=repo, env=env)
    git("commit", "-q", "-S", "-m", "建库", "--date", "2011-05-01T10:00:00+08:00", cwd=repo,
        env={**env, "GIT_COMMITTER_DATE": "2011-05-01T10:00:00+08:00"})
    return env, repo


def test_the_page_has_every_step():
    text = "\n".join(b.text for b in blocks(DOC.read_text(encoding="utf-8")))
    for step in ("keys init", "keys new-year", "import", "check-sealed", "show", "textconv", "validate --keyed",
                 "build --keyed", "build.py tags", "keys seal-reviewers", "keys revoke", "keys sync", "shred"):
        assert step in text, step


def test_the_sealing_guide_runs(tmp_path):
    env, repo = city(tmp_path)
    home = Path(env["HOME"])
    seen = {}

    def before(block):
        if "cat > data/sealing.yaml" in block.text:  # the reviewers' public keys have arrived at the office
            for rid in ("r-sy-hp-01", "r-sy-hp-0001-01"):
                key = tmp_path / "their-machines" / f"{rid}.age"
                p = subprocess.run(["python3", "build.py", "keys", "init", "--out", str(key)], cwd=repo, env=env,
                                   capture_output=True, text=True)
                assert p.returncode == 0, p.stderr
                (home / "加密公钥" / f"{rid}.txt").write_text(p.stdout, encoding="utf-8")
        if "build.py import" in block.text:  # the clerk's spreadsheet
            wb = openpyxl.Workbook()
            for r in [HEADERS_NEW] + [row_new(i) for i in range(3)]:
                wb.active.append(r)
            (home / "表格").mkdir(exist_ok=True)
            wb.save(home / "表格" / "和平区某厂2011.xlsx")
        if "shred 2011" in block.text:  # before the keys go: the clerk's key still opens this year's files
            seen["before-shred"] = _show(repo, env, tmp_path / "their-machines" / "r-sy-hp-0001-01.age", home)

    done = run(DOC.read_text(encoding="utf-8"), home, env, before)
    for r in done:
        assert r.returncode == 0, f"docs/sealing.md:{r.block.line}（{r.block.heading}）\n{r.block.text}\n{r.stdout}\n{r.stderr}"
    assert len(done) == len(blocks(DOC.read_text(encoding="utf-8")))
    outputs = {r.block.heading: r for r in done}
    # 四: the files are sealed; 五: the administrator reads one, and git log -p shows the values
    files = sorted((repo / "data" / "applications").rglob("*.yaml"))
    assert len(files) == 3 and all("ENC[jq1," in f.read_text(encoding="utf-8") for f in files)
    row = row_new(0)
    assert row[5] not in "".join(f.read_text(encoding="utf-8") for f in files)
    show = next(r for r in done if "build.py show" in r.block.text and "textconv" not in r.block.text)
    assert row[5] in show.stdout and row[1] in show.stdout
    textconv = next(r for r in done if "textconv" in r.block.text)
    assert textconv.stdout.strip() == "3"
    # 六: the keyed build made the forms; 七: the revoked clerk could read before, and the new generation is not theirs
    assert list((repo / "private" / "forms").glob("*.html"))
    tags = next(r for r in done if "build.py tags" in r.block.text)
    assert "2011 年度 3 份加密记录" in tags.stderr and "已用构建机的钥匙签名" in tags.stderr, tags.stderr
    assert not (repo / "data" / "tags" / "2011.yaml").exists()  # 八: shredded with its key
    assert "data/tags/2011.yaml" not in git("ls-files", "data/tags", cwd=repo, env=env)
    assert seen["before-shred"] == 0
    assert (home / "金秋密钥" / "2011").exists() is False  # shredded
    # 八: nobody reads 2011 any more, verify is green
    for who in (home / "金秋构建机" / "构建密钥", home / "托管" / "托管密钥", home / ".config" / "jinqiu" / "加密密钥"):
        assert _show(repo, env, who, home) == 1
    assert "0 个错误" in done[-1].stderr, done[-1].stderr
    assert outputs


def _show(repo: Path, env: dict, identity: Path, home: Path) -> int:
    rel = sorted((repo / "data" / "applications").rglob("*.yaml"))[0].relative_to(repo)
    p = subprocess.run(["python3", "build.py", "show", str(rel), "--identity", str(identity), "--keys", str(home / "金秋密钥")],
                       cwd=repo, env=env, capture_output=True, text=True)
    return p.returncode
