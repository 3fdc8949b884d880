"""`build.py renewals YEAR`: continuing students due an application this year, per union."""

from __future__ import annotations

from datetime import date

from ..check import ids, unitref
from ..edit import exporter, fmt, importer, renewals
from ..records import dataset, layout
from ..problems import UserError
from .common import add_data_argument, data_dir, filing_date, load_campaign, load_units, resolve_unit

HELP = "列出往年资助、仍在学制内的在读学生（按工会），--write 为他们写出在读生继续资助申请供填报人补全"


def add_arguments(p) -> None:
    p.add_argument("year", type=int, metavar="年度", help="要继续资助的年度")
    p.add_argument("--unit", metavar="工会", help="只列出此工会（编号或名称）及其下属工会")
    p.add_argument("--write", action="store_true", help="写出继续资助申请文件（已写过的不会重复写）")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="写出文件的填表日期（默认：活动年度内为今天，否则为该年度活动开始的日子）")
    add_data_argument(p)


def run(args, out, err, today: date | None = None) -> int:
    root = data_dir(args)
    campaign = load_campaign(root, args.data, args.year)
    if campaign is None:
        raise UserError(f"没有 {args.year} 年度的活动文件 campaigns/{args.year}.yaml（学制和资助标准从那里读取）")
    units = load_units(root, args.data)
    args.unit = resolve_unit(units, args.unit)
    filed_on, note = filing_date(args.date, campaign, args.year, today or date.today())
    if note and args.write:
        err.write(note + "\n")
    statuses = exporter.verified_statuses(root, args.data)  # funded means: verified, never what a file claims
    if not getattr(statuses, "verified", False):
        err.write("注意：核验结果不计任何审批（没有固定信任根、数据不在 git 仓库中，或信任数据不是管理员签名的版本，"
                  "见 docs/trust.md），所以没有经核验资助过的学生可以继续资助。\n")
    due = renewals.due(renewals.load_applications(root, args.data), args.year, campaign, statuses)
    if args.unit:
        keep = unitref.descendants(units, args.unit) if units is not None else {args.unit}
        due = {u: items for u, items in due.items() if u in keep}
    existing = importer.Existing(root, args.data)
    total = 0
    for unit, items in due.items():
        name = (units or {}).get(unit, {}).get("name", "")
        out.write(f"{unit} {name}：{len(items)} 名\n")
        for r in items:
            d = r.previous.data
            s = d.get("student") or {}
            line = (f"  {d['id']}  {ids.mask_name(s.get('name', ''))}  {s.get('school', '')}  {s.get('education', '')}"
                    f"  {s.get('admission_year', '')} 级，学业至 {r.course_end} 年")
            if args.write:
                record_id = existing.new_id("application", args.year, unit)
                data = renewals.continuing_application(r, year=args.year, record_id=record_id,
                                                       filed_on=filed_on, campaign=campaign)
                rel = layout.application_path(args.year, unit, record_id)
                text = fmt.render(data, "application", renewals.HEADER_COMMENT + "\n" + fmt.yamlwrite.dump(data, "application"))
                try:
                    dataset.write_text(root, rel, text)  # never through a link
                except dataset.NotRegularFile as exc:
                    raise UserError(f"{args.data}/{rel} {exc.reason}；未写入") from None
                line += f"  → {args.data.rstrip('/')}/{rel}"
            out.write(line + "\n")
            total += 1
    verb = "写出" if args.write else "应续"
    err.write(f"{args.year} 年度{verb}在读生继续资助申请 {total} 份\n")
    return 0
