"""approve: append the reviewer's entry to each named record and make ONE signed commit.

The reviewer is whoever owns the configured git signing key (user.signingkey, matched in the
registry by fingerprint); the level is that reviewer's own. Files are edited by appending the
entry's text, so the rest of each file keeps its formatting. Anything verify would reject is
refused beforehand, with the reason.

Atomic: git's identity and the signing key are checked first; the signed commit is made from a
temporary index (`git commit-tree -S`) and the branch moved with a compare-and-swap
(`git update-ref`); only then are the files replaced in the work tree (each by a rename) and the
index brought up to date. A failure anywhere before that leaves the work tree and the index
exactly as they were.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..check import rounds, rules, validate
from ..records import yamlwrite
from . import digest, gitlog, registry
from ..check.unitref import descendants
from .chain import check_chain
from .entries import Context, Entry, entry_payload
from .signatures import NAMESPACE_ENTRY


class ApproveError(Exception):
    """The approval cannot be made (message in Chinese, for the reviewer)."""


IDENTITY_HELP = ("请先设置你的姓名和邮箱（只需一次），例如：\n"
                 "  git config --global user.name \"张伟\"\n"
                 "  git config --global user.email \"zhangwei@example.cn\"\n"
                 "详见 docs/review.md 第一节")


@dataclass
class Signing:
    format: str  # ssh or openpgp
    key: str  # user.signingkey as configured
    fingerprint: str


def _run_git(repo: Path, *args: str, env=None, input: bytes | None = None) -> subprocess.CompletedProcess:
    full = dict(os.environ, **(env or {}))
    full.update(LC_ALL="C", GIT_TERMINAL_PROMPT="0")
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, env=full, input=input)


def signing_config(repo: Path, env=None) -> Signing:
    """The reviewer's configured signing key and its fingerprint."""
    def conf(name):
        return _run_git(repo, "config", "--get", name, env=env).stdout.decode(errors="replace").strip()

    key = conf("user.signingkey")
    fmt = conf("gpg.format") or "openpgp"
    if not key:
        raise ApproveError("没有配置签名密钥：请先按 docs/review.md 第一节运行 git config --global gpg.format ssh 和 "
                           "git config --global user.signingkey ~/.ssh/id_ed25519.pub")
    if fmt == "ssh":
        if key.startswith("key::"):
            line = key[5:]
        else:
            path = Path(os.path.expanduser(key))
            pub = path if path.suffix == ".pub" else path.with_name(path.name + ".pub")
            try:
                line = pub.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError):
                typed = key if path.suffix == ".pub" else f"{key}.pub"  # named as the reviewer wrote it (~/.ssh/…)
                raise ApproveError(f"读不到签名公钥 {typed}：请检查 git config user.signingkey（现为 {key}）") from None
            private = path.with_suffix("") if path.suffix == ".pub" else path
            if not private.is_file():
                typed = key.removesuffix(".pub") if path.suffix == ".pub" else key
                raise ApproveError(f"找不到签名私钥 {typed}：user.signingkey 应指向你自己的密钥（见 docs/review.md 第一节）")
        try:
            return Signing("ssh", key, registry.ssh_fingerprint(line))
        except Exception:  # noqa: BLE001  (any parse failure of the key line is the reviewer's to fix)
            raise ApproveError(f"签名公钥 {key} 无法读取：不是有效的 SSH 公钥") from None
    try:
        p = subprocess.run(["gpg", "--with-colons", "--fingerprint", key], capture_output=True, text=True)
    except OSError:
        raise ApproveError("找不到 gpg 程序：用 GPG 密钥签名须先安装 gpg") from None
    fprs = [line.split(":")[9] for line in p.stdout.splitlines() if line.startswith("fpr:")]
    if not fprs:
        raise ApproveError(f"gpg 找不到签名密钥 {key}")
    return Signing("openpgp", key, fprs[0].upper())


