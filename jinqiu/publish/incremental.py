"""The build's records, kept between builds: each data file's results keyed by its content, so that a
build after a change recomputes what the change can affect and takes the rest from the last build.

What is kept of each application or graduate file (an `Entry`), and what the build needs of it:
its own problems (the file's checks and the rules that need only the file and the small files), the
problems the rules between records gave it, its verified status (with the days its facts entered the
branch: the chart over time is drawn from them) and verify's problems with it, the fields the
site-wide stages read (statistics, the site's public projection, the 公示 row: `FACTS`, kept for the
year built), its personal values (what the privacy scan looks for), its approval digest, and keyed
hashes of the values other records can join it by (prscope.join_values, the digests its approvals
carry, its own digest). Nothing else: no whole record.

The invariant: a build with the kept entries writes what a build from scratch (--no-cache) writes,
byte for byte (tests/test_incremental.py applies random changes and compares the two every time).

Why that holds. The kept entries were made by the last build (its commit, the base, is kept with them in the HMAC-bound store in the git directory: jinqiu.check.cache.Store,
never in a work tree), for the content each file had at the base (a file read with other content
than the base's is marked and read again next time). The change is what git says differs between
the base and the work tree, what a commit since the base touched, and every file git does not track
(prscope.changed); the base must be on HEAD's first-parent line. A file's own results depend on its
content and the small files (units, reviewers, campaigns) with the root of trust and the code: any
change to those, or to the history of the trust data, makes a build from scratch. Its status and
verify's problems depend on its content, the history of its file and the trust data, and on other
records only through the values `hashes` holds (a copied approval's digest, a continued record's id
and status); the rules between records join records on the values prscope.join_values gives. So the
records that can be affected by a change are the changed ones and, transitively, every record
sharing one of those values with one of them (their old versions included): the scope. The scope is
read and checked afresh, its rules between records run over it, and verify proves it reading the
history of its files and of the trust data; every other record keeps its entry. The checks over
every record (a continuing record resting on a verified earlier one, whether anything is verified)
run every time, over what is kept of every record.

The build from scratch with the cache (no base, or a change the scope cannot stand for) reads every
file once, in forked workers that check it, prove its approvals and send back its entry, so that no
process ever holds every record whole: the memory the build needs grows with what is kept, not with
the files.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from ..check import cache, crossrules, validate
from ..problems import ERROR, Problem
from ..records import dataset as ds
from ..trust import anchor, chain, gitlog, prscope, verify
from ..trust import status as st
from ..trust.entries import git_blob_id, record_digest
from . import privacy

FORMAT = "records-7"
MAX_SCOPE = 5000  # more records than this in a change's scope: a build from scratch is as quick
CHUNK = 250  # files to a worker's task
BULK = validate.BULK_FOLDERS

# What the site-wide stages read of an application or graduate (a jinqiu.records.dataset.restrict
# spec): the public projection (site), and statistics' and the over-time chart's inputs.
FACTS = {
    "application": ds.merge_specs(privacy.public_spec("application"),
                                  {"id": True, "year": True, "unit": True, "form": True, "continues": True,
                                   "filed_on": True, "student": {"education": True},
                                   "aid": {"amount": True, "paid_on": True, "funding_unit": True},
                                   "flags": {"migrant_worker": True, "single_mother": True},
                                   "approvals": [{"level": True, "decision": True, "date": True}]}),
    "graduate": ds.merge_specs(privacy.public_spec("graduate"),
                               {"year": True, "unit": True,
                                "graduate": {"graduation_year": True, "studies_locally": True},
                                "services": [{"kind": True, "date": True, "amount": True}],
                                "outcome": {"employed": True, "employed_on": True, "helped_by_union": True}}),
}
LINK = {"id": True, "year": True, "form": True, "continues": True}  # what every record of any year keeps


class Cold(Exception):
    """The kept entries cannot stand for this build: build from scratch (the message says why)."""


def _rows(problems) -> list:
    return [list(cache.astuple_problem(p)) for p in problems]


def _problems(rows) -> list[Problem]:
    return [Problem(*row) for row in rows]


def _j(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@dataclass(slots=True)
class Entry:
    """What is kept of one file under applications/ or graduates/ (see the module's docstring), each
    part as one string (100,000 of these are held at once: an object per value would be ten times
    the memory)."""

    kind: str
    own: list | tuple = ()  # problem rows: the file's own checks
    coll: list | tuple = ()  # problem rows: the rules between records
    vprob: list | tuple = ()  # problem rows: verify's proof of this file (signed entries removed from it too)
    link: str | None = None  # JSON: id, year, form, continues (dataset.to_json)
    facts: str | None = None  # JSON: FACTS (dataset.to_json), for the year built
    personal: str | None = "[]"  # JSON list: privacy.record_personal_values (None: kept, not read yet)
    hashes: str = ""  # keyed hashes of the values others join it by, space-separated
    digest: str = ""  # the approval digest (applications)
    status: str | None = None  # JSON: Status.row() before the checks over every record (applications)
    blob: str = ""  # git's blob id of the bytes read
    # not kept, for this build only:
    join: str | None = None  # JSON: crossrules.JOIN_FIELDS of the record (real values)
    form: str | None = None  # JSON: form_data of an application of the year, on its way to the Spool

    def dump(self, status_index) -> list:
        """The entry as kept, but its personal values (kept apart, read only when wanted) and with its
        status as an index into the table of distinct statuses (status_index(text) -> n)."""
        return [self.kind, self.blob, self.own, self.coll, self.vprob, self.link, self.facts,
                self.hashes, self.digest, None if self.status is None else status_index(self.status)]

    @classmethod
    def load(cls, row, statuses: list) -> "Entry":
        kind, blob, own, coll, vprob, link, facts, hashes, digest, status = row
        if not (isinstance(kind, str) and isinstance(hashes, str) and (status is None or isinstance(status, int))):
            raise ValueError("not an entry")
        return cls(kind, own or (), coll or (), vprob or (), link, facts, None, hashes, digest,
                   None if status is None else statuses[status], blob)

    def link_data(self) -> dict:
        return ds.from_json_text(self.link)


# ---------------------------------------------------------------- one file


def _notice_day(context, data) -> str | None:
    campaign = context.campaigns.get(data.get("year")) if isinstance(data.get("year"), int) else None
    notice = (campaign or {}).get("public_notice") or {}
    return notice.get("from") if isinstance(notice, dict) and isinstance(notice.get("from"), str) else None


def read_entry(root: Path, display_root: str, rel: str, context, secret: bytes, year: int):
    """(Entry, record, raw bytes or None) of one bulk file: read, checked and reduced to what is kept."""
    raw_out: dict = {}
    record, problems = validate.check_file(root, display_root, rel, context=context, raw_out=raw_out)
    raw = raw_out.get("raw")
    e = Entry(record.kind, own=_rows(problems), blob=git_blob_id(raw) if raw is not None else "")
    data = record.data
    if data is None or record.kind not in FACTS:
        return e, record, raw
    e.link = _j(ds.to_json(ds.restrict(data, LINK)))
    e.join = _j(ds.to_json(ds.restrict(data, crossrules.JOIN_FIELDS)))
    e.personal = _j(sorted(privacy.record_personal_values(record.kind, data)))
    values = prscope.join_values(data)
    if record.kind == "application":
        e.digest = record_digest(record)
        values.add(e.digest)
        listed = data.get("approvals")
        values |= {x["digest"] for x in listed if isinstance(x, dict) and isinstance(x.get("digest"), str) and x["digest"]} \
            if isinstance(listed, list) else set()
    e.hashes = " ".join(sorted({join_hash(secret, v) for v in values}))
    if data.get("year") == year:
        facts = ds.restrict(data, FACTS[record.kind])
        if record.kind == "application":
            facts[privacy.PUBLIC_KEY] = privacy.project("application", data)  # the site's, made once
            day = _notice_day(context, data)
            if day is not None:
                try:
                    facts[privacy.NOTICE_KEY] = privacy.notice_row(data, day)
                except (KeyError, TypeError, AttributeError, ValueError):
                    pass  # an invalid record: validate stops the build
        e.facts = _j(ds.to_json(facts))
    return e, record, raw


def join_hash(secret: bytes, value: str) -> str:
    """A value other records can join this one by, as a digest keyed with the user's cache secret (the
    store holds no ID number; the same value always gives the same digest)."""
    return hashlib.blake2b(value.encode("utf-8", "surrogatepass"), key=secret[:64], digest_size=8).hexdigest()


def _foreign_digest(data: dict, current: str) -> bool:
    """Does an approval carry a digest other than the record's own (stale, or copied from another
    record: verify needs every record's digest to tell which)?"""
    listed = data.get("approvals")
    return isinstance(listed, list) and any(isinstance(x, dict) and x.get("digest") and x.get("digest") != current
                                            for x in listed)


