"""validate: load every file, check it against its schema and the rules, collect every problem."""

from __future__ import annotations

import functools
import os
from pathlib import Path

from . import cache, crossrules, rules, schemacheck
from ..records import dataset as ds
from ..problems import ERROR, Problem


BULK_FOLDERS = ("applications/", "graduates/")  # the many files; everything else is small
BULK_KINDS = ("application", "graduate")


def check_file(root: Path, display_root: str, rel: str, context: ds.Dataset | None = None,
               raw_out: dict | None = None) -> tuple[ds.Record, list[Problem]]:
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
    for rule in rules.RECORD_RULES.get(record.kind, ()):
        for pointer, code, message, *severity in rule(record):
            problems.append(Problem(record.path, line_of(pointer), pointer, code, message, *(severity or [ERROR])))
    if context is not None and record.kind in BULK_KINDS:
        one = _view(context, [record])
        for rule in crossrules.LOCAL_RULES:
            for _, pointer, code, message, *severity in rule(one):
                problems.append(Problem(record.path, line_of(pointer), pointer, code, message, *(severity or [ERROR])))
    return record, problems


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
    bulk = [rel for rel in rels if rel.startswith(BULK_FOLDERS)]
    found.update(zip(bulk, cache.check_all(root, display_root, bulk, functools.partial(check_file, context=context), jobs)))
    for rel in rels:
        record, problems = found.pop(rel)
        data.records.append(record)
        data.problems.extend(problems)
    data.local_checked = True
    return data


def cross_check(data: ds.Dataset) -> list[Problem]:
    """Every problem of a loaded dataset: each file's own and those between files, sorted."""
    problems = list(data.problems)
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
