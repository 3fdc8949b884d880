"""Run the per-file checks on every core, and remember a whole run's result by content.

The result of `validate` depends only on the bytes of the data files, on their paths, and on
the code and schemas that check them. A run records a digest of all of that; the next run
recomputes the digest (re-hashing every file whose size, times or inode changed, and every file
touched too recently for its time stamp to be trusted, as git does) and, when nothing differs,
returns the recorded problems. Any difference means a full check.

What a cache may never do (the invariants, each with a test):
- execute anything: it is JSON, read with json.loads, never pickle;
- be taken from the data: it lives outside every work tree, in the repository's git directory
  (which no commit can write) or, for data outside git, in $XDG_CACHE_HOME/jinqiu; a location
  that lies inside a work tree (a tracked or committable path) is never read or written;
- vouch for content it was not made from: each file holds the digest of every input (file
  contents and paths, the code, the schemas) it speaks for, and is used only when that matches;
- hide an error: each file carries an HMAC made with a per-user secret (0600, in the user's cache
  directory, never in a repository); a forged, copied, corrupt or edited file fails the check and
  costs one full recheck, nothing more.

`Store(root)` is the small API for other stages: `get(kind, key)` / `put(kind, key, value)` of a
JSON value under a content key (see `content_key`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import multiprocessing
import os
import stat
import secrets
import subprocess
import time
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]  # the whole jinqiu package
SERIAL_BELOW = 400  # files; below this a process pool costs more than it saves
RACY_SECONDS = 2
FORMAT = "jinqiu-cache-2"
MAX_BYTES = 1 << 30  # a cache file larger than this is not read


def code_version() -> str:
    """A digest of the checking code and the schemas."""
    h = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")) + sorted(layout_schema_dir().glob("*.json")):
        h.update(path.relative_to(PACKAGE.parent).as_posix().encode() + b"\0")
        h.update(path.read_bytes())
    return h.hexdigest()


def layout_schema_dir() -> Path:
    from ..records.layout import SCHEMA_DIR

    return SCHEMA_DIR


def user_cache_home() -> Path:
    """$XDG_CACHE_HOME/jinqiu (default ~/.cache/jinqiu)."""
    base = os.environ.get("XDG_CACHE_HOME") or ""
    if not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "jinqiu"


def _git(cwd: Path, *args: str) -> str | None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    try:
        p = subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True, env=env)
    except OSError:
        return None
    return p.stdout.strip() if p.returncode == 0 else None


def _existing_parent(path: Path) -> Path:
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


def in_work_tree(path: Path) -> bool:
    """Is this location (or where it would be created) inside a git work tree? Such a path can be
    committed, so a cache there could come from whoever wrote the data."""
    return _git(_existing_parent(path), "rev-parse", "--is-inside-work-tree") == "true"


def cache_dir(root: Path) -> Path | None:
    """Where the cache of a data directory lives: <git dir>/jinqiu-cache when the data is in a git
    repository, else $XDG_CACHE_HOME/jinqiu/trees/<digest of its path>; None when that place lies
    inside a work tree (then nothing is cached)."""
    root = Path(root).resolve()
    git_dir = _git(root, "rev-parse", "--absolute-git-dir")
    place = Path(git_dir) / "jinqiu-cache" if git_dir else user_cache_home() / "trees" / name_of(root)
    return None if in_work_tree(place) else place


def _secret() -> bytes | None:
    """The per-user key of the caches' HMACs: made once, 0600, in the user's cache directory, and
    never inside a work tree; None when no such key can be had (then nothing is cached)."""
    home = user_cache_home()
    path = home / "cache-key"
    try:
        if in_work_tree(home):
            return None
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not path.exists():
            tmp = home / f"cache-key.{os.getpid()}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
            try:
                os.link(tmp, path)  # never replaces a key another process made first
            except FileExistsError:
                pass
            finally:
                os.unlink(tmp)
        st = os.stat(path, follow_symlinks=False)
        if not (st.st_mode & 0o170000 == 0o100000 and st.st_uid == os.getuid() and st.st_mode & 0o077 == 0):
            return None  # not a plain file of ours that only we can read
        key = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return bytes.fromhex(key) if len(key) == 64 and all(c in "0123456789abcdef" for c in key) else None


class Store:
    """JSON values kept by kind and content key in a data directory's cache, each file bound by an
    HMAC to this user's secret: get() returns only what put() stored for exactly that key."""

    def __init__(self, root: Path):
        self.dir = cache_dir(root)
        self.secret = _secret() if self.dir is not None else None

    @property
    def usable(self) -> bool:
        return self.dir is not None and self.secret is not None

    def path(self, kind: str) -> Path | None:
        return self.dir / f"{kind}.json" if self.dir is not None else None

    def _mac(self, body: bytes) -> str:
        return hmac.new(self.secret, body, hashlib.sha256).hexdigest()

    def get(self, kind: str, key: str):
        """The value stored for (kind, key), or None: missing, unreadable, forged, or for other content."""
        if not self.usable:
            return None
        try:
            with open(self.path(kind), "rb") as f:
                raw = f.read(MAX_BYTES + 1)
        except OSError:
            return None
        mac, _, body = raw.partition(b"\n")
        if key.encode() not in body[:len(kind) + len(key) + 200]:  # put writes format, kind and key first:
            return None  # another key's value is not worth its HMAC and parse (100,000 statuses are 30 MB)
        if len(raw) > MAX_BYTES or not hmac.compare_digest(mac, self._mac(body).encode()):
            return None
        try:
            doc = json.loads(body)
        except (ValueError, RecursionError):
            return None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("kind") != kind or doc.get("key") != key:
            return None
        return doc.get("value")

    def put(self, kind: str, key: str, value) -> None:
        """Store a JSON value (atomically); a cache that cannot be written only costs time."""
        if not self.usable:
            return
        body = json.dumps({"format": FORMAT, "kind": kind, "key": key, "value": value},
                          ensure_ascii=False, separators=(",", ":")).encode()
        path = self.path(kind)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            with open(tmp, "wb") as f:
                f.write(self._mac(body).encode() + b"\n" + body)
            os.replace(tmp, path)
        except OSError:
            pass


    def put_bytes(self, kind: str, key: str, data: bytes) -> None:
        """Store bytes (a file another library reads) under (kind, key), bound by the HMAC like put()."""
        if not self.usable:
            return
        path = self.dir / f"{kind}.bin"
        head = json.dumps({"format": FORMAT, "kind": kind, "key": key, "size": len(data)}).encode()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            with open(tmp, "wb") as f:
                f.write(self._mac(head + b"\n" + data).encode() + b"\n" + head + b"\n" + data)
            os.replace(tmp, path)
        except OSError:
            pass

    def get_bytes(self, kind: str, key: str) -> bytes | None:
        """The bytes put_bytes stored for exactly (kind, key), or None (missing, forged, another key's)."""
        if not self.usable:
            return None
        try:
            with open(self.dir / f"{kind}.bin", "rb") as f:
                raw = f.read(MAX_BYTES + 1)
        except OSError:
            return None
        mac, _, rest = raw.partition(b"\n")
        head, _, data = rest.partition(b"\n")
        if len(raw) > MAX_BYTES or key.encode() not in head or not hmac.compare_digest(mac, self._mac(rest).encode()):
            return None
        try:
            doc = json.loads(head)
        except ValueError:
            return None
        if doc != {"format": FORMAT, "kind": kind, "key": key, "size": len(data)}:
            return None
        return data