def prove_batch(session, view, batch, defer: bool) -> list:
    """Prove the applications of a batch of (entry, record, raw), setting each entry's status and
    verify's problems with its file (signed entries removed from it included); with defer, those
    whose approvals carry a foreign digest are not proved but returned (to be proved once every
    record's digest is known)."""
    deferred, apps = [], []
    for e, record, raw in batch:
        if record.kind != "application" or record.data is None:
            continue
        e.status, e.vprob = _j(st.Status(st.FILED, verified=True).row()), ()
        if defer and verify.needs_proof(record.data) and _foreign_digest(record.data, e.digest):
            deferred.append((e, record, raw))
        else:
            apps.append((e, record))
    if apps and session.ctx is not None:
        found, problems = verify.prove(session, view, [r for _, r in apps], {r.rel: e.digest for e, r in apps})
        by_path: dict[str, list] = {}
        for p in problems:
            by_path.setdefault(p.path, []).append(p)
        for e, record in apps:
            e.status = _j(found[record.rel].row())
            e.vprob = _rows(by_path.get(record.path, [])) or ()
    return deferred


# ---------------------------------------------------------------- every file, in forked workers

_JOB = None


def _init(job):
    global _JOB
    _JOB = job


def _work(rels):
    """A worker's task: read, check and prove these files; send back what is kept."""
    root, display_root, context, secret, year, session, forms = _JOB
    view = ds.Dataset(root=root, display_root=display_root)
    batch = [read_entry(root, display_root, rel, context, secret, year) for rel in rels]
    if forms:
        for e, record, _ in batch:
            if e.facts is not None and record.kind == "application":
                e.form = _j(ds.to_json(form_data(record.data)))
    deferred = prove_batch(session, view, batch, defer=True)
    out = []
    held = {id(e) for e, _, _ in deferred}
    for rel, (e, record, raw) in zip(rels, batch):
        out.append((rel, e, record if id(e) in held else None))
    checked = {}
    if session.ctx is not None:
        ctx = session.ctx
        ctx.current.clear()
        checked = dict(ctx.signers.ssh)
        ctx.signers.ssh.clear()  # sent home once; what the memo knew stays known
        ctx.keys_of.clear()
        ctx.paid_of.clear()
        ctx.blobs.clear()
    return out, checked


