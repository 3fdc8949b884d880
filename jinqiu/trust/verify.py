"""verify: prove from the repository alone who approved what, at which level, for which content.

For every approval entry it finds the commit that introduced it (reading the history once), checks
that commit's signature in-process, maps the signing key (never the author name) to a registered
reviewer valid at the time the history proves, and checks the chain rules. Status is derived from
verified entries only (status.derive).

Strictness: when a root of trust is pinned (registry.ROOT_FILE, --root-key, git config
jinqiu.rootKey) an unsigned approval or a missing digest is an error. Without one (the project's own
sample data, a fresh clone) they are warnings "未签名的审批，视为未核验" and such entries do not count.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from .. import parallel
from ..check import cache
from ..records import yamlstrict
from . import anchor, digest, forge, gitlog, registry, sshsig, status
from ..check import validate as validate_stage
from ..problems import ERROR, WARNING, Problem

NAMESPACE_GIT = "git"
NAMESPACE_ENTRY = "jinqiu-approval@jinqiu.invalid"  # detached signatures inside an entry
NAMESPACE_PAYMENT = "jinqiu-payment@jinqiu.invalid"  # the detached signature of a payout (aid.paid_signature)
CACHE_VERSION = "verify-4"
REGISTRY_REL = "reviewers.yaml"
_SQUASH_MESSAGE = re.compile(r"\(#\d+\)\s*$")
_WEB_COMMITTERS = ("GitHub <noreply@github.com>", "Gitea <", "Forgejo <")


@dataclass
class Entry:
    """One approval entry and what verification found about it."""

    index: int
    data: dict
    key: str  # identity of the entry across versions of the file (its exact text values)
    commit: str | None = None
    verified: bool = False
    stale: bool = False
    proof: str = ""  # what proved it: the signing key's fingerprint, or the forge review
    payload: bytes | None = None  # what its detached signature signs (entry_payload), worked out once
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # (code, message, severity)

    def add(self, code, message, severity=ERROR):
        self.problems.append((code, message, severity))


def _entry_key(raw_entry) -> str:
    return json.dumps(raw_entry, sort_keys=True, ensure_ascii=False)


_BLOCK_END = re.compile(rb"(?m)^[^\s#-]")
_ITEM = re.compile(rb"(?m)^- ")


def _approvals_block(text: bytes) -> tuple[bytes, bytes]:
    """(the file without its approvals block, the block)."""
    m = re.search(rb"(?m)^approvals:", text)
    if not m:
        return text, b""
    block = text[m.start():]
    nxt = _BLOCK_END.search(block, len(b"approvals:"))
    if nxt:
        return text[:m.start()] + block[nxt.start():], block[:nxt.start()]
    return text[:m.start()], block


_UNTIDY = re.compile(rb"[ \t\r\v\f]\n|\n[ \t\r\v\f]*\n|\r")


def _entry_text(chunk: bytes) -> bytes:
    """An entry's lines without trailing blanks and without blank lines, joined by newlines. Most
    entries (as approve and fmt write them) have neither: then that is the chunk without its last
    newlines, and no line is split."""
    body = chunk.rstrip(b"\n")
    if not _UNTIDY.search(body) and body[-1:] not in (b" ", b"\t", b"\v", b"\f") and body[:1] != b"\n":
        return body
    return b"\n".join(line.rstrip() for line in chunk.splitlines() if line.strip())


def split_approvals(text: bytes, parse: bool = False) -> tuple[bytes, list[str]]:
    """(the file's text before its approvals, the identity key of each entry) without parsing the
    whole file. Fast path: each entry's own text (canonical files put list items at column 0, as
    approve and fmt write them); parse=True: each entry's parsed values, for hand-formatted files."""
    rest, block = _approvals_block(text)
    if not block:
        return rest, []
    if not parse:  # a digest of each entry's text (the text itself, signature and all, is 0.5 KB an entry)
        starts = [m.start() for m in _ITEM.finditer(block)]
        return rest, [hashlib.blake2b(_entry_text(block[a:b]), digest_size=16).hexdigest()
                      for a, b in zip(starts, starts[1:] + [len(block)])]
    try:
        tree, _ = yamlstrict.load(block, "approvals")
    except yamlstrict.YamlError:
        return rest, []
    entries = tree.get("approvals") or []
    if not isinstance(entries, list):
        return rest, []
    return rest, [_entry_key(e) for e in entries]


def entry_payload(record_id: str, entry: dict) -> bytes:
    """What a detached signature inside an entry signs: the record id and the entry's own fields."""
    fields = {k: str(entry.get(k, "")) for k in ("level", "decision", "opinion", "reviewer", "date", "digest")}
    fields["record"] = record_id
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _payload_of(record, e: Entry) -> bytes:
    if e.payload is None:
        e.payload = entry_payload(record.data.get("id", ""), e.data)
    return e.payload


