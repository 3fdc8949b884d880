"""A copy of tests/site_data in a git repository of its own, its approvals signed again after an
edit (tests/site_data/sign.py), so that verify proves them and the 公示 lists its students."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

SITE_DATA = Path(__file__).parent / "site_data"
ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@jinqiu.invalid", "GIT_COMMITTER_NAME": "t",
       "GIT_COMMITTER_EMAIL": "t@jinqiu.invalid"}


def copy(repo: Path) -> Path:
    """tests/site_data/data copied to repo/data; returns the data folder."""
    shutil.copytree(SITE_DATA / "data", repo / "data")
    return repo / "data"


def sign_and_commit(data: Path) -> None:
    """Sign every approval of the copy for its content now, and commit the copy (one commit)."""
    spec = importlib.util.spec_from_file_location("site_sign", SITE_DATA / "sign.py")
    sign = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sign)
    sign.DATA = data
    assert sign.main() == 0
    env = dict(os.environ, **ENV)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["-c", "commit.gpgsign=false", "commit", "-q", "-m", "data"]):
        subprocess.run(["git", "-C", str(data.parent), *args], check=True, env=env, stdout=subprocess.DEVNULL)