def read_all(root, display_root, rels, context, secret, year, session, jobs=None, spool=None):
    """{rel: Entry} of every file of rels (in workers when there are many), and the records whose
    proof waits for every digest: [(entry, record, None)]. spool (a Spool): where each application
    of the year is put as its form shows it, for the forms (read back, not parsed again)."""
    jobs = jobs or os.cpu_count() or 1
    entries, deferred, checked = {}, [], {}
    chunks = [rels[i:i + CHUNK] for i in range(0, len(rels), CHUNK)]
    job = (root, display_root, context, secret, year, session, spool is not None)
    pool = None
    if jobs == 1 or len(rels) < cache.SERIAL_BELOW:
        global _JOB
        _JOB = job
        try:
            parts = iter([_work(chunk) for chunk in chunks])
        finally:
            _JOB = None
    else:
        if session.ctx is not None and session.ctx.reg.gpg_keys():
            session.ctx.signers.gpg._ensure()  # one keyring, made before the workers fork
        pool = multiprocessing.get_context("fork").Pool(jobs, initializer=_init, initargs=(job,))
        parts = pool.imap(_work, chunks)
    try:
        for out, found in parts:
            checked.update(found)
            for rel, e, record in out:
                entries[rel] = e
                if e.form is not None:
                    spool.put(rel, e.form)
                    e.form = None
                if record is not None:
                    deferred.append((e, record, None))
    finally:
        if pool is not None:
            pool.close()
            pool.join()
        if spool is not None:
            spool.file.flush()  # before anything forks: a worker never writes what the spool still holds
    if session.ctx is not None:
        session.ctx.signers.ssh.update(checked)
    return entries, deferred


class Spool:
    """Each application of the year as its form shows it (its data without the signatures, as
    dataset.to_json writes it), in an unnamed temporary file: the forms read it back instead of
    parsing the file again. Read with pread, so that forked workers can share it."""

    def __init__(self):
        import tempfile

        self.file = tempfile.TemporaryFile()
        self.index: dict[str, tuple[int, int]] = {}
        self.end = 0

    def put(self, rel: str, text: str) -> None:
        raw = text.encode("utf-8", "surrogatepass")
        self.file.write(raw)
        self.index[rel] = (self.end, len(raw))
        self.end += len(raw)

    def get(self, rel: str) -> dict | None:
        found = self.index.get(rel)
        if found is None:
            return None
        offset, size = found
        return ds.from_json_text(os.pread(self.file.fileno(), size, offset).decode("utf-8", "surrogatepass"))

    def close(self) -> None:
        self.file.close()


