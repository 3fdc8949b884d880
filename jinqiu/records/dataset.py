"""Read a data tree into records: strict YAML, schema-directed types, nothing guessed."""

from __future__ import annotations

import os
import stat
import unicodedata
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import cached_property
from pathlib import Path

from . import layout, yamlstrict
from ..problems import Problem


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
                _, lines = yamlstrict.load((self.root / record.rel).read_bytes(), record.path, lines=True,
                                           max_bytes=max_bytes(record.kind))
            except (OSError, yamlstrict.YamlError):
                lines = {}
            self._lines[record.rel] = lines
        while pointer:
            if pointer in lines:
                return lines[pointer]
            pointer = pointer.rsplit("/", 1)[0]
        return lines.get("", 1)


BIG_KINDS = {"tags": 64 * 1024 * 1024}  # a year's duplicate tags (check.dupetags): ~200 bytes a record, written by the build


def max_bytes(kind) -> int:
    """The largest file of a kind the reader takes (everything a person writes: yamlstrict.MAX_BYTES)."""
    return BIG_KINDS.get(kind, yamlstrict.MAX_BYTES)


def discover(root: Path) -> list[str]:
    """Every entry under root that is, or should be, a data file, relative and sorted, skipping hidden
    ones. Links (to files or folders), pipes and other special files, and folders named like a
    data file (x.yaml/) are listed too, never followed, so that read_one names each with its reason."""
    found = []
    todo = [(str(root), "")]
    while todo:
        folder, base = todo.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            rel = f"{base}{name}"
            if entry.is_symlink():
                found.append(rel)
            elif entry.is_dir(follow_symlinks=False):
                if name.lower().endswith((".yaml", ".yml")):
                    found.append(rel)
                else:
                    todo.append((entry.path, rel + "/"))
            else:
                found.append(rel)  # a regular file, or a pipe, socket or device (read_one refuses those)
    return sorted(found)


def odd_entries(folder: Path) -> list[tuple[str, str]]:
    """(relative path, reason) for each link or special file anywhere under folder (hidden ones too)."""
    out = []
    for rel in discover_all(folder):
        reason = entry_kind(os.path.join(folder, rel))
        if reason:
            out.append((rel, reason))
    return out


def discover_all(folder: Path) -> list[str]:
    """Every entry under folder that is not a plain folder (links to folders included, not followed)."""
    found, todo = [], [(str(folder), "")]
    while todo:
        path, base = todo.pop()
        try:
            entries = list(os.scandir(path))
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                todo.append((entry.path, f"{base}{entry.name}/"))
            else:
                found.append(f"{base}{entry.name}")
    return sorted(found)


class NotRegularFile(OSError):
    """A data path that is a link, a folder or a special file: never read or written through."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def entry_kind(path: str) -> str | None:
    """None for a regular file, else what the path is, in words (it is never followed)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISREG(st.st_mode):
        return None
    if stat.S_ISLNK(st.st_mode):
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
        return f"是符号链接（指向 {target}）；数据目录里只能有普通文件，链接一概不跟随、不读取"
    if stat.S_ISDIR(st.st_mode):
        return "是一个目录，这里应是一个文件"
    what = "命名管道（FIFO）" if stat.S_ISFIFO(st.st_mode) else "套接字" if stat.S_ISSOCK(st.st_mode) else "设备文件"
    return f"是{what}，不是普通文件，未读取"


_checked_dirs: set = set()


def _parents_are_folders(root: Path, rel: str) -> None:
    """Raise NotRegularFile when a folder on the way from root to rel is a link (each checked once)."""
    parts = rel.split("/")[:-1]
    for i in range(1, len(parts) + 1):
        key = (str(root), "/".join(parts[:i]))
        if key in _checked_dirs:
            continue
        full = os.path.join(root, key[1])
        try:
            st = os.lstat(full)
        except FileNotFoundError:
            return
        if not stat.S_ISDIR(st.st_mode):
            raise NotRegularFile(f"所在的 {key[1]}/ " + (entry_kind(full) or "不是目录"))
        _checked_dirs.add(key)