class Signers:
    """Who signed a commit: checks each commit once, SSH in-process, OpenPGP through gpg."""

    def __init__(self, reg: registry.Registry, known: dict | None = None):
        self.reg = reg
        self.gpg = registry.GpgVerifier(reg.gpg_keys())
        self.memo: dict[str, tuple[registry.Key | None, str | None, str | None]] = {}
        self.ssh: dict[str, tuple[str | None, str | None]] = {}  # _memo_key(sig, payload, namespace) -> _ssh_check, this run
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
                    found = self.ssh[key] = _ssh_check(sig, payload, namespace)
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


def _ssh_check(sig: bytes, payload: bytes, namespace: str) -> tuple[str | None, str | None]:
    """(fingerprint of the key that made a good SSH signature, None) or (None, why it is not good)."""
    try:
        parsed = sshsig.parse(sig)
        sshsig.verify(parsed, payload, namespace)
        return parsed.fingerprint, None
    except sshsig.SignatureError as exc:
        return None, f"签名无效：{exc}"


def _ssh_check_item(item):
    return _ssh_check(*item)


def _record_digest(record) -> str:
    return digest.of(record.data)


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


@dataclass
class Context:
    data: object  # the Dataset
    reg: registry.Registry
    history: gitlog.History | None
    signers: Signers | None
    strict: bool
    units: dict
    digests: dict  # current digest -> record rel
    forge_checker: object
    commits: dict = field(default_factory=dict)
    registry_commits: set = field(default_factory=set)
    walk: object = None  # anchor.Walk: revocations by the graph
    payment_commits: dict = field(default_factory=dict)  # record rel -> the commit that recorded its payout
    blobs: dict = field(default_factory=dict)  # blob id -> bytes, read once
    keys_of: dict = field(default_factory=dict)  # blob id -> the entries' identity keys (fast path)
    paid_of: dict = field(default_factory=dict)  # blob id -> the payout it records (payment_key), or None
    current: dict = field(default_factory=dict)  # record rel -> its current digest (each computed once)


def _check_signature(ctx: Context, record, e: Entry, commit_reviewers: set[str]) -> None:
    """The entry's commit (or its detached signature) is signed by a key registered to the
    reviewer it names, valid on the day the history proves the commit was made."""
    entry = e.data
    h = ctx.history
    c = ctx.commits.get(e.commit)
    if c is None:
        return
    day = registry.day_of(h.effective_time(c.oid))
    if entry.get("signature"):
        key, fpr, reason = ctx.signers.check(str(entry["signature"]).encode(), _payload_of(record, e), NAMESPACE_ENTRY)
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
    revoked = ctx.walk.revoked_before(h, fpr, c.oid) if ctx.walk is not None else None
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


def _check_forge(ctx: Context, record, e: Entry) -> None:
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
    seen = forge.content_digest(h.repo, f.get("commit"), path, lambda raw: _digest_of_blob(raw, record)) if h else None
    if seen != e.data.get("digest"):
        e.add("forge-review-content", f"审阅的提交 {str(f.get('commit'))[:10]} 中这份申请的内容与审批条目的摘要不符"
              f"{'（该提交中没有这个文件，或提交不在仓库历史中）' if seen is None else ''}：这次审阅没有审过这份内容")
        return
    e.proof = f"{name}:{f.get('login')} 审阅 {f.get('review_id')}"
    e.verified = True


def chains(entries: list) -> list[list]:
    """The entries grouped by the content they approve (their digest), in list order: an edit
    after approval makes the old chain stale and re-approval appends a new chain from level 1."""
    groups: dict[str, list] = {}
    for e in entries:
        groups.setdefault(str(e.data.get("digest") or ""), []).append(e)
    return list(groups.values())


