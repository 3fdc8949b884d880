"""Pull-request mode: which files a change can affect, so that validate and verify check those
instead of every file of a large tree.

Invariant (each part has a test in tests/test_prscope.py). Given that the merge base of the base
branch and HEAD passed the full run (no error from `validate` and `verify`: the push job on the base
branch and every publish run check everything), the scoped run reports exactly the problems the full
run on the work tree reports in the changed files, and exactly the errors the full run reports in any
other file. It never reports fewer errors than the full run. One difference in wording, not in
outcome: an approval entry carrying the digest of another record's content that no file names (only
someone computing it on purpose writes that) is "approval-copied" in the full run and
"approval-digest-mismatch" in the scoped one, an error in both.

Why that holds. A file's problems come from its own content (checked in full) and from the rules
between files: the same child aided twice or given 新生资助 twice (the student's ID number, or the
worker's ID number with the student's name), a graduate registered twice (the graduate's ID number),
and a continuing application's link to an earlier record (`continues` = that record's `id`); verify
adds the approval copied from another record (its `digest`), and the continuing record's reliance on
the status of the record it continues. Every one of these joins two records on a value: an exact
string (`id`, `continues`, a digest) or a person's ID number compared in canonical form
(jinqiu.check.identity: full-width digits, spaces, invisible characters and a trailing line break
look the same), always with an ID number in the key (a name alone joins nothing). Because the merge
base passed, no two unchanged records join; so every join involves a changed record (or the old
version of one: a record deleted, renamed or edited), and the other side passed validate, so its ID
numbers are 18 plain ASCII characters (the schema's pattern; at most a line break after them) and
its text holds the canonical form of the value as it is: YAML writes a string's characters as they
are, except in a double-quoted scalar, which may spell any character as an escape (so every file
holding a backslash is a candidate too) or fold a line (a space: the search looks for the longest
piece of the value between spaces and quotes). Anchors, aliases and tags are refused by the loader.
So `git grep -F` for the values as written in the changed records and for the canonical form of
their ID numbers (a changed record may disguise one: "２１０２…", "2102… " — invalid there, but the
full run still reports the duplicate in the unchanged file too) finds every file that can join a
changed record; the scope is the changed files,
those candidates, the records that continue one of them (followed until none is added) and the
records each of them continues (followed to the first year), plus the small files (units,
reviewers, campaigns) read whole.

Anything else changed under the data directory (units.yaml, reviewers.yaml, campaigns/, the root
file, an unknown file), a .gitattributes anywhere (it changes the bytes a checkout writes), a base
that cannot be found (a shallow clone, an unknown commit) or a scope too large to be worth it makes
the full run, and the message says why.

What the scoped run trusts: that the base passed the full run (a direct push that skipped the push
job would break this; the full run on the base branch reports it); and, as every run does, the code
that judges (taken from the base branch in the pull-request workflow). A web review (forge) of an
unchanged record is not asked again: the forge can withdraw it any time, which the push run sees.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from ..check import identity
from ..records import yamlstrict
from . import gitlog

SCOPED_DIRS = ("applications/", "graduates/", "reports/")
JOINED_DIRS = ("applications/", "graduates/")  # the records rules join across files
MAX_CANDIDATES = 5000  # more than this: the full run is as quick
_PIECES = re.compile(r"[\s'\"]+")


class FullRun(Exception):
    """The scoped run cannot stand for the full run here; the message (Chinese) says why."""


@dataclass
class Scope:
    repo: Path
    prefix: str  # the data directory relative to the repository root ("" for the root)
    base: str  # the merge base the change is measured from
    changed: list[str]  # paths relative to the data directory: added, edited, deleted (old names too)
    related: list[str] = field(default_factory=list)  # unchanged records a change can affect or rest on

    @property
    def rels(self) -> list[str]:
        """The changed files that exist and the related ones, sorted as discover sorts them."""
        return sorted({r for r in self.changed if _listed(self.repo / self.in_repo(r))} | set(self.related))

    def in_repo(self, rel: str) -> str:
        return f"{self.prefix}/{rel}" if self.prefix else rel


def _listed(path: Path) -> bool:
    """Would discover list this entry? (It lists links, files and folders named like a data file.)"""
    if path.is_symlink():
        return True
    if path.is_dir():
        return path.name.lower().endswith((".yaml", ".yml"))
    return os.path.lexists(path)


def _z(out: bytes) -> list[str]:
    return [p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p]


def _hidden(rel: str) -> bool:
    return any(part.startswith(".") for part in rel.split("/"))


def changed(repo: Path, prefix: str, base: str, records_only: bool = True) -> tuple[str, list[str]]:
    """(the merge base of base and HEAD, every path under the data directory that differs between it
    and the work tree or that a commit since it touched, relative to the data directory).
    Raise FullRun when the change cannot be scoped (records_only: when a file other than a record changed)."""
    try:
        if gitlog.git(repo, "rev-parse", "--is-shallow-repository").strip() == b"true":
            raise FullRun("仓库是浅克隆（shallow clone），历史不全，无法确定改动范围")
        mb = gitlog.git(repo, "merge-base", base, "HEAD").decode().strip()
    except gitlog.GitError as exc:
        raise FullRun(f"找不到 {base} 与当前提交的共同祖先（{exc}）") from None
    paths = set(_z(gitlog.git(repo, "diff", "--name-only", "--no-renames", "-z", mb)))  # mb against the work tree
    paths |= set(_z(gitlog.git(repo, "log", "--format=", "--name-only", "--no-renames", "-z", f"{mb}..HEAD")))
    paths |= set(_z(gitlog.git(repo, "ls-files", "-z", "--others", "--", prefix or ".")))  # untracked and ignored
    out, plen = set(), len(prefix) + 1 if prefix else 0
    for p in sorted(paths):
        if p.rsplit("/", 1)[-1] in (".gitattributes", ".gitmodules"):
            raise FullRun(f"改动了 {p}（它会改变检出的文件内容）")
        if prefix and not p.startswith(prefix + "/"):
            continue  # outside the data directory: code and docs are not data (the judging code is the base's)
        rel = p[plen:]
        if _hidden(rel):
            continue  # discover skips hidden entries too
        if records_only and not rel.startswith(SCOPED_DIRS):
            raise FullRun(f"改动了 {rel}（只有 applications/、graduates/、reports/ 下的改动按改动范围检查）")
        out.add(rel)
    return mb, sorted(out)


def join_values(data) -> set[str]:
    """The values by which other records can join this one (see the module's docstring)."""
    if not isinstance(data, dict):
        return set()
    out = set()
    for value in (data.get("id"), data.get("continues")):
        if isinstance(value, str) and value:
            out.add(value)
    for part in ("student", "worker", "graduate"):
        value = (data.get(part) or {}).get("id_number") if isinstance(data.get(part), dict) else None
        if isinstance(value, str) and value:
            out.add(value)
            if identity.canonical(value):
                out.add(identity.canonical(value))  # what the rules compare, and what a valid record holds
    return out


def pattern(value: str) -> str:
    """The longest piece of a value that any spelling of it without a backslash contains as it is."""
    pieces = [p for p in _PIECES.split(value) if p]
    if not pieces:
        raise FullRun("改动的记录中有只由空格或引号组成的编号，无法按改动范围查找")
    return max(pieces, key=len)


def grep(repo: Path, prefix: str, values, dirs=JOINED_DIRS) -> set[str]:
    """The tracked files under dirs whose text holds one of the values, or a backslash; relative to
    the data directory. (Exact text, for values given as written and in canonical form: the only
    letter an ID number holds is an upper-case X in a valid file, so a case-insensitive search,
    several times slower, would find nothing more that matters.)"""
    values = sorted(set(values))
    if not values:
        return set()
    args = ["grep", "-F", "-l", "-z", "--no-color", "--full-name", "-e", "\\"]
    for v in sorted({pattern(v) for v in values}):
        args += ["-e", v]
    spec = [f"{prefix}/{d}" if prefix else d for d in dirs]
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", LC_ALL="C")
    proc = subprocess.run(["git", "-C", str(repo), *args, "--", *spec], capture_output=True, env=env)
    if proc.returncode == 1 and not proc.stderr:
        return set()  # nothing matched
    if proc.returncode != 0:
        raise FullRun(f"无法在数据中查找（git grep：{proc.stderr.decode(errors='replace').strip()}）")
    out = proc.stdout
    plen = len(prefix) + 1 if prefix else 0
    return {p[plen:] for p in _z(out)}


def _year_dirs(root: Path) -> list[str]:
    """applications/<年度>/ for every year folder there is."""
    try:
        return sorted(f"applications/{e.name}/" for e in os.scandir(root / "applications")
                      if e.is_dir(follow_symlinks=False) and e.name.isdigit() and len(e.name) == 4)
    except OSError:
        return []


def old_versions(repo: Path, prefix: str, base: str, rels: list[str]) -> dict[str, object]:
    """{rel: the file's tree at base} for those of rels that existed there and read as YAML."""
    specs = [f"{base}:{prefix}/{r}" if prefix else f"{base}:{r}" for r in rels]
    if not specs:
        return {}
    h = gitlog.History(repo, prefix, base)
    raw = h.read(specs)
    out = {}
    for rel, spec in zip(rels, specs):
        if spec in raw:
            try:
                out[rel], _ = yamlstrict.load(raw[spec], rel)
            except yamlstrict.YamlError:
                pass
    return out


def previous_path(root: Path, record_id: str) -> str | None:
    """Where the record with this id lives when its path matches it (applications/<年度>/<工会>/<id>.yaml,
    the id beginning with <年度>-<工会>-); None when there is no such file."""
    year = record_id[:4]
    if not (year.isdigit() and record_id[4:5] == "-"):
        return None
    folder = root / "applications" / year
    try:
        units = [e.name for e in os.scandir(folder) if e.is_dir(follow_symlinks=False)]
    except OSError:
        return None
    for unit in units:
        rel = f"applications/{year}/{unit}/{record_id}.yaml"
        if record_id.startswith(f"{year}-{unit}-") and (root / rel).is_file():
            return rel
    return None


def _entry_digests(data) -> set[str]:
    listed = data.get("approvals") if isinstance(data, dict) else None
    return {e["digest"] for e in listed if isinstance(e, dict) and isinstance(e.get("digest"), str) and e["digest"]} \
        if isinstance(listed, list) else set()


def locate(root: Path) -> tuple[Path, str]:
    """(the repository's work tree root, the data directory relative to it); FullRun outside git."""
    repo = gitlog.toplevel(Path(root))
    if repo is None:
        raise FullRun("数据目录不在 git 仓库中，无法确定改动范围")
    prefix = Path(root).resolve().relative_to(Path(repo).resolve()).as_posix()
    return Path(repo), "" if prefix == "." else prefix


def build(root: Path, base: str, *, chains: bool = True) -> Scope:
    """The scope of the change from base (a commit, branch or tag) to the work tree of the data
    directory root. Raise FullRun when only the full run will do. chains=False: only the records
    that continue a changed one, not those continuing them in turn (validate's rules look one link
    back; verify's status of a continuing record rests on the whole chain)."""
    from ..records import dataset as ds
    from . import digest

    root = Path(root)
    repo, prefix = locate(root)
    mb, rels = changed(repo, prefix, base)
    scope = Scope(Path(repo), prefix, mb, rels)
    data: dict[str, object] = {}  # rel -> the record's typed data (None: unreadable)

    def parse(new) -> None:
        for rel in sorted(set(new) - set(data)):
            data[rel] = ds.read_one(root, "", rel)[0].data if os.path.lexists(root / rel) else None

    parse(rels)
    old = old_versions(Path(repo), prefix, mb, rels)
    values, reached = set(), set()
    for rel in rels:
        for d in (data[rel], old.get(rel)):
            values |= join_values(d) | _entry_digests(d)
            if isinstance(d, dict) and isinstance(d.get("id"), str):
                reached.add(d["id"])
        if isinstance(data[rel], dict) and rel.startswith("applications/"):
            values.add(digest.of(data[rel]))  # an approval elsewhere that names this content (approval-copied)
    related = grep(Path(repo), prefix, values) - set(rels)

    def grow(found) -> None:
        related.update(set(found) - set(rels))
        if len(related) > MAX_CANDIDATES:
            raise FullRun(f"改动可能影响 {len(related)} 个以上的文件，全部检查")
        parse(found)

    grow(related)
    # records that continue a changed record, and the ones continuing those, ...
    while chains:
        links = {r for r in related if isinstance(data.get(r), dict) and data[r].get("continues") in reached
                 and isinstance(data[r].get("id"), str) and data[r]["id"] not in reached}
        if not links:
            break
        ids = {data[r]["id"] for r in links}
        reached |= ids
        # a record continues an earlier year's only (validate says so of every other; the base has none)
        first = min((data[r].get("year") for r in links if isinstance(data[r].get("year"), int)), default=None)
        later = [d for d in _year_dirs(root) if first is None or int(d.split("/")[1]) > first]
        grow(grep(Path(repo), prefix, ids, later) if later else set())
    # ... and every record one of them continues, to the first year
    known = {d.get("id") for d in data.values() if isinstance(d, dict)}
    todo = [d.get("continues") for d in data.values() if isinstance(d, dict)]
    while todo:
        link = todo.pop()
        if not isinstance(link, str) or link in known:
            continue
        known.add(link)
        rel = previous_path(root, link)
        if rel is not None and rel not in data:
            grow([rel])
            if isinstance(data[rel], dict):
                todo.append(data[rel].get("continues"))
    scope.related = sorted(related)
    return scope
