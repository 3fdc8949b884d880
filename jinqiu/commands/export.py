"""`build.py export`: a union's records as an Excel or CSV sheet; blank sheets; the statistics table."""

from __future__ import annotations

import subprocess
from pathlib import Path

from ..check import city, unitref
from ..edit import exporter, importer
from ..problems import UserError
from ..records import dataset, sealed
from ..trust import gitlog
from .common import add_data_argument, data_dir, load_units, resolve_unit, shown

# Where an export goes without --out, inside a repository: beside the printed forms (build writes
# private/forms/), in the folder .gitignore keeps out of every commit.
EXPORT_DIR = Path("private") / "export"

HELP = "导出本工会及下属工会的申请和毕业生登记（.xlsx 或 .csv），导出空白表格（--template），或统计表（--statistics）"


def add_arguments(p) -> None:
    p.add_argument("--unit", metavar="工会", help="导出此工会（编号或名称）及其下属工会的记录")
    p.add_argument("--year", type=int, metavar="年度", help="只导出这一年度（默认全部年度）")
    p.add_argument("--format", choices=("xlsx", "csv"), default="xlsx", help="文件格式（默认 xlsx）")
    p.add_argument("--kind", choices=("application", "graduate"), default="application",
                   help="CSV 只能放一张表：application 申请（默认）或 graduate 毕业生；xlsx 两张都有")
    p.add_argument("--out", metavar="文件", help="输出文件（默认写到仓库的 private/export/ 目录，git 不跟踪；"
                                                "文件名为 <工会编号>[-<年度>].xlsx 或 .csv；不在仓库中时写到当前目录）")
    p.add_argument("--template", choices=importer.FORMS, metavar="表格",
                   help="导出空白表格：new 新生、continuing 在读生、local 自行资助、graduate 毕业生")
    p.add_argument("--statistics", action="store_true", help="导出统计表（附件3：xlsx 为官方格式，含填报人和联系电话；csv 每行一项、每列一个工会），须同时给出 --unit 和 --year")
    add_data_argument(p)
    from .keys import add_key_arguments

    add_key_arguments(p)


def _opened(records: list, root: Path, args) -> list:
    """The records as the sheet shows them: sealed ones opened on this machine with the person's own key
    (fails closed without one: a sheet of ciphertext is of no use and would go back in as text); a record
    outside the person's chain stops the export, naming the file, and nothing is written."""
    if not any(r.data is not None and sealed.is_sealed(r.data) for r in records):
        return records
    from .keys import opener, pointers_of

    o = opener(args, root, "导出加密保存的记录", "没有密钥时不导出（密文在表格里既读不懂，也不能再导入）")
    opened, refused = [], []
    for r in records:
        if r.data is None or not sealed.is_sealed(r.data):
            opened.append(r)
            continue
        try:
            opened.append(dataset.replace(r, data=o.open(r.data, pointers_of(r.data))))
        except sealed.SealError as exc:
            refused.append(f"{r.path}：{exc}")
    if refused:
        raise UserError("以下记录无法用你的密钥解密（不在你的审批链上，或密钥环未同步），没有导出任何文件：\n  "
                        + "\n  ".join(refused))
    return opened


def run(args, out, err) -> int:
    try:
        return _run(args, out, err)
    except OSError as exc:
        raise UserError(f"无法写出文件：{exc.filename or ''} {exc.strerror or exc}") from None


def _target(out: str | None, name: str) -> Path:
    """--out as given; without it, name in private/export/ at the top of the repository the command
    runs in (made when missing), or in the current directory outside a repository."""
    if out:
        path = Path(out)
        if not path.parent.is_dir():
            raise UserError(f"输出目录 {shown(path.parent)} 不存在")
        return path
    repo = gitlog.toplevel(Path.cwd())
    if repo is None:
        return Path(name)
    folder = repo / EXPORT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def _warn_if_committable(path: Path, personal: bool, err) -> None:
    """A file written into a repository's work tree that git would not ignore is one `git add -A`
    away from a commit: say so (with personal data, the history could never forget it)."""
    folder = path.parent.resolve()
    if gitlog.toplevel(folder) is None:
        return
    proc = subprocess.run(["git", "-C", str(folder), "check-ignore", "-q", "--", path.name], capture_output=True)
    if proc.returncode == 1:  # 0: ignored; 128: git could not tell
        what = "含个人信息，" if personal else ""
        err.write(f"注意：{shown(path)} 在 git 仓库的工作区中，没有被 .gitignore 忽略；{what}请不要提交它"
                  f"（移到仓库之外，或不加 --out，写到 git 不跟踪的 {EXPORT_DIR.as_posix()}/）\n")


def _run(args, out, err) -> int:
    if args.template:
        path = _target(args.out, f"模板-{exporter.TEMPLATE_NAMES[args.template].replace(' ', '-')}.xlsx")
        root = Path(args.data)
        units = load_units(root, args.data) if root.is_dir() else None
        exporter.write_template(path, args.template, conventions=city.of_units(units or {}))
        err.write(f"已写出空白表格 {shown(path)}\n")
        _warn_if_committable(path, False, err)
        return 0
    if not args.unit:
        raise UserError("请用 --unit 指明工会（编号或名称；导出空白表格请用 --template）")
    root = data_dir(args)
    units = load_units(root, args.data)
    args.unit = resolve_unit(units, args.unit)
    if args.statistics:
        if args.year is None:
            raise UserError("导出统计表须用 --year 指明年度")
        path = _target(args.out, f"统计表-{args.unit}-{args.year}.{args.format}")
        if path.suffix.lower() != f".{args.format}":
            raise UserError(f"输出文件 {shown(path)} 的扩展名应为 .{args.format}")
        try:
            exporter.export_statistics(root, args.data, args.unit, args.year, path, args.format)
        except exporter.StatisticsUnavailable as exc:
            raise UserError(str(exc)) from None
        err.write(f"已写出统计表 {shown(path)}\n")
        _warn_if_committable(path, True, err)
        return 0
    unit_ids = unitref.descendants(units, args.unit) if units is not None else {args.unit}
    suffix = f"-{args.year}" if args.year else ""
    path = _target(args.out, f"{args.unit}{suffix}.{args.format}")
    if path.suffix.lower() != f".{args.format}":
        raise UserError(f"输出文件 {shown(path)} 的扩展名应为 .{args.format}")
    counts = []
    loaded: list = []
    statuses = exporter.verified_statuses(root, args.data, loaded)  # 审批状态: verified approvals only
    every = loaded[0].records if loaded else None  # read once: verify's records, unless it had them cached
    if args.format == "csv":
        records = _opened(exporter.select(root, args.data, args.kind, unit_ids, args.year, every), root, args)
        cols, rows = exporter.table(args.kind, records, units, statuses)
        exporter.write_csv(path, cols, rows)
        counts.append(f"{len(rows)} 条{exporter.SHEET_NAMES[args.kind]}")
    else:
        tables = []
        for kind in ("application", "graduate"):
            records = _opened(exporter.select(root, args.data, kind, unit_ids, args.year, every), root, args)
            if records or kind == "application":
                cols, rows = exporter.table(kind, records, units, statuses)
                tables.append((exporter.SHEET_NAMES[kind], cols, rows))
                counts.append(f"{len(rows)} 条{exporter.SHEET_NAMES[kind]}")
        exporter.write_xlsx(path, tables)
    err.write(f"已写出 {shown(path)}：{'，'.join(counts)}\n")
    _warn_if_committable(path, True, err)
    return 0