def check_identity(repo: Path, env=None) -> str:
    """git's author and committer identity, set explicitly (config or environment), or ApproveError
    in Chinese (never git's English "Author identity unknown"). Returns the committer ident line."""
    merged = dict(os.environ, **(env or {}))

    def conf(name):
        return _run_git(repo, "config", "--get", name, env=env).stdout.decode(errors="replace").strip()

    for role in ("AUTHOR", "COMMITTER"):
        name = merged.get(f"GIT_{role}_NAME") or conf("user.name")
        email = merged.get(f"GIT_{role}_EMAIL") or conf("user.email") or merged.get("EMAIL")
        if not name.strip() or not email.strip():
            raise ApproveError("还没有设置 git 身份（姓名和邮箱），没有写入任何内容。" + IDENTITY_HELP)
    p = _run_git(repo, "var", "GIT_COMMITTER_IDENT", env=env)
    q = _run_git(repo, "var", "GIT_AUTHOR_IDENT", env=env)
    if p.returncode or q.returncode:
        raise ApproveError("git 身份（姓名或邮箱）无效，没有写入任何内容。" + IDENTITY_HELP)
    return p.stdout.decode(errors="replace").strip()


def commit_day(repo: Path, ident: str) -> str:
    """The day verify will date the new commit at: its committer time, but never before any commit
    it builds on (as gitlog.History.effective_time)."""
    try:
        stamp = int(ident.rsplit(" ", 2)[-2])
    except (ValueError, IndexError):
        stamp = int(dt.datetime.now().timestamp())
    p = _run_git(repo, "log", "--format=%ct", "HEAD")
    if p.returncode == 0:
        stamp = max([stamp] + [int(t) for t in p.stdout.split() if t.isdigit()])
    return registry.day_of(stamp)


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


def detached_signature(signing: Signing, payload: bytes, namespace: str = NAMESPACE_ENTRY) -> str | None:
    """`ssh-keygen -Y sign` of a payload (an entry's, or a payout's) with the project's namespace
    for it (SSH keys only)."""
    if signing.format != "ssh" or signing.key.startswith("key::"):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        msg = Path(tmp) / "entry"
        msg.write_bytes(payload)
        try:
            p = subprocess.run(["ssh-keygen", "-Y", "sign", "-q", "-f", os.path.expanduser(signing.key), "-n", namespace,
                                str(msg)], capture_output=True, text=True, stdin=subprocess.DEVNULL)
        except OSError:
            raise ApproveError("找不到 ssh-keygen 程序，无法签名") from None
        sig = Path(str(msg) + ".sig")
        if p.returncode != 0 or not sig.is_file():
            raise ApproveError(f"ssh-keygen 无法用 {signing.key} 签名，没有写入任何内容：{p.stderr.strip()}")
        return sig.read_text(encoding="utf-8")


# ---------------------------------------------------------------- which files


def small_rels(data_dir: Path) -> list[str]:
    """Every file discover lists outside applications/ and graduates/, without walking those two."""
    from ..records import dataset as ds

    out = []
    try:
        entries = sorted(os.scandir(data_dir), key=lambda e: e.name)
    except OSError:
        return []
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_dir(follow_symlinks=False) and not entry.name.lower().endswith((".yaml", ".yml")):
            if f"{entry.name}/" in validate.BULK_FOLDERS:
                continue
            out += [f"{entry.name}/{rel}" for rel in ds.discover(Path(entry.path))]
        else:
            out.append(entry.name)
    return sorted(out)


def load_units(data_dir: Path, display_root: str, units: set[str], year: int | None):
    """What a queue of one year's applications of these unions decides on (todo, approve --pending):
    the small files, the applications filed in those unions' folders of the year (a record filed in
    another union's or year's folder is validate's error, and not seen here), the records each of
    them continues back to the first year (a continuing record's status rests on them), and the
    holders of the foreign digests their approvals carry (load_named)."""
    rels = []
    for unit in sorted(units):
        folder = data_dir / "applications" / str(year) / unit
        try:
            rels += [f"applications/{year}/{unit}/{e.name}" for e in os.scandir(folder) if not e.name.startswith(".")]
        except OSError:
            continue
    return load_named(data_dir, display_root, rels, chains=True)