def _check_chain(ctx: Context, record, entries: list[Entry]) -> None:
    """Within each chain (the entries for one content): levels 1, 2, 3 in order, none skipped or
    repeated, nothing after a rejection, not past the funding union; each reviewer registered at
    that level for that union, and not approving an application of their own or their family's
    (the worker's or the student's ID number); each digest the content the reviewer saw."""
    data = record.data
    app_unit = str(data.get("unit") or record.parts.get("unit", ""))
    end = registry.funding_level(app_unit, (data.get("aid") or {}).get("funding_unit"), ctx.units)
    current = ctx.current.get(record.rel) or digest.of(data)
    people = [(who, str(n)) for who, n in (("职工", (data.get("worker") or {}).get("id_number")),
                                            ("学生", (data.get("student") or {}).get("id_number"))) if n]
    for chain in chains(entries):
        prev, rejected = 0, False
        for e in chain:
            level = e.data.get("level")
            if not isinstance(level, int):
                continue
            if rejected:
                e.add("approval-after-reject", f"第 {level} 级审批在上一级已不同意之后，不应再有审批")
            elif level == prev:
                e.add("approval-repeated-level", f"第 {level} 级审批重复出现")
            elif level < prev:
                e.add("approval-out-of-order", f"第 {level} 级审批排在第 {prev} 级之后，顺序颠倒")
            elif level > prev + 1:
                e.add("approval-skipped-level", f"跳过了第 {prev + 1} 级审批，直接到第 {level} 级")
            prev = max(prev, level)
            rejected = rejected or e.data.get("decision") == "reject"
    for e in entries:
        entry = e.data
        level = entry.get("level")
        if not isinstance(level, int):
            continue
        if level > end:
            e.add("approval-past-funding", f"资助单位是 {(data.get('aid') or {}).get('funding_unit')}，审批到第 {end} 级为止，不应有第 {level} 级")
        rid = str(entry.get("reviewer", ""))
        rv = ctx.reg.reviewers.get(rid)
        if rv is None:
            e.add("approval-reviewer-unknown", f"审核人 {rid} 不在审核人登记中")
        else:
            if rv.get("level") != level:
                e.add("approval-wrong-level", f"审核人 {rid} 登记的审批层级是第 {rv.get('level')} 级，不能做第 {level} 级审批")
            expected = registry.reviewer_unit_for(level, app_unit, ctx.units)
            if rv.get("level") == level and rv.get("unit") != expected:
                e.add("approval-wrong-union", f"第 {level} 级审批应由 {expected} 的审核人做，审核人 {rid} 属于 {rv.get('unit')}")
            own = {str(rv.get("id_number") or "")} | {str(f) for f in (rv.get("family_id_numbers") or [])}
            for who, number in people:
                if number in own:
                    e.add("approval-self", f"审核人 {rid} 审批的是本人或家属的申请（与{who}的身份证号码相同），须回避")
                    break
        d = entry.get("digest")
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
            elif e.commit is not None and e.data.get("_digest_at_commit", current) != d:
                # (_locate leaves the digest at the commit out when the content then was as it is now)
                e.add("approval-digest-mismatch", "这条审批的摘要与提交它时的记录内容不符")
                e.verified = False
            else:
                e.stale = True
                later = any(str(x.data.get("digest")) == current for x in entries)
                e.add("approval-stale", f"审批之后记录内容被改动过（摘要不符），这条第 {level} 级审批失效"
                      + ("，已由其后针对现有内容的审批取代" if later else "，需重新审批（在列表末尾从第 1 级追加新的审批）"), WARNING)


VERIFY_CACHE = "verify"


def _cache_key(repo: Path, prefix: str, head: str, roots: set[str], display_root: str, rels) -> str | None:
    """What a verify result depends on: the commit (whose id is a digest of the whole history and
    tree), a clean work tree under the data directory (no change, no untracked or ignored file),
    the root of trust, the code and schemas, and which records were checked. None: do not cache."""
    dirty = gitlog.git(repo, "status", "--porcelain", "-z", "--untracked-files=all", "--ignored=matching", "--", prefix or ".")
    if dirty:
        return None  # uncommitted changes: check everything again
    h = hashlib.sha256()
    for part in (CACHE_VERSION, head, prefix, ",".join(sorted(roots)), display_root, cache.code_version(),
                 "\n".join(rels) if rels is not None else "*"):
        h.update(part.encode() + b"\0")
    return h.hexdigest()


def _result_to_json(result) -> dict:
    """The result as JSON; each proof's fingerprint and commit as an index into one table of texts
    (a few keys prove 100,000 statuses: the file is a third the size, and reads in a third the time)."""
    statuses, problems = result
    texts: dict[str, int] = {}

    def row(st):
        return [st.state, st.level, st.complete, st.verified,
                [[level, texts.setdefault(proof, len(texts)), texts.setdefault(commit, len(texts))] for level, proof, commit in st.proofs]]

    rows = {rel: row(st) for rel, st in statuses.items()}
    return {"statuses": rows, "texts": list(texts),
            "problems": [cache.astuple_problem(p) for p in problems],
            "trust": [getattr(statuses, "trust", anchor.NONE), bool(getattr(statuses, "verified", False)),
                      getattr(statuses, "root_source", "")]}


def _result_from_json(doc):
    """The (statuses, problems) a cache file holds, or None when it is not exactly that shape."""
    if not isinstance(doc, dict):
        return None
    try:
        texts = doc["texts"]
        if not all(type(t) is str for t in texts):
            return None
        make = status.Status

        def from_row(row):
            state, level, complete, verified, proofs = row
            if type(state) is not str or type(level) is not int or type(complete) is not bool or type(verified) is not bool:
                raise ValueError("not a status row")
            return make(state, level, complete, verified,
                        tuple((lv, texts[p], texts[c]) for lv, p, c in proofs) if proofs else ())

        statuses = Statuses({rel: from_row(row) for rel, row in doc["statuses"].items()})
        statuses.trust, statuses.verified, statuses.root_source = doc["trust"]
        if statuses.trust not in (anchor.PINNED, anchor.TEST, anchor.NONE) or not isinstance(statuses.verified, bool):
            return None
        problems = [Problem(*row) for row in doc["problems"]]
        if not all(isinstance(p.line, int) and all(isinstance(v, str) for v in (p.path, p.pointer, p.code, p.message, p.severity))
                   for p in problems):
            return None
    except (TypeError, KeyError, AttributeError, ValueError):
        return None
    return statuses, problems


