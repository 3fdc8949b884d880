"""migrate: a city's clear repository into a new sealed one (issue 21; design §0 bullet 13).

Encryption cannot take back the plaintext already in a clear repository's history and in every
clone, so a city that starts sealing does not convert its repository in place: on a city machine
(with the build key) it converts it once into a NEW repository, with a new root commit, and retires
the old one (deleted on the forge; every union deletes its clones).

What migrate does, everything checked before anything is written (MigrateError: every problem, in
Chinese; nothing written, no half-made repository left behind):
1. verify on OLD (its pinned root of trust): which approvals and payouts hold there;
2. the sealing set-up (a sealing.yaml the administrator prepared, or OLD's own): the union keys of
   every sealed year that has none yet are made as `keys new-year` makes them (keyrings signed by the
   administrator, written into the key repository only at the end);
3. every application and graduate record of a sealed year is sealed to its union-year's public key
   (public keys only: sealed.seal), and opened again with the given identity (the build key) through
   the keyrings: the opened record must have exactly the v1 digest the old record has, i.e. it is
   exactly the plaintext the approvals signed;
4. the carry-over map (jinqiu.trust.carry): for each sealed record whose status in OLD rests on
   verified approvals, its v1 and v2 digests and the entries that held, signed by the administrator
   (its exact bytes, namespace carry.NAMESPACE_CARRY); the record itself says `carried_from: <v1>`
   (inside v2, so changing it makes them stale), by which validate and approve read its rounds;
5. NEW: the code, the trust data, sealing.yaml and the map in a first commit signed by the
   administrator, the records in a second that is NOT signed (a signature on it would stand for every
   approval entry without a signature of its own: each carried entry is proved by its own detached
   signature), the root of trust pinned in its git config as in OLD;
6. verify on NEW: every record's status must equal its status in OLD, else nothing is kept.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..check import rounds, validate
from ..problems import ERROR
from ..records import dataset as ds
from ..records import layout, sealed, yamlstrict
from ..trust import anchor, approve, carry, digest, keyring, registry, status, verify, versions
from . import fmt

BULK = ("data/applications/", "data/graduates/")
CARRIED_FROM = "carried_from"  # the application's field naming the old digest its carried approvals sign


class MigrateError(Exception):
    """What must be fixed first; nothing was written."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class Result:
    new: Path
    commits: list = field(default_factory=list)
    sealed: int = 0  # records sealed
    clear: int = 0  # records of years before `since`, kept in clear
    carried: int = 0  # records whose approvals the map carries
    statuses: int = 0  # records whose status was compared
    years_keyed: list = field(default_factory=list)  # sealed years whose union keys migrate made
    since: int = 0


def _git(repo: Path, *args: str, env=None, check: bool = True) -> str:
    full = {k: v for k, v in os.environ.items() if k not in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE")}
    full.update(env or {})
    p = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, env=full)
    if check and p.returncode:
        raise MigrateError([f"git {args[0]} 失败：{p.stderr.strip()}"])
    return p.stdout.strip()


