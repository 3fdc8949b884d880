"""`build.py codeowners`: write .github/CODEOWNERS and .gitea/CODEOWNERS from the unions and
reviewers (or check that they are current)."""

from __future__ import annotations

from pathlib import Path

from ..check import validate
from ..trust import codeowners, gitlog
from ..problems import UserError
from .common import add_data_argument, data_dir, shown

HELP = ("根据工会和审核人登记生成 .github/CODEOWNERS（GitHub）和 .gitea/CODEOWNERS（Gitea / Forgejo），"
        "让平台自动请对的人审批（--check 只检查是否过时）")


def add_arguments(p) -> None:
    add_data_argument(p)
    p.add_argument("--check", action="store_true", help="只检查 CODEOWNERS 是否最新，过时则退出码 1")
    p.add_argument("--forge", choices=(*codeowners.FORGES, "all"), default="all",
                   help="生成哪个平台的格式：github、gitea（Forgejo 同）或 all（默认，两个都生成）")
    p.add_argument("--output", metavar="文件", help="输出文件（须与 --forge github 或 gitea 同用；默认写到仓库中平台读取的位置）")


def run(args, out, err) -> int:
    root = data_dir(args)
    repo = gitlog.toplevel(root) or Path.cwd()
    prefix = root.resolve().relative_to(repo.resolve()).as_posix() if root.resolve().is_relative_to(repo.resolve()) else args.data
    forges = codeowners.FORGES if args.forge == "all" else (args.forge,)
    if args.output and len(forges) != 1:
        raise UserError("--output 须与 --forge github 或 --forge gitea 同用")
    dataset = validate.load(root, args.data)
    stale = 0
    for forge in forges:
        text = codeowners.render(dataset.units, dataset.reviewers, "" if prefix == "." else prefix, forge)
        used = [f for f in codeowners.FORGES if any(codeowners.login_of(r, f) for r in dataset.reviewers.values())]
        if not codeowners.city_owners(dataset.reviewers, forge) and (forge in used or not used):  # a forge nobody uses: no noise
            err.write(f"警告：没有市总工会审核人登记 {forge} 账号（reviewers.yaml 的 forge_logins），"
                      f"{codeowners.TARGETS[forge]} 中代码、工作流和信任数据无人负责\n")
        target = Path(args.output) if args.output else repo / codeowners.TARGETS[forge]
        current = target.read_text(encoding="utf-8") if target.is_file() else None
        if args.check:
            if current != text:
                out.write(f"{shown(target)}:1: error: CODEOWNERS 已过时（或不存在），请运行 python build.py codeowners 并提交\n")
                stale += 1
            continue
        if current != text:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            err.write(f"已写入 {shown(target)}\n")
    return 1 if stale else 0
