"""The pull-request job summary a reviewer reads instead of raw YAML: each changed application as a
table with the forms' Chinese labels, what changed since its last approval, and where its chain
stands (from verified entries). A job summary can be read by anyone who can see the workflow run,
so every value the schema marks `x-personal` is masked as in every other message: ID numbers and
phones by ids.mask_id / ids.mask_phone, names by ids.mask_name, anything else personal (address,
employer, income, hardship…) by its first characters only, or not at all."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from ..check import ids
from ..records import layout, yamlstrict
from . import digest, gitlog, status

_MASK = {"id_number": ids.mask_id, "phone": ids.mask_phone}


def changed_files(repo, base: str) -> list[str]:
    """Paths (relative to the repository) changed between the merge base with base and HEAD."""
    out = gitlog.git(repo, "diff", "--name-only", "--no-renames", f"{base}...HEAD")
    return [line for line in out.decode().splitlines() if line]


def flatten(data, pointer=""):
    """(pointer, value) for every scalar of a record, approvals left out."""
    if isinstance(data, dict):
        for k, v in data.items():
            if pointer == "" and k == "approvals":
                continue
            yield from flatten(v, f"{pointer}/{k}")
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from flatten(v, f"{pointer}/{i}")
    else:
        yield pointer, data


@lru_cache(maxsize=None)
def personal(kind: str, pointer: str) -> bool:
    """Does the schema mark this field, or one that holds it, `x-personal`?"""
    parts = [p for p in pointer.split("/") if p]
    return any(layout.field(kind, "/" + "/".join(parts[:i + 1])).get("x-personal") for i in range(len(parts)))


def mask_value(name: str, value) -> str:
    if not isinstance(value, str):
        return "***"
    if name in _MASK:
        return _MASK[name](value)
    if name == "name":
        return ids.mask_name(value)
    return value[:3] + "***" if len(value) > 6 else "***"


def show(pointer: str, value, kind: str = "application") -> str:
    name = pointer.rsplit("/", 1)[-1]
    if value not in (None, "") and personal(kind, pointer):
        value = mask_value(name, value)
    if isinstance(value, bool):
        value = "是" if value else "否"
    if isinstance(value, Decimal):
        value = format(value, "f")
    return str(value).replace("|", "\\|").replace("\n", " ")


def label(kind: str, pointer: str) -> str:
    parts = [p for p in pointer.split("/") if p]
    return " · ".join(layout.label(kind, "/" + "/".join(parts[:i + 1])) for i in range(len(parts)) if not parts[i].isdigit())


def commits_of(repo, paths: list[str]) -> dict[str, list[str]]:
    """{path: the commits that changed it, newest first}, from one walk of the history."""
    if not paths:
        return {}
    out = gitlog.git(repo, "log", "--full-history", "--no-renames", "--format=%x01%H", "--name-only", "-z", "--", *paths)
    found: dict[str, list[str]] = {}
    cur = None
    for field in out.split(b"\0"):
        field = field.strip(b"\n")
        if field.startswith(b"\x01"):
            cur, _, rest = field[1:].partition(b"\n")
            cur = cur.decode()
            field = rest
        if field and cur:
            found.setdefault(field.decode("utf-8", "surrogateescape"), []).append(cur)
    return found


def approved_version(repo, path_in_repo: str, record, wanted: str, oids: list[str] | None = None):
    """The record's content when its last approval was made (the newest version with that digest;
    any version with that digest holds the same values)."""
    if oids is None:
        oids = gitlog.git(repo, "log", "--format=%H", "--", path_in_repo).decode().split()
    for oid in oids:
        try:
            raw = gitlog.git(repo, "show", f"{oid}:{path_in_repo}")
            tree, _ = yamlstrict.load(raw, record.path)
            data, _ = yamlstrict.coerce(tree, layout.schema(record.kind), record.path, lambda p: 1)
        except (gitlog.GitError, yamlstrict.YamlError):
            continue
        if digest.of(data) == wanted:
            return data
    return None


def render(dataset, statuses, problems, changed: list[str], repo, prefix: str) -> str:
    """Markdown for $GITHUB_STEP_SUMMARY."""
    units = dataset.units
    reviewers = dataset.reviewers
    by_path = {(f"{prefix}/{r.rel}" if prefix else r.rel): r for r in dataset.applications}
    records = [by_path[p] for p in changed if p in by_path]
    out = ["# 本次合并请求涉及的申请", ""]
    if not records:
        out.append("本次合并请求没有改动申请。")
        return "\n".join(out) + "\n"
    history = commits_of(repo, [f"{prefix}/{r.rel}" if prefix else r.rel for r in records])
    for r in records:
        data = r.data
        st = statuses.get(r.rel, status.Status(status.FILED))
        unit = units.get(str(data.get("unit")), {}).get("name", data.get("unit"))
        out += [f"## {data.get('id')}（{unit}）", "", f"**审批状态：{st.label}**", ""]
        out += ["| 项目 | 内容 |", "|---|---|"]
        out += [f"| {label(r.kind, p)} | {show(p, v, r.kind)} |" for p, v in flatten(data)]
        entries = [e for e in data.get("approvals") or [] if isinstance(e, dict)]
        mine = [p for p in problems if p.path == r.path]
        out += ["", "### 审批链", ""]
        if entries:
            out += ["| 层级 | 结论 | 审核人 | 日期 | 核验 |", "|---|---|---|---|---|"]
            for i, e in enumerate(entries):
                line = dataset.line(r, f"/approvals/{i}")
                notes = [p.message for p in mine if p.line == line]
                name = reviewers.get(str(e.get("reviewer")), {}).get("name")
                who = ids.mask_name(name) if isinstance(name, str) else e.get("reviewer")
                how = "平台审阅" if isinstance(e.get("forge"), dict) else "签名提交"
                verdict = "；".join(notes) if notes else f"已核验（{how}）"
                out.append(f"| {status.LEVEL_LABELS.get(e.get('level'), e.get('level'))} | "
                           f"{'同意' if e.get('decision') == 'approve' else '不同意'} | {who} | {e.get('date')} | {verdict} |")
        else:
            out.append("尚无审批。")
        out += ["", "### 自上次审批以来的改动", ""]
        last = next((e for e in reversed(entries) if e.get("digest")), None)
        if last is None:
            out.append("尚无审批，以上为全部内容。")
        elif last["digest"] == digest.of(data):
            out.append("没有改动：内容与最后一次审批时相同。")
        else:
            path_in_repo = f"{prefix}/{r.rel}" if prefix else r.rel
            before = approved_version(repo, path_in_repo, r, last["digest"], history.get(path_in_repo, []))
            if before is None:
                out.append("找不到最后一次审批时的内容。")
            else:
                old, new = dict(flatten(before)), dict(flatten(data))
                out += ["| 项目 | 审批时 | 现在 |", "|---|---|---|"]
                for p in sorted(set(old) | set(new)):
                    if old.get(p) != new.get(p):
                        out.append(f"| {label(r.kind, p)} | {show(p, old.get(p, ''), r.kind)} | {show(p, new.get(p, ''), r.kind)} |")
        out.append("")
    return "\n".join(out) + "\n"
