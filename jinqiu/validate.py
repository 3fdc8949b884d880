"""validate: load every file, check it against its schema and the rules, collect every problem."""

from __future__ import annotations

import os
from pathlib import Path

from . import cache, rules, schemacheck
from . import dataset as ds
from .problems import ERROR, Problem


def check_file(root: Path, display_root: str, rel: str) -> tuple[ds.Record, list[Problem]]:
    """Read one file and check everything about it that needs no other file."""
    record, problems, line_of = ds.read_one(root, display_root, rel)
    if record.data is None or record.kind not in ds.layout.KINDS:
        return record, problems
    mistyped = {p.pointer for p in problems}  # the loader already said what is wrong with these
    for pointer, code, message in schemacheck.check(record.kind, record.data):
        if not (code == "schema-type" and pointer in mistyped):
            problems.append(Problem(record.path, line_of(pointer), pointer, code, message))
    for rule in rules.RECORD_RULES.get(record.kind, ()):
        for pointer, code, message, *severity in rule(record):
            problems.append(Problem(record.path, line_of(pointer), pointer, code, message, *(severity or [ERROR])))
    return record, problems


def load(root: Path, display_root: str | None = None, *, rels: list[str] | None = None, jobs: int | None = None) -> ds.Dataset:
    """Every record of a data directory, with the problems each file has on its own."""
    display_root = str(root) if display_root is None else display_root
    data = ds.Dataset(root=root, display_root=display_root)
    rels = ds.discover(root) if rels is None else rels
    for record, problems in cache.check_all(root, display_root, rels, check_file, jobs):
        data.records.append(record)
        data.problems.extend(problems)
    return data


def cross_check(data: ds.Dataset) -> list[Problem]:
    """Every problem of a loaded dataset: each file's own and those between files, sorted."""
    problems = list(data.problems)
    for rule in rules.DATASET_RULES:
        for record, pointer, code, message, *severity in rule(data):
            problems.append(Problem(record.path, data.line(record, pointer), pointer, code, message, *(severity or [ERROR])))
    return sorted(set(problems))


def run(root: Path, display_root: str | None = None, *, jobs: int | None = None) -> tuple[ds.Dataset, list[Problem]]:
    """Load and check a whole data directory: (the dataset, every problem, sorted)."""
    data = load(root, display_root, jobs=jobs)
    return data, cross_check(data)


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
