"""`build.py check-sealed`: no personal value in clear in a sealed repository (keyless; before merge)."""

from __future__ import annotations

from ..check import sealcheck
from ..problems import UserError, has_errors, report
from ..records import dataset as ds
from ..records import sealed
from .common import add_data_argument, data_dir

HELP = "检查加密保存的记录中没有明文个人信息（不需要密钥；合并前、提交前运行）"


def add_arguments(p) -> None:
    add_data_argument(p)
    p.add_argument("--format", choices=("text", "json", "github"), default="text", help="输出格式（默认 text）")
    p.add_argument("paths", nargs="*", metavar="文件", help="只检查这些文件（默认全部申请和毕业生记录）")


def run(args, out, err) -> int:
    root = data_dir(args)
    try:
        cfg = sealed.load_config(root)
    except sealed.ConfigError as exc:
        raise UserError(str(exc)) from None
    if cfg is None:
        err.write(f"数据目录 {args.data} 中没有加密设置 sealing.yaml：本市的记录以明文保存，无需检查。\n")
        return 0
    rels = ds.discover(root)
    if args.paths:
        wanted = {p.replace("\\", "/") for p in args.paths}
        prefix = args.data.rstrip("/") + "/"
        rels = [r for r in rels if r in wanted or prefix + r in wanted]
    rels = [r for r in rels if r.startswith(("applications/", "graduates/"))]
    data = ds.Dataset(root=root, display_root=args.data)
    problems = []
    for rel in rels:
        record, read_problems, _ = ds.read_one(root, args.data, rel)
        data.records.append(record)
        problems.extend(p for p in read_problems if p.severity == "error")
    problems = sorted(set(problems) | set(sealcheck.check(data.records, cfg, data.line)))
    report(problems, args.format, out, err)
    err.write(f"共检查 {len(rels)} 个文件（{cfg.since} 年度起加密保存）。\n")
    return 1 if has_errors(problems) else 0