def _public_line(admin_key: Path) -> str | None:
    pub = Path(f"{admin_key}.pub")
    if pub.is_file():
        return pub.read_text(encoding="utf-8").strip().splitlines()[0]
    p = subprocess.run(["ssh-keygen", "-y", "-f", str(admin_key)], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    return p.stdout.strip() if p.returncode == 0 else None


def _sealing_tree(path: Path, problems: list) -> dict | None:
    """The sealing set-up as typed data (sealing.yaml's schema), or None with the problems noted."""
    shown = str(path)
    try:
        raw = path.read_bytes()
        tree, lines = yamlstrict.load(raw, shown, lines=True)
    except OSError as exc:
        problems.append(f"读不到加密设置 {shown}：{exc.strerror}")
        return None
    except yamlstrict.YamlError as exc:
        problems.append(exc.problem().text())
        return None
    data, found = yamlstrict.coerce(tree, layout.schema("sealing"), shown, lambda p: lines.get(p, 1))
    problems += [f"{shown}:{p.line}: {p.message}" for p in found]
    if found or not isinstance(data, dict):
        return None
    import pyrage

    for where, value in [("build", data.get("build")), ("escrow", data.get("escrow")),
                         *((f"members/{i}/recipient", m.get("recipient")) for i, m in enumerate(data.get("members") or []))]:
        try:
            pyrage.x25519.Recipient.from_str(str(value))
        except Exception:  # noqa: BLE001 (pyrage's own RecipientError)
            problems.append(f"{shown}:{lines.get('/' + where, 1)}: “{where}”不是 age 公钥（age1…）")
    if not isinstance(data.get("since"), int):
        problems.append(f"{shown}:1: 缺少 since（从哪个年度起加密保存）")
        return None
    return data


def migrate(old: Path, new: Path, *, keys_dir: Path, identity: Path, admin_key: Path, sealing_file: Path | None = None,
            today: str | None = None, root_keys=None, passphrase=None, env=None, log=None) -> Result:
    """Convert OLD (a clear city repository, its work tree) into NEW (a new sealed repository); see the
    module's docstring. MigrateError (every problem) before anything is written."""
    log = log or (lambda message: None)
    old, new, keys_dir, identity, admin_key = (Path(p).expanduser() for p in (old, new, keys_dir, identity, admin_key))
    today = today or dt.date.today().isoformat()
    problems: list[str] = []
    top = None
    try:
        top = Path(_git(old, "rev-parse", "--show-toplevel"))
    except MigrateError:
        problems.append(f"{old} 不是 git 仓库：migrate 要从旧仓库的工作目录（克隆）迁出")
    if top is not None and top.resolve() != old.resolve():
        problems.append(f"{old} 不是仓库的顶层目录：请给出旧仓库本身（含 .git 的目录）")
        top = None
    if top is not None and _git(old, "status", "--porcelain", "--untracked-files=all"):
        problems.append(f"旧仓库 {old} 有未提交的改动或未跟踪的文件：先提交或清理，迁移只搬已提交的内容")
    if new.exists() and (not new.is_dir() or any(new.iterdir())):
        problems.append(f"{new}: 目录已存在且不是空的；新仓库要建在新的（或空的）目录里")
    data_old = old / "data"
    if top is not None and not (data_old / "reviewers.yaml").is_file():
        problems.append(f"{old} 没有 data/reviewers.yaml：不是金秋的城市仓库")
    if problems:
        raise MigrateError(problems)
    roots, where = anchor.pinned_keys(old, root_keys, env=env if env is not None else os.environ)
    if not roots:
        raise MigrateError([f"旧仓库 {old} 没有固定的信任根（git config jinqiu.rootKey 或 --root-key）：无从核验它的审批，无法承接"])
    # the administrator's key: a root of trust key, registered as an administrator
    if not admin_key.is_file():
        problems.append(f"管理员的签名私钥 {admin_key} 不存在（--admin-key 应是管理员本人的 SSH 私钥文件）")
        fpr = None
    else:
        line = _public_line(admin_key)
        try:
            fpr = registry.ssh_fingerprint(line) if line else None
        except Exception:  # noqa: BLE001
            fpr = None
        if fpr is None:
            problems.append(f"读不出 {admin_key} 的公钥（旁边没有 .pub 文件，ssh-keygen -y 也不行）")
        elif fpr not in roots:
            problems.append(f"--admin-key 的密钥 {fpr} 不是信任根（{where}）中的管理员密钥：承接表和新仓库的提交须由管理员签名")
    sealing_path = Path(sealing_file).expanduser() if sealing_file else data_old / "sealing.yaml"
    if not sealing_path.is_file():
        problems.append(f"没有加密设置：请用 --sealing 给出写好的 sealing.yaml（since、retain_years、build、escrow、members，"
                        f"写法见 docs/sealing.md 第三节），{sealing_path} 不存在")
        cfg_data = None
    else:
        cfg_data = _sealing_tree(sealing_path, problems)
    try:
        idents = keyring.read_identities(identity, passphrase)
    except keyring.KeyError_ as exc:
        problems.append(str(exc))
        idents = None
    if problems:
        raise MigrateError(problems)

    # 1. what holds in OLD
    log("核验旧仓库的审批……")
    before, found = verify.run(old, data_old, display_root="data", root_keys=sorted(roots), use_cache=False)
    if not before.verified:
        errors = [p.text() for p in found if p.severity == ERROR][:5]
        raise MigrateError(["旧仓库的审批核验不了（信任根或信任数据有误），没有可承接的审批：先在旧仓库运行 verify 改好", *errors])
    bad_entries = {(p.path, p.pointer) for p in found if p.severity == ERROR and p.pointer.startswith("/approvals/")}
    src = validate.load(data_old, "data")
    days, paid_days, filed_days = _proved_days(old, data_old, src, roots)
    units = src.units
    reviewers = src.reviewers

    # 2. the union keys of every sealed year that has none
    cfg_data = dict(cfg_data)
    cfg_data["groups"] = {str(y): dict(g or {}) for y, g in (cfg_data.get("groups") or {}).items()}
    since = cfg_data["since"]
    records = [r for r in src.records if r.kind in sealed.SEALABLE_KINDS and r.data is not None]
    years = sorted({int(y) for y in src.campaigns if str(y).isdigit() and int(y) >= since}
                   | {int(r.data["year"]) for r in records if isinstance(r.data.get("year"), int) and r.data["year"] >= since})
    cfg = sealed.Sealing(since, cfg_data["build"], cfg_data["escrow"], list(cfg_data.get("members") or []), cfg_data["groups"],
                         [int(y) for y in cfg_data.get("shredded") or []], cfg_data.get("retain_years"))
    grassroots = sorted(u for u, v in units.items() if v.get("kind") in ("enterprise", "street"))
    staged_keys = Path(tempfile.mkdtemp(prefix="jinqiu-migrate-keys-"))
    made: list[Path] = []
    try:
        if keys_dir.is_dir():
            shutil.copytree(keys_dir, staged_keys, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".git"))
        signer = keyring.ssh_signer(admin_key)
        keyed_years = []
        for year in years:
            if cfg_data["groups"].get(str(year)):
                continue
            clash = [u for u in grassroots if list((staged_keys / str(year)).glob(f"{u}.*.age"))]
            if clash:
                raise MigrateError([f"密钥仓库 {keys_dir} 里已有 {year} 年度 {clash[0]} 的密钥环，而加密设置里没有这一年的公开加密钥："
                                    "请用一个新的（空的）密钥仓库，或在 sealing.yaml 里写上这一年的 groups"])
            groups = {}
            for unit in grassroots:
                secret, public = keyring.new_group()
                made.append(keyring.write_keyring(staged_keys, year, unit, 1, secret,
                                                  [r for _, r in keyring.chain(cfg, unit, units, today)], signer))
                groups[unit] = public
            cfg_data["groups"][str(year)] = groups
            keyed_years.append(year)
        # 3. seal, and check every sealed record opens back to exactly the plaintext its approvals signed
        opener = keyring.Opener(staged_keys, idents, keyring.admin_fingerprints(reviewers))
        texts: dict[str, bytes] = {}
        carried: list[carry.Carried] = []
        n_sealed = n_clear = 0
        for r in records:
            v1 = digest.of(r.data)
            st = before.get(r.rel)
            listed = [e for e in (r.data.get("approvals") or []) if isinstance(e, dict)]
            carries = r.kind == "application" and st is not None and st.verified and st.state != status.FILED and bool(listed)

            def carry_over(v2: str) -> None:
                refs = frozenset(rounds.ref(e) for i, e in enumerate(r.data.get("approvals") or [])
                                 if isinstance(e, dict) and (r.path, f"/approvals/{i}") not in bad_entries) if carries else frozenset()
                paid = carries and st.state == status.PAID
                carried.append(carry.Carried(str(r.data.get("id")), r.rel, v1, v2, refs, paid,
                                             {ref: d for ref, d in days.get(r.rel, {}).items() if ref in refs},
                                             paid_days.get(r.rel, "") if paid else "", filed_days.get(r.rel, "")))

            if not cfg.year_sealed(r.data.get("year")):
                n_clear += 1  # kept in clear, as it is: its approvals and filing are dated by the map too
                if r.kind == "application":
                    carry_over(v1)
                continue
            if sealed.is_sealed(r.data):
                problems.append(f"{r.path}: 已经是加密保存的记录；migrate 只迁移明文仓库")
                continue
            recipient = cfg.recipient(r.data.get("year"), str(r.data.get("unit", "")))
            if recipient is None:
                problems.append(f"{r.path}: 加密设置里没有 {r.data.get('year')} 年度工会 {r.data.get('unit')} 的公开加密钥")
                continue
            pointers = layout.sealed_pointers(r.kind)
            raw = ds.read_bytes(data_old, r.rel)
            clear = r.data
            if carries:  # the record says which digest its old approvals sign (validate and approve read the rounds by it)
                clear = {k: v for k, v in r.data.items() if k != "approvals"} | {CARRIED_FROM: v1, "approvals": r.data.get("approvals")}
            stored = sealed.seal(clear, pointers, recipient)
            text = fmt.render(stored, r.kind, raw).encode("utf-8")
            again, found_now, _ = ds.parse(text, r.path, r.rel)
            try:
                opened = opener.open(again.data, pointers)
                back = digest.of({k: v for k, v in opened.items() if k != CARRIED_FROM})
            except sealed.SealError as exc:
                problems.append(f"{r.path}: 加密后用 {identity} 打不开：{exc}")
                continue
            if back != v1 or [p for p in found_now if p.severity == ERROR]:
                problems.append(f"{r.path}: 加密后再解开，内容与原来的明文不一致（摘要 {back} ≠ {v1}），不能承接它的审批")
                continue
            texts[r.rel] = text
            n_sealed += 1
            if r.kind == "application":
                carry_over(digest.of(again.data))
        if problems:
            raise MigrateError(problems)
        sealing_text = fmt.render(cfg_data, "sealing", sealing_path.read_bytes())
        head = _git(old, "rev-parse", "HEAD")
        map_raw = carry.render(carried, head, today)
        try:
            sig = approve.detached_signature(approve.Signing("ssh", str(admin_key), fpr), map_raw, carry.NAMESPACE_CARRY)
        except approve.ApproveError as exc:
            raise MigrateError([str(exc)]) from None
        # 5. NEW: trust data (and the code) first, the records second, both signed by the administrator
        result = Result(new, sealed=n_sealed, clear=n_clear, carried=len([c for c in carried if c.entries]),
                        years_keyed=keyed_years, since=since)
        created = not new.exists()
        new.mkdir(parents=True, exist_ok=True)
        try:
            _write_new(old, new, texts, sealing_text, map_raw, sig, roots, admin_key, result, env, head)
            log("核验新仓库的审批……")
            after, _ = verify.run(new, new / "data", display_root="data", root_keys=sorted(roots), use_cache=False)
            differ = [(rel, st, after.get(rel)) for rel, st in sorted(before.items())
                      if after.get(rel) is None or (st.state, st.level, st.complete, st.verified)
                      != (after[rel].state, after[rel].level, after[rel].complete, after[rel].verified)]
            if differ or not after.verified:
                by_rel = {r.rel: r for r in src.applications}
                raise MigrateError(["新仓库中的审批状态与旧仓库不同，没有建立新仓库："]
                                   + [f"data/{rel}: 旧仓库 {a.label}，新仓库 {b.label if b else '没有这份记录'}{_why_not(by_rel.get(rel))}"
                                      for rel, a, b in differ[:20]]
                                   + ([f"……共 {len(differ)} 份"] if len(differ) > 20 else []))
            result.statuses = len(before)
        except BaseException:
            if created:
                shutil.rmtree(new, ignore_errors=True)
            else:
                for child in new.iterdir():
                    shutil.rmtree(child, ignore_errors=True) if child.is_dir() and not child.is_symlink() else child.unlink()
            raise
        # the new keyrings go into the key repository last: nothing is written there when anything failed
        for path in made:
            dest = keys_dir / path.relative_to(staged_keys)
            dest.parent.mkdir(parents=True, exist_ok=True)
            for p in (path, Path(f"{path}.sig")):
                if p.is_file():
                    shutil.copy2(p, keys_dir / p.relative_to(staged_keys))
        return result
    finally:
        shutil.rmtree(staged_keys, ignore_errors=True)


