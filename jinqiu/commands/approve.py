"""`build.py approve`: append your approval to applications and make one signed commit."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from ..check import validate
from ..trust import approve, forge, gitlog, registry, verify
from ..problems import UserError
from .common import add_data_argument, confirm, data_dir, forge_checker, resolve_unit

HELP = "审批：把你的审批意见写入申请并用你的签名密钥做一次签名提交（可批量）"


def add_arguments(p) -> None:
    add_data_argument(p)
    p.add_argument("paths", nargs="*", metavar="文件", help="要审批的申请文件")
    p.add_argument("--opinion", help="审批意见，例如 情况属实，同意上报")
    p.add_argument("--reject", action="store_true", help="不同意")
    p.add_argument("--withdraw", action="store_true",
                   help="撤回：撤回你自己在本轮中仍然有效的审批（管理员可用 --level 撤回任何一级），--opinion 写撤回的原因")
    p.add_argument("--level", type=int, choices=(1, 2, 3), help="与 --withdraw 一起用（管理员）：撤回第几级的审批")
    p.add_argument("--pending", action="store_true",
                   help="审批本年度所有等待你这一级审批的申请：先列出将审批和跳过的申请（及原因），确认后再提交")
    p.add_argument("--unit", metavar="工会", help="与 --pending 一起用：只审批这个工会（编号或名称）及其下级工会的申请")
    p.add_argument("--yes", action="store_true", help="与 --pending 一起用：不询问，直接审批列出的申请")
    p.add_argument("--date", metavar="YYYY-MM-DD", help="审批日期（默认今天；不能晚于今天）")
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
            raise UserError(f"日期 {args.date} 不是 YYYY-MM-DD 格式的有效日期") from None
    if args.forge_review:
        return _forge(args, repo, root, validate.load(root, args.data), out, err)
    if not args.opinion or not args.opinion.strip():
        raise UserError("请用 --opinion 写审批意见")
    if args.pending and args.paths:
        raise UserError("--pending 与文件名不能同时给出")
    if not args.pending and (args.unit or args.yes):
        raise UserError("--unit 和 --yes 只能与 --pending 一起用")
    if args.withdraw and (args.pending or args.reject):
        raise UserError("--withdraw 不能与 --pending 或 --reject 一起用：撤回时请逐个给出申请文件")
    if args.level is not None and not args.withdraw:
        raise UserError("--level 只能与 --withdraw 一起用")
    try:
        if args.pending:
            return _pending(args, repo, root, validate.load(root, args.data, rels=approve.small_rels(root)), today, out, err)
        named = [Path(os.path.relpath(Path(p).resolve(), root.resolve())).as_posix() for p in args.paths]
        # only what approving them decides on (with --withdraw, what their statuses rest on too)
        dataset = approve.load_named(root, args.data, [rel for rel in named if not rel.startswith("../")], chains=args.withdraw)
        by_rel = {r.rel: r for r in dataset.applications}
        records = []
        for p, rel in zip(args.paths, named):
            if rel not in by_rel:
                raise UserError(f"{p} 不是数据目录中的申请文件（或无法读取）")
            records.append(by_rel[rel])
        if not records:
            raise UserError("请给出要审批的申请文件，或用 --pending")
        withdraw = None
        if args.withdraw:  # what may be withdrawn is what verify counts
            withdraw = approve.Withdrawal(args.level, verify.statuses_of(root, dataset, forge_checker())[0])
        outcome = approve.approve_batch(repo, root, records, opinion=args.opinion, reject=args.reject, today=today,
                                        dataset=dataset, withdraw=withdraw)
    except approve.ApproveError as exc:
        err.write(f"错误：{exc}\n")
        return 1
    if args.withdraw:
        out.write(f"已撤回 {len(outcome.approved)} 份申请的审批，签名提交 {outcome.commit[:10]}；"
                  "被撤回的审批不再计入，这一级（及其上各级）须重新审批\n")
        return 0
    out.write(f"已{'不同意' if args.reject else '审批'} {len(outcome.approved)} 份申请，签名提交 {outcome.commit[:10]}\n")
    return 0


def _pending(args, repo, root, small, today, out, err) -> int:
    approve.check_identity(repo)
    signing = approve.signing_config(repo)
    reg = registry.build(small.reviewers)
    key = reg.keys.get(signing.fingerprint)
    if key is None:
        raise approve.ApproveError(f"你的签名密钥 {signing.fingerprint} 没有在审核人登记（reviewers.yaml）中登记")
    reviewer = reg.reviewers[key.reviewer]
    args.unit = resolve_unit(small.units, args.unit)
    # only what the queue decides on: this year's applications of the reviewer's unions, and what their statuses rest on
    within = approve.descendants(small.units, reviewer["unit"])
    if args.unit:
        within &= approve.descendants(small.units, args.unit)
    dataset = approve.load_units(root, args.data, within, approve.current_year(small))
    statuses, _ = verify.statuses_of(root, dataset, forge_checker())
    plan = approve.pending_for(dataset, reviewer, args.unit, statuses)
    if not getattr(statuses, "verified", True):
        err.write("注意：核验结果不计任何审批（没有固定信任根，或信任数据不是管理员签名的版本，见 docs/trust.md），"
                  "所以下级的审批都还不算数，第 2、3 级看不到待审的申请。\n")
    level = reviewer["level"]

    def name(uid):  # a union by its name, as todo names it
        return dataset.units.get(uid, {}).get("name", uid)

    where = f"{name(args.unit)}（{args.unit}）及其下级工会" if args.unit else f"{name(reviewer['unit'])}负责的工会"
    if plan.year is None:
        raise approve.ApproveError("数据中没有活动文件（campaigns/<年度>.yaml），不知道本年度是哪一年")
    ctx_records = list(plan.take)
    out.write(f"审核人 {key.reviewer}（第 {level} 级，{name(reviewer['unit'])}），{plan.year} 年度，{where}：\n")
    if not ctx_records and not plan.skip:
        out.write(f"没有等待第 {level} 级审批的申请" + (_tail(plan) or "。") + "\n")
        return 0
    # what verify would refuse is skipped, with the reason, rather than stopping the batch
    outcome_preview = approve.preview(repo, root, ctx_records, dataset=dataset, opinion=args.opinion,
                                      reject=args.reject, today=today, signing=signing) if ctx_records else approve.Outcome(None)
    take = outcome_preview.approved
    skip = plan.skip + outcome_preview.refused
    if take:
        out.write(f"将{'不同意' if args.reject else '审批'}以下 {len(take)} 份申请：\n")
        for r in take:
            out.write(f"  {r.path}（{name(str(r.data.get('unit')))}）\n")
    if skip:
        out.write(f"跳过以下 {len(skip)} 份申请：\n")
        for r, why in skip:
            out.write(f"  {r.path}：{why}\n")
    tail = _tail(plan)
    if tail:
        out.write(tail.removeprefix("；") + "\n")
    if not take:
        out.write("没有可以审批的申请，没有写入任何内容。\n")
        return 1 if skip else 0
    if not args.yes and not confirm(out, f"确认{'不同意' if args.reject else '审批'}以上 {len(take)} 份申请？[y/N] "):
        out.write("未确认，没有写入任何内容（加 --yes 可不经询问直接审批）。\n")
        return 1
    outcome = approve.approve_batch(repo, root, take, opinion=args.opinion, reject=args.reject, today=today,
                                    signing=signing, dataset=dataset, partial=True)
    out.write(f"已{'不同意' if args.reject else '审批'} {len(outcome.approved)} 份申请，签名提交 {outcome.commit[:10]}"
              + (f"；跳过 {len(skip)} 份" if skip else "") + "\n")
    return 0


def _tail(plan) -> str:
    parts = []
    if plan.waiting:
        parts.append(f"另有 {plan.waiting} 份尚待下级审批")
    if plan.done:
        parts.append(f"{plan.done} 份本级已审批或审批已结束")
    return ("；" + "，".join(parts) + "（未列出）。") if parts else ""


def _forge(args, repo, root, dataset, out, err) -> int:
    try:
        payload = json.loads(Path(args.forge_review).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"读不了事件文件 {args.forge_review}：{exc}") from None
    changed = [line for line in os.environ.get("JINQIU_CHANGED_FILES", "").splitlines() if line.strip()]
    if not isinstance(payload, dict):
        raise UserError(f"事件文件 {args.forge_review} 不是平台的事件（JSON 对象）")
    try:
        oid, n = approve.record_forge_review(repo, root, dataset, payload, forge.forge_name(os.environ), changed)
    except forge.ForgeConfigError as exc:
        raise UserError(str(exc)) from None
    except approve.ApproveError as exc:
        err.write(f"错误：{exc}\n")
        return 1
    out.write(f"已把平台审阅记为 {n} 份申请的审批" + (f"，提交 {oid[:10]}\n" if oid else "\n"))
    return 0
