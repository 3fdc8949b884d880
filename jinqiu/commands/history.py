"""`build.py history FILE`: every version of an application from git, what changed between them
(personal values masked), and every decision with whether verify counts it, and why not."""

from __future__ import annotations

import os
from pathlib import Path

from ..check import ids, validate
from ..records import layout, yamlstrict
from ..trust import gitlog
from ..problems import UserError
from .common import add_data_argument, data_dir, verified_statuses

HELP = "历程：一份申请在 git 中的每个版本、每次改动（个人信息已遮盖）和每个审批、发放记录是否得到核验及原因"

_SIGNED = {"N": "未签名", "G": "有签名（git 认可）", "U": "有签名（git 认可，密钥未设信任）", "B": "签名无效",
           "X": "有签名（签名已过期）", "Y": "有签名（密钥已过期）", "R": "有签名（密钥已吊销）",
           "E": "有签名（git 无法自行核验，以 verify 为准）"}
_DECISIONS = {"approve": "同意", "reject": "不同意"}


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
    counted = {level for level, _, _ in (st.proofs if st else ())}
    out.write(f"\n二、审批与发放（核验结果：{st.label if st else '未知'}）\n")
    entries = record.data.get("approvals") if isinstance(record.data.get("approvals"), list) else []
    if not entries:
        out.write("  还没有审批记录\n")
    for i, e in enumerate(entries):
        if not isinstance(e, dict):
            continue
        why = [p.message for p in mine if p.pointer == f"/approvals/{i}" or p.pointer.startswith(f"/approvals/{i}/")]
        ok = e.get("level") in counted and not why
        out.write(f"  第 {e.get('level')} 级 {_DECISIONS.get(e.get('decision'), e.get('decision'))}，"
                  f"审核人 {e.get('reviewer')}，{e.get('date')}：{'核验通过，计入' if ok else '不计入'}\n")
        for m in why:
            out.write(f"     原因：{m}\n")
        if not ok and not why:
            out.write("     原因：前面的审批未核验通过，或这一条已因内容改动而失效\n")
    aid = record.data.get("aid") if isinstance(record.data.get("aid"), dict) else {}
    if aid.get("paid_on"):
        why = [p.message for p in mine if p.pointer.startswith("/aid")]
        ok = bool(st and st.state == "paid")
        out.write(f"  发放：{aid.get('paid_on')}，经办 {aid.get('paid_by')}：{'核验通过，计入' if ok else '不计入'}\n")
        for m in why:
            out.write(f"     原因：{m}\n")
    others = [p for p in mine if not p.pointer.startswith(("/approvals", "/aid"))]
    if others:
        out.write("\n三、核验发现的其他问题\n")
        for p in others:
            out.write(f"  {p.message}\n")
    return 0
