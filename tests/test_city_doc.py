"""docs/city.md is executed: every command block in order, on a machine that has only what the page
says to get (the project's code, from its address), with real ssh-keygen keys, in a temporary home;
the result is a city repository pushed to its forge, upgraded to a later version, with a green build.

The test plays what the page leaves to other people and places: the project's repository and the
city's forge (local repositories behind the page's example addresses, by git's own url.insteadOf),
the three other people's public keys arriving in the office's folder (ssh keys, and later their age keys
for sealing), a later Jinqiu version, and the passphrases typed at the terminal (JINQIU_PASSPHRASE).
The page ends by migrating the city's clear repository into a new sealed one."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from docrun import blocks, run

from jinqiu.edit import newcity
from jinqiu.records import sealed
from jinqiu.trust import carry, keyring

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "city.md"
PROJECT_URL = "https://git.example.cn/jinqiu/jinqiu.git"
FORGE_URL = "https://git.example.cn/shenyang/jinqiu.git"
OTHERS = ("王芳", "赵刚", "孙丽")


def git(*args, cwd=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_AUTHOR_NAME="金秋", GIT_AUTHOR_EMAIL="dev@jinqiu.invalid", GIT_COMMITTER_NAME="金秋",
               GIT_COMMITTER_EMAIL="dev@jinqiu.invalid", HOME=str(cwd or "/"))
    p = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def machine(tmp: Path) -> tuple[dict, Path, Path]:
    """A home folder with nothing in it but git's url.insteadOf for the page's two example addresses;
    the project's repository (this code, one commit) and the city's empty forge repository."""
    upstream = tmp / "upstream"
    for rel in newcity.code_files(ROOT):
        (upstream / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, upstream / rel)
    git("init", "-q", "-b", "main", cwd=upstream)
    git("add", "-A", cwd=upstream)
    git("commit", "-qm", "Jinqiu", cwd=upstream)
    forge = tmp / "forge.git"
    git("init", "-q", "--bare", "-b", "main", str(forge), cwd=tmp)
    home = tmp / "home"
    home.mkdir()
    (home / ".gitconfig").write_text(f'[url "{upstream.as_uri()}"]\n\tinsteadOf = {PROJECT_URL}\n'
                                     f'[url "{forge.as_uri()}"]\n\tinsteadOf = {FORGE_URL}\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "SSH_"))}
    env.update(HOME=str(home), LANG="C.UTF-8", JINQIU_PASSPHRASE="typed-at-the-terminal")
    return env, upstream, forge


def test_every_block_is_a_command_or_a_file_and_the_page_has_them_all():
    found = blocks(DOC.read_text(encoding="utf-8"))
    kinds = [b.kind for b in found]
    assert kinds.count("file") == 1 and kinds.count("sh") >= 7
    text = "\n".join(b.text for b in found)
    for step in ("setup.sh", "ssh-keygen", "init-city --template", "init-city ~/沈阳金秋 --answers", "git push",
                 "python3 build.py", "upgrade ~/沈阳金秋", "keys init", "migrate ~/沈阳金秋 ~/沈阳金秋-加密"):
        assert step in text, step


def test_the_city_guide_runs_from_an_empty_home_to_a_green_build(tmp_path):
    env, upstream, forge = machine(tmp_path)
    home = Path(env["HOME"])
    later = {}

    def before(block):
        if "init-city --template" in block.text:  # the others' public keys have arrived at the office
            for name in OTHERS:
                key = tmp_path / "their-machines" / name
                key.parent.mkdir(exist_ok=True)
                subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True)
                (home / "建库" / "公钥").mkdir(parents=True, exist_ok=True)
                shutil.copy(key.with_suffix(".pub"), home / "建库" / "公钥" / f"{name}.pub")
        if "cat > ~/加密设置.yaml" in block.text:  # the others' age public keys have arrived too
            for name in OTHERS:
                _, public = keyring.new_group()
                (home / "加密公钥" / f"{name}.txt").write_text(public + "\n", encoding="utf-8")
        if "upgrade ~/沈阳金秋" in block.text:  # Jinqiu has published a later version
            page = upstream / "site_src" / "apply.md"
            page.write_text(page.read_text(encoding="utf-8") + "\n本页由新版本更新。\n", encoding="utf-8")
            git("commit", "-qam", "A later version", cwd=upstream)
            later["commit"] = git("rev-parse", "HEAD", cwd=upstream)

    done = run(DOC.read_text(encoding="utf-8"), home, env, before)
    for r in done:
        assert r.returncode == 0, f"docs/city.md:{r.block.line}（{r.block.heading}）\n{r.block.text}\n{r.stdout}\n{r.stderr}"
    assert len(done) == len(blocks(DOC.read_text(encoding="utf-8")))
    city = home / "沈阳金秋"
    assert "error:" not in done[-1].stdout + done[-1].stderr and (city / "site" / "index.html").is_file()
    assert "本页由新版本更新" in (city / "site" / "apply.html").read_text(encoding="utf-8")
    # the forge has the city's history: the signed first commit and the upgrade on top of it, nothing else
    log = git("log", "--format=%s", "main", cwd=forge).splitlines()
    assert len(log) == 2 and log[1].startswith("建库：沈阳市总工会") and log[0].startswith("升级金秋程序")
    assert later["commit"] in (city / newcity.VERSION_FILE).read_text(encoding="utf-8")
    p = subprocess.run(["python3", "build.py", "verify"], cwd=city, env=env, capture_output=True, text=True)
    assert p.returncode == 0 and "0 个错误" in p.stderr, p.stdout + p.stderr
    # the page ends with the migration: a new sealed repository, its own history, verified clean
    assert "migrate ~/沈阳金秋" in done[-1].block.text and "0 个错误" in done[-1].stderr, done[-1].stdout + done[-1].stderr
    new = home / "沈阳金秋-加密"
    cfg = sealed.load_config(new / "data")
    assert cfg.since == 2012 and sorted(cfg.groups["2012"]) == ["sy-hp-0001", "sy-hp-0002", "sy-tx-0001"]
    assert (new / "data" / carry.MAP_FILE).is_file() and (new / "data" / carry.SIG_FILE).is_file()
    assert git("log", "--format=%s", cwd=new).startswith("迁移：")
    assert sorted(p.name for p in (home / "金秋密钥" / "2012").glob("*.age")) == ["sy-hp-0001.1.age", "sy-hp-0002.1.age", "sy-tx-0001.1.age"]


@pytest.mark.parametrize("doc", ["city.md", "review.md"])
def test_the_guides_name_no_sample_city_in_their_commands(doc):
    text = (ROOT / "docs" / doc).read_text(encoding="utf-8")
    for b in blocks(text):
        assert "大连" not in b.text and "dl-" not in b.text, b.line
