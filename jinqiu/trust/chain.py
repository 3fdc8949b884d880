"""The decisions of one application, read as rounds (jinqiu.check.rounds): in each round levels 1,
2, 3 in order up to the funding union, each by a reviewer registered for that level and union,
none on their own family's application, each for the content it names (its digest); withdrawals
by the decision's own reviewer or an administrator; a payout only by the funding union after the
chain; a continuing student's application only on a verified earlier approval.
"""

from __future__ import annotations

from . import carry, digest, registry, status
from ..check import identity, rounds
from .entries import Context, Entry
from .signatures import NAMESPACE_PAYMENT
from .entries import payment_payload
from ..problems import ERROR, WARNING, Problem


REGISTRY_REL = "reviewers.yaml"


def in_order(ctx: Context, entries: list[Entry]) -> list[Entry]:
    """The entries in the order they were made, as the commit graph says: by the place of the
    commit that brought each in the history (parents first), then by place in the list; entries
    not committed yet come last. A list reordered by hand cannot change which round is the latest."""
    if not ctx.position and ctx.history is not None:
        ctx.position = {oid: i for i, oid in enumerate(ctx.history.order)}
    last = len(ctx.position)
    return sorted(entries, key=lambda e: (ctx.position.get(e.commit, last) if e.commit else last + 1, e.index))


def check_chain(ctx: Context, record, entries: list[Entry]) -> tuple[list[Entry], rounds.Rounds]:
    """Each entry on its own: a decision by a reviewer registered at that level for that union, not
    past the funding union, not on their own or their family's application (the worker's or the
    student's ID number); a withdrawal by the withdrawn decision's own reviewer or an administrator;
    each digest the content the reviewer saw. Then the rounds (jinqiu.check.rounds) over the entries
    that hold, in the order they were made: levels in order within a round, nothing after a
    rejection unless withdrawn; a decision of the latest round on other content than the record's
    is stale. Returns (in_order(entries), the walk over them)."""
    data = record.data
    app_unit = str(data.get("unit") or record.parts.get("unit", ""))
    end = registry.funding_level(app_unit, (data.get("aid") or {}).get("funding_unit"), ctx.units)
    current = ctx.current.get(record.rel) or digest.of(data)
    people = [(who, identity.canonical(str(n))) for who, n in (("职工", (data.get("worker") or {}).get("id_number")),
                                                                ("学生", (data.get("student") or {}).get("id_number"))) if n]
    people = [(who, n) for who, n in people if n]  # compared in canonical form (jinqiu.check.identity)
    sealed_people = set()  # a sealed record's ID numbers as the city build's signed tags (check.dupetags)
    if ctx.tags is not None and isinstance(data.get("sealed"), dict):
        found = ctx.tags.of({"year": data.get("year"), "id": data.get("id"), "commit": data["sealed"].get("commit")}, "commit")
        sealed_people = set((found or {}).get("person") or [])
    decisions = {rounds.ref(e.data): e for e in entries if e.data.get("decision") != rounds.WITHDRAW} \
        if any(e.data.get("decision") == rounds.WITHDRAW for e in entries) else {}
    # approvals carried over from the city's clear repository through the signed map (jinqiu.trust.carry)
    seen, attested = carry.views(carry.carried_for(ctx.carry, data), [e.data for e in entries], rounds.ref)
    view_of = {id(e): (v, a) for e, v, a in zip(entries, seen, attested)}
    for e in entries:
        entry = e.data
        level = entry.get("level")
        if not isinstance(level, int):
            continue
        rid = str(entry.get("reviewer", ""))
        rv = ctx.reg.reviewers.get(rid)
        if entry.get("decision") == rounds.WITHDRAW:
            target = decisions.get(str(entry.get("withdraws") or ""))
            if rv is None:
                e.add("approval-reviewer-unknown", f"审核人 {rid} 不在审核人登记中")
            elif target is not None and str(target.data.get("reviewer")) != rid and not ctx.reg.is_admin(rid):
                e.add("withdraw-not-entitled", f"{rounds.describe(target.data)}只能由审核人 {target.data.get('reviewer')} 本人"
                      f"或管理员撤回，{rid} 不是；这条撤回不起作用")
        else:
            if level > end:
                e.add("approval-past-funding", f"资助单位是 {(data.get('aid') or {}).get('funding_unit')}，审批到第 {end} 级为止，不应有第 {level} 级")
            if rv is None:
                e.add("approval-reviewer-unknown", f"审核人 {rid} 不在审核人登记中")
            else:
                if rv.get("level") != level:
                    e.add("approval-wrong-level", f"审核人 {rid} 登记的审批层级是第 {rv.get('level')} 级，不能做第 {level} 级审批")
                expected = registry.reviewer_unit_for(level, app_unit, ctx.units)
                if rv.get("level") == level and rv.get("unit") != expected:
                    e.add("approval-wrong-union", f"第 {level} 级审批应由 {expected} 的审核人做，审核人 {rid} 属于 {rv.get('unit')}")
                own = {identity.canonical(str(n)) for n in [rv.get("id_number"), *(rv.get("family_id_numbers") or [])] if n}
                for who, number in people:
                    if number in own:
                        e.add("approval-self", f"审核人 {rid} 审批的是本人或家属的申请（与{who}的身份证号码相同），须回避")
                        break
                else:
                    if sealed_people and sealed_people & ctx.tags.reviewer(data.get("year"), rid, rv):
                        e.add("approval-self", f"审核人 {rid} 审批的是本人或家属的申请（构建机的查重标记显示身份证号码相同），须回避")
        d = view_of[id(e)][0].get("digest")
        if not d:
            if ctx.strict or not e.problems:  # unsigned sample data: one warning per entry is enough
                e.add("approval-no-digest", "审批没有内容摘要（digest），无法确认审批的是哪份内容",
                      ERROR if ctx.strict else WARNING)
            e.verified = False
        elif d != current:
            other = ctx.digests.get(d)
            if other and other != record.rel:
                e.add("approval-copied", f"这条审批的摘要属于另一份申请 {other}：审批是从别的记录复制来的")
                e.verified = False
            elif e.commit is not None and e.data.get("_digest_at_commit", current) != d and not view_of[id(e)][1]:
                # (locate leaves the digest at the commit out when the content then was as it is now)
                e.add("approval-digest-mismatch", "这条审批的摘要与提交它时的记录内容不符")
                e.verified = False
    ordered = in_order(ctx, entries)
    counts = [e.verified and not any(sev == ERROR for _, _, sev in e.problems) for e in ordered]
    walked = rounds.walk([view_of[id(e)][0] for e in ordered], counts)
    for e, step in zip(ordered, walked.steps):
        if step.problem:
            code, message, severity = step.problem
            e.add(code, message, severity)
            if severity == ERROR:
                e.verified = False
    if walked.digest != current:
        for i in walked.chain:
            e = ordered[i]
            e.stale = True
            e.add("approval-stale", f"审批之后记录内容被改动过（摘要不符），这条第 {e.data.get('level')} 级审批失效，"
                  "需重新审批：approve 会在列表末尾从第 1 级开始新一轮审批（旧的审批留作记录）", WARNING)
    return ordered, walked


