"""Run the per-file checks on every core, and remember a whole run's result by content.

The result of `validate` depends only on the bytes of the data files, on their paths, and on
the code and schemas that check them. A run records a digest of all of that; the next run
recomputes the digest (re-hashing every file whose size or modification time changed, and every
file touched too recently for its time stamp to be trusted, as git does) and, when nothing
differs, returns the recorded problems. Any difference means a full check: the cache can make a
run faster, never hide an error.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import pickle
import time
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
SERIAL_BELOW = 400  # files; below this a process pool costs more than it saves
RACY_SECONDS = 2


def code_version() -> str:
    """A digest of the checking code and the schemas."""
    h = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")) + sorted(layout_schema_dir().glob("*.json")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def layout_schema_dir() -> Path:
    from .layout import SCHEMA_DIR

    return SCHEMA_DIR


def cache_dir(root: Path) -> Path:
    """Where the cache of a data directory lives: .jinqiu-cache beside it (git-ignored)."""
    return root.resolve().parent / ".jinqiu-cache"


class ContentIndex:
    """File digests remembered by (size, mtime) so that an unchanged tree is not read again."""

    def __init__(self, root: Path):
        self.root = root
        self.path = cache_dir(root) / f"stat-{_name(root)}.pickle"
        try:
            with open(self.path, "rb") as f:
                self.written_at, self.entries = pickle.load(f)
        except (OSError, EOFError, pickle.UnpicklingError, ValueError):
            self.written_at, self.entries = 0.0, {}

    def digests(self, rels: list[str]) -> dict[str, str]:
        fresh, out = {}, {}
        for rel in rels:
            full = os.path.join(self.root, rel)
            st = os.stat(full)
            key = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)  # ctime: utime cannot fake it
            known = self.entries.get(rel)
            if known and known[0] == key and max(st.st_mtime_ns, st.st_ctime_ns) / 1e9 < self.written_at - RACY_SECONDS:
                out[rel] = known[1]
            else:
                with open(full, "rb") as f:
                    out[rel] = hashlib.blake2b(f.read(), digest_size=16).hexdigest()
            fresh[rel] = (key, out[rel])
        self.entries = fresh
        return out

    def save(self) -> None:
        _atomic_pickle(self.path, (time.time(), self.entries))


def _name(root: Path) -> str:
    return hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]


def _atomic_pickle(path: Path, value) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with open(tmp, "wb") as f:
            pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:
        pass  # a cache that cannot be written only costs time


def run_key(root: Path, display_root: str, rels: list[str], index: ContentIndex) -> str:
    """The digest of everything a validate run's result depends on."""
    h = hashlib.sha256()
    h.update(code_version().encode())
    h.update(display_root.encode())
    for rel, digest in sorted(index.digests(rels).items()):
        h.update(f"{rel}\0{digest}\n".encode())
    return h.hexdigest()


def recall(root: Path, key: str):
    """The problems a run with this key found, or None."""
    try:
        with open(cache_dir(root) / f"result-{_name(root)}.pickle", "rb") as f:
            stored_key, problems = pickle.load(f)
    except (OSError, EOFError, pickle.UnpicklingError, ValueError):
        return None
    return problems if stored_key == key else None


def remember(root: Path, key: str, problems) -> None:
    _atomic_pickle(cache_dir(root) / f"result-{_name(root)}.pickle", (key, problems))


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
        from .dataset import Record
        from .problems import Problem

        results = []
        for part in pool.imap(_run_chunk, chunks):
            results.extend((Record(kind, path, rel, data, parts), [Problem(*p) for p in problems])
                           for kind, path, rel, data, parts, problems in part)
    return results
