"""`build.py approve`: append your approval to applications and make one signed commit."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from .. import approve, forge, gitlog, registry, validate
from ..cli import UserError
from .validate import add_data_argument, data_dir

HELP = "审批：把你的审批意见写入申请并用你的签名密钥做一次签名提交（可批量）"


def add_arguments(p) -> None:
    add_data_argument(p)
    p.add_argument("paths", nargs="*", metavar="文件", help="要审批的申请文件")
    p.add_argument("--opinion", help="审批意见，例如 情况属实，同意上报")
    p.add_argument("--reject", action="store_true", help="不同意")
    p.add_argument("--pending", action="store_true", help="审批所有等待你这一级审批的申请")
    p.add_argument("--unit", metavar="工会", help="与 --pending 一起用：只审批这个工会（或其下级工会）的申请")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="审批日期（默认今天）")
    p.add_argument("--forge-review", metavar="事件文件",
                   help="由工作流使用：把平台上的批准审阅（事件文件）记为审批")


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
            raise UserError(f"日期 {args.date} 不是 YYYY-MM-DD") from None
    dataset = validate.load(root, args.data)
    if args.forge_review:
        return _forge(args, repo, root, dataset, out, err)
    if not args.opinion:
        raise UserError("请用 --opinion 写审批意见")
    by_rel = {r.rel: r for r in dataset.applications}
    try:
        if args.pending:
            signing = approve.signing_config(repo)
            key = registry.build(dataset.reviewers).keys.get(signing.fingerprint)
            if key is None:
                raise approve.ApproveError(f"你的签名密钥 {signing.fingerprint} 没有在审核人登记中登记")
            records = approve.pending_for(dataset, dataset.reviewers[key.reviewer], args.unit)
        else:
            records = []
            for p in args.paths:
                rel = Path(os.path.relpath(Path(p).resolve(), root.resolve())).as_posix()
                if rel not in by_rel:
                    raise UserError(f"{p} 不是数据目录中的申请文件（或无法读取）")
                records.append(by_rel[rel])
            signing = None
        oid = approve.approve(repo, root, records, opinion=args.opinion, reject=args.reject, today=today,
                              signing=signing, dataset=dataset)
    except approve.ApproveError as exc:
        err.write(f"错误：{exc}\n")
        return 1
    out.write(f"已审批 {len(records)} 份申请，签名提交 {oid[:10]}\n")
    return 0


def _forge(args, repo, root, dataset, out, err) -> int:
    try:
        payload = json.loads(Path(args.forge_review).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"读不了事件文件 {args.forge_review}：{exc}") from None
    changed = [line for line in os.environ.get("JINQIU_CHANGED_FILES", "").splitlines() if line.strip()]
    try:
        oid, n = approve.record_forge_review(repo, root, dataset, payload, forge.forge_name(os.environ), changed)
    except approve.ApproveError as exc:
        err.write(f"错误：{exc}\n")
        return 1
    out.write(f"已把平台审阅记为 {n} 份申请的审批" + (f"，提交 {oid[:10]}\n" if oid else "\n"))
    return 0