def continued(data_dir: Path, display_root: str, rels) -> list[str]:
    """rels and the records each continues, back to the first year (a continuing record's status rests on them)."""
    from ..records import dataset as ds
    from . import prscope

    known = set(rels)
    todo = list(rels)
    while todo:
        rel = todo.pop()
        record = ds.read_one(data_dir, display_root, rel)[0]
        link = record.data.get("continues") if isinstance(record.data, dict) else None
        earlier = prscope.previous_path(data_dir, link) if isinstance(link, str) else None
        if earlier is not None and earlier not in known:
            known.add(earlier)
            todo.append(earlier)
    return sorted(known)


def load_named(data_dir: Path, display_root: str, rels: list[str], chains: bool = False):
    """What approving these records decides on, and nothing more: the small files (units, reviewers,
    campaigns, the root file, reports), these records, and every record whose content digest one of
    their approvals carries when it is not their own (a copied approval is told from a stale one by
    it; prscope.grep finds them, and git does not track an untracked file: those are read too).
    chains: also the records they continue, back to the first year (what their statuses rest on)."""
    from . import prscope

    if chains:
        rels = continued(data_dir, display_root, rels)
    small = small_rels(data_dir)
    wanted = sorted(set(small) | set(rels))
    dataset = validate.load(data_dir, display_root, rels=wanted)
    foreign = set()
    asked = set(rels)
    for r in dataset.applications:
        if r.rel in asked:
            own = digest.of(r.data)
            listed = r.data.get("approvals")
            foreign |= {str(e["digest"]) for e in listed if isinstance(e, dict) and e.get("digest") and str(e["digest"]) != own} \
                if isinstance(listed, list) else set()
    if not foreign:
        return dataset
    try:
        repo, prefix = prscope.locate(data_dir)
        more = prscope.grep(repo, prefix, foreign, ("applications/",))
        untracked = gitlog.git(repo, "ls-files", "-z", "--others", "--", f"{prefix}/applications" if prefix else "applications")
        plen = len(prefix) + 1 if prefix else 0
        more |= {p[plen:] for p in untracked.decode("utf-8", "surrogateescape").split("\0") if p}
    except (prscope.FullRun, gitlog.GitError):
        return validate.load(data_dir, display_root)  # git cannot say where they are: read everything
    return validate.load(data_dir, display_root, rels=sorted(set(wanted) | {r for r in more if r.endswith(".yaml")}))



@dataclass
class Plan:
    """What `approve --pending` would do for one reviewer."""

    year: int | None
    take: list = field(default_factory=list)  # records awaiting this reviewer's level
    skip: list = field(default_factory=list)  # (record, reason): at this level, but it cannot be approved now
    waiting: int = 0  # awaiting a lower level first
    done: int = 0  # decided at this level or beyond, or ended (rejected, complete)


def current_year(dataset) -> int | None:
    return max(dataset.campaigns) if dataset.campaigns else None


def pending_for(dataset, reviewer: dict, unit: str | None, statuses: dict, year: int | None = None) -> Plan:
    """Applications of the campaign year (default: the newest campaign) in this reviewer's unions
    (optionally only under one union) whose chain reaches the reviewer's level, sorted into those
    awaiting this level (by their verified status), those waiting for a lower level and those done."""
    units = dataset.units
    level = reviewer["level"]
    year = current_year(dataset) if year is None else year
    within = descendants(units, unit) if unit else None
    plan = Plan(year)
    for r in sorted(dataset.applications, key=lambda r: r.rel):
        app_unit = str(r.data.get("unit"))
        if r.data.get("year") != year or (within is not None and app_unit not in within):
            continue
        if registry.reviewer_unit_for(level, app_unit, units) != reviewer["unit"]:
            continue
        if registry.funding_level(app_unit, (r.data.get("aid") or {}).get("funding_unit"), units) < level:
            continue  # the chain ends below this level: not this reviewer's to decide
        st = statuses.get(r.rel)
        if st is None:
            plan.skip.append((r, "核验状态未知"))
        elif st.state in ("rejected", "paid") or st.complete or st.level >= level:
            plan.done += 1
        elif st.level < level - 1:
            plan.waiting += 1
        else:
            plan.take.append(r)
    return plan


