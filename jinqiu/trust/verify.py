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
import os
from pathlib import Path

from . import anchor, carry, chain, forge, gitlog, registry, signatures, status, versions, when
from .entries import Context, Entry, approvals_line, entry_payload, payload_of, payment_payload, record_digest
from .signatures import NAMESPACE_ENTRY, NAMESPACE_PAYMENT, SignatureMemo
from .. import parallel
from ..check import cache, rounds
from ..check import validate as validate_stage
from ..problems import ERROR, WARNING, Problem

__all__ = ["NAMESPACE_ENTRY", "NAMESPACE_PAYMENT", "Statuses", "entry_payload", "payment_payload", "run"]


CACHE_VERSION = "verify-5"  # 5: rounds, withdrawals, trusted days


VERIFY_CACHE = "verify"


def _cache_key(repo: Path, prefix: str, head: str, roots: set[str], display_root: str, rels) -> str | None:
    """What a verify result depends on: the commit (whose id is a digest of the whole history and
    tree), a clean work tree under the data directory (no change, no untracked or ignored file),
    the root of trust, the code and schemas, and which records were checked. None: do not cache."""
    dirty = gitlog.git(repo, "status", "--porcelain", "-z", "--untracked-files=all", "--ignored=matching", "--", prefix or ".")
    if dirty:
        return None  # uncommitted changes: check everything again
    h = hashlib.sha256()
    for part in (CACHE_VERSION, head, prefix, ",".join(sorted(roots)), anchor.run_context(repo), display_root, cache.code_version(),
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
                [[p.level, texts.setdefault(p.proof, len(texts)), texts.setdefault(p.commit, len(texts)), p.index,
                  texts.setdefault(p.day, len(texts))] for p in st.proofs],
                st.round, texts.setdefault(st.filed_day, len(texts)), texts.setdefault(st.paid_day, len(texts))]

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

        proof = status.Proof

        def from_row(row):
            state, level, complete, verified, proofs, rnd, filed, paid = row
            if (type(state) is not str or type(level) is not int or type(complete) is not bool or type(verified) is not bool
                    or type(rnd) is not int):
                raise ValueError("not a status row")
            return make(state, level, complete, verified,
                        tuple(proof(lv, texts[p], texts[c], i, texts[d]) for lv, p, c, i, d in proofs) if proofs else (),
                        rnd, texts[filed], texts[paid])

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

    The cache (JSON in the git directory, HMAC-bound, see jinqiu.check.cache) is used by default when no
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


def statuses_of(data_dir: Path, dataset, forge_checker=None, root_keys=None):
    """({rel: Status}, [Problem]) of a dataset that holds some records only, reading the history of
    their files and of the trust data only. The statuses are the full run's for every record whose
    continued records (back to the first year) and the holders of the foreign digests its approvals
    carry are in the dataset too (approve.load_units gathers them); the problems are of those files."""
    data_dir = Path(data_dir)
    repo = gitlog.toplevel(data_dir)
    paths = [*anchor.TRUST_FILES, anchor.TRUST_DIR, *sorted(r.rel for r in dataset.records)]
    memo = SignatureMemo(data_dir) if repo is not None else None
    return _verify(repo, data_dir, dataset, root_keys, forge_checker, paths=paths, memo=memo)


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
    """The whole proof. The root of trust decides whether the registry may be believed; for each
    application, the history says which commit brought each entry (versions), the signature of that
    commit or entry says who made it (signatures), and the chain rules say whether it counts (chain);
    signed entries may not vanish, a continuing student rests on a verified earlier record. Nothing
    counts unless a root is in force and the trust data at HEAD is an authorised version."""
    session = open_session(repo, data_dir, dataset, root_keys, forge_checker, paths=paths, memo=memo)
    statuses, problems = session.statuses, session.problems
    for r in dataset.applications:
        statuses[r.rel] = status.Status(status.FILED, verified=True)
    if session.ctx is None:
        for r in dataset.applications:
            if needs_proof(r.data):
                problems.append(Problem(r.path, approvals_line(dataset, r), "/approvals", "approval-no-git",
                                        "数据目录不在 git 仓库中，审批无法核验，视为未核验", WARNING))
        return statuses, sorted(problems)
    try:
        current = digests_of(dataset.applications)
        session.ctx.digests = {d: rel for rel, d in current.items()}
        found, proved = prove(session, dataset, list(dataset.applications), current)
        statuses.update(found)
        problems += proved
        records = {r.rel for r in dataset.applications}
        history = session.ctx.history
        gone = [rel for rel in (history.changes if history is not None else {}) if rel.startswith("applications/") and rel not in records]
        problems += finish(session, dataset, statuses, gone)
    finally:
        session.close()
    return statuses, sorted(set(problems))


