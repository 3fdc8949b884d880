"""Trust data and the root of trust: who may change what decides who may approve what.

Trust data is every file that decides who may approve what and for how much: the reviewer registry
(reviewers.yaml), the union tree (units.yaml), the campaign files (campaigns/*.yaml: amounts,
deadlines, the 公示 window) and the root file (root-of-trust.txt). Invariant: the trust data in
force is the result of changes each signed by an administrator entitled to make it, judged by the
commit graph alone:

- the first version is signed by a root-of-trust key; every later change (a commit whose trust data
  differs from a parent's, merge commits included) by a root key or by an administrator of the
  registry as it stood in that parent, with a key valid then and not revoked earlier in the graph;
- a merge may take one side's trust data unsigned only when that side's data already includes
  the other side's (nothing authorised is rolled back or dropped);
- an unsigned or unentitled change does not take effect; while the data at HEAD (or in the work
  tree) is not an authorised version, nothing counts as verified.

The root is pinned outside the data a pull request can change (`--root-key`, the environment
variable JINQIU_ROOT_KEY that the workflows set from a forge variable, git config jinqiu.rootKey).
ROOT_FILE in the data directory states the root; on its own it pins only a TEST root (every key in
it derivable from a published TEST seed: the sample data's), under which results are a
demonstration and the history of the trust data is not checked (anyone can sign with those keys).

No commit can make TEST keys count in a city's repository (test_root_refusal): the TEST root in the
data is honoured only in a repository that has only ever been TEST, i.e. whose full history (not a
shallow clone) never held, in any version of ROOT_FILE or of the registry, a key that is not
derivable from the published seeds. A city's first commit (init-city) names its real root and keys,
and no later commit can take that version out of the history; the project's own sample has only
ever had TEST keys. In a workflow run (CI) a root pinned outside the data is required: with none,
or with only the data's TEST root, verify reports an error, so the run fails instead of publishing
a site where nothing is verified.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from ..records import yamlstrict
from . import gitlog, registry, testkeys
from ..problems import ERROR, WARNING, Problem

ROOT_FILE = registry.ROOT_FILE
TRUST_FILES = ("reviewers.yaml", "units.yaml", ROOT_FILE)
TRUST_DIR = "campaigns/"
TRUST_SPEC = [*TRUST_FILES, TRUST_DIR]
ENV_ROOT = "JINQIU_ROOT_KEY"
ROOT_CONFIG = "jinqiu.rootKey"  # git config: the root pinned in a clone

PINNED, TEST, NONE = "pinned", "test", "none"
CI_VARIABLES = ("CI", "GITHUB_ACTIONS", "GITEA_ACTIONS", "FORGEJO_ACTIONS")
TRUST_LABELS = {"reviewers.yaml": "审核人登记", "units.yaml": "工会名录", ROOT_FILE: "信任根文件"}
_FINGERPRINT = re.compile(r"^(SHA256:[A-Za-z0-9+/]{43}|[0-9A-Fa-f]{40})$")


def is_trust(rel: str) -> bool:
    return rel in TRUST_FILES or (rel.startswith(TRUST_DIR) and rel.endswith((".yaml", ".yml")))


def label(rel: str) -> str:
    return TRUST_LABELS.get(rel, "活动文件" if rel.startswith(TRUST_DIR) else "信任数据") + f" {rel}"


@dataclass
class Root:
    keys: frozenset
    source: str  # where it came from, for messages
    mode: str  # PINNED, TEST or NONE
    problems: list = field(default_factory=list)  # (code, message, severity), said on ROOT_FILE
    from_data: bool = False  # a TEST root taken from ROOT_FILE alone (nothing pinned)


def in_ci(env) -> bool:
    """A workflow run: CI, GITHUB_ACTIONS, GITEA_ACTIONS or FORGEJO_ACTIONS set to a true value."""
    return any(str(env.get(name, "")).strip().lower() not in ("", "0", "false", "no") for name in CI_VARIABLES)


CI_NO_ROOT = ("在工作流（CI）中运行，却没有在仓库之外固定信任根：请在平台的仓库变量中设置 JINQIU_ROOT_KEY"
              "（市总工会管理员密钥的指纹，见 docs/city.md），否则审批一律不计、网站上什么都没有核验，这次运行不能算通过")


def fingerprints(text: str) -> tuple[set[str], list[int]]:
    """(the fingerprints of a root file, the lines that are not one)."""
    found, bad = set(), []
    for n, line in enumerate(text.splitlines(), 1):
        word = line.split("#", 1)[0].strip()
        if not word:
            continue
        if _FINGERPRINT.match(word.split()[0]):
            fpr = word.split()[0]
            found.add(fpr if fpr.startswith("SHA256:") else fpr.upper())
        else:
            bad.append(n)
    return found, bad


def _split(values) -> set[str]:
    out = set()
    for v in values or []:
        out |= {w for w in re.split(r"[\s,]+", str(v)) if w}
    return out


def _git_config(repo: Path | None) -> set[str]:
    if repo is None:
        return set()
    proc = subprocess.run(["git", "-C", str(repo), "config", "--get-all", ROOT_CONFIG], capture_output=True, text=True)
    return _split(proc.stdout.splitlines())


def pinned_keys(repo: Path | None, given=None, env=None) -> tuple[set[str], str]:
    """The fingerprints pinned outside the data, and where: --root-key, then the environment
    variable JINQIU_ROOT_KEY, then git config jinqiu.rootKey (the first that gives any)."""
    env = os.environ if env is None else env
    for keys, where in ((lambda: _split(given), "--root-key"), (lambda: _split([env.get(ENV_ROOT, "")]), f"环境变量 {ENV_ROOT}"),
                        (lambda: _git_config(repo), "git config jinqiu.rootKey")):
        found = keys()
        if found:
            return found, where
    return set(), ""


def resolve(repo: Path | None, data_dir: Path, given, reviewer_ids, env=None) -> Root:
    """The root of trust in force: pinned (--root-key, JINQIU_ROOT_KEY, git config jinqiu.rootKey),
    else the data's own ROOT_FILE when it is a TEST root, else none."""
    env = os.environ if env is None else env
    test = testkeys.derivable(reviewer_ids)
    path = Path(data_dir) / ROOT_FILE
    in_data: set[str] | None = None
    problems = []
    if path.is_file():
        try:
            in_data, bad = fingerprints(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            in_data, bad = set(), [1]
        for n in bad[:3]:
            problems.append(("root-file-line", f"第 {n} 行不是密钥指纹（应为 SHA256:… 或 40 位 GPG 指纹，# 之后是注释）", ERROR))
    pinned, source = pinned_keys(repo, given, env)
    if pinned:
        if in_data is not None and in_data != pinned:
            problems.append(("root-mismatch", f"{ROOT_FILE} 写的信任根与固定的信任根（{source}）不一致；以固定的为准", ERROR))
        mode = TEST if pinned <= set(test) else PINNED
        return Root(frozenset(pinned), source, mode, problems)
    if in_ci(env):
        problems.append(("root-not-pinned-ci", CI_NO_ROOT, ERROR))
        return Root(frozenset(), "", NONE, problems)
    if in_data:
        if in_data <= set(test):
            return Root(frozenset(in_data), f"{ROOT_FILE}（示例数据的测试信任根）", TEST, problems, from_data=True)
        problems.append(("root-not-pinned", f"{ROOT_FILE} 在数据目录里，任何能提交的人都能改动它，单凭它不能作为信任根；"
                         "请在仓库之外固定信任根（git config jinqiu.rootKey、--root-key 或平台变量 JINQIU_ROOT_KEY），"
                         "见 docs/trust.md", WARNING))
    return Root(frozenset(), "", NONE, problems)


def run_context(repo: Path | None, env=None) -> str:
    """What a cached result depends on beyond the history and the pinned root: whether this is a
    workflow run (no pinned root is then an error) and whether the clone is shallow."""
    env = os.environ if env is None else env
    shallow = b""
    if repo is not None:
        try:
            shallow = gitlog.git(repo, "rev-parse", "--is-shallow-repository").strip()
        except gitlog.GitError:
            shallow = b"?"
    return f"ci={in_ci(env)} shallow={shallow.decode()}"


def _keys_of_root_file(raw: bytes) -> set[str]:
    try:
        return fingerprints(raw.decode("utf-8"))[0]
    except UnicodeDecodeError:
        return {"?"}  # unreadable: not a TEST root


def _registry_keys(raw: bytes) -> tuple[set[str], dict[str, str]] | None:
    """(reviewer ids, {fingerprint: reviewer id}) of one version of the registry, TEST-commented and
    unreadable keys left out (no one's real key); None when the version is unreadable."""
    try:
        tree, _ = yamlstrict.load(raw, "reviewers.yaml")
    except Exception:  # an unreadable version proves nothing either way
        return None
    ids, keys = set(), {}
    for r in (tree or {}).get("reviewers") or [] if isinstance(tree, dict) else []:
        if not isinstance(r, dict):
            continue
        rid = str(r.get("id", ""))
        ids.add(rid)
        for k in r.get("keys") or []:
            if not isinstance(k, dict):
                continue
            if k.get("type") == "ssh" and testkeys.is_test_comment(str(k.get("public_key", ""))):
                continue  # a TEST key by its comment: never a city's key (the registry refuses them under a real root)
            try:
                fpr = registry.ssh_fingerprint(str(k.get("public_key", ""))) if k.get("type") == "ssh" else f"gpg:{k.get('fingerprint')}"
            except Exception:  # noqa: BLE001 - a key nobody can sign with (a placeholder) is no one's
                continue
            keys[fpr] = rid
    return ids, keys


def test_root_refusal(h: gitlog.History, repo: Path) -> str | None:
    """Why the data's own TEST root may not be honoured in this repository, or None when it may: it
    may only where the whole history (not a shallow clone) never held, in any version of ROOT_FILE or
    of the registry, a key that is not derivable from the published TEST seeds (a city's history
    always does, from its first commit on; no later commit can take a version out of the history)."""
    try:
        shallow = gitlog.git(repo, "rev-parse", "--is-shallow-repository").strip() == b"true"
    except gitlog.GitError:
        shallow = True
    if shallow:
        return "这是浅克隆（历史不完整），无法确认仓库从未用过真实的信任根；请取完整历史（git fetch --unshallow）或固定信任根"
    versions = {rel: [b for _, b in h.changes.get(rel, [])] for rel in (ROOT_FILE, "reviewers.yaml")}
    blobs = h.read(sorted({b for bs in versions.values() for b in bs if b}))
    ids: set[str] = set()
    registries = []
    for b in versions["reviewers.yaml"]:
        if b and b in blobs:
            found = _registry_keys(blobs[b])
            if found is not None:
                ids |= found[0]
                registries.append(found[1])
    for keys in registries:
        for fpr, rid in keys.items():
            if fpr not in testkeys.derivable([rid]):
                return (f"审核人登记在历史上登记过不是测试密钥的公钥（{rid}）：这是一个城市的正式仓库，"
                        "测试密钥在这里一律不予承认")
    test = set(testkeys.derivable(ids))
    for b in versions[ROOT_FILE]:
        if b and b in blobs and not _keys_of_root_file(blobs[b]) <= test:
            return f"{ROOT_FILE} 在历史上写过不是测试密钥的信任根：这是一个城市的正式仓库，测试密钥在这里一律不予承认"
    return None


def test_root_refused(reason: str) -> str:
    return (f"{ROOT_FILE} 现在写的是示例数据的测试信任根，但{reason}。任何人都能由公开的种子算出测试密钥的私钥，"
            "一次提交不能让它们生效：本次核验不把任何审批计为有效。请在仓库之外固定本市的信任根（git config jinqiu.rootKey、"
            "--root-key 或平台变量 JINQIU_ROOT_KEY，见 docs/trust.md），并查清是谁改动了信任根文件")


def blob_id(raw: bytes) -> str:
    """git's object id of a blob with this content."""
    return hashlib.sha1(b"blob %d\0" % len(raw) + raw).hexdigest()


def work_tree_state(data_dir: Path) -> dict[str, str]:
    """{rel: blob id} of the trust files in the data directory as they are on disk."""
    out = {}
    for rel in TRUST_FILES:
        p = data_dir / rel
        if p.is_file():
            out[rel] = blob_id(p.read_bytes())
    camp = data_dir / TRUST_DIR
    if camp.is_dir():
        for p in camp.iterdir():
            rel = f"{TRUST_DIR}{p.name}"
            if p.is_file() and is_trust(rel):
                out[rel] = blob_id(p.read_bytes())
    return out


@dataclass
class Walk:
    """What the history of the trust data proved."""

    ok: bool  # the trust data at HEAD and in the work tree is an authorised version
    problems: list = field(default_factory=list)
    revocations: dict = field(default_factory=dict)  # key fingerprint -> commits that revoked it
    changes: set = field(default_factory=set)  # commits whose trust data differs from a parent's
    admin_history: bool = True  # the history was checked (not for a TEST root)

    def revoked_before(self, history: gitlog.History, fpr: str | None, commit: str) -> str | None:
        """The commit that revoked this key, when commit is not an ancestor of it (the graph, not a
        typed date, says the signature was made before the revocation)."""
        for r in sorted(self.revocations.get(fpr or "", ())):
            if commit not in history.ancestors(r):
                return r
        return None


def _registry_of(raw: bytes, rel: str, refuse_test: bool):
    from ..records import layout

    tree, _ = yamlstrict.load(raw, rel)
    data, _ = yamlstrict.coerce(tree, layout.schema("reviewers"), rel, lambda p: 1)
    reviewers = {r["id"]: r for r in data.get("reviewers", []) if isinstance(r, dict) and "id" in r}
    return registry.build(reviewers, refuse_test_keys=refuse_test)


def walk(h: gitlog.History, data_dir: Path, display_root: str, root: Root, check_signature) -> Walk:
    """Follow every commit of HEAD's history (parents first) and decide which versions of the trust
    data are authorised. check_signature(commit) -> (fingerprint of a good signature or None, reason)."""
    result = Walk(ok=True)
    own: dict[str, dict] = {}
    for rel, versions in h.changes.items():
        if is_trust(rel):
            for c, b in versions:
                own.setdefault(c, {})[rel] = b
    merged = h.merge_changes(TRUST_SPEC)
    merged = {c: {r: b for r, b in d.items() if is_trust(r)} for c, d in merged.items()}
    refuse_test = root.mode != TEST
    blobs: dict[str, bytes] = {}
    registries: dict = {}

    def reg_of(state) -> registry.Registry | None:
        blob = dict(state).get("reviewers.yaml")
        if blob is None:
            return None
        if blob not in registries:
            if blob not in blobs:
                blobs.update(h.read([blob]))
            try:
                registries[blob] = _registry_of(blobs[blob], "reviewers.yaml", refuse_test)
            except Exception:  # an unreadable registry grants nothing
                registries[blob] = None
        return registries[blob]

    state: dict[str, tuple] = {}
    auth: dict[str, bool] = {}
    origin: dict[str, str | None] = {}  # the commit that made the authorised trust data in force here
    eff: dict[str, tuple] = {}  # the authorised trust data in force here
    empty: tuple = ()
    pending_commits = sorted(set(own) | set(merged))
    commits = h.commits(pending_commits) if pending_commits else {}

    def anc_or_self(a, b) -> bool:
        return a is None or a == b or (b is not None and a in h.ancestors(b))

    for c in h.order:
        ps = h.parents.get(c, [])
        base = state[ps[0]] if ps else empty
        delta = merged.get(c) if len(ps) > 1 else own.get(c)
        if delta:
            d = dict(base)
            d.update(delta)
            st = tuple(sorted((k, v) for k, v in d.items() if v))
            st = base if st == base else st
        else:
            st = base
        state[c] = st
        parents = ps or [None]
        pstate = {p: (state[p] if p else empty) for p in parents}
        changed = [p for p in parents if pstate[p] != st]
        if not changed:
            same = [p for p in ps if auth[p]] or ps
            auth[c] = any(auth[p] for p in ps) if ps else True
            origin[c] = origin[same[0]] if same else None
            eff[c] = eff[same[0]] if same else empty
            continue
        result.changes.add(c)
        keep = [p for p in ps if pstate[p] == st and auth[p]]
        if keep and all(anc_or_self(origin[q], origin[keep[0]]) for q in changed):
            auth[c], origin[c], eff[c] = True, origin[keep[0]], eff[keep[0]]
            continue
        commit = commits.get(c) or h.commits([c]).get(c)
        fpr, reason = check_signature(commit) if commit is not None else (None, "unsigned")
        day = registry.day_of(h.effective_time(c))
        why = None
        if fpr is None:
            why = "没有签名" if reason == "unsigned" else f"签名无效（{reason}）"
        elif fpr not in root.keys:
            for p in changed:
                reg = reg_of(eff[p] if p else empty)
                key = reg.keys.get(fpr) if reg is not None else None
                if key is None or not reg.is_admin(key.reviewer):
                    who = f"审核人 {key.reviewer}" if key else f"密钥 {fpr}"
                    why = (f"由 {who} 签名，不是修改前登记在册的市总工会管理员" if reg is not None and (eff[p] if p else empty)
                           else f"由 {who} 签名；信任数据的第一版须由信任根（{root.source}）中的密钥签名")
                    break
                invalid = key.invalid_on(day)
                revoked = result.revoked_before(h, fpr, c)
                if invalid or revoked:
                    why = (f"所用的管理员密钥 {fpr} 在 {day} {invalid}" if invalid else
                           f"所用的管理员密钥 {fpr} 已在提交 {revoked[:10]} 中吊销，这次提交不在吊销之前")
                    break
        if why is None:
            auth[c], origin[c], eff[c] = True, c, st
            before = reg_of(eff[ps[0]]) if ps else None
            now = reg_of(st)
            if now is not None:
                for k in now.keys.values():
                    old = before.keys.get(k.fingerprint) if before is not None else None
                    if k.revoked_on and not (old is not None and old.revoked_on):
                        result.revocations.setdefault(k.fingerprint, set()).add(c)
            continue
        first = ps[0] if ps else None
        auth[c], origin[c], eff[c] = False, origin.get(first), (eff[first] if first else empty)
        rels = sorted({r for p in changed for r, _ in set(pstate[p]) ^ set(st)})
        what = "、".join(label(r) for r in rels[:3]) + ("等" if len(rels) > 3 else "")
        kind = "合并提交" if len(ps) > 1 else "提交"
        merge_note = "（合并的结果与父提交不同：在合并中改动了信任数据）" if len(ps) > 1 else ""
        result.problems.append((rels[0] if rels else "reviewers.yaml", c, f"{kind} {c[:10]} 修改了{what}{merge_note}，{why}；"
                                "信任数据的每次修改都须由市总工会管理员签名（见 docs/trust.md），这次修改不生效"))
    head_ok = auth.get(h.head, True)
    on_disk = work_tree_state(data_dir)
    at_head = dict(state.get(h.head, empty))
    problems = []
    for rel, c, message in result.problems:
        sev = ERROR if not head_ok else WARNING
        if head_ok:
            message += "；之后已由管理员签名的版本取代"
        problems.append(Problem(f"{display_root}/{rel}", 1, "", "trust-unauthorised", message, sev))
    if on_disk != at_head:
        rels = sorted(set(on_disk.items()) ^ set(at_head.items()))
        rel = rels[0][0]
        problems.append(Problem(f"{display_root}/{rel}", 1, "", "trust-uncommitted",
                                f"{label(rel)} 有尚未提交的改动；信任数据只认管理员签名提交的版本，提交并签名之前不核验任何审批"))
    result.ok = head_ok and on_disk == at_head
    if not head_ok:
        problems.append(Problem(f"{display_root}/reviewers.yaml", 1, "", "trust-not-in-force",
                                "当前的信任数据不是经管理员签名的版本，本次核验不把任何审批计为有效"))
    result.problems = problems
    return result
