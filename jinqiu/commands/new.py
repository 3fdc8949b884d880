"""`build.py new`: a new record file with every field of its form, labelled in Chinese."""

from __future__ import annotations

from datetime import date

from ..check import unitref
from ..edit import importer, newrecord
from ..records import dataset, layout
from ..problems import UserError
from .common import add_data_argument, data_dir, filing_date, load_campaign, load_units, resolve_unit

HELP = "新建一份记录文件（申请、毕业生登记或工会年度报告），每一栏都带中文说明，填好即可提交"


def add_arguments(p) -> None:
    p.add_argument("kind", choices=("application", "graduate", "report"), metavar="类别",
                   help="application 申请，graduate 毕业生登记，report 工会年度报告")
    p.add_argument("--unit", required=True, metavar="工会", help="填报的工会，写编号或名称（编号见 python build.py units）")
    p.add_argument("--year", type=int, required=True, metavar="年度", help="活动年度")
    p.add_argument("--form", choices=("new", "continuing", "local"), default="new",
                   help="申请的表格：new 新生（附件1，默认）、continuing 在读生（附件2）、local 自行资助")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="填表日期（默认：活动年度内为今天，否则为该年度活动开始的日子）")
    add_data_argument(p)


def run(args, out, err, today: date | None = None) -> int:
    root = data_dir(args)
    units = load_units(root, args.data)
    args.unit = resolve_unit(units, args.unit)
    campaign = load_campaign(root, args.data, args.year)
    if campaign is None and (root / "campaigns").is_dir():
        raise UserError(f"没有 {args.year} 年度的活动文件 campaigns/{args.year}.yaml；请确认年度，或请市总工会先建立该年度的活动")
    filed_on, note = filing_date(args.date, campaign, args.year, today or date.today())
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
    funder = args.unit
    if kind == "application" and args.form in ("new", "continuing") and units is not None:
        funder = unitref.UnitIndex(units).city_of(args.unit) or args.unit  # the notice: the city funds 附件1/附件2
    data = newrecord.skeleton(kind, form=args.form if kind == "application" else None, unit=args.unit,
                              year=args.year, record_id=record_id, filed_on=filed_on, funding_unit=funder)
    try:
        dataset.write_text(root, rel, newrecord.text(kind, data))  # never through a link
    except dataset.NotRegularFile as exc:
        raise UserError(f"{args.data}/{rel} {exc.reason}；未写入") from None
    out.write(f"{args.data.rstrip('/')}/{rel}\n")
    if note:
        err.write(note + "\n")
    from ..records import sealed

    try:
        cfg = sealed.load_config(root)
    except sealed.ConfigError:
        cfg = None
    if cfg is not None and kind in sealed.SEALABLE_KINDS and cfg.year_sealed(args.year):
        err.write(f"已新建；{args.year} 年度的个人信息加密保存：请填写每一栏，运行 python3 build.py seal {args.data.rstrip('/')}/{rel} "
                  "加密（不需要私钥），再提交（git add、git commit，然后开合并请求）；明文不要提交\n")
        return 0
    err.write("已新建；请填写每一栏后提交（git add、git commit，然后开合并请求）\n")
    return 0
