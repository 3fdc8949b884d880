"""Who signed an entry, a payout or a commit: SSH signatures checked in-process (remembered between
runs by SignatureMemo), OpenPGP through gpg; the key mapped to a registered reviewer valid on the day
the history proves, never by the author's name. check_signature and check_forge judge one entry.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from . import carry, forge, gitlog, registry, sshsig
from ..check import rounds
from .entries import Context, Entry, digest_of_blob, payload_of
from .. import parallel
from ..check import cache
from ..problems import WARNING


NAMESPACE_GIT = "git"


NAMESPACE_ENTRY = "jinqiu-approval@jinqiu.invalid"  # detached signatures inside an entry


NAMESPACE_PAYMENT = "jinqiu-payment@jinqiu.invalid"  # the detached signature of a payout (aid.paid_signature)


_SQUASH_MESSAGE = re.compile(r"\(#\d+\)\s*$")


_WEB_COMMITTERS = ("GitHub <noreply@github.com>", "Gitea <", "Forgejo <")


class Signers:
    """Who signed a commit: checks each commit once, SSH in-process, OpenPGP through gpg."""

    def __init__(self, reg: registry.Registry, known: dict | None = None):
        self.reg = reg
        self.gpg = registry.GpgVerifier(reg.gpg_keys())
        self.memo: dict[str, tuple[registry.Key | None, str | None, str | None]] = {}
        self.ssh: dict[str, tuple[str | None, str | None]] = {}  # _memo_key(sig, payload, namespace) -> ssh_check, this run
        self.known = known or {}  # the same, remembered from earlier runs (SignatureMemo)

    def _ssh(self, key: str):
        found = self.ssh.get(key)
        if found is None:
            found = self.known.get(key)
            if found is not None:
                self.ssh[key] = found = tuple(found)
        return found

    def prefetch(self, items: list[tuple[bytes, bytes, str]]) -> None:
        """Check many SSH signatures ahead, on every core when there are many (the checks are pure
        CPU and hold the GIL); check() then answers from what was found."""
        keyed = [(k, i) for k, i in {_memo_key(*i): i for i in items if i[0].lstrip().startswith(sshsig.BEGIN)}.items()
                 if self._ssh(k) is None]
        if len(keyed) < PARALLEL_SIGNATURES:
            return
        found = parallel.fork_map(_ssh_check_item, [i for _, i in keyed], PARALLEL_SIGNATURES)
        if found is not None:  # None: no processes to be had, check() does them one by one
            self.ssh.update(zip((k for k, _ in keyed), found))

    def check(self, sig: bytes | None, payload: bytes, namespace: str = NAMESPACE_GIT):
        """(key, fingerprint, reason): key is the registered key that made a good signature;
        reason says why there is none ("unsigned" when there is no signature at all)."""
        if not sig:
            return None, None, "unsigned"
        try:
            if sig.lstrip().startswith(sshsig.BEGIN):
                key = _memo_key(sig, payload, namespace)
                found = self._ssh(key)
                if found is None:
                    found = self.ssh[key] = ssh_check(sig, payload, namespace)
                fpr, reason = found
                if reason:
                    return None, None, reason
            elif b"BEGIN PGP SIGNATURE" in sig:
                try:
                    fpr = self.gpg.verify(sig, payload)
                except sshsig.SignatureError as exc:
                    if str(exc) == "NO_PUBKEY":
                        return None, None, "签名所用的 GPG 密钥未在审核人登记中登记"
                    raise
            else:
                return None, None, "不认识的签名格式"
        except sshsig.SignatureError as exc:
            return None, None, f"签名无效：{exc}"
        key = self.reg.keys.get(fpr)
        if key is None:
            return None, fpr, f"签名密钥 {fpr} 未在审核人登记中登记"
        return key, fpr, None

    def commit(self, c: gitlog.Commit):
        if c.oid not in self.memo:
            self.memo[c.oid] = self.check(c.signature, c.payload)
        return self.memo[c.oid]


PARALLEL_SIGNATURES = 2000  # fewer than this: not worth starting processes


def _memo_key(sig: bytes, payload: bytes, namespace: str) -> bytes:
    """A short key for a checked signature (the signature and payload themselves are large)."""
    h = hashlib.blake2b(digest_size=20)
    for part in (sig, payload, namespace.encode()):
        h.update(len(part).to_bytes(8, "big") + part)
    return h.hexdigest()


class SignatureMemo:
    """SSH signature checks remembered between runs: whether a signature is good for a payload, and
    by which key, is a fact about those bytes alone (who that key belongs to, and when it was valid
    or revoked, is worked out afresh every run). Kept in a cache.Store (JSON with an HMAC, outside
    every work tree), keyed on the code; each run keeps only the checks it made or used."""

    KIND = "signatures"

    def __init__(self, data_dir: Path):
        self.store = cache.Store(data_dir)
        self.kind = f"{self.KIND}-{cache.name_of(data_dir)}"
        self.key = cache.code_version() if self.store.usable else ""

    def load(self) -> dict:
        found = self.store.get(self.kind, self.key) if self.key else None
        if not isinstance(found, dict):
            return {}
        return {k: v for k, v in found.items()
                if isinstance(v, list) and len(v) == 2 and all(x is None or isinstance(x, str) for x in v) and (v[0] is None) != (v[1] is None)}

    def save(self, checked: dict) -> None:
        if self.key:
            self.store.put(self.kind, self.key, {k: list(v) for k, v in checked.items()})


def ssh_check(sig: bytes, payload: bytes, namespace: str) -> tuple[str | None, str | None]:
    """(fingerprint of the key that made a good SSH signature, None) or (None, why it is not good)."""
    try:
        parsed = sshsig.parse(sig)
        sshsig.verify(parsed, payload, namespace)
        return parsed.fingerprint, None
    except sshsig.SignatureError as exc:
        return None, f"签名无效：{exc}"


def _ssh_check_item(item):
    return ssh_check(*item)


def _squash_hint(c: gitlog.Commit, reviewers_in_commit: set[str]) -> str:
    looks = (len(reviewers_in_commit) > 1 or _SQUASH_MESSAGE.search(c.message.splitlines()[0] if c.message else "")
             or any(c.committer.startswith(w) for w in _WEB_COMMITTERS))
    if not looks:
        return ""
    return ("；这次提交看起来是 squash 或 rebase 合并重新生成的，原提交上的签名已经丢失——"
            "合并请求请用“创建合并提交”（merge commit）方式合并，或在审批条目中附上分离签名")


def _time_note(history: gitlog.History, c: gitlog.Commit) -> str:
    claimed, effective = registry.day_of(c.committer_time), registry.day_of(history.effective_time(c.oid))
    if effective != claimed:
        return f"（提交自称 {claimed}，但它所基于的提交已是 {effective}，按 {effective} 计）"
    return ""


def check_signature(ctx: Context, record, e: Entry, commit_reviewers: set[str]) -> None:
    """The entry's commit (or its detached signature) is signed by a key registered to the
    reviewer it names, valid on the day the history proves the commit was made."""
    entry = e.data
    h = ctx.history
    c = ctx.commits.get(e.commit)
    if c is None:
        return
    # an entry carried over from a clear repository: its key judged on the day the old history proved (carry)
    carried = carry.carried_for(ctx.carry, record.data)
    held = carried.days.get(rounds.ref(entry)) if carried is not None else None
    day = held or registry.day_of(h.effective_time(c.oid))
    if entry.get("signature"):
        key, fpr, reason = ctx.signers.check(str(entry["signature"]).encode(), payload_of(record, e), NAMESPACE_ENTRY)
        where = "审批条目中的分离签名"
    else:
        key, fpr, reason = ctx.signers.commit(c)
        where = f"引入这条审批的提交 {c.oid[:10]}"
    if reason == "unsigned":
        hint = _squash_hint(c, commit_reviewers)
        if ctx.strict:
            e.add("approval-unsigned", f"{where}没有签名，无法证明是谁审批的{hint}")
        else:
            e.add("approval-unsigned", "未签名的审批，视为未核验（提交 " + c.oid[:10] + " 没有签名）", WARNING)
        return
    if key is None:
        e.add("approval-bad-signature", f"{where}：{reason}{_squash_hint(c, commit_reviewers)}")
        return
    why = key.invalid_on(day)
    if why:
        e.add("approval-key-invalid", f"{where}所用的审核人 {key.reviewer} 的密钥 {key.fingerprint} 在 {day} {why}{_time_note(h, c)}")
        return
    revoked = ctx.walk.revoked_before(h, fpr, c.oid) if ctx.walk is not None and not held else None
    if revoked:
        e.add("approval-key-revoked", f"{where}所用的审核人 {key.reviewer} 的密钥 {key.fingerprint} 已在提交 {revoked[:10]} 中吊销，"
              f"而提交 {c.oid[:10]} 不在那次吊销之前的历史里（提交日期由作者自己填写，先后只看提交图），签名无效")
        return
    if key.reviewer != entry.get("reviewer"):
        claimed = ctx.reg.reviewers.get(str(entry.get("reviewer")), {}).get("name")
        author = f"；提交作者写的是“{c.author_name}”，但身份只认签名密钥" if claimed and claimed == c.author_name else ""
        e.add("approval-signer-mismatch",
              f"审批写的审核人是 {entry.get('reviewer')}，但{where}的签名密钥属于 {key.reviewer}{author}"
              f"{_squash_hint(c, commit_reviewers)}")
        return
    if c.oid in ctx.registry_commits:
        e.add("approval-with-registry-change", f"提交 {c.oid[:10]} 同时修改了审核人登记和审批；登记的修改须单独提交")
        return
    e.proof = fpr
    e.verified = True


def check_forge(ctx: Context, record, e: Entry) -> None:
    """A pull-request review entry, checked against the CONFIGURED forge (never the one the entry
    names): the login is a registered reviewer's; the forge's API confirms an approving review by
    that login of that commit, in a pull request that changed this record's file; and the file as
    it stood at the reviewed commit has the entry's digest (forge.Checker, forge.content_digest)."""
    f = e.data["forge"]
    checker = ctx.forge_checker
    name = getattr(checker, "forge", None) or f.get("name", "")
    rid = ctx.reg.by_login(name, f.get("login", ""))
    if rid is None:
        e.add("forge-login-unregistered", f"平台账号 {name}:{f.get('login')} 未在审核人登记中登记")
        return
    if rid != e.data.get("reviewer"):
        e.add("forge-login-mismatch", f"审批写的审核人是 {e.data.get('reviewer')}，但平台账号 {f.get('login')} 登记给了 {rid}")
        return
    if checker is None:
        e.add("forge-unchecked", f"平台审阅（{f.get('name')} 合并请求 #{f.get('pull_request')}，审阅 {f.get('review_id')}）"
              "无法核对：没有平台令牌；这条审批视为未核验", WARNING)
        return
    h = ctx.history
    path = f"{h.prefix}/{record.rel}" if h is not None and h.prefix else record.rel
    ok, reason = checker(f, path)
    if not ok:
        e.add("forge-review-mismatch", f"平台审阅核对不上：{reason}")
        return
    seen = forge.content_digest(h.repo, f.get("commit"), path, lambda raw: digest_of_blob(raw, record)) if h else None
    if seen != e.data.get("digest"):
        e.add("forge-review-content", f"审阅的提交 {str(f.get('commit'))[:10]} 中这份申请的内容与审批条目的摘要不符"
              f"{'（该提交中没有这个文件，或提交不在仓库历史中）' if seen is None else ''}：这次审阅没有审过这份内容")
        return
    e.proof = f"{name}:{f.get('login')} 审阅 {f.get('review_id')}"
    e.verified = True