def check_payment(ctx: Context, record, st: status.Status, kept=None) -> tuple[bool, list]:
    """A payout counts only as a signed act of a reviewer of the funding union, after the chain
    reached the funding union verified: (verified, [(code, message, severity)]). kept: a payout
    removed from the file without authority (versions.removed), as (its aid, the commit that
    recorded it, the record's digest then), proved the same way and still in force."""
    aid = kept[0] if kept else (record.data.get("aid") or {})
    paid_on, paid_by, funding = aid.get("paid_on"), str(aid.get("paid_by") or ""), aid.get("funding_unit")
    sev = ERROR if ctx.strict else WARNING
    if not (st.state == status.APPROVED and st.complete):
        return False, [("paid-before-approved", f"已登记发放（{paid_on}），但经核验的审批没有完成到资助单位 {funding}"
                        f"（只到第 {st.level} 级）；这次发放不计入统计", sev)]
    if not paid_by:
        return False, [("payment-unsigned", "发放须由资助单位的审核人登记并签名（发放登记人 paid_by，以及发放签名或已签名的提交）；"
                         "这次发放不计入统计", sev)]
    rv = ctx.reg.reviewers.get(paid_by)
    if rv is None or rv.get("unit") != funding:
        whose = f"属于 {rv.get('unit')}" if rv else "不在审核人登记中"
        return False, [("payment-wrong-union", f"发放登记人 {paid_by} {whose}，不是资助单位 {funding} 的审核人；这次发放不计入统计", ERROR)]
    commit = kept[1] if kept else ctx.payment_commits.get(record.rel)
    c = (ctx.commits.get(commit) or ctx.history.commits([commit]).get(commit)) if commit and ctx.history is not None else None
    if c is None:
        return False, [("payment-uncommitted", "发放登记尚未提交（git commit），无法核验；这次发放不计入统计", sev)]
    held = ""  # a payout carried over from a clear repository: the day the old history proved (carry)
    if aid.get("paid_signature"):
        content = kept[2] if kept else ctx.current.get(record.rel) or digest.of(record.data)
        payload = payment_payload(str(record.data.get("id", "")), aid, content)
        key, fpr, reason = ctx.signers.check(str(aid["paid_signature"]).encode(), payload, NAMESPACE_PAYMENT)
        carried = carry.carried_for(ctx.carry, record.data) if not kept else None
        if key is None and carried is not None and carried.paid and content == carried.v2:
            # a payout signed in the clear repository, over v1: carried through the signed map
            payload = payment_payload(str(record.data.get("id", "")), aid, carried.v1)
            key, fpr, reason = ctx.signers.check(str(aid["paid_signature"]).encode(), payload, NAMESPACE_PAYMENT)
            held = carried.paid_day if key is not None else ""
        where = "发放签名"
    else:
        key, fpr, reason = ctx.signers.commit(c)
        where = f"登记发放的提交 {c.oid[:10]}"
    if reason == "unsigned":
        return False, [("payment-unsigned", f"{where}没有签名，无法证明是谁登记的发放；这次发放不计入统计", sev)]
    if key is None:
        return False, [("payment-bad-signature", f"{where}：{reason}；这次发放不计入统计", ERROR)]
    if key.reviewer != paid_by:
        return False, [("payment-signer-mismatch", f"发放登记人写的是 {paid_by}，但{where}的密钥属于 {key.reviewer}；这次发放不计入统计", ERROR)]
    day = held or registry.day_of(ctx.history.effective_time(c.oid))
    why = key.invalid_on(day)
    revoked = ctx.walk.revoked_before(ctx.history, fpr, c.oid) if ctx.walk is not None and not held else None
    if why or revoked:
        told = f"在 {day} {why}" if why else f"已在提交 {revoked[:10]} 中吊销"
        return False, [("payment-key-invalid", f"{where}所用的密钥 {key.fingerprint} {told}；这次发放不计入统计", ERROR)]
    return True, []


