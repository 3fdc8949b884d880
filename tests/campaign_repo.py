"""tests/site_data as a repository whose history is dated in the campaign (the way the site's
over-time chart and its deadlines are meant to be read): registry and campaign 07-01; applications
filed 07-25 (no approvals); approvals committed 08-03 (entries dated 08-02 to 08-04); payments made
on a side branch whose commit claims 07-15 but is merged into main on 08-21."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

DATA = Path(__file__).parent / "site_data" / "data"
GIT = ["git", "-c", "user.name=T", "-c", "user.email=t@example.invalid", "-c", "commit.gpgsign=false"]


def git(repo, *args, day=None):
    env = dict(os.environ)
    if day:
        env.update(GIT_AUTHOR_DATE=f"{day}T10:00:00+08:00", GIT_COMMITTER_DATE=f"{day}T10:00:00+08:00")
    subprocess.run([*GIT, "-C", str(repo), *args], check=True, env=env, capture_output=True)


def apps(data):
    return sorted((data / "applications").rglob("*.yaml"))


def build(root: Path) -> Path:
    """The repository at root (its data in root/data); returns root."""
    data = root / "data"
    shutil.copytree(DATA, data)
    full = {p: p.read_text(encoding="utf-8") for p in apps(data)}
    no_pay = {p: re.sub(r"(?m)^  paid_on: .*\n", "", t) for p, t in full.items()}
    bare = {p: t[:t.index("approvals:")] + "approvals: []\n" if "approvals:" in t else t for p, t in no_pay.items()}
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    for p in apps(data):
        p.unlink()
    git(root, "add", "-A")
    git(root, "commit", "-qm", "registry and campaign", day="2011-07-01")
    for p, t in bare.items():
        p.write_text(t, encoding="utf-8")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "file", day="2011-07-25")
    for p, t in no_pay.items():
        p.write_text(t, encoding="utf-8")
    git(root, "commit", "-qam", "approve", day="2011-08-03")
    git(root, "checkout", "-qb", "pay")
    for p, t in full.items():
        p.write_text(t, encoding="utf-8")
    git(root, "commit", "-qam", "pay (backdated)", day="2011-07-15")
    git(root, "checkout", "-q", "main")
    git(root, "merge", "-q", "--no-ff", "-m", "merge payments", "pay", day="2011-08-21")
    return root