def form_data(data: dict) -> dict:
    """What a form shows of an application: everything but the signatures (a few hundred bytes each)."""
    out = dict(data)
    aid = out.get("aid")
    if isinstance(aid, dict) and "paid_signature" in aid:
        out["aid"] = {k: v for k, v in aid.items() if k != "paid_signature"}
    listed = out.get("approvals")
    if isinstance(listed, list):
        out["approvals"] = [{k: v for k, v in e.items() if k != "signature"} if isinstance(e, dict) else e for e in listed]
    return out


# ---------------------------------------------------------------- the store


def _store_kind(root: Path) -> str:
    return f"records-{cache.name_of(root)}"


def context_key(root: Path, display_root: str, repo: Path | None) -> str:
    """What every kept entry depends on besides its own file: the code and schemas, the name the data
    is shown under, the small files (units, reviewers, campaigns, the root file) and the root pinned."""
    h = hashlib.sha256()
    for part in (FORMAT, cache.code_version(), display_root):
        h.update(part.encode() + b"\0")
    for rel in sorted(anchor.work_tree_state(root)):
        h.update(rel.encode() + b"\0" + (root / rel).read_bytes() + b"\0")
    roots, source = anchor.pinned_keys(repo, None)
    h.update(f"{sorted(roots)}\0{source}\0{anchor.run_context(repo)}\0".encode())
    return h.hexdigest()


SHARDS = 64  # the entries are kept in this many files: a build rewrites those whose entries changed


def shard_of(rel: str) -> int:
    return zlib.crc32(rel.encode("utf-8", "surrogateescape")) % SHARDS


def recall(store: cache.Store, root: Path, key: str):
    """(meta, {rel: Entry}) kept by the last build for this context key, or None. The entries are in
    SHARDS files, each keyed with the token the meta names for it, so that a shard from another
    build (one stopped half-way) never passes for this one's; their personal values in SHARDS more,
    read only when wanted (read_personal). The meta holds the table of distinct statuses."""
    meta = store.get(_store_kind(root), key)
    if not isinstance(meta, dict):
        return None
    entries = {}
    try:
        if not (isinstance(meta["base"], str) and isinstance(meta["year"], int) and isinstance(meta["dirty"], list)
                and isinstance(meta["ghosts"], dict) and isinstance(meta["tokens"], list) and len(meta["tokens"]) == SHARDS
                and isinstance(meta["statuses"], list) and all(isinstance(t, str) for t in meta["statuses"])):
            return None
        statuses = meta["statuses"]
        for i, token in enumerate(meta["tokens"]):
            rows = store.get(f"{_store_kind(root)}-{i:02d}", f"{key}:{token}")
            if not isinstance(rows, dict):
                return None
            for rel, row in rows.items():
                entries[rel] = Entry.load(row, statuses)
    except (KeyError, TypeError, ValueError, IndexError):
        return None
    return meta, entries


def read_personal(store: cache.Store, root: Path, key: str, tokens: list, entries: dict, shards=None) -> bool:
    """Fill in the kept personal values of the entries of these shards (default all); False when a
    shard is not as kept (then nothing kept can be trusted: build from scratch)."""
    for i in sorted(range(SHARDS) if shards is None else shards):
        if tokens[i] is None:
            continue
        rows = store.get(f"{_store_kind(root)}-p{i:02d}", f"{key}:{tokens[i]}")
        if not isinstance(rows, dict) or not all(isinstance(v, str) for v in rows.values()):
            return False
        for rel, text in rows.items():
            e = entries.get(rel)
            if e is not None and e.personal is None:
                e.personal = text
    return all(e.personal is not None for rel, e in entries.items() if shards is None or shard_of(rel) in shards)


def remember(store: cache.Store, records: "Records") -> None:
    """Keep the entries of a build (validate's errors or not), with its commit as the base; a file read
    with other content than the commit's is marked dirty (read again next time). Only the shards
    holding an entry read afresh or gone are written again; the meta (with each shard's token) last."""
    if records.head is None:
        return
    tokens = list(records.tokens) if len(records.tokens) == SHARDS else [None] * SHARDS
    touched = {shard_of(rel) for rel in records.fresh} | {shard_of(rel) for rel in records.gone}
    if None in tokens:
        touched = set(range(SHARDS))
    if not records.read_personal(touched):
        return  # a personal shard is gone or forged: keep nothing (the next build reads everything)
    table = list(records.statuses_kept) if None not in tokens else []
    index = {text: n for n, text in enumerate(table)}

    def status_index(text: str) -> int:
        n = index.get(text)
        if n is None:
            n = index[text] = len(table)
            table.append(text)
        return n

    by_shard: dict[int, dict] = {i: {} for i in touched}
    personal: dict[int, dict] = {i: {} for i in touched}
    for rel, e in records.entries.items():
        i = shard_of(rel)
        if i in by_shard:
            by_shard[i][rel] = e.dump(status_index)
            personal[i][rel] = e.personal
    kind = _store_kind(records.root)
    store.put(kind, "", None)  # while shards change, no meta speaks for them
    for i, rows in sorted(by_shard.items()):
        tokens[i] = os.urandom(8).hex()
        store.put(f"{kind}-{i:02d}", f"{records.key}:{tokens[i]}", rows)
        store.put(f"{kind}-p{i:02d}", f"{records.key}:{tokens[i]}", personal[i])
    store.put(kind, records.key, {"base": records.head, "year": records.year, "dirty": sorted(records.dirty()),
                                  "ghosts": records.ghosts, "tokens": tokens, "values": records.values, "statuses": table})