# ---------------------------------------------------------------- the entries

@dataclass
class Outcome:
    commit: str | None
    approved: list = field(default_factory=list)  # records
    refused: list = field(default_factory=list)  # (record, reason)


def _reviewer_for(signing: Signing, reg, day: str, entry_day: str):
    key = reg.keys.get(signing.fingerprint)
    if key is None:
        raise ApproveError(f"你的签名密钥 {signing.fingerprint} 没有在审核人登记（reviewers.yaml）中登记")
    if key.revoked_on:
        raise ApproveError(f"你的签名密钥 {signing.fingerprint} 已于 {key.revoked_on} 吊销，不能再用来审批（任何日期都不行）；"
                           "请按 docs/review.md 第五节登记新密钥")
    for when in dict.fromkeys((entry_day, day)):
        why = key.invalid_on(when)
        if why:
            what = "审批日期" if when == entry_day else "这次提交的日期"
            raise ApproveError(f"你的签名密钥 {signing.fingerprint} {why}，{what} {when} 不能用它审批")
    return key, reg.reviewers[key.reviewer]


@dataclass
class Withdrawal:
    """What `approve --withdraw` asks: which level (None: the reviewer's own decision) and the
    statuses verify derived (whose counted decisions may be withdrawn; None: read the files)."""

    level: int | None = None
    statuses: dict | None = None


@dataclass
class Session:
    """Who is acting and when, checked before anything else: git's identity, the signing key, the
    registered reviewer it belongs to, the commit's day and the typed day."""

    signing: Signing
    key: object
    reviewer: dict
    reg: object
    dataset: object
    day: str  # the day verify will date the commit at
    entry_day: str  # the date typed (--date), or that day


def session(repo: Path, data_dir: Path, *, today, signing, dataset, env, what: str = "审批") -> Session:
    """Everything about the reviewer, checked: ApproveError in Chinese when anything is wrong."""
    ident = check_identity(repo, env)
    signing = signing or signing_config(repo, env)
    dataset = dataset or validate.load(data_dir)
    reg = registry.build(dataset.reviewers)
    day = commit_day(repo, ident)
    entry_day = (today or dt.date.fromisoformat(day)).isoformat()
    if entry_day > day:
        raise ApproveError(f"{what}日期 {entry_day} 晚于这次提交的日期 {day}：不能预先{what}")
    key, reviewer = _reviewer_for(signing, reg, day, entry_day)
    return Session(signing, key, reviewer, reg, dataset, day, entry_day)


def carried_map(repo: Path, data_dir: Path) -> dict:
    """The approvals carried over from a clear repository (jinqiu.trust.carry), as verify honours them:
    only a map signed by a key of the pinned root of trust (else none: approve then refuses what verify
    would refuse)."""
    from . import anchor, carry

    roots, _ = anchor.pinned_keys(repo)
    return carry.load(data_dir, roots, "data")[0] if roots else {}