def run(repo_root, data_dir, *, display_root: str | None = None, dataset=None, root_keys=None,
        forge_checker=None, use_cache: bool | None = None, loaded: list | None = None, scope=None):
    """Verify every approval under data_dir: ({record.rel: Status}, [Problem]). repo_root may be
    None (found from data_dir). Never raises for bad data; git missing is reported as a warning.

    The cache (JSON in the git directory, HMAC-bound, see jinqiu.cache) is used by default when no
    dataset is given, and with a dataset when use_cache=True (the key then also covers which
    records the dataset holds); never with a forge checker, since a review can be dismissed any time.
    When run loads the dataset itself, it is appended to `loaded` (if given), for a caller that
    needs the records too (the export) and would otherwise read every file a second time.

    scope (prscope.Scope): a pull request's mode: only the records it can affect are read, with the
    history of their files and of the trust data; the problems are the full run's in the changed
    files and its errors in the others (the invariant is in prscope's docstring). Never cached."""
    data_dir = Path(data_dir)
    display_root = str(data_dir) if display_root is None else display_root
    repo = Path(repo_root) if repo_root else gitlog.toplevel(data_dir)
    if repo is not None and gitlog.toplevel(data_dir) is None:
        repo = None
    store = key = None
    roots, _ = anchor.pinned_keys(repo, root_keys)
    if scope is not None:
        return _scoped(repo, data_dir, display_root, scope, root_keys, forge_checker)
    if use_cache is None:
        use_cache = dataset is None
    if repo is not None and use_cache and forge_checker is None:
        head = gitlog.head(repo)
        if head:
            rels = sorted(r.rel for r in dataset.records) if dataset is not None else None
            key = _cache_key(repo, _prefix(repo, data_dir), head, roots, display_root, rels)
            if key:
                store = cache.Store(data_dir)
                found = _result_from_json(store.get(f"{VERIFY_CACHE}-{cache.name_of(data_dir)}", key))
                if found is not None:
                    return found
    if dataset is None:
        dataset = validate_stage.load(data_dir, display_root)
        if loaded is not None:
            loaded.append(dataset)
    memo = SignatureMemo(data_dir) if repo is not None and use_cache is not False else None
    result = _verify(repo, data_dir, dataset, root_keys, forge_checker, memo=memo)
    if store is not None:
        store.put(f"{VERIFY_CACHE}-{cache.name_of(data_dir)}", key, _result_to_json(result))
    return result


def _scoped(repo, data_dir: Path, display_root: str, scope, root_keys, forge_checker):
    from ..records import dataset as ds

    small = ["units.yaml", "reviewers.yaml", *(f"campaigns/{r}" for r in ds.discover(data_dir / "campaigns"))]
    rels = sorted({r for r in small if os.path.lexists(data_dir / r)} | set(scope.rels))
    dataset = validate_stage.load(data_dir, display_root, rels=rels)
    paths = [*anchor.TRUST_FILES, anchor.TRUST_DIR, *sorted(set(scope.changed) | set(scope.related))]
    statuses, problems = _verify(repo, data_dir, dataset, root_keys, forge_checker, paths=paths)
    mine = {ds.display_path(display_root, r) for r in scope.changed}
    return statuses, [p for p in problems if p.path in mine or p.severity == ERROR]


def _prefix(repo: Path, data_dir: Path) -> str:
    rel = data_dir.resolve().relative_to(repo.resolve()).as_posix()
    return "" if rel == "." else rel


def _registry_record(dataset):
    for r in dataset.records:
        if r.kind == "reviewers" and r.data is not None:
            return r
    return None


class Statuses(dict):
    """{record.rel: Status}, and whether anything in it may be called verified: `trust` is the root
    of trust in force (anchor.PINNED, anchor.TEST: the sample's TEST keys, or anchor.NONE), `verified`
    is True only when a root is in force and the trust data at HEAD is an authorised version."""

    trust = anchor.NONE
    verified = False
    root_source = ""


