"""Read a data tree into records: strict YAML, schema-directed types, nothing guessed."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

from . import layout, yamlstrict
from .problems import Problem


@dataclass
class Record:
    """One data file: its kind, where it is, and what it holds (None when it could not be read)."""

    kind: str
    path: str  # as shown to people: the data directory as given, joined with rel
    rel: str  # relative to the data directory, with forward slashes
    data: dict | None
    parts: dict = field(default_factory=dict)  # year / unit / id taken from the path


@dataclass
class Dataset:
    """Everything in one data directory, grouped by kind."""

    root: Path
    display_root: str
    records: list[Record] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    _lines: dict = field(default_factory=dict, repr=False)
    _by_kind: dict | None = field(default=None, repr=False)

    def of(self, kind: str) -> list[Record]:
        """The readable records of one kind (indexed once: a Dataset is not changed after loading)."""
        if self._by_kind is None:
            self._by_kind = {}
            for r in self.records:
                if r.data is not None:
                    self._by_kind.setdefault(r.kind, []).append(r)
        return self._by_kind.get(kind, [])

    @property
    def applications(self) -> list[Record]:
        return self.of("application")

    @property
    def graduates(self) -> list[Record]:
        return self.of("graduate")

    @property
    def reports(self) -> list[Record]:
        return self.of("report")

    def _by_id(self, kind: str) -> dict[str, dict]:
        """The entries of a list file (units.yaml, reviewers.yaml) by id; the first of a duplicate wins."""
        out = {}
        for r in self.of(kind):
            for entry in r.data.get(kind, []):
                if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                    out.setdefault(entry["id"], entry)
        return out

    @cached_property
    def units(self) -> dict[str, dict]:
        return self._by_id("units")

    @cached_property
    def reviewers(self) -> dict[str, dict]:
        return self._by_id("reviewers")

    @cached_property
    def campaigns(self) -> dict[int, dict]:
        return {r.data["year"]: r.data for r in self.of("campaign") if isinstance(r.data.get("year"), int)}

    def line(self, record: Record, pointer: str) -> int:
        """The 1-based line of a JSON pointer in a record's file (the nearest known parent's)."""
        lines = self._lines.get(record.rel)
        if lines is None:
            try:
                _, lines = yamlstrict.load((self.root / record.rel).read_bytes(), record.path, lines=True)
            except (OSError, yamlstrict.YamlError):
                lines = {}
            self._lines[record.rel] = lines
        while pointer:
            if pointer in lines:
                return lines[pointer]
            pointer = pointer.rsplit("/", 1)[0]
        return lines.get("", 1)


def discover(root: Path) -> list[str]:
    """Every file under root, relative, sorted, skipping hidden files and directories."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        base = os.path.relpath(dirpath, root)
        for name in filenames:
            if name.startswith("."):
                continue
            rel = name if base == "." else f"{base}/{name}".replace(os.sep, "/")
            found.append(rel)
    return sorted(found)


def display_path(display_root: str, rel: str) -> str:
    return rel if display_root in ("", ".") else f"{display_root.rstrip('/')}/{rel}"


def read_one(root: Path, display_root: str, rel: str):
    """Read, parse and type one file: (record, problems, line_of); nothing is raised."""
    path = display_path(display_root, rel)
    kind, match = layout.classify(rel)
    if kind is None:
        if rel.endswith((".yaml", ".yml")):
            return Record("unknown", path, rel, None), [
                Problem(path, 1, "", "layout-unknown-file", f"不认识的数据文件位置；数据目录的结构应为 {layout.EXPECTED_LAYOUT}")
            ], _first_line
        return Record("other", path, rel, None), [], _first_line
    parts = {k: v for k, v in match.groupdict().items() if v is not None}
    try:
        raw = (root / rel).read_bytes()
        tree, _ = yamlstrict.load(raw, path)
    except OSError as exc:
        return Record(kind, path, rel, None, parts), [Problem(path, 1, "", "io-error", f"无法读取文件：{exc.strerror}")], _first_line
    except yamlstrict.YamlError as exc:
        return Record(kind, path, rel, None, parts), [exc.problem()], _first_line
    lines_cache = {}

    def line_of(pointer: str) -> int:
        if "map" not in lines_cache:
            lines_cache["map"] = yamlstrict.load(raw, path, lines=True)[1]
        lines = lines_cache["map"]
        while pointer and pointer not in lines:
            pointer = pointer.rsplit("/", 1)[0]
        return lines.get(pointer, 1)

    data, problems = yamlstrict.coerce(tree, layout.schema(kind), path, line_of)
    # name the field by its label on the form, not by its place in the file
    problems = [replace(p, message=p.message.replace(f"字段 {p.pointer or '/'}：", f"“{layout.label(kind, p.pointer)}”", 1))
                for p in problems]
    return Record(kind, path, rel, data, parts), problems, line_of


def _first_line(pointer: str) -> int:
    return 1