def forget(store: cache.Store, root: Path) -> None:
    store.put(_store_kind(root), "", None)


# ---------------------------------------------------------------- the scope of a change


def first_parent_descendant(repo: Path, base: str) -> bool:
    """Is base HEAD, or on HEAD's first-parent line? (Then the day each old commit entered the branch,
    and the history of every file no later commit touched, are what they were at base.)"""
    try:
        head = gitlog.head(repo)
        if head == base:
            return True
        out = gitlog.git(repo, "rev-list", "--first-parent", "--parents", f"{base}..HEAD").decode().split("\n")
    except gitlog.GitError:
        return False
    lines = [line.split() for line in out if line.strip()]
    return bool(lines) and len(lines[-1]) > 1 and lines[-1][1] == base


def changed_since(repo: Path, prefix: str, base: str) -> set[str]:
    """The files under the data directory a build from base must read again; Cold when the change
    reaches what every entry depends on (trust data, .gitattributes) or git cannot say."""
    if not first_parent_descendant(repo, base):
        raise Cold("上次构建的提交不在当前分支的第一父提交历史上")
    try:
        _, rels = prscope.changed(repo, prefix, base, records_only=False)
    except prscope.FullRun as exc:
        raise Cold(str(exc)) from None
    for rel in rels:
        if anchor.is_trust(rel) or rel in anchor.TRUST_FILES:
            raise Cold(f"信任数据 {rel} 有改动")
    return set(rels)


def scope_of(changed: set[str], old: dict, new: dict) -> set[str]:
    """The changed files and every kept record that shares a join value with one of them, old version
    or new, transitively (see the module's docstring); Cold when that is more than MAX_SCOPE."""
    scope = set(changed)
    values = set()
    for rel in changed:
        for e in (old.get(rel), new.get(rel)):
            if e is not None:
                values.update(e.hashes.split())
    while values:
        found = {rel for rel, e in old.items() if rel not in scope and not values.isdisjoint(e.hashes.split())}
        if len(scope) + len(found) > MAX_SCOPE:
            raise Cold(f"改动可能影响 {len(scope) + len(found)} 个以上的文件")
        scope |= found
        values = {h for rel in found for h in old[rel].hashes.split()}
    return scope


# ---------------------------------------------------------------- the records of one build


