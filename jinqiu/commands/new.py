"""`build.py new`: a new record file with every field of its form, labelled in Chinese."""

from __future__ import annotations

from datetime import date

from .. import importer, layout, newrecord
from ..cli import UserError
from .common import add_data_argument, data_dir, load_units

HELP = "新建一份记录文件（申请、毕业生登记或工会年度报告），每一栏都带中文说明，填好即可提交"


def add_arguments(p) -> None:
    p.add_argument("kind", choices=("application", "graduate", "report"), help="application 申请，graduate 毕业生登记，report 工会年度报告")
    p.add_argument("--unit", required=True, metavar="工会编号", help="填报的工会编号")
    p.add_argument("--year", type=int, required=True, metavar="年度", help="活动年度")
    p.add_argument("--form", choices=("new", "continuing", "local"), default="new",
                   help="申请的表格：new 新生（附件1，默认）、continuing 在读生（附件2）、local 自行资助")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="填表日期（默认今天）")
    add_data_argument(p)


def run(args, out, err, today: date | None = None) -> int:
    root = data_dir(args)
    units = load_units(root, args.data)
    if units is not None and args.unit not in units:
        raise UserError(f"工会编号 {args.unit} 不在 units.yaml 中")
    try:
        filed_on = date.fromisoformat(args.date).isoformat() if args.date else (today or date.today()).isoformat()
    except ValueError:
        raise UserError(f"日期 {args.date} 应写成 2011-08-01") from None
    kind = args.kind
    if kind == "report":
        rel = layout.report_path(args.year, args.unit)
        record_id = None
        if (root / rel).exists():
            raise UserError(f"{args.data}/{rel} 已存在；一个工会一年只有一份报告")
    else:
        record_id = importer.Existing(root, args.data).new_id(kind, args.year, args.unit)
        path_of = layout.application_path if kind == "application" else layout.graduate_path
        rel = path_of(args.year, args.unit, record_id)
    data = newrecord.skeleton(kind, form=args.form if kind == "application" else None, unit=args.unit,
                              year=args.year, record_id=record_id, filed_on=filed_on)
    target = root / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(newrecord.text(kind, data), encoding="utf-8")
    out.write(f"{args.data.rstrip('/')}/{rel}\n")
    err.write("已新建；请填写每一栏后提交（git add、git commit，然后开合并请求）\n")
    return 0
