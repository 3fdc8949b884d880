"""`build.py history FILE`: every version of an application from git, what changed between them
(personal values masked), and every decision with whether verify counts it, and why not."""

from __future__ import annotations

import os
from pathlib import Path

from ..check import ids, rounds, validate
from ..records import layout, yamlstrict
from ..trust import digest, gitlog
from ..problems import UserError
from .common import add_data_argument, data_dir, verified_statuses

HELP = "历程：一份申请在 git 中的每个版本、每次改动（个人信息已遮盖）和每个审批、发放记录是否得到核验及原因"

_SIGNED = {"N": "未签名", "G": "有签名（git 认可）", "U": "有签名（git 认可，密钥未设信任）", "B": "签名无效",
           "X": "有签名（签名已过期）", "Y": "有签名（密钥已过期）", "R": "有签名（密钥已吊销）",
           "E": "有签名（git 无法自行核验，以 verify 为准）"}
_DECISIONS = rounds.DECISIONS


def add_arguments(p) -> None:
    p.add_argument("file", metavar="文件", help="申请文件（data/applications/年度/基层工会编号/申请编号.yaml）")
    add_data_argument(p)


def _flatten(value, pointer: str = "", out: dict | None = None) -> dict:
    out = {} if out is None else out
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(v, f"{pointer}/{k}", out)
    elif isinstance(value, list) and pointer != "/approvals":
        for i, v in enumerate(value):
            _flatten(v, f"{pointer}/{i}", out)
    elif pointer != "/approvals":
        out[pointer] = value
    return out


def _field(pointer: str) -> dict:
    try:
        return layout.field("application", pointer)
    except Exception:  # a field the schema does not know: treated as personal
        return {}


def _label(pointer: str) -> str:
    try:
        return layout.label("application", pointer)
    except Exception:
        return pointer.rsplit("/", 1)[-1]


def show(pointer: str, value) -> str:
    """A value as messages may show it: public fields as they are, personal ones masked."""
    if value is None:
        return "（空）"
    text = str(value)
    key = pointer.rsplit("/", 1)[-1]
    if key == "id_number":
        return ids.mask_id(text)
    if key in ("phone", "contact_phone"):
        return ids.mask_phone(text)
    if key == "name":
        return ids.mask_name(text)
    if key in ("signature", "paid_signature"):
        return "（签名）"
    node = _field(pointer)
    if node.get("x-public") and not node.get("x-personal") or key in ("year", "form", "unit", "filed_on", "id"):
        return text
    return "***"


def _versions(repo: Path, path: Path) -> list[tuple[str, str, str, str, str]]:
    """(commit, date, signature code, author, path at that commit), oldest first."""
    raw = gitlog.git(repo, "log", "--follow", "--name-only", "--format=%x1e%H%x00%ci%x00%G?%x00%an", "--",
                     str(path)).decode("utf-8", "replace")
    out = []
    for block in raw.split("\x1e"):
        if not block.strip():
            continue
        head, _, names = block.partition("\n")
        oid, date, sig, author = (head.split("\x00") + ["", "", "", ""])[:4]
        name = next((n for n in names.splitlines() if n.strip()), "")
        out.append((oid, date, sig, author, name))
    return list(reversed(out))


def run(args, out, err) -> int:
    root = data_dir(args)
    target = Path(args.file)
    if not target.is_file():
        raise UserError(f"{args.file} 不存在或不是文件")
    try:
        rel = Path(os.path.relpath(target.resolve(), root.resolve())).as_posix()
    except ValueError:
        rel = ""
    if rel.startswith("../") or layout.classify(rel)[0] != "application":
        raise UserError(f"{args.file} 不是数据目录 {args.data.rstrip('/')}/ 中的申请文件（applications/<年度>/<工会>/<编号>.yaml）")
    repo = gitlog.toplevel(root)
    if repo is None:
        raise UserError(f"数据目录 {args.data.rstrip('/')}/ 不在 git 仓库中，没有历程可查")
    try:
        versions = _versions(repo, target.resolve())
    except gitlog.GitError as exc:
        raise UserError(f"无法读取 {args.file} 的 git 历史：{exc}") from None
    if not versions:
        raise UserError(f"{args.file} 还没有提交到 git，没有历程可查（请先提交）")
    dataset = validate.load(root, args.data)
    record = next((r for r in dataset.applications if r.rel == rel), None)
    if record is None:
        raise UserError(f"{args.file} 无法读取为申请（先运行 build.py validate 查看问题）")
    statuses, problems = verified_statuses(root, args.data, dataset)
    mine = [p for p in problems if p.path == record.path]

    out.write(f"{record.path}（{record.data.get('id')}）的历程：\n\n一、版本（按时间先后）\n")
    previous: dict = {}
    before = 0
    for n, (oid, date, sig, author, name) in enumerate(versions, 1):
        where = f"，文件当时为 {name}" if name and not str(target.resolve()).endswith(name) else ""
        if sig == "N":
            try:
                raw = gitlog.git(repo, "cat-file", "commit", oid)
            except gitlog.GitError:
                raw = b""
            if any(raw.startswith(h + b" ", 0) or (b"\n" + h + b" ") in raw.split(b"\n\n", 1)[0]
                   for h in gitlog.SIG_HEADERS):
                sig = "E"
        out.write(f"  {n}. 提交 {oid[:10]}，{date}，{_SIGNED.get(sig, '签名状态未知')}{where}\n")
        try:
            data = yamlstrict.load(gitlog.git(repo, "show", f"{oid}:{name}"), name)[0] if name else None
        except (gitlog.GitError, yamlstrict.YamlError, ValueError):
            data = None
        if not isinstance(data, dict):
            out.write("     （这一版本无法读取为申请，或文件在此被删除）\n")
            previous = {}
            continue
        now = _flatten(data)
        if n == 1:
            out.write(f"     新建，{len(now)} 项内容\n")
        for pointer in sorted(set(previous) | set(now)):
            if n == 1 or previous.get(pointer) == now.get(pointer):
                continue
            out.write(f"     改动 {_label(pointer)}：{show(pointer, previous.get(pointer))} → {show(pointer, now.get(pointer))}\n")
        entries = data.get("approvals") if isinstance(data.get("approvals"), list) else []
        if n > 1 and len(entries) != before:
            out.write(f"     审批记录 {before} 条 → {len(entries)} 条\n")
        previous, before = now, len(entries)

    st = statuses.get(record.rel)
    filed = record.data.get("filed_on")
    if st is not None and st.filed_day and st.filed_day != filed:
        out.write(f"\n填表日期写的是 {filed}，申请在 {st.filed_day} 进入仓库（是否按时填报以此为准）\n")
    out.write(f"\n二、审批与发放（核验结果：{st.label if st else '未知'}）\n")
    _decisions(out, record, st, mine)
    aid = record.data.get("aid") if isinstance(record.data.get("aid"), dict) else {}
    if aid.get("paid_on"):
        why = [p.message for p in mine if p.pointer.startswith("/aid")]
        ok = bool(st and st.state == "paid")
        day = f"，{st.paid_day} 进入仓库（按此判断是否按时）" if ok and st.paid_day and st.paid_day != aid.get("paid_on") else ""
        out.write(f"  发放：{aid.get('paid_on')}{day}，经办 {aid.get('paid_by')}：{'核验通过，计入' if ok else '不计入'}\n")
        for m in why:
            out.write(f"     原因：{m}\n")
    others = [p for p in mine if not p.pointer.startswith(("/approvals", "/aid")) or p.pointer == "/approvals"]
    if others:
        out.write("\n三、核验发现的其他问题\n")
        for p in others:
            out.write(f"  {p.message}\n")
    return 0


