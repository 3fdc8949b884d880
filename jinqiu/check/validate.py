"""validate: load every file, check it against its schema and the rules, collect every problem."""

from __future__ import annotations

import functools
import os
from pathlib import Path

from . import cache, crossrules, rules, schemacheck
from ..records import dataset as ds
from ..records import sealed
from ..problems import ERROR, Problem

# The keyed tier (issue 21): a callable stored record -> clear record (raising sealed.SealError), set
# by `validate --keyed` on the city's runner before loading (forked workers inherit it). Without it, a
# sealed record's rules read a view without its sealed values, and the rules that need them wait for
# the keyed run (sealed.HIDDEN marks such a view).
OPEN = None
# The duplicate tags (check.dupetags, issue 21): the signed tags the command found valid (a Tags), and in
# the keyed tier the year tag keys {year: key} that re-derive them; set like OPEN, by the command.
TAGS = None
TAG_KEYS = None


def reset_tiers() -> None:
    """Forget the keyed tier and the tags (each command's run sets its own)."""
    global OPEN, TAGS, TAG_KEYS
    OPEN = TAGS = TAG_KEYS = None


BULK_FOLDERS = ("applications/", "graduates/")  # the many files; everything else is small
BULK_KINDS = ("application", "graduate")


_VIEW = "$view"  # load(): a keyed worker hands the opened record back inside the stored one (taken out at once)


def check_file(root: Path, display_root: str, rel: str, context: ds.Dataset | None = None,
               raw_out: dict | None = None, keep_view: bool = False) -> tuple[ds.Record, list[Problem]]:
    """Read one file and check everything about it that needs no other file; with context (the
    small files: units, reviewers, campaigns), an application's or graduate's LOCAL_RULES too.
    raw_out: see dataset.read_one."""
    record, problems, line_of = ds.read_one(root, display_root, rel, raw_out)
    if record.data is None or record.kind not in ds.layout.KINDS:
        return record, problems
    mistyped = {p.pointer for p in problems}  # the loader already said what is wrong with these
    for pointer, code, message in schemacheck.check(record.kind, record.data):
        if not (code == "schema-type" and pointer in mistyped):
            problems.append(Problem(record.path, line_of(pointer), pointer, code, message))
    stored = record
    record, opened = rules_view(record)
    problems.extend(opened)
    if keep_view and record is not stored and record.data.get(sealed.OPENED):
        stored.data[_VIEW] = record.data  # opened once, in the worker: load() keeps it beside the record
    for rule in rules.RECORD_RULES.get(record.kind, ()):
        for pointer, code, message, *severity in rule(record):
            problems.append(Problem(record.path, line_of(pointer), pointer, code, message, *(severity or [ERROR])))
    if context is not None and record.kind in BULK_KINDS:
        one = _view(context, [record])
        for rule in crossrules.LOCAL_RULES:
            for _, pointer, code, message, *severity in rule(one):
                problems.append(Problem(record.path, line_of(pointer), pointer, code, message, *(severity or [ERROR])))
    return stored, problems


def rules_view(record: ds.Record, views: dict | None = None) -> tuple[ds.Record, list[Problem]]:
    """The record the rules read: itself when in clear; a sealed one opened (keyed tier) or without
    its sealed values (keyless); with the problem when it cannot be opened."""
    if record.data is None or record.kind not in sealed.SEALABLE_KINDS or not sealed.is_sealed(record.data):
        return record, []
    if views and record.rel in views:
        return ds.replace(record, data=views[record.rel]), []
    if OPEN is not None:
        try:
            return ds.replace(record, data={**OPEN(record.data), sealed.OPENED: True,
                                            sealed.COMMIT: record.data[sealed.SEALED_KEY].get("commit")}), []
        except sealed.SealError as exc:
            return ds.replace(record, data=sealed.hidden(record.data)), [
                Problem(record.path, 1, "/sealed", "sealed-unopenable", f"加密的个人信息无法核对：{exc}")]
    return ds.replace(record, data=sealed.hidden(record.data)), []