def name_of(root: Path) -> str:
    return hashlib.sha256(str(Path(root).resolve()).encode()).hexdigest()[:16]


class ContentIndex:
    """File digests remembered by (size, mtime, ctime, inode) so that an unchanged tree is not read again.

    Each entry is one string, "<size>:<mtime_ns>:<ctime_ns>:<inode>:<digest>" (a list per file
    costs twice the time to load at 100,000 files)."""

    def __init__(self, root: Path, store: Store | None = None):
        self.root = root
        self.store = store or Store(root)
        self.kind = f"stat-{name_of(root)}"
        saved = self.store.get(self.kind, "stat-2")
        self.written_at, self.entries = 0.0, {}
        if isinstance(saved, dict) and isinstance(saved.get("entries"), dict):
            self.written_at = float(saved.get("written_at") or 0)
            self.entries = saved["entries"]

    def digests(self, rels: list[str]) -> dict[str, str]:
        fresh, out = {}, {}
        base = os.path.join(os.fspath(self.root), "")
        known_entries, trusted_before = self.entries, int((self.written_at - RACY_SECONDS) * 1e9)
        lstat, is_reg = os.lstat, stat.S_ISREG
        for rel in rels:
            full = base + rel
            st = lstat(full)
            if not is_reg(st.st_mode):  # a link, folder or pipe: never opened (read_one refuses it)
                target = os.readlink(full) if stat.S_ISLNK(st.st_mode) else ""
                out[rel] = digest = f"not-a-file:{st.st_mode:o}:{target}"
                fresh[rel] = f"{st.st_mode}:0:0:0:{digest}"
                continue
            key = f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}:"  # ctime: utime cannot fake it
            known = known_entries.get(rel)
            if (isinstance(known, str) and known.startswith(key) and len(known) == len(key) + 32
                    and st.st_mtime_ns < trusted_before and st.st_ctime_ns < trusted_before):
                out[rel] = known[len(key):]
                fresh[rel] = known
                continue
            with open(full, "rb") as f:
                out[rel] = digest = hashlib.blake2b(f.read(), digest_size=16).hexdigest()
            fresh[rel] = key + digest
        self.entries = fresh
        return out

    def save(self) -> None:
        self.store.put(self.kind, "stat-2", {"written_at": time.time(), "entries": self.entries})


