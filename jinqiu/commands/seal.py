"""`build.py seal FILE...`: write clear application or graduate files of a sealed year sealed (public keys only)."""

from __future__ import annotations

from pathlib import Path

from ..problems import UserError
from ..records import dataset as ds
from ..records import sealed
from .common import add_data_argument, data_dir

HELP = "把填好的明文申请或毕业生登记加密保存（只用本工会本年度的公开加密钥，不需要私钥）；提交前运行"


def add_arguments(p) -> None:
    add_data_argument(p)
    p.add_argument("paths", nargs="+", metavar="文件", help="要加密的记录文件（数据目录中的路径）")


def run(args, out, err) -> int:
    from ..check import validate
    from ..edit import fmt, sealing

    root = data_dir(args)
    try:
        sealer = sealing.Sealer(root)
    except sealed.ConfigError as exc:
        raise UserError(str(exc)) from None
    if sealer.cfg is None:
        raise UserError(f"数据目录 {args.data} 中没有加密设置 sealing.yaml：本市的记录以明文保存，无需加密")
    prefix = args.data.rstrip("/") + "/"
    failed = done = 0
    for given in args.paths:
        rel = given.replace("\\", "/")
        rel = rel[len(prefix):] if rel.startswith(prefix) else rel
        record, problems = validate.check_file(root, args.data, rel)
        shown = ds.display_path(args.data, rel)
        if record.data is None or record.kind not in sealed.SEALABLE_KINDS:
            err.write(f"{shown}: 不是可读的申请或毕业生登记文件，跳过\n")
            failed += 1
            continue
        if sealed.is_sealed(record.data):
            err.write(f"{shown}: 已经加密保存\n")
            continue
        if not sealer.applies(record.kind, record.data.get("year")):
            err.write(f"{shown}: {record.data.get('year')} 年度不加密保存（自 {sealer.cfg.since} 年度起），未改动\n")
            continue
        errors = [p for p in problems if p.severity == "error"]
        if errors:
            for p in errors:
                out.write(p.text() + "\n")
            err.write(f"{shown}: 有错误，先改正再加密（加密后只有持有密钥的人能改）\n")
            failed += 1
            continue
        try:
            stored = sealer.store(record.kind, record.data, rel)
        except sealed.SealError as exc:
            err.write(f"{shown}: {exc}\n")
            failed += 1
            continue
        text = fmt.render(stored, record.kind, ds.read_bytes(root, rel))
        ds.write_text(root, rel, text)
        out.write(f"{shown}\n")
        done += 1
    err.write(f"已加密 {done} 个文件" + (f"，{failed} 个未能加密" if failed else "") + "。\n")
    return 1 if failed else 0
