"""`build.py import FILE`: one YAML file per good row of an Excel or CSV sheet."""

from __future__ import annotations

from pathlib import Path

from ..edit import importer
from ..problems import UserError
from .common import add_data_argument, data_dir, load_units, resolve_unit

HELP = "从 Excel（.xlsx）或 CSV 表格导入申请或毕业生登记：每个合格的行写成一个文件，有问题的行不写并逐行报告"


def add_arguments(p) -> None:
    p.add_argument("file", metavar="文件", help="要导入的 .xlsx 或 .csv 文件")
    p.add_argument("--unit", required=True, metavar="工会", help="填报的基层工会，写编号或名称（表中有“单位”一栏时，可为其上级）")
    p.add_argument("--form", choices=importer.FORMS, help="表格：new 新生（附件1）、continuing 在读生（附件2）、local 自行资助、graduate 毕业生；不写时按表头判断")
    p.add_argument("--year", type=int, metavar="年度", help="活动年度（不写时取“年度”一栏，或填表日期的年份）")
    p.add_argument("--dry-run", action="store_true", help="只检查并报告，不写任何文件")
    add_data_argument(p)
    from .keys import add_key_arguments

    add_key_arguments(p)  # optional: only to match and change records already sealed


def writer_sealer(args, root: Path):
    """The Sealer for a writer: the public keys always; a key only when one is given."""
    import os

    from ..edit import sealing
    from ..records import sealed
    from .keys import ENV_IDENTITY, ENV_KEYS, opener

    try:
        sealer = sealing.Sealer(root)
    except sealed.ConfigError as exc:
        raise UserError(str(exc)) from None
    if sealer.cfg is not None and (getattr(args, "identity", None) or os.environ.get(ENV_IDENTITY)) \
            and (getattr(args, "keys", None) or os.environ.get(ENV_KEYS)):
        sealer.opener = opener(args, root, "")
    return sealer


def run(args, out, err) -> int:
    root = data_dir(args)
    path = Path(args.file)
    if not path.is_file():
        raise UserError(f"文件 {args.file} 不存在")
    units = load_units(root, args.data)
    args.unit = resolve_unit(units, args.unit)
    opts = importer.Options(unit=args.unit, form=args.form, year=args.year, units=units, dry_run=args.dry_run,
                            sealer=writer_sealer(args, root))
    outcome = importer.run(path, args.file, root, args.data, opts)
    for note in outcome.notes:
        out.write(note.text() + "\n")
    if args.dry_run:
        err.write(f"试运行，未写任何文件：将新建 {len(outcome.created)} 个文件，将更新 {len(outcome.updated)} 个，"
                  f"未变 {outcome.unchanged} 个，有问题不能导入 {outcome.refused} 行\n")
    else:
        err.write(f"新建 {len(outcome.created)} 个文件，更新 {len(outcome.updated)} 个，"
                  f"未变 {outcome.unchanged} 个，未导入 {outcome.refused} 行\n")
    return 1 if outcome.refused else 0