def _why_not(record) -> str:
    """Why an approval may not carry: one proved by its commit's signature or a forge review alone has no
    signature of its own, and the new history has neither that commit nor that review."""
    listed = [e for e in ((record.data or {}).get("approvals") or []) if isinstance(e, dict)] if record is not None else []
    bare = [e for e in listed if not e.get("signature")]
    if not bare:
        return ""
    kinds = "平台审阅" if all(isinstance(e.get("forge"), dict) for e in bare) else "只签了提交、条目里没有分离签名的审批"
    return (f"（其中有{kinds}：它的证明在旧仓库的提交或平台上，新的历史里无从核验；"
            "请相关审核人先在旧仓库用 approve 重新审批（会附上分离签名），再迁移）")


def _proved_days(old: Path, data_old: Path, dataset, roots) -> tuple[dict, dict, dict]:
    """({rel: {rounds.ref: day}}, {rel: day}, {rel: day}): the day OLD's history proves each approval
    entry made, each payout recorded and each application filed (the day its commit entered the branch,
    jinqiu.trust.when), as verify dates them."""
    session = verify.open_session(old, data_old, dataset, sorted(roots), None)
    try:
        ctx = session.ctx
        apps = [r for r in dataset.applications if verify.needs_proof(r.data)]
        located = versions.locate(ctx, data_old, apps)
        days = {rel: {rounds.ref(e.data): ctx.clock.day(e.commit) for e in entries if e.commit} for rel, entries in located.items()}
        paid = {rel: ctx.clock.day(c) for rel, c in ctx.payment_commits.items() if c}
        filed = {r.rel: ctx.clock.first_day(r.rel) for r in dataset.applications}
        return days, paid, filed
    finally:
        session.close()