def check_continuing(ctx: Context, dataset, statuses) -> list[Problem]:
    """A continuing student's application (附件2) rests on an earlier year's record approved to its
    funding union: that approval must be verified, or the application's own approvals do not count.
    Earlier years first, so that a chain of renewals follows what was proved."""
    by_id = {r.data.get("id"): r for r in dataset.applications}
    out = []
    for r in sorted(dataset.applications, key=lambda r: (str(r.data.get("year")), r.rel)):
        link = r.data.get("continues")
        if r.data.get("form") != "continuing" or not isinstance(link, str) or link not in by_id:
            continue  # a missing or unknown link is validate's to report
        st = statuses.get(by_id[link].rel)
        if st is not None and st.state in (status.APPROVED, status.PAID) and st.complete and st.verified:
            continue
        told = st.label if st is not None else "未知"
        out.append(Problem(r.path, dataset.line(r, "/continues"), "/continues", "continues-not-approved",
                           f"“上年资助记录”{link} 没有经签名核验的审批通过到资助单位（核验后的状态：{told}），"
                           "不能据此继续资助；这份申请的审批不计入", ERROR if ctx.strict else WARNING))
        statuses[r.rel] = status.Status(status.FILED, verified=True)
    return out


def trust_with_approvals(ctx: Context, walk, reg_record) -> list[Problem]:
    """A commit that changes trust data must change nothing else under applications/ or graduates/."""
    out = []
    h = ctx.history
    for c in sorted(walk.changes):
        if h.touches(c, ("applications/", "graduates/")):
            out.append(Problem(reg_record.path if reg_record else REGISTRY_REL, 1, "", "registry-with-approval",
                               f"提交 {c[:10]} 同时修改了信任数据和申请；信任数据的修改须单独提交"))
    return out