def _verify(repo, data_dir, dataset, root_keys, forge_checker, paths=None, memo=None):
    problems: list[Problem] = []
    statuses = Statuses()
    reg_record = _registry_record(dataset)
    root = anchor.resolve(repo, data_dir, root_keys, dataset.reviewers)
    statuses.trust, statuses.root_source = root.mode, root.source
    root_path = f"{dataset.display_root}/{registry.ROOT_FILE}"
    for code, message, sev in root.problems:
        problems.append(Problem(root_path, 1, "", code, message, sev))
    reg = registry.build(dataset.reviewers, refuse_test_keys=root.mode == anchor.PINNED)
    for rid, i, message in reg.problems:
        if reg_record:
            idx = next((n for n, r in enumerate(reg_record.data.get("reviewers", [])) if r.get("id") == rid), 0)
            problems.append(Problem(reg_record.path, dataset.line(reg_record, f"/reviewers/{idx}/keys/{i}"), "", "registry-key", message))
    apps = [r for r in dataset.applications if r.data.get("approvals") or (r.data.get("aid") or {}).get("paid_on")]
    for r in dataset.applications:
        statuses[r.rel] = status.Status(status.FILED, verified=True)
    if root.mode == anchor.NONE:
        problems.append(Problem(reg_record.path if reg_record else root_path, 1, "", "registry-no-root",
                                "没有固定的信任根（git config jinqiu.rootKey、--root-key 或平台变量 JINQIU_ROOT_KEY，见 docs/trust.md），"
                                "审核人登记无从核验：任何审批都不计为已核验", WARNING))
    elif root.mode == anchor.TEST:
        problems.append(Problem(root_path, 1, "", "root-test",
                                "信任根是示例数据的测试密钥（TEST KEYS）：私钥任何人都能由公开的种子算出，核验结果只作演示，"
                                "不证明任何真实的审批；信任数据的修改记录和审批的删除记录不核验", WARNING))
    if repo is None:
        for r in apps:
            problems.append(Problem(r.path, _approvals_line(dataset, r), "/approvals", "approval-no-git",
                                    "数据目录不在 git 仓库中，审批无法核验，视为未核验", WARNING))
        return statuses, sorted(problems)
    prefix = _prefix(repo, data_dir)
    history = gitlog.load(repo, prefix, paths)
    strict = root.mode != anchor.NONE
    records = list(dataset.applications)
    current = dict(zip((r.rel for r in records), parallel.fork_map(_record_digest, records) or map(_record_digest, records)))
    ctx = Context(dataset, reg, history, Signers(reg, memo.load() if memo is not None else None), strict, dataset.units,
                  {d: rel for rel, d in current.items()}, forge_checker, current=current)
    walk = anchor.Walk(ok=root.mode != anchor.NONE, admin_history=False)
    try:
        if history is not None and root.mode == anchor.PINNED:
            def check(c):
                _, fpr, reason = ctx.signers.check(c.signature, c.payload)
                return fpr, reason

            walk = anchor.walk(history, data_dir, dataset.display_root, root, check)
            problems += walk.problems
            problems += _trust_with_approvals(ctx, walk, reg_record)
        elif history is None and root.mode == anchor.PINNED:
            walk.ok = False
        ctx.walk = walk
        ctx.registry_commits = walk.changes
        per_record = _locate(ctx, data_dir, apps)
        if history is not None:
            ctx.commits = history.commits({e.commit for entries in per_record.values() for e in entries if e.commit}
                                          | {c for c in ctx.payment_commits.values() if c})
        ctx.signers.prefetch([(str(e.data["signature"]).encode(), _payload_of(r, e), NAMESPACE_ENTRY)
                              for r in apps for e in per_record[r.rel]
                              if e.commit and e.data.get("signature") and not isinstance(e.data.get("forge"), dict)]
                             + [(str(aid["paid_signature"]).encode(), payment_payload(str(r.data.get("id", "")), aid, current[r.rel]),
                                 NAMESPACE_PAYMENT)
                                for r in apps for aid in [r.data.get("aid") or {}] if aid.get("paid_on") and aid.get("paid_signature")]
                             + [(c.signature, c.payload, NAMESPACE_GIT) for c in ctx.commits.values() if c.signature])
        for r in apps:
            entries = per_record[r.rel]
            by_commit: dict[str, set] = {}
            for e in entries:
                by_commit.setdefault(e.commit, set()).add(str(e.data.get("reviewer")))
            for e in entries:
                if e.commit is None:
                    e.add("approval-uncommitted", "审批尚未提交（git commit），无法核验" if history else
                          "仓库还没有任何提交，审批无法核验", ERROR if strict else WARNING)
                elif isinstance(e.data.get("forge"), dict):
                    _check_forge(ctx, r, e)
                else:
                    _check_signature(ctx, r, e, by_commit.get(e.commit, set()))
            _check_chain(ctx, r, entries)
            for e in entries:
                if any(sev == ERROR for _, _, sev in e.problems):
                    e.verified = False
                pointer = f"/approvals/{e.index}"
                line = dataset.line(r, pointer) if e.problems else 0
                for code, message, sev in e.problems:
                    problems.append(Problem(r.path, line, pointer, code, message, sev))
            end = registry.funding_level(str(r.data.get("unit")), (r.data.get("aid") or {}).get("funding_unit"), ctx.units)
            st = status.derive_one(r.data, entries, end)
            if (r.data.get("aid") or {}).get("paid_on"):
                paid, found = _check_payment(ctx, r, st)
                if found:  # the line is looked up only for a problem: it parses the file again
                    line = dataset.line(r, "/aid/paid_on")
                    problems += [Problem(r.path, line, "/aid/paid_on", code, message, sev) for code, message, sev in found]
                if paid:
                    st = status.derive_one(r.data, entries, end, paid=True)
            statuses[r.rel] = st
        if history is not None and root.mode == anchor.PINNED:  # under a TEST root anyone can sign anything
            problems += _removed(ctx, data_dir, dataset)
        problems += _check_continuing(ctx, dataset, statuses)
    finally:
        ctx.signers.gpg.close()
    if memo is not None:
        memo.save(ctx.signers.ssh)
    statuses.verified = root.mode != anchor.NONE and walk.ok
    if not statuses.verified:  # nothing counts: every status is the unverified "filed"
        for rel in statuses:
            statuses[rel] = status.Status(status.FILED)
    return statuses, sorted(set(problems))


