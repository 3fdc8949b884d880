"""`build.py codeowners`: write .github/CODEOWNERS from the unions and reviewers (or check it)."""

from __future__ import annotations

from pathlib import Path

from .. import codeowners, gitlog, validate
from .validate import add_data_argument, data_dir

HELP = "根据工会和审核人登记生成 .github/CODEOWNERS，让平台自动请对的人审批（--check 只检查是否过时）"


def add_arguments(p) -> None:
    add_data_argument(p)
    p.add_argument("--check", action="store_true", help="只检查 .github/CODEOWNERS 是否最新，过时则退出码 1")
    p.add_argument("--output", metavar="文件", help="输出文件（默认 仓库根目录/.github/CODEOWNERS）")


def run(args, out, err) -> int:
    root = data_dir(args)
    repo = gitlog.toplevel(root) or Path.cwd()
    prefix = root.resolve().relative_to(repo.resolve()).as_posix() if root.resolve().is_relative_to(repo.resolve()) else args.data
    dataset = validate.load(root, args.data)
    text = codeowners.render(dataset.units, dataset.reviewers, "" if prefix == "." else prefix)
    target = Path(args.output) if args.output else repo / ".github" / "CODEOWNERS"
    current = target.read_text(encoding="utf-8") if target.is_file() else None
    if args.check:
        if current != text:
            out.write(f"{target}:1: error: CODEOWNERS 已过时（或不存在），请运行 python build.py codeowners 并提交\n")
            return 1
        return 0
    if current != text:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        err.write(f"已写入 {target}\n")
    return 0
