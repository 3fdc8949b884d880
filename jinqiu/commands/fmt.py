"""`build.py fmt`: rewrite data files in the one canonical form (comments kept)."""

from __future__ import annotations

from pathlib import Path

from ..edit import fmt
from ..problems import UserError, report
from .common import add_data_argument, data_dir

HELP = "把数据文件整理成统一格式（键按表格顺序，身份证号码和电话加引号，保留注释）；--check 只检查不改动"


def add_arguments(p) -> None:
    p.add_argument("paths", nargs="*", metavar="路径", help="只整理这些文件或目录（须在数据目录内；默认整个数据目录）")
    p.add_argument("--check", action="store_true", help="只检查：有未整理的文件时列出并以 1 退出（供 CI 使用）")
    p.add_argument("--changed-since", metavar="提交",
                   help="合并请求用：只检查相对该提交（与当前提交的共同祖先）改动过的数据文件（前提是该提交的文件都已整理）")
    add_data_argument(p)


def run(args, out, err) -> int:
    root = data_dir(args)
    paths = []
    for text in args.paths:
        p = Path(text)
        if not p.exists():
            raise UserError(f"{text} 不存在")
        try:
            p.resolve().relative_to(root.resolve())
        except ValueError:
            raise UserError(f"{text} 不在数据目录 {args.data} 内") from None
        paths.append(p)
    if getattr(args, "changed_since", None) and not paths:
        paths = _changed(root, args.changed_since, err)
        if paths == []:
            err.write("没有改动的数据文件\n")
            return 0
    result = fmt.run(root, args.data, paths or None, args.check)
    for path in result.changed:
        if args.check:
            out.write(f"{path}:1: error: 文件不是统一格式；请运行 python build.py fmt 后提交\n")
        else:
            out.write(f"已整理 {path}\n")
    if result.problems:
        report(result.problems, "text", out, err)
    if args.check:
        err.write(f"{len(result.changed)} 个文件不是统一格式\n")
        return 1 if result.changed or result.problems else 0
    err.write(f"整理了 {len(result.changed)} 个文件\n")
    return 1 if result.problems else 0


def _changed(root: Path, base: str, err) -> list[Path] | None:
    """The data files changed since base (that still exist), or None (all of them) after saying why."""
    from ..trust import prscope

    try:
        repo, prefix = prscope.locate(root)
        _, rels = prscope.changed(repo, prefix, base, records_only=False)
    except prscope.FullRun as exc:
        err.write(f"检查全部文件：{exc}。\n")
        return None
    return [root / rel for rel in rels if (root / rel).is_file() and not (root / rel).is_symlink()]