def needs_proof(data: dict) -> bool:
    """Has the record anything verify proves: an approval entry, or a payout?"""
    return bool(data.get("approvals") or (data.get("aid") or {}).get("paid_on"))


def digests_of(records) -> dict[str, str]:
    """{rel: the record's approval digest as it is now}, computed on every core when there are many."""
    records = list(records)
    return dict(zip((r.rel for r in records), parallel.fork_map(record_digest, records) or map(record_digest, records)))


class Session:
    """What one verify run opens once: the history, the root of trust and the registry it lets us
    read, the signature checker, the clock and the walk of the trust data (Context). Records are then
    proved in batches (prove: the same results whatever the batches, since all a record's proof rests
    on is its own file's history and what the session holds), and the checks over every record run
    last (finish). ctx is None outside git."""

    def __init__(self, repo, data_dir, root, reg, reg_record, statuses, problems, memo):
        self.repo, self.data_dir, self.root, self.reg, self.reg_record = repo, Path(data_dir), root, reg, reg_record
        self.statuses, self.problems, self.memo = statuses, problems, memo
        self.ctx: Context | None = None
        self.walk = anchor.Walk(ok=root.mode != anchor.NONE, admin_history=False)

    @property
    def checks_removals(self) -> bool:
        """Are removed signed entries looked for? (With a pinned root and a history; under a TEST
        root anyone can sign anything.)"""
        return self.ctx is not None and self.ctx.history is not None and self.root.mode == anchor.PINNED

    def close(self) -> None:
        if self.ctx is not None:
            self.ctx.signers.gpg.close()
            if self.memo is not None:
                self.memo.save(self.ctx.signers.ssh)
        self.statuses.verified = self.root.mode != anchor.NONE and self.walk.ok
        if not self.statuses.verified:  # nothing counts: every status is the unverified "filed" (the day filed is the graph's)
            for rel, st in self.statuses.items():
                self.statuses[rel] = status.Status(status.FILED, filed_day=st.filed_day)


def _tags(data_dir):
    """The duplicate tags the city build signed (trust.tagsig), or None (no sealing, or none that count)."""
    from . import tagsig
    from ..records import sealed

    try:
        cfg = sealed.load_config(data_dir)
    except sealed.ConfigError:
        return None  # validate says what is wrong with sealing.yaml
    tags, _ = tagsig.verified(data_dir, str(data_dir), cfg) if cfg is not None else (None, [])
    return tags if tags is not None and tags.years else None


def open_session(repo, data_dir, dataset, root_keys, forge_checker, paths=None, memo=None) -> Session:
    """The history (of paths only, when given), the root of trust, the registry (from
    dataset.reviewers) and the walk of the trust data; their problems are in session.problems.
    dataset needs to hold only the small files (units, reviewers, campaigns)."""
    statuses, problems = Statuses(), []
    history = gitlog.load(repo, _prefix(repo, data_dir), paths) if repo is not None else None
    root, reg, reg_record = _root_and_registry(repo, data_dir, dataset, root_keys, statuses, problems, history)
    session = Session(repo, data_dir, root, reg, reg_record, statuses, problems, memo)
    if repo is None:
        return session
    signers = signatures.Signers(reg, memo.load() if memo is not None else None)
    ctx = Context(dataset, reg, history, signers, root.mode != anchor.NONE, dataset.units, {}, forge_checker, current={},
                  clock=when.Clock(history, getattr(forge_checker, "merged_at", None)))
    try:
        if history is not None and root.mode == anchor.PINNED:
            session.walk = _walk_trust_data(ctx, data_dir, dataset, root, reg_record, problems)
        elif history is None and root.mode == anchor.PINNED:
            session.walk.ok = False
    except BaseException:
        signers.gpg.close()
        raise
    ctx.walk, ctx.registry_commits = session.walk, session.walk.changes
    ctx.tags = _tags(data_dir)
    if root.mode != anchor.NONE:  # approvals carried over from a clear repository: only through the admin-signed map
        ctx.carry, found = carry.load(data_dir, root.keys, dataset.display_root)
        problems += found
    session.ctx = ctx
    return session


