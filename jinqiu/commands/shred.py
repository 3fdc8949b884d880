"""`build.py shred YEAR`: after a year's retention period, make its personal values unreadable for everyone."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from ..problems import UserError
from ..records import sealed
from .common import add_data_argument, data_dir, sealing_config

HELP = "保存期满后销毁一个年度的密钥：该年度的个人信息从此无人能读取，审批、发放和统计仍可核验"


def add_arguments(p) -> None:
    add_data_argument(p)
    p.add_argument("year", type=int, metavar="年度")
    p.add_argument("--keys", required=True, metavar="目录", help="密钥环目录（单独的密钥仓库；其历史将被改写）")
    p.add_argument("--today", metavar="日期", help="今天的日期 YYYY-MM-DD（默认今天）")


def run(args, out, err) -> int:
    from ..trust import keyring
    from ..records import dataset as ds, yamlwrite

    root = data_dir(args)
    cfg = sealing_config(root, args.data, "明文保存的记录无法用销毁密钥的办法删除")
    today = args.today or dt.date.today().isoformat()
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", today):
        raise UserError(f"--today {today} 应写作 YYYY-MM-DD")
    until = cfg.retain_until(args.year)
    if until is None:
        raise UserError(f"sealing.yaml 没有规定保存期限（retain_years）：不能销毁 {args.year} 年度的密钥")
    if today <= until:
        raise UserError(f"{args.year} 年度的个人信息须保存到 {until}，今天（{today}）还不能销毁")
    if not cfg.year_sealed(args.year):
        raise UserError(f"{args.year} 年度的记录没有加密保存（自 {cfg.since} 年度起加密），销毁密钥删不掉它们")
    removed = keyring.shred(Path(args.keys), args.year)
    rec = ds.read_one(root, str(root), "sealing.yaml")[0]
    data = dict(rec.data)
    data["shredded"] = sorted(set(int(y) for y in data.get("shredded") or []) | {args.year})
    ds.write_text(root, "sealing.yaml", yamlwrite.dump(data, "sealing"))
    tags = root / "tags" / f"{args.year}.yaml"
    dropped = tags.is_file() and not tags.is_symlink()
    if dropped:
        tags.unlink()  # its tag key is gone with the year: the tags mean nothing any more
    err.write(f"已从密钥仓库 {args.keys} 删除 {args.year} 年度的 {len(removed)} 个密钥文件（含查重标记密钥）并改写其历史；"
              f"sealing.yaml 记下 {args.year} 年度已销毁{'，删去了该年度的查重标记 tags/' + str(args.year) + '.yaml' if dropped else ''}，请由管理员签名提交，推送密钥仓库（强制推送），"
              "并销毁托管处保存的该年度密钥。\n")
    return 0
