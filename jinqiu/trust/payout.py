"""pay: record that the aid of approved applications was paid, as ONE signed commit by a reviewer of
the funding union, written through the same atomic path as approve (approve.commit_files).

Who may: a registered reviewer of the application's funding union (the key decides, as for
approve). When: once the latest round is verified complete up to the funding union, and not paid
yet. What: `aid.paid_on` (the date paid, as on paper), `aid.paid_by` and, with an SSH key, a
detached `aid.paid_signature` over the record, the payout and the content's digest (verify's
payment_payload), so that the payout survives any merge. The amount must be the one approved:
`--amount` says what was paid, and a file whose approved amount differs is refused (changing the
amount is an edit that starts a new round of approvals). Anything verify would refuse is refused
first, with the reason; nothing is written unless everything passes (or, for a batch taken with
partial=True, the refused files are left out and listed).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml

from ..records import yamlwrite
from . import digest, status
from .approve import ApproveError, Outcome, Signing, commit_files, detached_signature, in_force, session
from .entries import payment_payload
from .signatures import NAMESPACE_PAYMENT


def refusal(r, st, reviewer_id: str, reviewer: dict, amount: Decimal, paid_on: str, units: dict) -> str | None:
    """Why this reviewer cannot record this payout now (verify would not count it), or None."""
    aid = r.data.get("aid") if isinstance(r.data.get("aid"), dict) else {}
    funding = str(aid.get("funding_unit") or "")
    if st is not None and st.state == status.PAID:
        return f"已登记发放（{aid.get('paid_on')}，{aid.get('paid_by')}），不能重复登记"
    if aid.get("paid_on") or aid.get("paid_by") or aid.get("paid_signature"):
        return (f"文件里已写有发放记录（发放日期 {aid.get('paid_on')}），但它没有通过核验：发放须用 pay 命令登记，"
                "请先删掉 aid 下的 paid_on、paid_by、paid_signature 几行再登记")
    if reviewer.get("unit") != funding:
        name = (units.get(funding) or {}).get("name", funding)
        return f"这份申请由 {name}（{funding}）资助，你是 {reviewer.get('unit')} 的审核人：发放须由资助单位的审核人登记"
    if st is None or st.state != status.APPROVED or not st.complete:
        told = st.label if st is not None else "未知"
        return f"审批还没有经核验完成到资助单位 {funding}（核验后的状态：{told}），不能登记发放"
    try:
        approved = Decimal(str(aid.get("amount")))
    except (InvalidOperation, ValueError):
        approved = None
    if approved is None or approved != amount:
        return f"审批的助学金是 {aid.get('amount')} 元，--amount 写的是 {format(amount, 'f')} 元：只能按审批的金额发放"
    last = max((str(e.get("date") or "") for _, e in in_force(r, st)), default="")
    last = max(last, str(r.data.get("filed_on") or ""))
    if last and paid_on < last:
        return f"发放日期 {paid_on} 早于最后一级审批（或填表）的日期 {last}"
    return None


def payout_text(fields: dict) -> str:
    """The payout's lines under aid:, in the canonical style (what fmt writes)."""
    text = yaml.dump({"aid": fields}, Dumper=yamlwrite._Dumper, allow_unicode=True, sort_keys=False,
                     default_flow_style=False, width=1000, indent=2)
    return text.split("\n", 1)[1]


def add_payout(raw: str, fields: dict) -> str:
    """The file's text with the payout appended to its aid block (nothing else touched)."""
    m = re.search(r"(?m)^aid:[ \t]*$", raw)
    if m is None:
        raise ApproveError("文件中的“资助”（aid）不是标准格式，无法写入发放记录：请先运行 python3 build.py fmt")
    after = raw[m.end():]
    nxt = re.search(r"\n(?=[^\s#])", after)
    cut = m.end() + (nxt.start() + 1 if nxt else len(after))
    head, tail = raw[:cut], raw[cut:]
    if not head.endswith("\n"):
        head += "\n"
    return head + payout_text(fields) + tail


def pay_batch(repo: Path, data_dir: Path, records: list, *, amount: Decimal, statuses: dict, today: dt.date | None = None,
              signing: Signing | None = None, dataset=None, env=None, partial: bool = False, dry_run: bool = False) -> Outcome:
    """Check everything, then record the payout in each record and make one signed commit (see the
    module's docstring). statuses: verify's, by record rel. dry_run: check only (Outcome.commit None)."""
    s = session(repo, data_dir, today=today, signing=signing, dataset=dataset, env=env, what="发放")
    if not records:
        raise ApproveError("没有要登记发放的申请")
    refusals, changes = [], []
    for r in records:
        why = refusal(r, statuses.get(r.rel), s.key.reviewer, s.reviewer, amount, s.entry_day, s.dataset.units)
        if why:
            refusals.append((r, why))
        else:
            changes.append(r)
    if refusals and not partial:
        raise ApproveError("以下申请不能登记发放（verify 会拒绝），没有写入任何内容：\n"
                           + "\n".join(f"{r.path}: {why}" for r, why in refusals))
    if not changes or dry_run:
        return Outcome(None, changes, refusals)
    files = {}
    for r in changes:  # signed before anything is written: a key that cannot sign stops here
        fields = {"paid_on": s.entry_day, "paid_by": s.key.reviewer}
        aid = dict(r.data.get("aid") or {}, **fields)
        sig = detached_signature(s.signing, payment_payload(str(r.data.get("id", "")), aid, digest.of(r.data)), NAMESPACE_PAYMENT)
        if sig:
            fields["paid_signature"] = sig
        path = data_dir / r.rel
        files[path] = add_payout(path.read_text(encoding="utf-8"), fields)
    message = (f"发放：登记 {len(changes)} 份申请的助学金已于 {s.entry_day} 发放，每份 {format(amount, 'f')} 元"
               f"（发放登记人 {s.key.reviewer}）\n\n" + "\n".join(r.rel for r in changes) + "\n")
    oid = commit_files(repo, files, message, sign=True, env=env)
    return Outcome(oid, changes, refusals)


def payable(dataset, reviewer: dict, unit: str | None, statuses: dict, year: int | None) -> list:
    """This year's applications funded by the reviewer's union (optionally only under one union)
    whose latest round is verified complete and not yet paid: what `pay --pending` takes."""
    from ..check.unitref import descendants

    within = descendants(dataset.units, unit) if unit else None
    out = []
    for r in sorted(dataset.applications, key=lambda r: r.rel):
        aid = r.data.get("aid") if isinstance(r.data.get("aid"), dict) else {}
        if r.data.get("year") != year or aid.get("funding_unit") != reviewer.get("unit"):
            continue
        if within is not None and str(r.data.get("unit")) not in within:
            continue
        st = statuses.get(r.rel)
        if st is not None and st.state == status.APPROVED and st.complete:
            out.append(r)
    return out


def parse_amount(text: str) -> Decimal:
    """--amount as a Decimal of yuan (5000, 5000.00, 5000元), or ApproveError."""
    cleaned = str(text).strip().removesuffix("元").replace(",", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
        raise ApproveError(f"--amount 应为发放的金额（元），例如 5000，现为 {text}")
    return value

