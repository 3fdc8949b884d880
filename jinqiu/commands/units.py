"""`build.py units`: every union with its code, as a tree, so a clerk can find their own code."""

from __future__ import annotations

from ..check import unitref
from ..problems import UserError
from .common import add_data_argument, data_dir, load_units, resolve_unit

HELP = "列出全部工会及其编号（按上下级缩进）；给出名称的一部分只列出相符的工会"


def add_arguments(p) -> None:
    p.add_argument("search", nargs="?", metavar="名称或编号", help="只列出名称或编号中含有这些字的工会，例如 中山区")
    p.add_argument("--under", metavar="工会", help="只列出此工会（编号或名称）及其下属工会")
    add_data_argument(p)


def run(args, out, err) -> int:
    root = data_dir(args)
    units = load_units(root, args.data)
    if units is None:
        raise UserError(f"数据目录 {args.data} 中没有工会名单 units.yaml")
    index = unitref.UnitIndex(units)
    keep = index.below(resolve_unit(units, args.under, "--under")) if args.under else set(units)
    shown = 0
    for depth, uid in index.tree():
        u = units[uid]
        if uid not in keep:
            continue
        if args.search and unitref._norm(args.search) not in unitref._norm(u.get("name", "")) + " " + uid.lower():
            continue
        kind = unitref.KIND_NAMES.get(u.get("kind"), u.get("kind", ""))
        out.write(f"{'  ' * depth}{uid}  {u.get('name', '')}（{kind}）\n")
        shown += 1
    if args.search and not shown:
        err.write(index.unknown_message(args.search) + "\n")
        return 1
    err.write(f"共 {shown} 个工会。导入、导出等命令的 --unit 写编号或名称都可以。\n")
    return 0
