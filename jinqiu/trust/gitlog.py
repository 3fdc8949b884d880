"""Read a repository's history once: every commit with its parents and claimed date, the files each
non-merge commit changed under the data directory (with blob ids), and, on request, the exact
commit objects (with their signatures) and blobs, through one `git cat-file --batch` process."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

SIG_HEADERS = (b"gpgsig", b"gpgsig-sha256")


class GitError(Exception):
    """git could not be run or the directory is not in a repository."""


def git(repo: Path, *args: str, input: bytes | None = None) -> bytes:
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0", LC_ALL="C")
    proc = subprocess.run(["git", "-C", str(repo), *args], input=input, capture_output=True, env=env)
    if proc.returncode != 0:
        raise GitError(proc.stderr.decode(errors="replace").strip() or f"git {args[0]} 失败")
    return proc.stdout


def toplevel(path: Path) -> Path | None:
    """The work tree root of the repository that holds path, or None."""
    try:
        return Path(git(path, "rev-parse", "--show-toplevel").decode().strip())
    except (GitError, OSError):
        return None


def head(repo: Path) -> str | None:
    try:
        return git(repo, "rev-parse", "--verify", "-q", "HEAD").decode().strip()
    except GitError:
        return None


@dataclass
class Commit:
    """One commit object, split into what was signed and the signature."""

    oid: str
    parents: list[str]
    author: str
    committer: str
    committer_time: int
    message: str
    payload: bytes  # the object without its signature header: what the signature covers
    signature: bytes | None

    @property
    def author_name(self) -> str:
        return self.author.split(" <", 1)[0]

    @property
    def committer_name(self) -> str:
        return self.committer.split(" <", 1)[0]


def parse_commit(oid: str, raw: bytes) -> Commit:
    """Split a raw commit object into its headers, message, signed payload and signature."""
    head_end = raw.find(b"\n\n")
    header, message = (raw, b"") if head_end < 0 else (raw[:head_end], raw[head_end + 2:])
    kept, sig, in_sig = [], [], False
    parents, author, committer = [], "", ""
    for line in header.split(b"\n"):
        if in_sig and line.startswith(b" "):
            sig.append(line[1:])
            continue
        in_sig = False
        name, _, value = line.partition(b" ")
        if name in SIG_HEADERS:
            in_sig = True
            sig.append(value)
            continue
        kept.append(line)
        if name == b"parent":
            parents.append(value.decode())
        elif name == b"author":
            author = value.decode(errors="replace")
        elif name == b"committer":
            committer = value.decode(errors="replace")
    try:
        ctime = int(committer.rsplit(" ", 2)[-2])
    except (IndexError, ValueError):
        ctime = 0
    payload = b"\n".join(kept) + (b"\n\n" + message if head_end >= 0 else b"")
    return Commit(oid, parents, author, committer, ctime, message.decode(errors="replace"), payload,
                  b"\n".join(sig) if sig else None)


@dataclass
class History:
    """The commits reachable from HEAD, oldest first, and what each changed under the data dir."""

    repo: Path
    prefix: str  # the data directory relative to the repository root, "" for the root itself
    head: str
    order: list[str] = field(default_factory=list)  # topological, parents first
    parents: dict[str, list[str]] = field(default_factory=dict)
    claimed: dict[str, int] = field(default_factory=dict)  # committer timestamp as written
    changes: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # rel -> [(commit, blob)], oldest first
    touched: dict[str, list[str]] = field(default_factory=dict)  # commit -> rels it changed
    _effective: dict[str, int] = field(default_factory=dict)
    _ancestors: dict[str, set] = field(default_factory=dict)
    _batch: subprocess.Popen | None = None
    limited: bool = False  # read for some paths only (load(paths=...)): changes and touched hold only those

    def effective_time(self, oid: str) -> int:
        """The earliest time the commit can have been made: its claimed date, but never before any
        commit it builds on (a backdated commit cannot be older than its parents)."""
        return self._effective.get(oid, self.claimed.get(oid, 0))

    def read(self, oids: list[str]) -> dict[str, bytes]:
        """The raw objects (commits or blobs) for many ids, through one cat-file process."""
        if not oids:
            return {}
        out = git(self.repo, "cat-file", "--batch", input=("\n".join(oids) + "\n").encode())
        result, pos = {}, 0
        for oid in oids:
            nl = out.index(b"\n", pos)
            header = out[pos:nl].split(b" ")
            if len(header) < 3:  # "<oid> missing"
                pos = nl + 1
                continue
            size = int(header[2])
            result[oid] = out[nl + 1:nl + 1 + size]
            pos = nl + 1 + size + 1
        return result

    def merge_changes(self, rels: list[str]) -> dict[str, dict[str, str | None]]:
        """For every merge commit whose result differs from its FIRST parent in one of rels (paths
        under the data directory; a directory ends with "/"): {merge: {rel: blob or None}}."""
        spec = [f"{self.prefix}/{r}" if self.prefix else r for r in rels]
        out = git(self.repo, "log", "--merges", "--full-history", "--diff-merges=first-parent", "--no-renames", "--raw",
                  "--no-abbrev", "--format=%x01%H", "-z", self.head, "--", *spec)
        found: dict[str, dict[str, str | None]] = {}
        plen = len(self.prefix) + 1 if self.prefix else 0
        cur, fields, i = None, out.split(b"\0"), 0
        while i < len(fields):
            f = fields[i].lstrip(b"\n")
            if f.startswith(b"\x01"):
                cur = f[1:].strip().decode()
            elif f.startswith(b":") and cur and i + 1 < len(fields):
                meta = f.split(b" ")
                found.setdefault(cur, {})[fields[i + 1].decode()[plen:]] = None if meta[4][:1] == b"D" else meta[3].decode()
                i += 1
            i += 1
        return found

    def ancestors(self, oid: str) -> set[str]:
        """Every commit oid builds on (not oid itself), from the parents read at load."""
        memo = self._ancestors.get(oid)
        if memo is None:
            memo, todo = set(), list(self.parents.get(oid, []))
            while todo:
                c = todo.pop()
                if c not in memo:
                    memo.add(c)
                    todo.extend(self.parents.get(c, []))
            self._ancestors[oid] = memo
        return memo

    def touches(self, oid: str, dirs: tuple[str, ...]) -> bool:
        """Did this non-merge commit change a file under one of dirs (relative to the data directory,
        each ending with "/")? Merges count as changing nothing, as in `touched`. When the history
        was read for some paths only, git answers (stopping at the first such file)."""
        if not self.limited:
            return any(rel.startswith(dirs) for rel in self.touched.get(oid, []))
        if len(self.parents.get(oid, [])) > 1:
            return False
        spec = [f"{self.prefix}/{d}" if self.prefix else d for d in dirs]
        env = dict(os.environ, GIT_TERMINAL_PROMPT="0", LC_ALL="C")
        proc = subprocess.run(["git", "-C", str(self.repo), "diff-tree", "--quiet", "-r", "--root", "--no-renames", oid, "--", *spec],
                              capture_output=True, env=env)
        if proc.returncode not in (0, 1):
            raise GitError(proc.stderr.decode(errors="replace").strip() or "git diff-tree 失败")
        return proc.returncode == 1

    def commits(self, oids) -> dict[str, Commit]:
        oids = sorted(set(oids))
        return {oid: parse_commit(oid, raw) for oid, raw in self.read(oids).items()}


def load(repo: Path, prefix: str, paths: list[str] | None = None) -> History | None:
    """Read the history of HEAD once; None when there is no commit yet. With paths (relative to
    the data directory; a folder ends with "/"), `changes` and `touched` hold only those paths
    (History.touches answers for the others)."""
    top = head(repo)
    if top is None:
        return None
    h = History(repo, prefix.strip("/"), top)
    for line in git(repo, "rev-list", "--topo-order", "--reverse", "--parents", "--timestamp", "HEAD").split(b"\n"):
        if not line:
            continue
        ts, oid, *parents = line.decode().split(" ")
        h.order.append(oid)
        h.parents[oid] = parents
        h.claimed[oid] = int(ts)
        h._effective[oid] = max([int(ts)] + [h._effective.get(p, 0) for p in parents])
    # Non-merge commits with the files they changed under the data directory, oldest first.
    pathspec = [h.prefix] if h.prefix else ["."]
    if paths is not None:
        pathspec = [f"{h.prefix}/{p}" if h.prefix else p for p in paths] or [f"{h.prefix}/.nothing" if h.prefix else ".nothing"]
    out = git(repo, "log", "--reverse", "--topo-order", "--full-history", "--no-renames", "--raw", "--no-abbrev",
              "--format=%x01%H", "-z", "HEAD", "--", *pathspec)
    _read_raw_log(h, out)
    h.limited = paths is not None
    return h


def _read_raw_log(h: History, out: bytes) -> None:
    """Fill h.touched and h.changes from `git log --raw -z --format=%x01%H` output."""
    cur = None
    fields = out.split(b"\0")
    i = 0
    plen = len(h.prefix) + 1 if h.prefix else 0
    while i < len(fields):
        f = fields[i]
        if f.startswith(b"\n"):
            f = f[1:]
        if f.startswith(b"\x01"):
            cur = f[1:].strip().decode()
            h.touched.setdefault(cur, [])
            i += 1
            continue
        if f.startswith(b":"):
            meta = f.split(b" ")
            blob, status = meta[3].decode(), meta[4][:1]
            path = fields[i + 1].decode()
            i += 2
            rel = path[plen:]
            h.touched[cur].append(rel)
            h.changes.setdefault(rel, []).append((cur, None if status == b"D" else blob))
            continue
        i += 1
