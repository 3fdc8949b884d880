"""approve: append the reviewer's entry to each named record and make ONE signed commit.

The reviewer is whoever owns the configured git signing key (user.signingkey, matched in the
registry by fingerprint); the level is that reviewer's own. Files are edited by appending the
entry's text, so the rest of each file keeps its formatting. Anything verify would reject is
refused beforehand, with the reason.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from . import digest, gitlog, registry, validate, yamlwrite
from .verify import NAMESPACE_ENTRY, Entry, _check_chain, Context, entry_payload


class ApproveError(Exception):
    """The approval cannot be made (message in Chinese, for the reviewer)."""


@dataclass
class Signing:
    format: str  # ssh or openpgp
    key: str  # user.signingkey as configured
    fingerprint: str


def signing_config(repo: Path) -> Signing:
    """The reviewer's configured signing key and its fingerprint."""
    def conf(name):
        p = subprocess.run(["git", "-C", str(repo), "config", "--get", name], capture_output=True, text=True)
        return p.stdout.strip()

    key = conf("user.signingkey")
    fmt = conf("gpg.format") or "openpgp"
    if not key:
        raise ApproveError("没有配置签名密钥：请先按 docs/review.md 运行 git config user.signingkey 和 git config gpg.format ssh")
    if fmt == "ssh":
        if key.startswith("key::"):
            line = key[5:]
        else:
            path = Path(os.path.expanduser(key))
            pub = path if path.suffix == ".pub" else path.with_name(path.name + ".pub")
            try:
                line = pub.read_text(encoding="utf-8").strip()
            except OSError:
                raise ApproveError(f"读不到签名公钥 {pub}") from None
        return Signing("ssh", key, registry.ssh_fingerprint(line))
    p = subprocess.run(["gpg", "--with-colons", "--fingerprint", key], capture_output=True, text=True)
    fprs = [line.split(":")[9] for line in p.stdout.splitlines() if line.startswith("fpr:")]
    if not fprs:
        raise ApproveError(f"gpg 找不到签名密钥 {key}")
    return Signing("openpgp", key, fprs[0].upper())


def entry_text(entry: dict) -> str:
    """One list item in the canonical style (what `fmt` writes), to append under approvals:."""
    text = yaml.dump({"approvals": [entry]}, Dumper=yamlwrite._Dumper, allow_unicode=True, sort_keys=False,
                     default_flow_style=False, width=1000, indent=2)
    return text.split("\n", 1)[1]


def append_entry(raw: str, entry: dict) -> str:
    """The file's text with the entry appended to its approvals list (nothing else touched)."""
    item = entry_text(entry)
    m = re.search(r"(?m)^approvals:[ \t]*(\[\])?[ \t]*$", raw)
    if m is None:
        return raw + ("" if raw.endswith("\n") else "\n") + "approvals:\n" + item
    if m.group(1):  # approvals: []
        raw = raw[:m.start()] + "approvals:" + raw[m.end():]
        m = re.search(r"(?m)^approvals:[ \t]*$", raw)
    after = raw[m.end():]
    nxt = re.search(r"(?m)^[^\s#-]", after)
    cut = m.end() + (nxt.start() if nxt else len(after))
    head, tail = raw[:cut], raw[cut:]
    if not head.endswith("\n"):
        head += "\n"
    return head + item + tail


def detached_signature(signing: Signing, payload: bytes) -> str | None:
    """`ssh-keygen -Y sign` of the entry payload with the project's namespace (SSH keys only)."""
    if signing.format != "ssh" or signing.key.startswith("key::"):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        msg = Path(tmp) / "entry"
        msg.write_bytes(payload)
        p = subprocess.run(["ssh-keygen", "-Y", "sign", "-q", "-f", os.path.expanduser(signing.key), "-n", NAMESPACE_ENTRY, str(msg)],
                           capture_output=True, text=True)
        sig = Path(str(msg) + ".sig")
        if p.returncode != 0 or not sig.is_file():
            raise ApproveError(f"ssh-keygen 无法签名：{p.stderr.strip()}")
        return sig.read_text(encoding="utf-8")


def pending_for(dataset, reviewer: dict, unit: str | None) -> list:
    """Applications waiting for this reviewer's level in their unions (optionally under one unit)."""
    units = dataset.units
    out = []
    for r in dataset.applications:
        app_unit = str(r.data.get("unit"))
        if registry.reviewer_unit_for(reviewer["level"], app_unit, units) != reviewer["unit"]:
            continue
        if unit and unit not in (app_unit, units.get(app_unit, {}).get("parent")):
            continue
        entries = [e for e in r.data.get("approvals") or [] if isinstance(e, dict)]
        if any(e.get("decision") == "reject" for e in entries):
            continue
        if len(entries) == reviewer["level"] - 1:
            out.append(r)
    return out