def _decisions(out, record, st, mine) -> None:
    """Every entry, round by round (jinqiu.check.rounds, in list order): decided what, by whom, dated
    what (and, for a counted one, the day it entered the branch when that differs), counted or not
    and why not."""
    listed = record.data.get("approvals") if isinstance(record.data.get("approvals"), list) else []
    entries = [(i, e) for i, e in enumerate(listed) if isinstance(e, dict)]
    if not entries:
        out.write("  还没有审批记录\n")
        return
    from ..check.rules import carried_view

    walked = rounds.walk(carried_view(record.data, [e for _, e in entries]))  # a migrated record: across the migration
    proofs = {p.index: p for p in (st.proofs if st else ())}
    current = digest.of(record.data)
    # approvals carried over from a clear repository sign the old content's digest (verify honours them
    # through the signed carry-over map: its status says whether they are in force)
    carried = record.data.get("carried_from") if st is not None and st.state != "stale" else None
    shown = 0
    for n in range(1, walked.count + 1):
        mine_round = [(k, i, e) for k, (i, e) in enumerate(entries) if walked.steps[k].round == n]
        if not mine_round:
            continue
        d = next((str(e.get("digest") or "") for _, _, e in mine_round if e.get("decision") != rounds.WITHDRAW), "")
        if n < walked.count:
            state = f"已由第 {walked.count} 轮取代，留作记录"
        elif d and d != current and d != carried:
            state = "审批之后内容被改动过，这一轮已失效，需从第 1 级重新审批"
        else:
            state = "现行的一轮，决定申请的状态"
        out.write(f"  第 {n} 轮（{state}）\n")
        for k, i, e in mine_round:
            shown += 1
            why = [p.message for p in mine if p.pointer == f"/approvals/{i}" or p.pointer.startswith(f"/approvals/{i}/")]
            proof = proofs.get(i)
            day = f"，{proof.day} 进入仓库（按此判断是否按时）" if proof and proof.day and proof.day != e.get("date") else ""
            if e.get("decision") == rounds.WITHDRAW:
                target = next((x for _, x in entries if rounds.ref(x) == e.get("withdraws")), None)
                what = f"撤回{rounds.describe(target)}" if target else "撤回（找不到被撤回的审批）"
                ok = not why
                out.write(f"    {what}，审核人 {e.get('reviewer')}，{e.get('date')}：{'核验通过，生效' if ok else '不起作用'}\n")
            else:
                ok = proof is not None
                withdrawn = walked.steps[k].withdrawn_by
                out.write(f"    第 {e.get('level')} 级 {_DECISIONS.get(e.get('decision'), e.get('decision'))}，"
                          f"审核人 {e.get('reviewer')}，{e.get('date')}{day}：{'核验通过，计入' if ok else '不计入'}\n")
                if not ok and not why:
                    why = ["已被撤回"] if withdrawn is not None else ["这一轮已不决定状态（内容改动后失效，或已由后一轮取代）"] \
                        if n < walked.count or (d and d != current) else ["前面的审批未核验通过，或本级之前的审批已被撤回"]
            for m in why:
                out.write(f"       原因：{m}\n")
    kept = [p for p in (st.proofs if st else ()) if p.index < 0]
    for p in kept:
        out.write(f"  第 {p.level} 级审批已从文件中被删除，但删除它的提交没有审核人本人或管理员的签名：它仍然有效，计入"
                  f"（提交 {p.commit[:10]}，{p.day} 进入仓库）\n")
