"""`build.py export`: a union's records as an Excel or CSV sheet; blank sheets; the statistics table."""

from __future__ import annotations

from pathlib import Path

from ..check import city, unitref
from ..edit import exporter, importer
from ..problems import UserError
from .common import add_data_argument, data_dir, load_units, resolve_unit

HELP = "导出本工会及下属工会的申请和毕业生登记（.xlsx 或 .csv），导出空白表格（--template），或统计表（--statistics）"


def add_arguments(p) -> None:
    p.add_argument("--unit", metavar="工会", help="导出此工会（编号或名称）及其下属工会的记录")
    p.add_argument("--year", type=int, metavar="年度", help="只导出这一年度（默认全部年度）")
    p.add_argument("--format", choices=("xlsx", "csv"), default="xlsx", help="文件格式（默认 xlsx）")
    p.add_argument("--kind", choices=("application", "graduate"), default="application",
                   help="CSV 只能放一张表：application 申请（默认）或 graduate 毕业生；xlsx 两张都有")
    p.add_argument("--out", metavar="文件", help="输出文件（默认 <工会编号>[-<年度>].xlsx 或 .csv）")
    p.add_argument("--template", choices=importer.FORMS, metavar="表格",
                   help="导出空白表格：new 新生、continuing 在读生、local 自行资助、graduate 毕业生")
    p.add_argument("--statistics", action="store_true", help="导出统计表（附件3：xlsx 为官方格式，含填报人和联系电话；csv 每行一项、每列一个工会），须同时给出 --unit 和 --year")
    add_data_argument(p)


def run(args, out, err) -> int:
    try:
        return _run(args, out, err)
    except OSError as exc:
        raise UserError(f"无法写出文件：{exc.filename or ''} {exc.strerror or exc}") from None


def _target(path: Path) -> Path:
    if not path.parent.is_dir():
        raise UserError(f"输出目录 {path.parent} 不存在")
    return path


def _run(args, out, err) -> int:
    if args.template:
        path = _target(Path(args.out or f"模板-{exporter.TEMPLATE_NAMES[args.template].replace(' ', '-')}.xlsx"))
        root = Path(args.data)
        units = load_units(root, args.data) if root.is_dir() else None
        exporter.write_template(path, args.template, conventions=city.of_units(units or {}))
        err.write(f"已写出空白表格 {path}\n")
        return 0
    if not args.unit:
        raise UserError("请用 --unit 指明工会（编号或名称；导出空白表格请用 --template）")
    root = data_dir(args)
    units = load_units(root, args.data)
    args.unit = resolve_unit(units, args.unit)
    if args.statistics:
        if args.year is None:
            raise UserError("导出统计表须用 --year 指明年度")
        path = _target(Path(args.out or f"统计表-{args.unit}-{args.year}.{args.format}"))
        if path.suffix.lower() != f".{args.format}":
            raise UserError(f"输出文件 {path} 的扩展名应为 .{args.format}")
        try:
            exporter.export_statistics(root, args.data, args.unit, args.year, path, args.format)
        except exporter.StatisticsUnavailable as exc:
            raise UserError(str(exc)) from None
        err.write(f"已写出统计表 {path}\n")
        return 0
    unit_ids = unitref.descendants(units, args.unit) if units is not None else {args.unit}
    suffix = f"-{args.year}" if args.year else ""
    path = _target(Path(args.out or f"{args.unit}{suffix}.{args.format}"))
    if path.suffix.lower() != f".{args.format}":
        raise UserError(f"输出文件 {path} 的扩展名应为 .{args.format}")
    counts = []
    loaded: list = []
    statuses = exporter.verified_statuses(root, args.data, loaded)  # 审批状态: verified approvals only
    every = loaded[0].records if loaded else None  # read once: verify's records, unless it had them cached
    if args.format == "csv":
        records = exporter.select(root, args.data, args.kind, unit_ids, args.year, every)
        cols, rows = exporter.table(args.kind, records, units, statuses)
        exporter.write_csv(path, cols, rows)
        counts.append(f"{len(rows)} 条{exporter.SHEET_NAMES[args.kind]}")
    else:
        tables = []
        for kind in ("application", "graduate"):
            records = exporter.select(root, args.data, kind, unit_ids, args.year, every)
            if records or kind == "application":
                cols, rows = exporter.table(kind, records, units, statuses)
                tables.append((exporter.SHEET_NAMES[kind], cols, rows))
                counts.append(f"{len(rows)} 条{exporter.SHEET_NAMES[kind]}")
        exporter.write_xlsx(path, tables)
    err.write(f"已写出 {path}：{'，'.join(counts)}\n")
    return 0