def approve(repo: Path, data_dir: Path, records: list, *, opinion: str, reject: bool = False,
            today: dt.date | None = None, signing: Signing | None = None, dataset=None, env=None) -> str:
    """Append one entry to each record and make one signed commit; return the commit id."""
    signing = signing or signing_config(repo)
    dataset = dataset or validate.load(data_dir)
    reg = registry.build(dataset.reviewers)
    key = reg.keys.get(signing.fingerprint)
    if key is None:
        raise ApproveError(f"你的签名密钥 {signing.fingerprint} 没有在审核人登记（reviewers.yaml）中登记")
    day = (today or dt.datetime.now(registry.CHINA).date()).isoformat()
    why = key.invalid_on(day)
    if why:
        raise ApproveError(f"你的签名密钥 {signing.fingerprint} {why}，不能再用来审批")
    reviewer = reg.reviewers[key.reviewer]
    if not records:
        raise ApproveError("没有要审批的申请")
    ctx = Context(dataset, reg, None, None, True, dataset.units, {digest.of(r.data): r.rel for r in dataset.applications}, None)
    refusals, changes = [], []
    for r in records:
        entry = {"level": reviewer["level"], "decision": "reject" if reject else "approve", "opinion": opinion,
                 "reviewer": key.reviewer, "date": day, "digest": digest.of(r.data)}
        existing = [Entry(i, e, "") for i, e in enumerate(r.data.get("approvals") or []) if isinstance(e, dict)]
        new = Entry(len(existing), entry, "")
        _check_chain(ctx, r, existing + [new])
        reasons = [m for code, m, sev in new.problems if sev == "error" and code != "paid-before-approved"]
        reasons += [f"已有的第 {e.data.get('level')} 级审批：{m}" for e in existing for code, m, sev in e.problems
                    if code == "approval-stale"]
        if reasons:
            refusals.append(f"{r.path}: " + "；".join(reasons))
            continue
        sig = detached_signature(signing, entry_payload(str(r.data.get("id", "")), entry))
        if sig:
            entry["signature"] = sig
        changes.append((r, entry))
    if refusals:
        raise ApproveError("以下申请不能审批，verify 会拒绝：\n" + "\n".join(refusals))
    paths = []
    for r, entry in changes:
        path = data_dir / r.rel
        path.write_text(append_entry(path.read_text(encoding="utf-8"), entry), encoding="utf-8")
        paths.append(str(path.resolve()))
    verb = "不同意" if reject else "同意"
    message = (f"第 {reviewer['level']} 级审批：{verb} {len(changes)} 份申请（审核人 {key.reviewer}）\n\n"
               + "\n".join(r.rel for r, _ in changes) + "\n")
    gitlog.git(repo, "add", "--", *paths)
    proc = subprocess.run(["git", "-C", str(repo), "commit", "-q", "-S", "-m", message, "--only", "--", *paths],
                          capture_output=True, text=True, env=dict(os.environ, **(env or {})))
    if proc.returncode != 0:
        raise ApproveError(f"git commit 失败：{proc.stderr.strip()}")
    return gitlog.head(repo)


def record_forge_review(repo: Path, data_dir: Path, dataset, payload: dict, forge_name: str, changed: list[str],
                        env=None, opener=None) -> tuple[str | None, int]:
    """Turn an approving pull-request review into entries on the changed applications of that pull
    request, and commit them (the commit is the workflow's; the proof is the forge's review, which
    verify checks through the forge's API). Returns (commit id or None, number of entries)."""
    from . import forge

    f = forge.review_from_event(payload, forge_name)
    if f is None:
        return None, 0
    if f["review_id"] is None:
        f["review_id"] = forge.find_review_id(os.environ if env is None else {**os.environ, **env}, f, opener)
        if f["review_id"] is None:
            raise ApproveError("事件中没有审阅编号，也无法从平台接口查到这次批准审阅")
    reg = registry.build(dataset.reviewers)
    rid = reg.by_login(forge_name, f["login"] or "")
    if rid is None:
        raise ApproveError(f"平台账号 {f['login']} 没有在审核人登记中登记，这次批准不记为审批")
    head = gitlog.head(repo)
    if f["commit"] != head:
        raise ApproveError(f"审阅针对的是提交 {str(f['commit'])[:10]}，而合并请求现在是 {str(head)[:10]}；请重新审阅最新内容")
    reviewer = reg.reviewers[rid]
    top = repo.resolve()
    wanted = {(top / c).resolve() for c in changed}
    records = [r for r in dataset.applications if (data_dir / r.rel).resolve() in wanted]
    records = [r for r in records if registry.reviewer_unit_for(reviewer["level"], str(r.data.get("unit")), dataset.units) == reviewer["unit"]]
    if not records:
        return None, 0
    ctx = Context(dataset, reg, None, None, True, dataset.units, {digest.of(r.data): r.rel for r in dataset.applications}, None)
    day = str(payload.get("review", {}).get("submitted_at") or dt.date.today().isoformat())[:10]
    paths, refusals = [], []
    for r in records:
        entry = {"level": reviewer["level"], "decision": "approve", "opinion": str(payload["review"].get("body") or "同意"),
                 "reviewer": rid, "date": day, "digest": digest.of(r.data), "forge": f}
        existing = [Entry(i, e, "") for i, e in enumerate(r.data.get("approvals") or []) if isinstance(e, dict)]
        new = Entry(len(existing), entry, "")
        _check_chain(ctx, r, existing + [new])
        reasons = [m for _, m, sev in new.problems if sev == "error"]
        if reasons:
            refusals.append(f"{r.path}: " + "；".join(reasons))
            continue
        path = data_dir / r.rel
        path.write_text(append_entry(path.read_text(encoding="utf-8"), entry), encoding="utf-8")
        paths.append(str(path.resolve()))
    if refusals:
        raise ApproveError("以下申请不能记为审批：\n" + "\n".join(refusals))
    gitlog.git(repo, "add", "--", *paths)
    message = (f"第 {reviewer['level']} 级审批：记录 {forge_name} 平台上合并请求 #{f['pull_request']} 的审阅 {f['review_id']}"
               f"（账号 {f['login']}）\n")
    proc = subprocess.run(["git", "-C", str(repo), "commit", "-q", "-m", message, "--only", "--", *paths],
                          capture_output=True, text=True, env=dict(os.environ, **(env or {})))
    if proc.returncode != 0:
        raise ApproveError(f"git commit 失败：{proc.stderr.strip()}")
    return gitlog.head(repo), len(paths)