def read_bytes(root: Path, rel: str) -> bytes:
    """The bytes of a regular file of the data directory, never through a link (of the file or of a
    folder above it), never from a pipe or a device."""
    _parents_are_folders(root, rel)
    full = os.path.join(root, rel)
    try:
        fd = os.open(full, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        reason = entry_kind(full)
        if reason:
            raise NotRegularFile(reason) from None
        raise exc
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise NotRegularFile(entry_kind(full) or "不是普通文件，未读取")
    with os.fdopen(fd, "rb") as f:
        return f.read()


def write_text(root: Path, rel: str, text: str) -> None:
    """Write a data file whole: into a new file beside it that then replaces it, so a link in its
    place is never written through; a link (or anything but a regular file) there is refused."""
    _parents_are_folders(root, rel)
    full = os.path.join(root, rel)
    reason = entry_kind(full)
    if reason:
        raise NotRegularFile(reason)
    folder = os.path.dirname(full)
    if not os.path.isdir(folder):
        os.makedirs(folder, exist_ok=True)
    _parents_are_folders(root, rel)
    tmp = os.path.join(folder, f".{os.path.basename(full)}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(text.encode("utf-8"))
        os.replace(tmp, full)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


RECORD_FOLDERS = ("applications/", "graduates/", "reports/", "campaigns/")
_INVISIBLE = {"Cc", "Cf", "Co", "Cs", "Zl", "Zp"}


def path_problem(rel: str) -> str | None:
    """Why a path that fits no kind of record is odd (None when it is just another file, such as a
    README at the top): odd characters in a name, or a file in a records folder that is not one."""
    for part in rel.split("/"):
        if part in ("", ".", ".."):
            return "路径里有 . 或 .. 或空的部分"
        if "\\" in part:
            return "文件名里有反斜杠 \\"
        odd = [c for c in part if unicodedata.category(c) in _INVISIBLE or c in "\u200b\u2060\ufeff"]
        if odd:
            return f"文件名里有看不见的字符或控制字符（U+{ord(odd[0]):04X}）；请重命名"
        if not unicodedata.is_normalized("NFC", part):
            return "文件名的 Unicode 不是 NFC 形式（同样的字有两种写法，git 和不同系统会当作不同的文件）；请重命名"
    name = rel.rsplit("/", 1)[-1]
    if rel.startswith(RECORD_FOLDERS) or rel.count("/") == 0 and name.lower().endswith((".yaml", ".yml")):
        if not name.endswith(".yaml"):
            return f"扩展名应为 .yaml（{name} 不会被读取）；数据目录的结构应为 {layout.EXPECTED_LAYOUT}"
        return f"不认识的数据文件位置或文件名（编号只用小写字母、数字和 -）；数据目录的结构应为 {layout.EXPECTED_LAYOUT}"
    return None


def display_path(display_root: str, rel: str) -> str:
    path = rel if display_root in ("", ".") else f"{display_root.rstrip('/')}/{rel}"
    return path if path.isascii() and path.isprintable() else _visible(path)


def _visible(path: str) -> str:
    """A path as it can be shown: invisible and control characters (a right-to-left override would
    turn the message around) written as \\u202e."""
    return "".join(f"\\u{ord(c):04x}" if unicodedata.category(c) in _INVISIBLE or c in "\u200b\u2060\ufeff" else c
                   for c in path)


def read_one(root: Path, display_root: str, rel: str, raw_out: dict | None = None):
    """Read, parse and type one file: (record, problems, line_of); nothing is raised. raw_out (a
    dict), when given, receives the bytes read under "raw"."""
    path = display_path(display_root, rel)
    kind, match = layout.classify(rel)
    if kind is None:
        odd = entry_kind(os.path.join(root, rel))
        if odd:
            return Record("other", path, rel, None), [Problem(path, 1, "", "path-not-a-file", odd)], _first_line
        why = path_problem(rel)
        if why:
            code = "layout-unknown-file" if rel.endswith((".yaml", ".yml")) else "path-odd"
            return Record("unknown", path, rel, None), [Problem(path, 1, "", code, why)], _first_line
        return Record("other", path, rel, None), [], _first_line
    parts = {k: v for k, v in match.groupdict().items() if v is not None}
    try:
        raw = read_bytes(root, rel)
        if raw_out is not None:
            raw_out["raw"] = raw
    except NotRegularFile as exc:
        return Record(kind, path, rel, None, parts), [Problem(path, 1, "", "path-not-a-file", exc.reason)], _first_line
    except OSError as exc:
        return Record(kind, path, rel, None, parts), [Problem(path, 1, "", "io-error", f"无法读取文件：{exc.strerror}")], _first_line
    return parse(raw, path, rel)


def parse(raw: bytes, path: str, rel: str):
    """Parse and type one file's bytes (a work tree's, or a blob from git): (record, problems,
    line_of); rel places it in the tree (its kind), path names it in messages; nothing is raised."""
    kind, match = layout.classify(rel)
    parts = {k: v for k, v in match.groupdict().items() if v is not None} if match else {}
    if kind is None:
        return Record("other", path, rel, None), [], _first_line
    try:
        tree, _ = yamlstrict.load(raw, path, max_bytes=max_bytes(kind))
    except yamlstrict.YamlError as exc:
        return Record(kind, path, rel, None, parts), [exc.problem()], _first_line
    lines_cache = {}

    def line_of(pointer: str) -> int:
        if "map" not in lines_cache:
            lines_cache["map"] = yamlstrict.load(raw, path, lines=True, max_bytes=max_bytes(kind))[1]
        lines = lines_cache["map"]
        while pointer and pointer not in lines:
            pointer = pointer.rsplit("/", 1)[0]
        return lines.get(pointer, 1)

    data, problems = yamlstrict.coerce(tree, layout.schema_for(kind, tree), path, line_of)
    # name the field by its label on the form, not by its place in the file
    problems = [replace(p, message=p.message.replace(f"字段 {p.pointer or '/'}：", f"“{layout.label(kind, p.pointer)}”", 1))
                for p in problems]
    return Record(kind, path, rel, data, parts), problems, line_of


def _first_line(pointer: str) -> int:
    return 1


def restrict(value, spec):
    """The part of a record's value that spec names: spec True keeps the whole value; a dict spec keeps
    those keys of a dict (each by its own spec), and nothing of anything else; a one-item list spec
    applies its item to each item of a list (keeping every item, so that positions stay). A value of
    another shape than spec expects (invalid data) is kept as it is. What the value lacks is left
    out, never filled in, so a rule reads the same from the part as from the whole."""
    if spec is True:
        return value
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            return value
        return {key: restrict(value[key], sub) for key, sub in spec.items() if key in value}
    if isinstance(spec, list):
        if not isinstance(value, list):
            return value
        return [restrict(v, spec[0]) for v in value]
    raise ValueError(f"not a spec: {spec!r}")


def merge_specs(*specs):
    """One spec naming everything any of specs names."""
    out = None
    for spec in specs:
        if out is None or spec is True or out is True:
            out = True if (spec is True or out is True) else spec
            continue
        if isinstance(out, dict) and isinstance(spec, dict):
            out = {k: merge_specs(out[k], spec[k]) if k in out and k in spec else (out.get(k) if k in out else spec[k])
                   for k in {**out, **spec}}
        elif isinstance(out, list) and isinstance(spec, list):
            out = [merge_specs(out[0], spec[0])]
        else:
            raise ValueError(f"specs disagree: {out!r} and {spec!r}")
    return out


def to_json(value):
    """A record's value as JSON that from_json gives back exactly: numbers read as Decimal stay
    Decimal (written {"$": "481.50"}), and a key that starts with $ gets one more."""
    if isinstance(value, dict):
        return {("$" + k if k.startswith("$") else k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, Decimal):
        return {"$": str(value)}
    return value


def from_json_text(text: str):
    """from_json(json.loads(text)), in one pass (the decoder calls back for each object only)."""
    import json

    if "$" not in text:
        return json.loads(text)
    return json.loads(text, object_hook=_from_json_object)


def _from_json_object(d: dict):
    if len(d) == 1 and "$" in d:
        return Decimal(d["$"])
    if any(k[:1] == "$" for k in d):
        return {(k[1:] if k[:1] == "$" else k): v for k, v in d.items()}
    return d


def from_json(value):
    if isinstance(value, dict):
        if len(value) == 1 and "$" in value:
            return Decimal(value["$"])
        return {(k[1:] if k.startswith("$") else k): from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_json(v) for v in value]
    return value