def _write_new(old: Path, new: Path, texts: dict, sealing_text: str, map_raw: bytes, sig: str | None,
               roots, admin_key: Path, result: Result, env, head: str) -> None:
    files = [f for f in _git(old, "ls-files", "-z").split("\0") if f]
    skip = {f"data/{carry.MAP_FILE}", f"data/{carry.SIG_FILE}", "data/sealing.yaml"}
    for rel in files:
        if rel in skip:
            continue
        dest = new / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        sub = rel.removeprefix("data/")
        if sub in texts and rel.startswith("data/"):
            dest.write_bytes(texts[sub])
        else:
            shutil.copy2(old / rel, dest, follow_symlinks=False)
    (new / "data" / "sealing.yaml").write_text(sealing_text, encoding="utf-8")
    _seal_reviewer_numbers(new / "data", sealed.config_from_bytes(sealing_text.encode("utf-8"), "data/sealing.yaml"))
    (new / "data" / carry.MAP_FILE).write_bytes(map_raw)
    if sig:
        (new / "data" / carry.SIG_FILE).write_text(sig, encoding="utf-8")
    _git(new, "init", "-q", "-b", "main")
    for fpr in sorted(roots):
        _git(new, "config", "--add", anchor.ROOT_CONFIG, fpr)
    signing = ["-c", f"user.signingkey={admin_key}", "-c", "gpg.format=ssh"]
    ident = []
    if not _git(old, "var", "GIT_COMMITTER_IDENT", check=False, env=env):
        ident = ["-c", "user.name=金秋迁移", "-c", "user.email=migrate@jinqiu.invalid"]
    _git(new, "add", "-A", "--", ".", *(f":(exclude){b}" for b in BULK))
    first = (f"迁移：自明文仓库（{head[:10]}）迁入程序和信任数据，个人信息自 {result.since} 年度起加密保存；"
             f"承接表记下 {result.carried} 份申请在旧仓库中经核验的审批（管理员签名）")
    _git(new, *ident, *signing, "commit", "-q", "-S", "-m", first, env=env)
    result.commits.append(_git(new, "rev-parse", "HEAD"))
    _git(new, "add", "-A")
    if _git(new, "status", "--porcelain"):
        second = f"迁移：{result.sealed} 份记录加密保存，{result.clear} 份（{result.since} 年度以前）照旧明文"
        # not signed: a signed commit would stand for every approval in it that has no signature of its own
        _git(new, *ident, "-c", "commit.gpgsign=false", "commit", "-q", "-m", second, env=env)
        result.commits.append(_git(new, "rev-parse", "HEAD"))


def _seal_reviewer_numbers(data: Path, cfg) -> None:
    """The reviewers' own and family ID numbers sealed to the build and the escrow (records.sealed.seal_reviewer)."""
    raw = ds.read_bytes(data, "reviewers.yaml")
    record = ds.read_one(data, str(data), "reviewers.yaml")[0]
    if not isinstance(record.data, dict):
        return
    kept = dict(record.data, reviewers=[sealed.seal_reviewer(r, [cfg.build, cfg.escrow]) if isinstance(r, dict) else r
                                        for r in record.data.get("reviewers") or []])
    if kept != record.data:
        ds.write_text(data, "reviewers.yaml", fmt.render(kept, "reviewers", raw))
