"""upgrade: a city's repository takes a new Jinqiu version without touching its data or its history.

Run by the NEW version (`python3 新版/build.py upgrade 本市仓库`): the code it carries (newcity.CODE_PATHS)
replaces the city's code, file for file (files the new version no longer has are removed), the
CODEOWNERS are written again by the new code from the city's own registry, mkdocs.yml keeps the
city's site_name, site_url and repository, and `.jinqiu-version` says which version is now in
place. All of it is one new commit on top of the city's history, signed by one of the city's
administrators; nothing under data/ changes (so no trust data, and verify has nothing to re-judge),
and no commit of the project's own history (its sample data, other cities) comes in, as a merge of
the project's repository would bring. Refused before anything is written: a work tree with
uncommitted changes, a repository init-city did not make, a signing key that is not an
administrator's.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from ..check import validate
from ..records import yamlstrict
from ..trust import approve, codeowners, registry
from . import newcity
from .newcity import CityError


def _git(repo: Path, *args: str, env=None) -> str:
    p = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, env=dict(os.environ, **(env or {})))
    if p.returncode:
        raise CityError([f"git {args[0]} 失败：{p.stderr.strip()}"])
    return p.stdout


def _mkdocs_settings(text: str) -> dict:
    """The city's own site_name, site_url and extra.repository from its mkdocs.yml."""
    try:
        tree, _ = yamlstrict.load(text.encode("utf-8"), "mkdocs.yml")
    except yamlstrict.YamlError:
        return {}
    extra = tree.get("extra") if isinstance(tree, dict) and isinstance(tree.get("extra"), dict) else {}
    pick = lambda v: v if isinstance(v, str) and v not in ("", "null", "~") else None  # noqa: E731
    return {"site_name": pick(tree.get("site_name")), "site_url": pick(tree.get("site_url")), "repository": pick(extra.get("repository"))}


def upgrade(repo: Path, *, env=None, source: Path = newcity.SOURCE) -> tuple[str | None, list[str]]:
    """Replace the city's code with this version's in one signed commit: (the commit, or None when
    the code is already this version's; the paths changed). CityError, with nothing written, when
    it cannot be done."""
    repo = Path(repo)
    if not (repo / ".git").exists():
        raise CityError([f"{repo} 不是 git 仓库"])
    if not (repo / newcity.VERSION_FILE).is_file() or not (repo / "data").is_dir():
        raise CityError([f"{repo} 不是用 init-city 建立的城市仓库（没有 {newcity.VERSION_FILE} 或 data/）"])
    if Path(source).resolve() == repo.resolve():
        raise CityError(["请用新版本的程序升级本市仓库：python3 新版本目录/build.py upgrade 本市仓库目录"])
    dirty = _git(repo, "status", "--porcelain", "--untracked-files=all")
    if dirty.strip():
        raise CityError([f"{repo} 有尚未提交的改动，先提交或撤销它们再升级：\n{dirty.rstrip()}"])
    try:
        approve.check_identity(repo, env)
        signing = approve.signing_config(repo, env)
    except approve.ApproveError as exc:
        raise CityError([f"这台电脑还不能做签名提交：{exc}"]) from None
    data = validate.load(repo / "data", "data")
    reg = registry.build(data.reviewers)
    key = reg.keys.get(signing.fingerprint)
    if key is None or not reg.is_admin(key.reviewer):
        raise CityError([f"签名密钥 {signing.fingerprint} 不是本市登记的管理员的密钥：程序的升级由管理员签名提交"])
    old = set(_git(repo, "ls-files", "-z", "--", *newcity.CODE_PATHS).split("\0")) - {""}
    settings = _mkdocs_settings((repo / "mkdocs.yml").read_text(encoding="utf-8")) if (repo / "mkdocs.yml").is_file() else {}
    new = set(newcity.code_files(source))
    for rel in sorted(old - new):
        (repo / rel).unlink()
    newcity.copy_code(repo, source)
    mk = repo / "mkdocs.yml"
    mk.write_text(newcity.mkdocs_with(mk.read_text(encoding="utf-8"), **settings), encoding="utf-8")
    for forge, rel in codeowners.TARGETS.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(codeowners.render(data.units, data.reviewers, "data", forge), encoding="utf-8")
    _git(repo, "add", "-A")
    changed = [line for line in _git(repo, "diff", "--cached", "--name-only", "-z").split("\0") if line]
    touched = [rel for rel in changed if rel.startswith("data/")]
    if touched:  # cannot happen: nothing above writes under data/; kept as the invariant's guard
        _git(repo, "reset", "-q", "--hard", "HEAD")
        raise CityError([f"升级不应改动数据，却改动了 {touched[0]}；已撤销"])
    if changed == [newcity.VERSION_FILE] or not changed:
        _git(repo, "reset", "-q", "--hard", "HEAD")
        return None, []
    version = newcity.version_text(source).splitlines()
    message = f"升级金秋程序：{' '.join(v for v in version[1:])}（{len(changed)} 个文件；数据未改动）"
    try:
        _git(repo, "commit", "-q", "-S", "-m", message, env=env)
    except CityError:
        _git(repo, "reset", "-q", "--hard", "HEAD")  # the work tree as it was
        raise
    return _git(repo, "rev-parse", "HEAD").strip(), changed