@dataclass
class Records:
    """Every record of one build: the small files whole, and an Entry for each file under
    applications/ and graduates/ (kept or made afresh)."""

    root: Path
    display_root: str
    repo: Path
    small: ds.Dataset  # units, reviewers, campaigns, reports and every other file that is not bulk
    rels: list  # every file, sorted as discover sorts them
    entries: dict  # bulk rel -> Entry
    year: int
    key: str = ""
    head: str | None = None
    fresh: dict = field(default_factory=dict)  # rel -> git blob id of what was read, for the files read afresh
    gone: set = field(default_factory=set)  # files the kept entries had that are gone
    tokens: list = field(default_factory=list)  # the kept shards' tokens (recall)
    spool: "Spool | None" = None  # the year's applications as their forms show them (a build from scratch)
    values: str = ""  # names the entries' personal values: the same as long as they are (values_token)
    report_days_of: dict = field(default_factory=dict)  # report rel -> the day it entered the branch
    statuses_kept: list = field(default_factory=list)  # the kept table of distinct statuses (remember appends)
    store: object = None  # where the entries are kept (their personal values are read from it when wanted)
    _links: dict = field(default_factory=dict, repr=False)
    ghosts: dict = field(default_factory=dict)  # rel of a file gone from the data -> its problem rows (removed entries)
    problems: list = field(default_factory=list)  # validate's
    verify_problems: list = field(default_factory=list)
    statuses: verify.Statuses | None = None  # rel -> Status (final)
    how: str = ""  # "incremental", or "cold: why"

    def dataset(self) -> ds.Dataset:
        """A Dataset for the stages after verify: the small files whole, and each application and
        graduate of the year built with its FACTS. Another year's records are left out: every one of
        those stages (statistics, the site, the 公示 list, the forms) takes the year's records only."""
        out = ds.Dataset(root=self.root, display_root=self.display_root)
        small = {r.rel: r for r in self.small.records}
        for rel in self.rels:
            if rel in small:
                out.records.append(small[rel])
                continue
            e = self.entries.get(rel)
            if e is not None and e.facts is not None:
                out.records.append(ds.Record(e.kind, ds.display_path(self.display_root, rel), rel, ds.from_json_text(e.facts)))
        return out

    def link(self, rel: str) -> dict:
        """The LINK fields of an application or graduate (decoded once a build, all at once)."""
        found = self._links.get(rel)
        if found is None:
            if not self._links:
                self._decode_links()
                return self.link(rel)
            found = self._links[rel] = self.entries[rel].link_data()
        return found

    def _decode_links(self) -> None:
        rels = [rel for rel, e in self.entries.items() if e.link is not None]
        text = "[" + ",".join(self.entries[rel].link for rel in rels) + "]"  # one decode: 100,000 calls cost more
        self._links.update(zip(rels, ds.from_json_text(text)))
        self._links.setdefault("", {})  # decoded, even when there is nothing

    def report_days(self, year: int) -> dict:
        """{union: the day its report of the year entered the branch} (site.public_view's report_days)."""
        return {r.data["unit"]: self.report_days_of.get(r.rel, "") for r in self.small.reports if r.data.get("year") == year}

    def read_personal(self, shards=None) -> bool:
        """Read the kept personal values of the entries of these shards (default all) that lack them."""
        missing = {shard_of(rel) for rel, e in self.entries.items() if e.personal is None}
        wanted = missing if shards is None else missing & set(shards)
        if not wanted:
            return True
        if self.store is None or len(self.tokens) != SHARDS:
            return False
        return read_personal(self.store, self.root, self.key, self.tokens, self.entries, wanted)

    def values_token(self) -> str:
        """A name for every personal value of the data (the entries' and the small files'): it changes
        whenever they may have; the same name means the same values (what the privacy scan built its
        needles from can be used again)."""
        found = sorted(privacy.personal_values(self.small))
        return hashlib.sha256((self.values + "\0" + "\0".join(found)).encode("utf-8", "surrogatepass")).hexdigest()

    def personal_values(self) -> set[str]:
        found = privacy.personal_values(self.small)
        if not self.read_personal():  # the store changed under this build: the files themselves, then
            for rel, e in self.entries.items():
                if e.personal is None:
                    record = ds.read_one(self.root, self.display_root, rel)[0]
                    e.personal = _j(sorted(privacy.record_personal_values(record.kind, record.data))) \
                        if record.data is not None and record.kind in FACTS else "[]"
        lists = [e.personal for e in self.entries.values() if e.personal != "[]"]
        for part in json.loads("[" + ",".join(lists) + "]"):  # one decode for all: 100,000 calls cost more
            found.update(part)
        return found

    def dirty(self) -> set[str]:
        """The files read afresh whose content is not the commit's (changed, or not tracked)."""
        if not self.fresh:
            return set()
        prefix = Path(self.root).resolve().relative_to(Path(self.repo).resolve()).as_posix()
        prefix = "" if prefix == "." else prefix
        spec = [f"{prefix}/{rel}" if prefix else rel for rel in sorted(self.fresh)]
        if len(spec) > 1000:
            spec = [f"{prefix}/{d}" if prefix else d for d in BULK]
        committed = {}
        try:
            out = gitlog.git(self.repo, "--literal-pathspecs", "ls-tree", "-r", "-z", "--full-tree", self.head, "--", *spec)
        except gitlog.GitError:
            return set(self.fresh)
        plen = len(prefix) + 1 if prefix else 0
        for item in out.split(b"\0"):
            if item:
                meta, _, path = item.partition(b"\t")
                committed[path.decode("utf-8", "surrogateescape")[plen:]] = meta.split(b" ")[2].decode()
        return {rel for rel, blob in self.fresh.items() if committed.get(rel) != blob or not blob}


def _small(root: Path, display_root: str, rels: list[str]) -> ds.Dataset:
    """The small files (everything not under applications/ or graduates/), read and checked whole."""
    found = [validate.check_file(root, display_root, rel) for rel in rels if not rel.startswith(BULK)]
    small = ds.Dataset(root=root, display_root=display_root)
    small.records = [record for record, _ in found]
    for _, problems in found:
        small.problems.extend(problems)
    small.units, small.reviewers, small.campaigns  # worked out once, before the workers fork  # noqa: B018
    return small