def readable(data: ds.Dataset) -> ds.Dataset:
    """The dataset as the keyed build reads it: every sealed record opened (OPEN); unchanged without
    OPEN (a sealed value then stays an envelope, which no page or statistic reads: privacy.adulthood
    finds no proof of age in it, so the 公示 names nobody from a sealed record)."""
    if OPEN is None or not any(r.data is not None and r.kind in sealed.SEALABLE_KINDS and sealed.is_sealed(r.data)
                               for r in data.records):
        return data
    view = ds.Dataset(root=data.root, display_root=data.display_root)
    views = getattr(data, "views", None) or {}
    for r in data.records:
        if r.data is not None and r.kind in sealed.SEALABLE_KINDS and sealed.is_sealed(r.data):
            try:
                opened = views.get(r.rel) or OPEN(r.data)
                r = ds.replace(r, data={k: v for k, v in opened.items() if k not in (sealed.OPENED, sealed.COMMIT)})
            except sealed.SealError:
                pass  # validate has said so (sealed-unopenable); the envelope stays
        view.records.append(r)
    view._lines = data._lines
    view.__dict__.update(units=data.units, reviewers=data.reviewers, campaigns=data.campaigns)
    return view


def _rules_dataset(data: ds.Dataset) -> ds.Dataset:
    """The dataset the rules between files read (sealed records as rules_view gives them)."""
    if not any(r.data is not None and r.kind in sealed.SEALABLE_KINDS and sealed.is_sealed(r.data) for r in data.records):
        return data
    view = ds.Dataset(root=data.root, display_root=data.display_root)
    views = getattr(data, "views", None)
    view.records = [rules_view(r, views)[0] for r in data.records]
    view._lines = data._lines
    view.__dict__.update(units=data.units, reviewers=data.reviewers, campaigns=data.campaigns)
    view.tags, view.tag_keys = TAGS, TAG_KEYS
    if getattr(data, "local_checked", False):
        view.local_checked = True
    return view


def _view(data: ds.Dataset, records: list) -> ds.Dataset:
    """A dataset of these records that sees the units, reviewers and campaigns of data."""
    view = ds.Dataset(root=data.root, display_root=data.display_root)
    view.records = records
    view.__dict__.update(units=data.units, reviewers=data.reviewers, campaigns=data.campaigns)
    return view


def load(root: Path, display_root: str | None = None, *, rels: list[str] | None = None, jobs: int | None = None) -> ds.Dataset:
    """Every record of a data directory, with the problems each file has on its own. The small
    files are read first; then each application and graduate record is read and checked with the
    LOCAL_RULES in the same pass, on every core (cross_check then runs only what spans records)."""
    display_root = str(root) if display_root is None else display_root
    data = ds.Dataset(root=root, display_root=display_root)
    rels = ds.discover(root) if rels is None else rels
    found = {rel: check_file(root, display_root, rel) for rel in rels if not rel.startswith(BULK_FOLDERS)}
    context = ds.Dataset(root=root, display_root=display_root)
    context.records = [record for record, _ in found.values()]
    context.units, context.reviewers, context.campaigns  # worked out once, before the workers fork  # noqa: B018
    reviewer_problems = open_reviewers(context)
    bulk = [rel for rel in rels if rel.startswith(BULK_FOLDERS)]
    found.update(zip(bulk, cache.check_all(root, display_root, bulk,
                                           functools.partial(check_file, context=context, keep_view=OPEN is not None), jobs)))
    views = {}
    for rel in rels:
        record, problems = found.pop(rel)
        if isinstance(record.data, dict) and _VIEW in record.data:
            views[rel] = record.data.pop(_VIEW)
        data.records.append(record)
        data.problems.extend(problems)
    data.views = views  # rel -> the opened record (keyed tier), read by rules_view
    data.local_checked = True
    if getattr(OPEN, "reviewer", None) is not None:
        data.__dict__["reviewers"] = context.reviewers  # opened (open_reviewers)
        data.problems.extend(reviewer_problems)
    return data


def open_reviewers(data: ds.Dataset) -> list[Problem]:
    """In the keyed tier, the reviewers' sealed own and family ID numbers opened in data.reviewers (each
    opened reviewer keeps the digest of its stored numbers, dupetags.IDS); a problem for each that cannot
    be (its approval-self check cannot be made: fail closed)."""
    opener = getattr(OPEN, "reviewer", None)
    found = data.reviewers
    if opener is None or not any(sealed.is_small_enc(n) for r in found.values()
                                 for n in [r.get("id_number"), *(r.get("family_id_numbers") or [])]):
        return []
    from . import dupetags

    out, problems = {}, []
    record = next((r for r in data.records if r.kind == "reviewers"), None)
    for rid, rv in found.items():
        try:
            out[rid] = {**opener(rv), dupetags.IDS: dupetags.reviewer_digest(rv)}
        except sealed.SealError as exc:
            out[rid] = rv
            if record is not None:
                problems.append(Problem(record.path, 1, "/reviewers", "sealed-unopenable",
                                        f"审核人 {rid} 的身份证号码无法核对（{exc}），审批是否回避无从检查"))
    data.__dict__["reviewers"] = out
    return problems