def _prepare(repo: Path, data_dir: Path, records: list, *, opinion: str, reject: bool, today, signing, dataset, env,
             withdraw: Withdrawal | None = None):
    """Every check, nothing written: (signing, key, reviewer, [(record, entry)], [(record, reason)])."""
    s = session(repo, data_dir, today=today, signing=signing, dataset=dataset, env=env)
    dataset, key, reviewer = s.dataset, s.key, s.reviewer
    if not records:
        raise ApproveError("没有要审批的申请")
    if not str(opinion or "").strip():
        raise ApproveError("请写审批意见（--opinion）" if withdraw is None else "请写撤回的原因（--opinion）")
    ctx = Context(dataset, s.reg, None, None, True, dataset.units, {digest.of(r.data): r.rel for r in dataset.applications}, None)
    ctx.carry = carried_map(repo, data_dir)
    refusals, changes = [], []
    for r in records:
        if withdraw is not None:
            st = withdraw.statuses.get(r.rel) if withdraw.statuses is not None else None
            entry, why = withdrawal_for(r, st, key.reviewer, withdraw.level, s.reg.is_admin(key.reviewer), opinion, s.entry_day)
            if entry is None:
                refusals.append((r, why))
                continue
        else:
            entry = {"level": reviewer["level"], "decision": "reject" if reject else "approve", "opinion": opinion,
                     "reviewer": key.reviewer, "date": s.entry_day, "digest": digest.of(r.data)}
        reasons = refusal_reasons(ctx, r, entry)
        if reasons:
            refusals.append((r, "；".join(reasons)))
        else:
            changes.append((r, entry))
    return s.signing, key, reviewer, changes, refusals


def preview(repo: Path, data_dir: Path, records: list, *, opinion: str, reject: bool = False, today=None,
            signing: Signing | None = None, dataset=None, env=None) -> Outcome:
    """What approve_batch(partial=True) would approve and refuse, with every check and nothing written."""
    *_, changes, refusals = _prepare(repo, data_dir, records, opinion=opinion, reject=reject, today=today,
                                     signing=signing, dataset=dataset, env=env)
    return Outcome(None, [r for r, _ in changes], refusals)


def approve_batch(repo: Path, data_dir: Path, records: list, *, opinion: str, reject: bool = False,
                  today: dt.date | None = None, signing: Signing | None = None, dataset=None, env=None,
                  partial: bool = False, withdraw: Withdrawal | None = None) -> Outcome:
    """Check everything, then append one entry to each record and make one signed commit.
    partial=False: any refused record refuses the whole batch (ApproveError, nothing written);
    partial=True: refused records are left out and returned with their reasons. withdraw: append
    withdrawals instead of decisions (`approve --withdraw`)."""
    signing, key, reviewer, changes, refusals = _prepare(repo, data_dir, records, opinion=opinion, reject=reject,
                                                         today=today, signing=signing, dataset=dataset, env=env,
                                                         withdraw=withdraw)
    what = "撤回" if withdraw is not None else "审批"
    if refusals and not partial:
        raise ApproveError(f"以下申请不能{what}（verify 会拒绝），没有写入任何内容：\n"
                           + "\n".join(f"{r.path}: {why}" for r, why in refusals))
    if not changes:
        return Outcome(None, [], refusals)
    for r, entry in changes:  # signed before anything is written: a key that cannot sign stops here
        sig = detached_signature(signing, entry_payload(str(r.data.get("id", "")), entry))
        if sig:
            entry["signature"] = sig
    if withdraw is not None:
        levels = "、".join(f"第 {lv} 级" for lv in sorted({e["level"] for _, e in changes}))
        message = (f"撤回：撤回 {len(changes)} 份申请的{levels}审批（审核人 {key.reviewer}）\n\n"
                   + "\n".join(f"{r.rel}：{rounds.describe(_withdrawn(r, e))}" for r, e in changes) + "\n")
    else:
        verb = "不同意" if reject else "同意"
        message = (f"审批：第 {reviewer['level']} 级{verb} {len(changes)} 份申请（审核人 {key.reviewer}）\n\n"
                   + "\n".join(r.rel for r, _ in changes) + "\n")
    files = {data_dir / r.rel: append_entry((data_dir / r.rel).read_text(encoding="utf-8"), entry) for r, entry in changes}
    oid = commit_files(repo, files, message, sign=True, env=env)
    return Outcome(oid, [r for r, _ in changes], refusals)


def _withdrawn(r, withdrawal: dict) -> dict:
    """The decision a withdrawal entry names, among the record's entries."""
    return next((e for e in r.data.get("approvals") or [] if isinstance(e, dict) and rounds.ref(e) == withdrawal["withdraws"]), {})