def _check_continuing(ctx: Context, dataset, statuses) -> list[Problem]:
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


def _trust_with_approvals(ctx: Context, walk, reg_record) -> list[Problem]:
    """A commit that changes trust data must change nothing else under applications/ or graduates/."""
    out = []
    h = ctx.history
    for c in sorted(walk.changes):
        if h.touches(c, ("applications/", "graduates/")):
            out.append(Problem(reg_record.path if reg_record else REGISTRY_REL, 1, "", "registry-with-approval",
                               f"提交 {c[:10]} 同时修改了信任数据和申请；信任数据的修改须单独提交"))
    return out


_APPROVALS_KEY = re.compile(rb"(?m)^approvals:")


def _approvals_line(dataset, r) -> int:
    """The line of a record's approvals key: read off the text when the key is there exactly once
    at column 0 (as every canonical file has it), else from the parsed file (dataset.line)."""
    try:
        raw = (dataset.root / r.rel).read_bytes()
    except OSError:
        raw = b""
    hits = _APPROVALS_KEY.findall(raw, 0, len(raw)) if not raw.lstrip().startswith((b"{", b"---")) else []
    if len(hits) == 1:
        return raw.count(b"\n", 0, _APPROVALS_KEY.search(raw).start()) + 1
    return dataset.line(r, "/approvals")


LOCATE_BATCH = 2000  # records whose old versions are read together: bounds the bytes held at once


def git_blob_id(text: bytes) -> str:
    """The id git gives a blob with these bytes (SHA-1 of its header and content)."""
    return hashlib.sha1(b"blob %d\0" % len(text) + text).hexdigest()


def _locate(ctx: Context, data_dir: Path, apps) -> dict[str, list[Entry]]:
    """For every entry of every record, the first commit (oldest first) whose version of the file
    holds it; and the record's digest at that commit, when the content then differed from now.

    Records are taken LOCATE_BATCH at a time and no version's bytes are kept: what later checks
    need of a version (its entries' keys, its payout) is kept instead (ctx.keys_of, ctx.paid_of).
    A version whose blob id is that of the file as it is now is not read from git at all."""
    h = ctx.history
    out = {}
    for start in range(0, len(apps), LOCATE_BATCH):
        batch = apps[start:start + LOCATE_BATCH]
        current_text = {r.rel: (data_dir / r.rel).read_bytes() for r in batch}
        now_blob = {rel: git_blob_id(text) for rel, text in current_text.items()}
        wanted = set()
        if h is not None:
            for r in batch:
                wanted.update(b for _, b in h.changes.get(r.rel, []) if b and b != now_blob[r.rel])
        blobs = h.read(sorted(wanted)) if wanted else {}
        for r in batch:
            blobs[now_blob[r.rel]] = current_text[r.rel]
        for b, raw in blobs.items():
            if b not in ctx.paid_of:
                ctx.paid_of[b] = payment_key(raw)
        for r in batch:
            out[r.rel] = _locate_one(ctx, r, current_text[r.rel], blobs)
    return out


def _locate_one(ctx: Context, r, text: bytes, blobs: dict) -> list[Entry]:
    h = ctx.history
    listed = r.data.get("approvals")
    approvals = [e for e in listed if isinstance(e, dict)] if isinstance(listed, list) else []
    versions = [(c, b) for c, b in (h.changes.get(r.rel, []) if h is not None else []) if b and b in blobs]
    paid = payment_key(text) if (r.data.get("aid") or {}).get("paid_on") else None
    if paid:
        ctx.payment_commits[r.rel] = next((c for c, b in versions if ctx.paid_of[b] == paid), None)
    entries = None
    for parse in (False, True):
        prefix_now, keys_now = split_approvals(text, parse)
        if len(keys_now) != len(approvals):
            continue
        entries = [Entry(i, e, keys_now[i]) for i, e in enumerate(approvals)]
        split = [(c, b, prefix_now, keys_now) if blobs[b] is text else (c, b, *split_approvals(blobs[b], parse))
                 for c, b in versions]
        if not parse:
            ctx.keys_of.update((b, keys) for _, b, _, keys in split)
        for e in entries:
            for commit, blob, prefix_then, keys_then in split:
                if e.key in keys_then:
                    e.commit = commit
                    if prefix_then != prefix_now:
                        e.data = dict(e.data, _digest_at_commit=_digest_of_blob(blobs[blob], r))
                    break
        if all(e.commit for e in entries) or parse:
            break
    return entries if entries is not None else [Entry(i, e, "") for i, e in enumerate(approvals)]


_PAID_LINE = re.compile(rb'(?m)^  (paid_on|paid_by):[ \t]*["\']?([^"\'\n#]*?)["\']?[ \t]*$')


def payment_key(text: bytes) -> str | None:
    """The payout a version of a file records (its date and who recorded it), read off the text."""
    if b"paid_on" not in text:
        return None
    found = dict((k.decode(), v.decode(errors="replace")) for k, v in _PAID_LINE.findall(text))
    return f"{found['paid_on']}|{found.get('paid_by', '')}" if found.get("paid_on") else None