def prove(session: Session, dataset, records, current: dict[str, str]) -> tuple[dict, list]:
    """({rel: Status}, [Problem]) of these applications, whose current digests are given:
    session.ctx.digests must map the current digest of every record of the tree (an approval copied
    from another record is told by it). Their signed entries removed without authority are found
    first (they stay in force). dataset: any Dataset over the same data directory (its line() finds
    the line of a problem)."""
    ctx = session.ctx
    ctx.current.update(current)
    apps = [r for r in records if needs_proof(r.data)]
    per_record = versions.locate(ctx, session.data_dir, apps)
    _prefetch_signatures(ctx, apps, per_record)
    problems = []
    if session.checks_removals:  # under a TEST root anyone can sign anything
        problems += versions.removed(ctx, session.data_dir, dataset, rels=[r.rel for r in records])
        wanted = {e.commit for r in records for e in ctx.kept.get(r.rel, [])} | \
            {ctx.kept_payout[r.rel][1] for r in records if r.rel in ctx.kept_payout}
        ctx.commits.update(ctx.history.commits(c for c in wanted if c and c not in ctx.commits))
    found = {}
    for r in records:
        if r.rel in per_record or r.rel in ctx.kept or r.rel in ctx.kept_payout:
            found[r.rel] = _prove(ctx, dataset, r, per_record.get(r.rel, []), problems)
        elif ctx.clock is not None:
            carried = carry.carried_for(ctx.carry, r.data)  # filed in a clear repository: the day its history proved
            found[r.rel] = status.Status(status.FILED, verified=True,
                                         filed_day=(carried.filed if carried is not None and carried.filed else ctx.clock.first_day(r.rel)))
        else:
            found[r.rel] = status.Status(status.FILED, verified=True)
    return found, problems


def finish(session: Session, dataset, statuses, gone=()) -> list:
    """The checks over every record, once every record is proved: signed entries removed from the
    files gone (of the history, not records), and a continuing record resting on a verified earlier
    one (statuses are changed in place). dataset: the applications (their year, form, id and
    continues suffice)."""
    problems = []
    if session.checks_removals and gone:
        problems += versions.removed(session.ctx, session.data_dir, dataset, rels=list(gone))
    problems += chain.check_continuing(session.ctx, dataset, statuses)
    return problems


def _root_and_registry(repo, data_dir, dataset, root_keys, statuses, problems, history=None):
    """The root of trust in force and the registry it lets us read: (root, registry, its record);
    their problems appended to problems, the root's mode recorded on statuses. The data's own TEST
    root counts only in a repository that has only ever been TEST (anchor.test_root_refusal)."""
    reg_record = _registry_record(dataset)
    root = anchor.resolve(repo, data_dir, root_keys, dataset.reviewers)
    root_path = f"{dataset.display_root}/{registry.ROOT_FILE}"
    if root.from_data and history is not None:
        reason = anchor.test_root_refusal(history, repo)
        if reason:
            root = anchor.Root(frozenset(), "", anchor.NONE, [*root.problems, ("root-test-refused", anchor.test_root_refused(reason), ERROR)])
    statuses.trust, statuses.root_source = root.mode, root.source
    for code, message, sev in root.problems:
        problems.append(Problem(root_path, 1, "", code, message, sev))
    reg = registry.build(dataset.reviewers, refuse_test_keys=root.mode == anchor.PINNED)
    for rid, i, message in reg.problems:
        if reg_record:
            idx = next((n for n, r in enumerate(reg_record.data.get("reviewers", [])) if r.get("id") == rid), 0)
            problems.append(Problem(reg_record.path, dataset.line(reg_record, f"/reviewers/{idx}/keys/{i}"), "", "registry-key", message))
    if root.mode == anchor.NONE:
        problems.append(Problem(reg_record.path if reg_record else root_path, 1, "", "registry-no-root",
                                "没有固定的信任根（git config jinqiu.rootKey、--root-key 或平台变量 JINQIU_ROOT_KEY，见 docs/trust.md），"
                                "审核人登记无从核验：任何审批都不计为已核验", WARNING))
    elif root.mode == anchor.TEST:
        problems.append(Problem(root_path, 1, "", "root-test",
                                "信任根是示例数据的测试密钥（TEST KEYS）：私钥任何人都能由公开的种子算出，核验结果只作演示，"
                                "不证明任何真实的审批；信任数据的修改记录和审批的删除记录不核验", WARNING))
    return root, reg, reg_record


def _walk_trust_data(ctx: Context, data_dir, dataset, root, reg_record, problems) -> anchor.Walk:
    """Every change of the trust data since the root, signed by whom the data then in force entitled
    (anchor.walk); a commit that changes trust data may change no application."""
    def check(c):
        _, fpr, reason = ctx.signers.check(c.signature, c.payload)
        return fpr, reason

    walk = anchor.walk(ctx.history, data_dir, dataset.display_root, root, check)
    problems += walk.problems
    problems += chain.trust_with_approvals(ctx, walk, reg_record)
    return walk