def refusal_reasons(ctx: Context, r, entry: dict) -> list[str]:
    """Why verify (or validate) would reject this entry appended to the record; [] when it would not.
    The entries already there are read as they stand (approve checks no signatures: `--pending`
    chooses its files by verify's statuses)."""
    listed = [e for e in r.data.get("approvals") or [] if isinstance(e, dict)]
    existing = [Entry(i, e, "", verified=True) for i, e in enumerate(listed)]
    new = Entry(len(existing), entry, "", verified=True)
    check_chain(ctx, r, existing + [new])
    reasons = [m for code, m, sev in new.problems if sev == "error" and code != "paid-before-approved"]
    probe = type(r)(r.kind, r.path, r.rel, dict(r.data, approvals=listed + [entry]), r.parts)
    n = len(listed)
    for pointer, code, message, *_ in rules.approvals_in_order(probe):
        if pointer.startswith(f"/approvals/{n}") and message not in reasons and code != "approval-level-order":
            reasons.append(message)
    return reasons


def in_force(r, st) -> list[tuple[int, dict]]:
    """(index in the approvals list, entry) of the decisions that count for a record now: those
    verify counted (st: its Status) when given, else the latest round as written."""
    listed = r.data.get("approvals") if isinstance(r.data.get("approvals"), list) else []
    if st is not None:
        return [(p.index, listed[p.index]) for p in st.proofs if 0 <= p.index < len(listed) and isinstance(listed[p.index], dict)]
    entries = [(i, e) for i, e in enumerate(listed) if isinstance(e, dict)]
    walked = rounds.walk([e for _, e in entries])
    return [entries[i] for i in walked.chain]


def withdrawal_for(r, st, reviewer_id: str, level: int | None, admin: bool, opinion: str, day: str) -> tuple[dict | None, str]:
    """The withdrawal entry a reviewer would append to withdraw a decision in force (theirs, or at
    `level` for an administrator), or (None, why not)."""
    force = in_force(r, st)
    if not force:
        return None, "没有在效力中的审批可撤回（还没有审批，或审批已因内容改动失效、已被撤回）"
    if level is not None:
        mine = [(i, e) for i, e in force if e.get("level") == level]
        if not mine:
            return None, f"第 {level} 级没有在效力中的审批可撤回"
    else:
        mine = [(i, e) for i, e in force if str(e.get("reviewer")) == reviewer_id]
        if not mine:
            return None, "在效力中的审批里没有你做的（只能撤回自己的审批；管理员用 --level 指明撤回哪一级）"
    _, target = mine[-1]
    if str(target.get("reviewer")) != reviewer_id and not admin:
        return None, f"{rounds.describe(target)}不是你做的：只能撤回自己的审批，其他人的由管理员撤回"
    if st is not None and st.state == "paid" and not admin:
        return None, "已登记发放：发放所依据的审批只能由管理员撤回"
    return {"level": target.get("level"), "decision": rounds.WITHDRAW, "opinion": opinion, "reviewer": reviewer_id,
            "date": day, "digest": digest.of(r.data), "withdraws": rounds.ref(target)}, ""


def approve(repo: Path, data_dir: Path, records: list, *, opinion: str, reject: bool = False,
            today: dt.date | None = None, signing: Signing | None = None, dataset=None, env=None) -> str:
    """Append one entry to each record and make one signed commit; return the commit id."""
    return approve_batch(repo, data_dir, records, opinion=opinion, reject=reject, today=today, signing=signing,
                         dataset=dataset, env=env).commit


# ---------------------------------------------------------------- the commit

