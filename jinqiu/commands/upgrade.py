"""`build.py upgrade`: put this Jinqiu version's code into a city's repository (jinqiu.edit.upgrade)."""

from __future__ import annotations

from pathlib import Path

from ..edit import upgrade
from ..edit.newcity import CityError

HELP = "升级：用本版本的程序替换本市仓库中的程序（一次管理员签名提交，数据和历史不动）；在新版本目录中运行"


def add_arguments(p) -> None:
    p.add_argument("target", metavar="目录", help="本市仓库的目录（init-city 建立的）")


def run(args, out, err) -> int:
    try:
        commit, changed = upgrade.upgrade(Path(args.target))
    except CityError as exc:
        for line in exc.problems:
            out.write(f"{line}\n")
        err.write("没有升级，本市仓库保持原样。\n")
        return 1
    if commit is None:
        out.write(f"{args.target} 的程序已是这个版本，无需升级。\n")
        return 0
    out.write(f"已升级 {args.target}：{len(changed)} 个程序文件，签名提交 {commit[:10]}；数据未改动。\n"
              f"下一步：cd {args.target} && python3 build.py（确认没有错误），然后 git push\n")
    return 0