def cross_check(data: ds.Dataset) -> list[Problem]:
    """Every problem of a loaded dataset: each file's own and those between files, sorted."""
    problems = list(data.problems)
    data = _rules_dataset(data)
    small = _view(data, [r for r in data.records if r.kind not in BULK_KINDS]) if getattr(data, "local_checked", False) else data
    for rules_, over in ((crossrules.LOCAL_RULES, small), (crossrules.COLLISION_RULES, data)):
        for rule in rules_:
            for record, pointer, code, message, *severity in rule(over):
                problems.append(Problem(record.path, data.line(record, pointer), pointer, code, message, *(severity or [ERROR])))
    data._lines.clear()  # the line maps of the files with problems: 60 MB at 100,000 records, not needed again
    return sorted(set(problems))


def run(root: Path, display_root: str | None = None, *, jobs: int | None = None) -> tuple[ds.Dataset, list[Problem]]:
    """Load and check a whole data directory: (the dataset, every problem, sorted)."""
    data = load(root, display_root, jobs=jobs)
    return data, cross_check(data)


def run_cached(root: Path, display_root: str | None = None, *, jobs: int | None = None) -> tuple[ds.Dataset, list[Problem]]:
    """run(), with the problems between files taken from the cache when no file changed since a
    run that found them (every file is still read: the caller wants the records)."""
    display_root = str(root) if display_root is None else display_root
    rels = ds.discover(root)
    store = cache.Store(root)
    if not store.usable:
        data = load(root, display_root, rels=rels, jobs=jobs)
        return data, cross_check(data)
    index = cache.ContentIndex(root, store)
    key = cache.run_key(root, display_root, rels, index)
    data = load(root, display_root, rels=rels, jobs=jobs)
    found = cache.recall(root, key, store)
    if found is not None and cache.run_key(root, display_root, ds.discover(root), index) != key:
        found = None  # a file changed while it was being read: check what was read
    if found is None:
        found = cross_check(data)
        index.save()
        cache.remember(root, key, found, store)
    return data, found


def problems(root: Path, display_root: str | None = None, *, use_cache: bool = True, jobs: int | None = None) -> tuple[list[Problem], int, bool]:
    """Every problem of a data directory, from the cache when nothing changed: (problems, files, cached)."""
    display_root = str(root) if display_root is None else display_root
    rels = ds.discover(root)
    if not use_cache:
        return cross_check(load(root, display_root, rels=rels, jobs=jobs)), len(rels), False
    store = cache.Store(root)
    if not store.usable:
        return cross_check(load(root, display_root, rels=rels, jobs=jobs)), len(rels), False
    index = cache.ContentIndex(root, store)
    key = cache.run_key(root, display_root, rels, index)
    found = cache.recall(root, key, store)
    if found is not None:
        return found, len(rels), True
    result = cross_check(load(root, display_root, rels=rels, jobs=jobs))
    index.save()
    cache.remember(root, key, result, store)
    return result, len(rels), False


def scoped(root: Path, display_root: str | None, scope) -> tuple[list[Problem], int]:
    """What the full run reports in a pull request's changed files, and its errors in every other
    file, checking only the files the change can affect (prscope.Scope; the invariant and what it
    trusts are in prscope's docstring): (the problems, sorted; how many files were read)."""
    display_root = str(root) if display_root is None else display_root
    small = ["units.yaml", "reviewers.yaml"] + [f"campaigns/{r}" for r in ds.discover(root / "campaigns")]
    rels = sorted({r for r in small if os.path.lexists(root / r)} | set(scope.rels))
    problems = cross_check(load(root, display_root, rels=rels))
    mine = {ds.display_path(display_root, r) for r in scope.changed}
    return [p for p in problems if p.path in mine or p.severity == ERROR], len(rels)