def _prefetch_signatures(ctx: Context, apps, per_record) -> None:
    """The commits that brought entries and payouts, and every signature to check, all read and
    checked ahead (on every core when there are many)."""
    if ctx.history is not None:
        ctx.commits = ctx.history.commits({e.commit for entries in per_record.values() for e in entries if e.commit}
                                          | {c for c in ctx.payment_commits.values() if c})
    ctx.signers.prefetch([(str(e.data["signature"]).encode(), payload_of(r, e), signatures.NAMESPACE_ENTRY)
                          for r in apps for e in per_record[r.rel]
                          if e.commit and e.data.get("signature") and not isinstance(e.data.get("forge"), dict)]
                         + [(str(aid["paid_signature"]).encode(), payment_payload(str(r.data.get("id", "")), aid, ctx.current[r.rel]),
                             signatures.NAMESPACE_PAYMENT)
                            for r in apps for aid in [r.data.get("aid") or {}] if aid.get("paid_on") and aid.get("paid_signature")]
                         + [(c.signature, c.payload, signatures.NAMESPACE_GIT) for c in ctx.commits.values() if c.signature])


def _prove(ctx: Context, dataset, r, entries: list[Entry], problems: list) -> status.Status:
    """One application: each entry's signature or forge review, then the rounds; the status its
    verified entries (and a verified payout) give, with the day each counted fact entered the
    branch. Entries removed without authority (ctx.kept) are proved and counted like the others.
    Problems are appended with the entry's line."""
    strict, history = ctx.strict, ctx.history
    entries = entries + ctx.kept.get(r.rel, [])
    carried = carry.carried_for(ctx.carry, r.data)
    by_commit: dict[str, set] = {}
    for e in entries:
        by_commit.setdefault(e.commit, set()).add(str(e.data.get("reviewer")))
    for e in entries:
        if e.commit is None:
            e.add("approval-uncommitted", "审批尚未提交（git commit），无法核验" if history else
                  "仓库还没有任何提交，审批无法核验", ERROR if strict else WARNING)
        elif isinstance(e.data.get("forge"), dict):
            signatures.check_forge(ctx, r, e)
        else:
            signatures.check_signature(ctx, r, e, by_commit.get(e.commit, set()))
    ordered, walked = chain.check_chain(ctx, r, entries)
    for e in entries:
        if any(sev == ERROR for _, _, sev in e.problems):
            e.verified = False
        e.day = ctx.clock.day(e.commit) if ctx.clock is not None else ""
        if carried is not None:  # made in the clear repository: the day its history proved (the signed map)
            e.day = carried.days.get(rounds.ref(e.data)) or e.day
        pointer = f"/approvals/{e.index}" if e.removed_by is None else "/approvals"
        line = (dataset.line(r, pointer) if e.removed_by is None else approvals_line(dataset, r)) if e.problems else 0
        for code, message, sev in e.problems:
            problems.append(Problem(r.path, line, pointer, code, message, sev))
    end = registry.funding_level(str(r.data.get("unit")), (r.data.get("aid") or {}).get("funding_unit"), ctx.units)
    current = ctx.current.get(r.rel) or record_digest(r)
    filed_day = ctx.clock.first_day(r.rel) if ctx.clock is not None else ""
    if carried is not None and carried.filed:
        filed_day = carried.filed
    st = status.derive(ordered, walked, current, end, filed_day=filed_day)
    kept = ctx.kept_payout.get(r.rel)
    if (r.data.get("aid") or {}).get("paid_on") or kept:
        paid, found = chain.check_payment(ctx, r, st, kept)
        if found:  # the line is looked up only for a problem: it parses the file again
            line = dataset.line(r, "/aid/paid_on") if not kept else approvals_line(dataset, r)
            problems += [Problem(r.path, line, "/aid/paid_on", code, message, sev) for code, message, sev in found]
        if paid:
            commit = kept[1] if kept else ctx.payment_commits.get(r.rel)
            st = status.derive(ordered, walked, current, end, paid=True, filed_day=filed_day,
                               paid_day=(carried.paid_day if carried is not None and carried.paid_day and current == carried.v2
                                         else ctx.clock.day(commit) if ctx.clock is not None else ""))
    return st


def forge_checker_from_env(env) -> object:
    return forge.checker_from_env(env)