def content_key(root: Path, display_root: str, rels: list[str], index: ContentIndex, *extra: str) -> str:
    """The digest of everything a run over these files depends on: code and schemas, the name the
    data is shown under, each file's path and content digest, and any extra parts."""
    h = hashlib.sha256()
    for part in (code_version(), display_root, *extra):
        h.update(part.encode() + b"\0")
    h.update("".join(f"{rel}\0{digest}\n" for rel, digest in sorted(index.digests(rels).items())).encode())
    return h.hexdigest()


def run_key(root: Path, display_root: str, rels: list[str], index: ContentIndex) -> str:
    """The digest of everything a validate run's result depends on."""
    return content_key(root, display_root, rels, index, "validate")


def _problem_rows(problems) -> list:
    return [astuple_problem(p) for p in problems]


def recall(root: Path, key: str, store: Store | None = None):
    """The problems a run with this key found, or None."""
    from ..problems import Problem

    rows = (store or Store(root)).get(f"validate-{name_of(root)}", key)
    if not isinstance(rows, list):
        return None
    try:
        out = []
        for row in rows:
            path, line, pointer, code, message, severity = row
            if not (isinstance(line, int) and all(isinstance(v, str) for v in (path, pointer, code, message, severity))):
                return None
            out.append(Problem(path, line, pointer, code, message, severity))
    except (TypeError, ValueError):
        return None
    return out


def remember(root: Path, key: str, problems, store: Store | None = None) -> None:
    (store or Store(root)).put(f"validate-{name_of(root)}", key, _problem_rows(problems))


# ---- parallel per-file checks -------------------------------------------------------------

_job = None


def _init(job):
    global _job
    _job = job


def _run_chunk(rels):
    """Check a chunk in a worker; send back plain tuples, which cost a quarter of dataclasses to unpickle."""
    root, display_root, check_file = _job
    out = []
    for rel in rels:
        record, problems = check_file(root, display_root, rel)
        out.append((record.kind, record.path, record.rel, record.data, record.parts,
                    [astuple_problem(p) for p in problems]))
    return out


def astuple_problem(p):
    return (p.path, p.line, p.pointer, p.code, p.message, p.severity)


def check_all(root, display_root, rels, check_file, jobs: int | None = None):
    """(record, problems) for every file, in the order given, using every core for large trees."""
    jobs = jobs or os.cpu_count() or 1
    if jobs == 1 or len(rels) < SERIAL_BELOW:
        return [check_file(root, display_root, rel) for rel in rels]
    size = max(50, min(1000, len(rels) // (jobs * 8)))
    chunks = [rels[i:i + size] for i in range(0, len(rels), size)]
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(jobs, initializer=_init, initargs=((root, display_root, check_file),)) as pool:
        from ..records.dataset import Record
        from ..problems import Problem

        results = []
        for part in pool.imap(_run_chunk, chunks):
            results.extend((Record(kind, path, rel, data, parts), [Problem(*p) for p in problems])
                           for kind, path, rel, data, parts, problems in part)
    return results
