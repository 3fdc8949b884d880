"""`build.py pay`: record that the aid of approved applications was paid, in one signed commit."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from ..check import validate
from ..trust import approve, gitlog, payout, registry
from ..problems import UserError
from .common import add_data_argument, confirm, data_dir, resolve_unit, verified_statuses

HELP = "发放：资助单位的审核人登记助学金已发放，用自己的签名密钥做一次签名提交（可批量）"


def add_arguments(p) -> None:
    add_data_argument(p)
    p.add_argument("paths", nargs="*", metavar="文件", help="已发放助学金的申请文件")
    p.add_argument("--amount", required=True, metavar="元", help="每份发放的金额（元），须与审批的助学金相同，例如 5000")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="发放日期（默认今天；不能晚于今天）")
    p.add_argument("--pending", action="store_true",
                   help="登记本年度所有由你的工会资助、审批已完成、尚未发放且金额为 --amount 的申请：先列出，确认后再提交")
    p.add_argument("--unit", metavar="工会", help="与 --pending 一起用：只取这个工会（编号或名称）及其下级工会的申请")
    p.add_argument("--yes", action="store_true", help="与 --pending 一起用：不询问，直接登记列出的申请")


def run(args, out, err) -> int:
    root = data_dir(args)
    repo = gitlog.toplevel(root)
    if repo is None:
        raise UserError(f"数据目录 {args.data} 不在 git 仓库中，无法签名提交")
    today = None
    if args.date:
        try:
            today = dt.date.fromisoformat(args.date)
        except ValueError:
            raise UserError(f"--date：日期 {args.date} 应写成 2011-08-20 这样（年-月-日）") from None
    if args.pending and args.paths:
        raise UserError("--pending 与文件名不能同时给出")
    if not args.pending and (args.unit or args.yes):
        raise UserError("--unit 和 --yes 只能与 --pending 一起用")
    try:
        amount = payout.parse_amount(args.amount)
    except approve.ApproveError as exc:
        raise UserError(str(exc)) from None
    dataset = validate.load(root, args.data)
    statuses, _ = verified_statuses(root, args.data, dataset)
    try:
        if args.pending:
            return _pending(args, repo, root, dataset, statuses, amount, today, out)
        by_rel = {r.rel: r for r in dataset.applications}
        records = []
        for p in args.paths:
            rel = Path(os.path.relpath(Path(p).resolve(), root.resolve())).as_posix()
            if rel not in by_rel:
                raise UserError(f"{p} 不是数据目录中的申请文件（或无法读取）")
            records.append(by_rel[rel])
        if not records:
            raise UserError("请给出已发放的申请文件，或用 --pending")
        outcome = payout.pay_batch(repo, root, records, amount=amount, statuses=statuses, today=today, dataset=dataset)
    except approve.ApproveError as exc:
        err.write(f"错误：{exc}\n")
        return 1
    out.write(f"已登记 {len(outcome.approved)} 份申请的发放，签名提交 {outcome.commit[:10]}\n")
    return 0


def _pending(args, repo, root, dataset, statuses, amount, today, out) -> int:
    approve.check_identity(repo)
    signing = approve.signing_config(repo)
    reg = registry.build(dataset.reviewers)
    key = reg.keys.get(signing.fingerprint)
    if key is None:
        raise approve.ApproveError(f"你的签名密钥 {signing.fingerprint} 没有在审核人登记（reviewers.yaml）中登记")
    reviewer = reg.reviewers[key.reviewer]
    unit = resolve_unit(dataset.units, args.unit)
    year = approve.current_year(dataset)
    candidates = payout.payable(dataset, reviewer, unit, statuses, year)
    out.write(f"发放登记人 {key.reviewer}（{reviewer['unit']}），{year} 年度，由本单位资助、审批已完成、尚未发放的申请：\n")
    if not candidates:
        out.write("没有待登记发放的申请。\n")
        return 0
    preview = payout.pay_batch(repo, root, candidates, amount=amount, statuses=statuses, today=today, signing=signing,
                               dataset=dataset, partial=True, dry_run=True)
    if preview.approved:
        out.write(f"将登记以下 {len(preview.approved)} 份申请已发放（每份 {format(amount, 'f')} 元）：\n")
        for r in preview.approved:
            out.write(f"  {r.path}\n")
    if preview.refused:
        out.write(f"跳过以下 {len(preview.refused)} 份申请：\n")
        for r, why in preview.refused:
            out.write(f"  {r.path}：{why}\n")
    if not preview.approved:
        out.write("没有可以登记的申请，没有写入任何内容。\n")
        return 1
    if not args.yes and not confirm(out, f"确认登记以上 {len(preview.approved)} 份申请已发放？[y/N] "):
        out.write("未确认，没有写入任何内容（加 --yes 可不经询问直接登记）。\n")
        return 1
    outcome = payout.pay_batch(repo, root, preview.approved, amount=amount, statuses=statuses, today=today, signing=signing,
                               dataset=dataset, partial=True)
    out.write(f"已登记 {len(outcome.approved)} 份申请的发放，签名提交 {outcome.commit[:10]}"
              + (f"；跳过 {len(preview.refused)} 份" if preview.refused else "") + "\n")
    return 0
