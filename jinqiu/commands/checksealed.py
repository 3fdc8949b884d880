"""`build.py check-sealed`: no personal value in clear in a sealed repository (keyless; before merge).

With `--since BASE` (a pull request's base), every version of a record that the commits since BASE
wrote is checked too, not only the work tree: a value in clear in any commit of a merged branch stays
in every clone's history for ever, even when a later commit of the branch seals it. The years checked
are those sealed by BASE's set-up or by this one, whichever seals more (a change cannot shrink them
for itself; verify judges whether its sealing.yaml counts).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from ..check import sealcheck
from ..problems import Problem, UserError, has_errors, report
from ..records import dataset as ds
from ..records import sealed
from ..trust import gitlog
from .common import add_data_argument, data_dir

HELP = "检查加密保存的记录中没有明文个人信息（不需要密钥；合并前、提交前运行；--since 连同这以后每个提交里的版本一起查）"
ZERO = "0" * 40


def add_arguments(p) -> None:
    add_data_argument(p)
    p.add_argument("--format", choices=("text", "json", "github"), default="text", help="输出格式（默认 text）")
    p.add_argument("--since", metavar="提交",
                   help="合并请求的基础提交：这以后每个提交写入的每个版本都要检查（明文一旦合并进历史就永远留在每个克隆里）")
    p.add_argument("--pre-receive", action="store_true",
                   help="服务器端 pre-receive 钩子：在平台的裸仓库里运行，从标准输入读推送的引用，"
                        "推送的提交里有任何明文个人信息就拒绝整次推送（--data 是数据目录在仓库里的路径）")
    p.add_argument("paths", nargs="*", metavar="文件", help="只检查这些文件（默认全部申请和毕业生记录）")


def _config(root: Path):
    try:
        return sealed.load_config(root)
    except sealed.ConfigError as exc:
        raise UserError(str(exc)) from None


def _base_config(repo: Path, prefix: str, base: str):
    """sealing.yaml as the base commit has it (None when it has none)."""
    try:
        raw = gitlog.git(repo, "show", f"{base}:{prefix}sealing.yaml")
    except gitlog.GitError:
        return None
    try:
        return sealed.config_from_bytes(raw, f"{base[:10]}:{prefix}sealing.yaml")
    except sealed.ConfigError as exc:
        raise UserError(str(exc)) from None


def _stricter(cfg, base_cfg):
    """The set-up to check by: this one, sealing from the earlier of the two starts."""
    if base_cfg is None:
        return cfg, []
    if cfg is None:
        return base_cfg, [Problem("sealing.yaml", 1, "", "sealing-removed",
                                  f"基础提交自 {base_cfg.since} 年度起加密保存，这个改动删去了加密设置：仍按基础提交的设置检查")]
    if base_cfg.since < cfg.since:
        return dataclasses.replace(cfg, since=base_cfg.since), [Problem(
            "sealing.yaml", 1, "/since", "sealing-narrowed",
            f"基础提交自 {base_cfg.since} 年度起加密保存，这个改动改为自 {cfg.since} 年度起：仍按 {base_cfg.since} 年度起检查")]
    return cfg, []


def _versions(repo: Path, prefix: str, base: str) -> list[tuple[str, str, str]]:
    """(blob, path below the data folder, commit) of every record version written by a commit in
    base..HEAD, each blob once (the oldest commit that wrote it)."""
    try:
        gitlog.git(repo, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}")
    except gitlog.GitError:
        raise UserError(f"--since {base}：仓库中没有这个提交（合并请求的基础提交须已取回：git fetch）") from None
    return _written(repo, prefix, [f"{base}..HEAD"])


def _written(repo: Path, prefix: str, revs: list[str]) -> list[tuple[str, str, str]]:
    """(blob, path below the data folder, commit) of every record version the commits of revs wrote
    (git log's revision arguments), each blob once (the oldest commit that wrote it)."""
    raw = gitlog.git(repo, "log", "--reverse", "-m", "--raw", "--no-abbrev", "--no-renames", "--format=%x00%H",
                     *revs, "--", f"{prefix}applications", f"{prefix}graduates", f"{prefix}reviewers.yaml").decode("utf-8", "replace")
    out, seen, commit = [], set(), ""
    for line in raw.splitlines():
        if line.startswith("\x00"):
            commit = line[1:]
            continue
        if not line.startswith(":"):
            continue
        meta, _, path = line.partition("\t")
        blob = meta.split()[3]
        if blob == ZERO or blob in seen or not path.startswith(prefix):
            continue
        seen.add(blob)
        out.append((blob, path[len(prefix):], commit))
    return out


def _head_blobs(repo: Path, paths: list[str]) -> dict[str, str]:
    """{path: blob} at HEAD for these paths (those it has)."""
    out = {}
    for i in range(0, len(paths), 500):
        raw = gitlog.git(repo, "ls-tree", "-z", "HEAD", "--", *paths[i:i + 500]).decode("utf-8", "replace")
        for entry in filter(None, raw.split("\0")):
            meta, _, path = entry.partition("\t")
            out[path] = meta.split()[2]
    return out


def _blobs(repo: Path, blobs: list[str]) -> dict[str, bytes]:
    """Each blob's bytes, read in one `git cat-file --batch`."""
    raw = gitlog.git(repo, "cat-file", "--batch", input="".join(f"{b}\n" for b in blobs).encode())
    out, at = {}, 0
    for blob in blobs:
        end = raw.index(b"\n", at)
        size = int(raw[at:end].split()[2])
        out[blob] = raw[end + 1:end + 1 + size]
        at = end + 1 + size + 1
    return out


def _history(root: Path, display: str, base: str, cfg) -> tuple[list, object]:
    """The problems of every version written since base (each named by its commit), and the set-up used."""
    repo = gitlog.toplevel(root)
    if repo is None:
        raise UserError(f"--since：数据目录 {display} 不在 git 仓库中")
    prefix = Path(os.path.relpath(root.resolve(), repo.resolve())).as_posix()
    prefix = "" if prefix == "." else prefix + "/"
    cfg, problems = _stricter(cfg, _base_config(repo, prefix, base))
    problems = [dataclasses.replace(p, path=ds.display_path(display, p.path)) for p in problems]
    if cfg is None:
        return problems, None
    versions = _versions(repo, prefix, base)
    current = _head_blobs(repo, [prefix + rel for _, rel, _ in versions])
    versions = [v for v in versions if current.get(prefix + v[1]) != v[0]]  # the work tree's check says it
    contents = _blobs(repo, [b for b, _, _ in versions])
    for blob, rel, commit in versions:
        record, _, line_of = ds.parse(contents[blob], ds.display_path(display, rel), rel)
        for p in sealcheck.check([record], cfg, lambda r, pointer: line_of(pointer), sealcheck.LEAK_RULES):
            problems.append(dataclasses.replace(p, message=f"提交 {commit[:10]} 中的版本：{p.message}"
                                                           "（明文一旦合并就永远留在历史里：请改写这个分支，去掉含明文的提交，"
                                                           "或关闭这个合并请求、删除分支后重新提交）"))
    return problems, cfg


def _pre_receive(args, lines, out, err) -> int:
    """The server's pre-receive hook: every record version in the commits a push brings that no ref had
    yet, checked by the pushed tip's set-up made stricter by the default branch's; any error rejects the
    whole push (a commit once on the forge stays in its pull-request refs even when CI fails)."""
    repo = Path.cwd()
    prefix = args.data.strip("/") + "/" if args.data.strip("/") not in ("", ".") else ""
    problems, checked = [], 0
    for line in lines:
        parts = line.split()
        if len(parts) != 3 or parts[1] == ZERO:
            continue  # a deleted ref brings nothing
        new, ref = parts[1], parts[2]
        cfg, notes = _stricter(_base_config(repo, prefix, new), _base_config(repo, prefix, "HEAD"))
        problems += [dataclasses.replace(p, path=ds.display_path(args.data, p.path)) for p in notes]
        if cfg is None:
            continue
        versions = _written(repo, prefix, [new, "--not", "--all"])
        contents = _blobs(repo, [b for b, _, _ in versions])
        checked += len(versions)
        for blob, rel, commit in versions:
            record, _, line_of = ds.parse(contents[blob], ds.display_path(args.data, rel), rel)
            for p in sealcheck.check([record], cfg, lambda r, pointer: line_of(pointer), sealcheck.LEAK_RULES):
                problems.append(dataclasses.replace(p, message=f"推送到 {ref} 的提交 {commit[:10]} 中的版本：{p.message}"))
    problems = sorted(set(problems))
    report(problems, "text", out, err)
    if has_errors(problems):
        err.write("推送被拒绝：个人信息须加密后才能进入平台（明文一旦推送，就留在平台的历史和合并请求里）。"
                  "请在本机改写这些提交（先用 python3 build.py seal 加密，再 git commit --amend 或 git rebase -i），然后重新推送。\n")
        return 1
    err.write(f"加密检查通过：推送的提交中 {checked} 个记录版本没有明文个人信息。\n")
    return 0


def run(args, out, err) -> int:
    if args.pre_receive:
        import sys

        return _pre_receive(args, sys.stdin.read().splitlines(), out, err)
    root = data_dir(args)
    cfg = _config(root)
    problems: list = []
    if args.since:
        problems, cfg = _history(root, args.data, args.since, cfg)
    if cfg is None:
        err.write(f"数据目录 {args.data} 中没有加密设置 sealing.yaml：本市的记录以明文保存，无需检查。\n")
        return 0
    rels = ds.discover(root)
    if args.paths:
        wanted = {p.replace("\\", "/") for p in args.paths}
        prefix = args.data.rstrip("/") + "/"
        rels = [r for r in rels if r in wanted or prefix + r in wanted]
    rels = [r for r in rels if r.startswith(("applications/", "graduates/")) or r == "reviewers.yaml"]
    data = ds.Dataset(root=root, display_root=args.data)
    for rel in rels:
        record, read_problems, _ = ds.read_one(root, args.data, rel)
        data.records.append(record)
        problems.extend(p for p in read_problems if p.severity == "error")
    problems = sorted(set(problems) | set(sealcheck.check(data.records, cfg, data.line)))
    report(problems, args.format, out, err)
    err.write(f"共检查 {len(rels)} 个文件（{cfg.since} 年度起加密保存）"
              + (f"，以及 {args.since[:10]} 以后提交中的各个版本" if args.since else "") + "。\n")
    return 1 if has_errors(problems) else 0