def _small_problems(small: ds.Dataset) -> list[Problem]:
    """The small files' own problems and the LOCAL_RULES over them (as validate.cross_check runs them)."""
    problems = list(small.problems)
    for rule in crossrules.LOCAL_RULES:
        for record, pointer, code, message, *severity in rule(small):
            problems.append(Problem(record.path, small.line(record, pointer), pointer, code, message, *(severity or [ERROR])))
    return problems


def collisions(root: Path, display_root: str, entries: dict) -> dict[str, list]:
    """{rel: problem rows} of COLLISION_RULES over these entries (each with its join fields)."""
    view = ds.Dataset(root=root, display_root=display_root)
    for rel in sorted(entries):
        e = entries[rel]
        if e.join is not None:
            view.records.append(ds.Record(e.kind, ds.display_path(display_root, rel), rel, ds.from_json_text(e.join)))
    by_path = {r.path: r.rel for r in view.records}
    out: dict[str, list] = {rel: [] for rel in entries}
    for rule in crossrules.COLLISION_RULES:
        for record, pointer, code, message, *severity in rule(view):
            p = Problem(record.path, view.line(record, pointer), pointer, code, message, *(severity or [ERROR]))
            out[by_path[record.path]].append(list(cache.astuple_problem(p)))
    return out


def _digest_map(entries: dict) -> dict[str, str]:
    """The current digest of every application -> its rel (as verify's context maps them)."""
    return {e.digest: rel for rel, e in sorted(entries.items()) if e.kind == "application" and e.link is not None}


def load(root: Path, display_root: str, year_of, *, store: cache.Store, repo: Path, forge_checker=None,
         jobs: int | None = None, forms: bool = False) -> Records:
    """Every record of the data directory, checked and proved: from the kept entries and the files a
    change since the last build can affect, or (Cold) from every file. year_of(small dataset) -> the
    year the build is for (the kept facts and chart days are that year's). forms: the forms will be
    rendered (a build from scratch spools the year's applications for them: Records.spool)."""
    root = Path(root)
    prefix = root.resolve().relative_to(Path(repo).resolve()).as_posix()
    prefix = "" if prefix == "." else prefix
    rels = ds.discover(root)
    small = _small(root, display_root, rels)
    year = year_of(small)
    bulk = [rel for rel in rels if rel.startswith(BULK)]
    records = Records(root, display_root, Path(repo), small, rels, {}, year, key=context_key(root, display_root, repo),
                      head=gitlog.head(repo), store=store)
    secret = store.secret or b""
    old, changed, ghosts = None, set(), {}
    kept = recall(store, root, records.key)
    try:
        if kept is None:
            raise Cold("没有上次构建的记录")
        meta, old = kept
        records.tokens, records.gone = meta["tokens"], set(old) - set(bulk)
        records.statuses_kept = meta["statuses"]
        if meta["year"] != year:
            raise Cold("上次构建的是另一个年度")
        changed = changed_since(repo, prefix, meta["base"]) | set(meta["dirty"]) | (set(bulk) ^ set(old))
        changed = {rel for rel in changed if rel.startswith(BULK)}
        ghosts = meta["ghosts"]
        new = {}
        read = {}
        for rel in sorted(changed & set(bulk)):
            e, record, raw = read_entry(root, display_root, rel, small, secret, year)
            new[rel], read[rel] = e, (e, record, raw)
        scope = scope_of(changed, old, new)
        for rel in sorted((scope & set(bulk)) - set(new)):
            e, record, raw = read_entry(root, display_root, rel, small, secret, year)
            new[rel], read[rel] = e, (e, record, raw)
        records.how = "incremental"
        # the personal values of every entry are what they were unless an entry read afresh, or gone, says otherwise
        if not read_personal(store, root, records.key, records.tokens, old, {shard_of(rel) for rel in new} | {shard_of(rel) for rel in records.gone}):
            raise Cold("保存的个人信息记录无法读取")
        same = all(e.personal == (old[rel].personal if rel in old else "[]") for rel, e in new.items()) \
            and all(old[rel].personal == "[]" for rel in records.gone)
        records.values = meta["values"] if same and isinstance(meta.get("values"), str) else os.urandom(16).hex()
    except Cold as exc:
        old, records.how = None, f"cold: {exc}"
    if old is None:
        forget(store, root)  # a build stopped half-way leaves nothing behind that speaks for it
        scope, ghosts, records.tokens, records.gone, records.statuses_kept = None, {}, [], set(), []
        records.values = os.urandom(16).hex()
    # the history of the scope, of the files gone, of the trust data and of the unions' reports (the day each entered)
    paths = None if scope is None else [*anchor.TRUST_FILES, anchor.TRUST_DIR, "reports/", *sorted(scope | set(ghosts))]
    # the signatures checked before are remembered for a build that reads everything; a scope's few are
    # checked afresh, leaving the memo as the last full run left it (it keeps only what a run used)
    memo = verify.SignatureMemo(root) if old is None else None
    session = verify.open_session(repo, root, small, None, forge_checker, paths=paths, memo=memo)
    try:
        if old is None:
            records.spool = Spool() if forms else None
            entries, deferred = read_all(root, display_root, bulk, small, secret, year, session, jobs, spool=records.spool)
            records.entries = entries
            records.fresh = {rel: e.blob for rel, e in entries.items()}
            coll = collisions(root, display_root, entries)
        else:
            records.entries = {rel: new.get(rel) or old[rel] for rel in bulk}
            records.fresh = {rel: e.blob for rel, e in new.items()}
            deferred = [read[rel] for rel in sorted(read)]  # proved once every digest is known
            coll = collisions(root, display_root, new)
        for rel, rows in coll.items():
            records.entries[rel].coll = rows or ()
        for e in records.entries.values():
            e.join = None  # the rules between records have run
        _validate_problems(records)
        # every entry proved, even when validate stops the build (which then shows validate's problems
        # only): the entries are kept either way, for the build after the fix
        _prove(records, session, deferred, ghosts=ghosts)
    finally:
        session.close()
    return records