def commit_files(repo: Path, files: dict[Path, str], message: str, *, sign: bool, env=None) -> str:
    """Commit new contents of files on top of HEAD as one commit, atomically (see the module's
    docstring); return the commit id. The files' other uncommitted changes are committed with them,
    as `git commit --only` would."""
    top = Path(repo).resolve()
    rels = {}
    for path, text in files.items():
        rel = Path(os.path.abspath(path)).resolve().relative_to(top).as_posix()
        rels[rel] = (Path(path), text)
    head = gitlog.head(repo)
    with tempfile.TemporaryDirectory(prefix="jinqiu-approve-") as tmp:
        index_env = dict(env or {}, GIT_INDEX_FILE=str(Path(tmp) / "index"))
        if head:
            _must(_run_git(repo, "read-tree", head, env=index_env), "无法读取当前提交")
        for rel, (path, text) in rels.items():
            blob = _must(_run_git(repo, "hash-object", "-w", "--stdin", env=env, input=text.encode("utf-8")),
                         "无法写入 git 对象").strip()
            mode = "100755" if os.access(path, os.X_OK) else "100644"
            _must(_run_git(repo, "update-index", "--add", "--cacheinfo", f"{mode},{blob},{rel}", env=index_env),
                  f"无法暂存 {rel}")
        tree = _must(_run_git(repo, "write-tree", env=index_env), "无法生成目录树").strip()
        args = ["commit-tree", tree, *(["-p", head] if head else []), "-F", "-"]
        if sign:
            args.insert(1, "-S")
        p = _run_git(repo, *args, env=env, input=message.encode("utf-8"))
        if p.returncode:
            detail = p.stderr.decode(errors="replace").strip()
            if sign:
                raise ApproveError("签名提交失败，没有写入任何内容：请检查 git config user.signingkey 和 gpg.format"
                                   f"（见 docs/review.md 第一节）。git 的说明：{detail}")
            raise ApproveError(f"提交失败，没有写入任何内容。git 的说明：{detail}")
        oid = p.stdout.decode().strip()
        staged = []
        try:
            for rel, (path, text) in rels.items():
                part = path.with_name(f".{path.name}.jinqiu-{os.getpid()}.tmp")
                part.write_text(text, encoding="utf-8")
                if path.exists():
                    os.chmod(part, path.stat().st_mode & 0o7777)
                staged.append((part, path))
            q = _run_git(repo, "update-ref", "-m", message.splitlines()[0], "HEAD", oid, head or "0" * 40, env=env)
            if q.returncode:
                raise ApproveError("提交期间分支被别的操作改动了，没有写入任何内容；请重试")
        except (OSError, ApproveError) as exc:
            for part, _ in staged:
                part.unlink(missing_ok=True)
            if isinstance(exc, ApproveError):
                raise
            raise ApproveError(f"无法写入 {exc.filename}：{exc.strerror}；没有写入任何内容") from None
    for part, path in staged:
        os.replace(part, path)
    _run_git(repo, "update-index", "--add", "--", *rels, env=env)
    return oid


def _must(p: subprocess.CompletedProcess, what: str) -> str:
    if p.returncode:
        raise ApproveError(f"{what}，没有写入任何内容：{p.stderr.decode(errors='replace').strip()}")
    return p.stdout.decode()


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
    files, refusals = {}, []
    for r in records:
        body = payload["review"].get("body") or payload["review"].get("content")
        entry = {"level": reviewer["level"], "decision": "approve", "opinion": str(body or "同意").strip() or "同意",
                 "reviewer": rid, "date": day, "digest": digest.of(r.data), "forge": f}
        reasons = refusal_reasons(ctx, r, entry)
        if reasons:
            refusals.append(f"{r.path}: " + "；".join(reasons))
            continue
        path = data_dir / r.rel
        files[path] = append_entry(path.read_text(encoding="utf-8"), entry)
    if refusals:
        raise ApproveError("以下申请不能记为审批，没有写入任何内容：\n" + "\n".join(refusals))
    check_identity(repo, env)
    message = (f"记录平台审批：{forge_name} 合并请求 #{f['pull_request']} 的审阅 {f['review_id']}（账号 {f['login']}）"
               f"记为第 {reviewer['level']} 级审批\n")
    return commit_files(repo, files, message, sign=False, env=env), len(files)