def payment_payload(record_id: str, aid: dict, content_digest: str) -> bytes:
    """What a payout's detached signature signs: the record, the payout date, who recorded it, and
    the digest of the record's content (amount and funding union included)."""
    fields = {"record": record_id, "paid_on": str(aid.get("paid_on", "")), "paid_by": str(aid.get("paid_by", "")),
              "digest": content_digest}
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def _check_payment(ctx: Context, record, st: status.Status) -> tuple[bool, list]:
    """A payout counts only as a signed act of a reviewer of the funding union, after the chain
    reached the funding union verified: (verified, [(code, message, severity)])."""
    aid = record.data.get("aid") or {}
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
    commit = ctx.payment_commits.get(record.rel)
    c = ctx.commits.get(commit) if commit else None
    if c is None:
        return False, [("payment-uncommitted", "发放登记尚未提交（git commit），无法核验；这次发放不计入统计", sev)]
    if aid.get("paid_signature"):
        payload = payment_payload(str(record.data.get("id", "")), aid, ctx.current.get(record.rel) or digest.of(record.data))
        key, fpr, reason = ctx.signers.check(str(aid["paid_signature"]).encode(), payload, NAMESPACE_PAYMENT)
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
    day = registry.day_of(ctx.history.effective_time(c.oid))
    why = key.invalid_on(day)
    revoked = ctx.walk.revoked_before(ctx.history, fpr, c.oid) if ctx.walk is not None else None
    if why or revoked:
        told = f"在 {day} {why}" if why else f"已在提交 {revoked[:10]} 中吊销"
        return False, [("payment-key-invalid", f"{where}所用的密钥 {key.fingerprint} {told}；这次发放不计入统计", ERROR)]
    return True, []


def _version_keys(ctx: Context, blob: str | None, parse: bool = False) -> set[str]:
    """The identity keys of the approval entries and the payout a version of a file holds."""
    if blob is None:
        return set()
    if not parse and blob in ctx.keys_of and blob in ctx.paid_of:  # known from _locate: no need to read it
        keys, paid = set(ctx.keys_of[blob]), ctx.paid_of[blob]
        return keys | ({"payout:" + paid} if paid else set())
    raw = _blob(ctx, blob)
    keys = set(split_approvals(raw, parse)[1])
    if not parse:
        ctx.keys_of[blob] = list(keys)
    paid = ctx.paid_of[blob] = payment_key(raw)
    return keys | ({"payout:" + paid} if paid else set())


def _blob(ctx: Context, blob: str) -> bytes:
    """An old version's bytes, read from git when first wanted (only for the few files whose
    entries changed; _locate keeps none)."""
    raw = ctx.blobs.get(blob)
    if raw is None:
        ctx.blobs.update(ctx.history.read([blob]))
        raw = ctx.blobs.get(blob, b"")
    return raw


def _parsed_version(ctx: Context, blob: str, rel: str):
    """(the file's tree as read, its typed data) of an old version, or None."""
    from ..records import layout

    try:
        tree, _ = yamlstrict.load(_blob(ctx, blob), rel)
        data, _ = yamlstrict.coerce(tree, layout.schema("application"), rel, lambda p: 1)
        return (tree, data) if isinstance(tree, dict) and isinstance(data, dict) else None
    except Exception:  # an unreadable old version proves nothing
        return None


def _removed(ctx: Context, data_dir: Path, dataset) -> list[Problem]:
    """Entries are append-only: an approval entry (or payout) that was signed by its own reviewer
    and later disappears is an error unless each commit that removed it is signed by an
    administrator or by that reviewer (withdrawing it)."""
    h = ctx.history
    out: list[Problem] = []
    unknown = sorted({b for rel, versions in h.changes.items() if rel.startswith("applications/") and len(versions) >= 2
                      for _, b in versions if b and not (b in ctx.keys_of and b in ctx.paid_of)})
    for start in range(0, len(unknown), LOCATE_BATCH):  # what _locate did not see (deleted files, say), in batches
        for b, raw in h.read(unknown[start:start + LOCATE_BATCH]).items():
            ctx.keys_of[b], ctx.paid_of[b] = split_approvals(raw)[1], payment_key(raw)
    for rel, versions in h.changes.items():
        if not rel.startswith("applications/") or len(versions) < 2:
            continue
        path = data_dir / rel
        now_raw = path.read_bytes() if path.is_file() else b""
        now = set(split_approvals(now_raw)[1]) | ({"payout:" + payment_key(now_raw)} if payment_key(now_raw) else set())
        gone = set().union(*(_version_keys(ctx, b) for _, b in versions)) - now
        if not gone:
            continue
        # by their values, so that reformatting an entry is not taken for removing it
        now_parsed = set(split_approvals(now_raw, True)[1]) | {k for k in now if k.startswith("payout:")}
        found = _signed_removed_entries(ctx, rel, versions, now_parsed)
        if not found:
            continue
        removals = _removing_commits(ctx, rel)
        shown = dataset.display_root.rstrip("/") + "/" + rel
        line = 1
        if path.is_file():
            line = now_raw[:max(0, now_raw.find(b"\napprovals:") + 1)].count(b"\n") + 1
        for key, (what, entitled) in sorted(found.items()):
            by = [c for c, old, new in removals if key in _version_keys(ctx, old, True) and key not in _version_keys(ctx, new, True)]
            if not by:
                out.append(Problem(shown, line, "/approvals", "approval-removed",
                                   f"{what}曾经签名有效，现在工作区里被删掉了（尚未提交）；审批记录只能追加，不能删除"))
                continue
            for c in by:
                commit = ctx.commits.get(c) or h.commits([c]).get(c)
                key_, fpr, reason = ctx.signers.commit(commit) if commit is not None else (None, None, "unsigned")
                ok = key_ is not None and (ctx.reg.is_admin(key_.reviewer) or key_.reviewer == entitled) \
                    and not key_.invalid_on(registry.day_of(h.effective_time(c))) \
                    and not (ctx.walk is not None and ctx.walk.revoked_before(h, fpr, c))
                if not ok:
                    signer = f"由 {key_.reviewer} 签名" if key_ is not None else "没有有效签名"
                    out.append(Problem(shown, line, "/approvals", "approval-removed",
                                       f"{what}曾经签名有效，被提交 {c[:10]} 删除，而这次提交{signer}，不是管理员或 {entitled} 本人；"
                                       "审批记录只能追加，不能删除（内容改动后请在末尾追加新的审批，见 docs/review.md）"))
    return out