def _validate_problems(records: Records) -> None:
    problems = _small_problems(records.small)
    for rel in records.rels:
        e = records.entries.get(rel)
        if e is not None:
            problems.extend(_problems(e.own))
            problems.extend(_problems(e.coll))
    records.problems = sorted(set(problems))


def _prove(records: Records, session, deferred, *, ghosts: dict) -> None:
    """Statuses and verify's problems of every record: the deferred proofs (every digest now known),
    signed entries removed from files that are not records (gone, or unreadable), continuing records
    resting on verified earlier ones; and the day each union's report entered the branch."""
    ctx, entries = session.ctx, records.entries
    ctx.digests = _digest_map(entries)
    view = ds.Dataset(root=records.root, display_root=records.display_root)
    if deferred:
        prove_batch(session, view, deferred, defer=False)
    statuses = session.statuses
    made: dict[str, st.Status] = {}
    stubs = ds.Dataset(root=records.root, display_root=records.display_root)
    apps = []
    for rel, e in sorted(entries.items()):
        if e.kind == "application" and e.link is not None:
            found = made.get(e.status)  # records approved in the same commits have the same status: made once
            if found is None:
                found = made[e.status] = st.Status.from_row(json.loads(e.status))
            statuses[rel] = found
            apps.append(rel)
    # chain.check_continuing reads the continuing records and the records they name (by id), nothing else
    links = {rel: records.link(rel) for rel in apps}
    continuing = {rel for rel, d in links.items() if d.get("form") == "continuing" and isinstance(d.get("continues"), str)}
    named = {links[rel]["continues"] for rel in continuing}
    stubs.records = [ds.Record("application", ds.display_path(records.display_root, rel), rel, links[rel])
                     for rel in apps if rel in continuing or (isinstance(links[rel].get("id"), str) and links[rel]["id"] in named)]
    if session.checks_removals:  # the files of the history read that are no record: their removals, kept as ghosts
        h = ctx.history
        parsed = set(apps)
        look = sorted(rel for rel in h.changes if rel.startswith("applications/") and rel not in parsed)
        found_rows: dict = {}
        for p in verify.versions.removed(ctx, records.root, stubs, rels=look):
            found_rows.setdefault(p.path, []).append(list(cache.astuple_problem(p)))
        ghosts = {rel: rows for rel, rows in ghosts.items() if rel not in look and rel not in records.fresh}
        for rel in look:
            rows = found_rows.get(ds.display_path(records.display_root, rel), [])
            if rows:
                ghosts[rel] = rows
    records.ghosts = ghosts
    problems = list(session.problems)
    for rel in records.rels:
        e = entries.get(rel)
        if e is not None:
            problems.extend(_problems(e.vprob))
    for rows in ghosts.values():
        problems.extend(_problems(rows))
    problems += chain.check_continuing(ctx, stubs, statuses)
    records.verify_problems = problems
    records.statuses = statuses
    clock = ctx.clock
    records.report_days_of = {r.rel: clock.first_day(r.rel) if clock is not None else ""
                              for r in records.small.reports}
