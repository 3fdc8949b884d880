"""`build.py validate`: check every record and report every problem."""

from __future__ import annotations

from pathlib import Path

from .. import validate
from ..cli import UserError
from ..problems import has_errors, report

HELP = "校验数据目录中的全部记录（结构、身份证号码、金额、重复资助、截止日期、引用）"


def add_data_argument(p) -> None:
    p.add_argument("--data", default="data", metavar="DIR", help="数据目录（默认 ./data）")


def add_arguments(p) -> None:
    add_data_argument(p)
    p.add_argument("--format", choices=("text", "json", "github"), default="text", help="输出格式（默认 text）")
    p.add_argument("--no-cache", action="store_true", help="不使用缓存，全部重新校验")


def data_dir(args) -> Path:
    root = Path(args.data)
    if not root.is_dir():
        raise UserError(f"数据目录 {args.data} 不存在或不是目录")
    return root


def run(args, out, err) -> int:
    problems, files, cached = validate.problems(data_dir(args), args.data, use_cache=not args.no_cache)
    report(problems, args.format, out, err)
    err.write(f"共校验 {files} 个文件{'（内容未变，结果取自缓存）' if cached else ''}。\n")
    return 1 if has_errors(problems) else 0