_DECISIONS = {"approve": "同意", "reject": "不同意"}


def _signed_removed_entries(ctx: Context, rel: str, versions, now_parsed: set[str]) -> dict[str, tuple[str, str]]:
    """{parsed identity key: (what it was, who may withdraw it)} of the entries and payouts once in
    the file, not in it now, that were signed by the reviewer they name."""
    h = ctx.history
    found: dict[str, tuple[str, str]] = {}
    seen: set[str] = set()
    for commit, blob in versions:
        if blob is None:
            continue
        keys = _version_keys(ctx, blob, True) - now_parsed - seen
        if not keys:
            continue
        seen |= keys
        parsed = _parsed_version(ctx, blob, rel)
        if parsed is None:
            continue
        tree, data = parsed
        record_id = str(data.get("id", ""))
        c = ctx.commits.get(commit) or h.commits([commit]).get(commit)
        listed = tree.get("approvals")
        for e in listed if isinstance(listed, list) else []:
            if not isinstance(e, dict) or _entry_key(e) not in keys:
                continue
            rid = str(e.get("reviewer", ""))
            if e.get("signature"):
                key, _, _ = ctx.signers.check(str(e["signature"]).encode(), entry_payload(record_id, e), NAMESPACE_ENTRY)
            else:
                key, _, _ = ctx.signers.commit(c) if c is not None else (None, None, None)
            if key is not None and key.reviewer == rid:
                found[_entry_key(e)] = (f"第 {e.get('level')} 级审批（{rid}，{_DECISIONS.get(e.get('decision'), e.get('decision'))}，"
                                        f"{e.get('date')}）", rid)
        aid = data.get("aid") or {}
        paid = payment_key(_blob(ctx, blob))
        if paid and "payout:" + paid in keys:
            by = str(aid.get("paid_by") or "")
            if aid.get("paid_signature"):
                key, _, _ = ctx.signers.check(str(aid["paid_signature"]).encode(), payment_payload(record_id, aid, digest.of(data)),
                                              NAMESPACE_PAYMENT)
            else:
                key, _, _ = ctx.signers.commit(c) if c is not None else (None, None, None)
            if key is not None and key.reviewer == by:
                found["payout:" + paid] = (f"发放登记（{aid.get('paid_on')}，{by}）", by)
    return found


def _removing_commits(ctx: Context, rel: str) -> list[tuple[str, str | None, str | None]]:
    """(commit, the file's blob in a parent, its blob in the commit) for every commit, merges
    included (against each parent), that changed the file."""
    h = ctx.history
    spec = f"{h.prefix}/{rel}" if h.prefix else rel
    raw = gitlog.git(h.repo, "log", "--full-history", "-m", "--no-renames", "--raw", "--no-abbrev", "--format=%x01%H", "-z",
                     h.head, "--", spec)
    out, cur = [], None
    fields = raw.split(b"\0")
    for i, f in enumerate(fields):
        f = f.lstrip(b"\n")
        if f.startswith(b"\x01"):
            cur = f[1:].strip().decode()
        elif f.startswith(b":") and cur:
            meta = f.split(b" ")
            old, new = meta[2].decode(), meta[3].decode()
            zero = "0" * len(old)
            out.append((cur, None if old == zero else old, None if new == zero else new))
    return out


def _digest_of_blob(raw: bytes, record) -> str | None:
    from ..records import layout

    try:
        tree, _ = yamlstrict.load(raw, record.path)
        data, _ = yamlstrict.coerce(tree, layout.schema(record.kind), record.path, lambda p: 1)
        return digest.of(data)
    except Exception:
        return None


def forge_checker_from_env(env) -> object:
    return forge.checker_from_env(env)
