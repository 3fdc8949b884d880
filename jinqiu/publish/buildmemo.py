"""Skip a build when nothing it reads has changed and its outputs are exactly as it left them.

The invariant: a build is skipped only when (1) every input is what the last complete build had,
and (2) every file it wrote is still there, untouched, with nothing added. Then the outputs are
what a new build would write, and the new build is not run.

(1) The inputs, each in the key (`inputs_key`):
- every data file's path and content: in a git repository, HEAD and the content of every file
  `git status` lists (changed, untracked or ignored; git says every other file holds what HEAD
  holds, checking a file whose time stamps cannot be trusted by its content); outside git,
  cache.ContentIndex (a file whose size, times or inode changed, or that was touched too recently
  for its time stamps to be trusted, is read again);
- the data's git HEAD (a digest of the whole history) and `git status` of the data directory
  (whether the site says the data has uncommitted changes);
- the root of trust in force (--root-key, JINQIU_ROOT_KEY, git config jinqiu.rootKey);
- every file of the code, its templates and schemas, the site's own pages and theme, mkdocs.yml,
  the Python version, and the name and version of every installed Python package (mkdocs,
  Material, jieba, ...);
- every build option (today's date, --as-of, the year, the addresses, PDF or not, the output
  directory) and, when PDFs are made, Chromium's version and the fonts it prints with.
A forge token means web reviews are checked, and a review can be dismissed at any time: such a
build is never skipped.

(2) The outputs: path, size, modification and change time (ctime, which no user program can set
back) and inode of every file under site/ and private/, recorded when the build finished.

The record is a cache.Store value: JSON with an HMAC, in the git directory or the user's cache,
never in a work tree, so no commit can plant one. A forged or stale record costs a full build.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
from dataclasses import fields
from pathlib import Path

from ..check import cache
from ..trust import anchor, gitlog
from ..records.dataset import discover

KIND = "build"
FORMAT = "build-4"  # 3: statuses carry rounds and trusted days; 4: statuses kept once per distinct row
ROOT = Path(__file__).resolve().parents[2]


def _tree_digest(h, folder: Path) -> None:
    """Every file under folder, by path and content."""
    if folder.is_file():
        h.update(folder.name.encode() + b"\0" + folder.read_bytes())
        return
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        h.update(path.relative_to(folder).as_posix().encode() + b"\0")
        h.update(path.read_bytes())


def _packages() -> str:
    """Every installed distribution, by its metadata folder's name (which holds its version): read
    off the folders of sys.path rather than from each package's metadata."""
    names = []
    for entry in sys.path:
        try:
            names += [f"{entry}/{n}" for n in os.listdir(entry or ".") if n.endswith((".dist-info", ".egg-info", ".egg-link", ".pth"))]
        except OSError:
            continue
    return ",".join(sorted(names))


def inputs_key(opts, forge_configured: bool) -> str | None:
    """The digest of everything a build with these options reads; None: this build is not to be skipped."""
    if forge_configured or not opts.cache:
        return None
    data = Path(opts.data)
    store = cache.Store(data)
    if not store.usable:
        return None
    from . import site

    h = hashlib.sha256()
    for part in (FORMAT, sys.version, str(data.resolve()), str(Path(opts.out).resolve()), _packages()):
        h.update(part.encode() + b"\0")
    for folder in (cache.PACKAGE, cache.layout_schema_dir(), site.SITE_SRC, site.SITE_THEME, site.MKDOCS_YML):
        _tree_digest(h, folder)
    h.update(json.dumps({f.name: str(getattr(opts, f.name)) for f in fields(opts)}, sort_keys=True).encode())
    repo = gitlog.toplevel(data)
    head = None
    if repo is not None:
        roots, source = anchor.pinned_keys(repo, None)
        head = gitlog.head(repo)
        h.update(f"{head}\0{sorted(roots)}\0{source}\0{anchor.run_context(repo)}\0".encode())
        try:
            dirty = gitlog.git(repo, "status", "--porcelain", "-z", "--untracked-files=all", "--ignored=matching", "--",
                               str(data.resolve()))
        except gitlog.GitError:
            return None
        h.update(dirty + b"\0")
    else:
        h.update(b"no git\0" + os.environ.get("JINQIU_ROOT_KEY", "").encode() + b"\0" + anchor.run_context(None).encode())
    if opts.pdf and opts.forms:
        from . import browser, printing

        try:
            h.update(f"{browser.version()}\0{printing.fonts_fingerprint()}\0{opts.forms_cache}\0".encode())
        except Exception:  # no Chromium: the build will say so itself
            return None
    if head is not None:  # every file git does not say differs from HEAD holds what HEAD holds
        h.update(_listed_content(repo, data, dirty).encode())
        return h.hexdigest()
    index = cache.ContentIndex(data, store)
    rels = discover(data)
    h.update(cache.content_key(data, str(opts.data), rels, index).encode())
    index.save()
    return h.hexdigest()


def _listed_content(repo: Path, data: Path, status: bytes) -> str:
    """A digest of the content of every file `git status --porcelain -z` lists (changed, untracked or
    ignored): the files whose content HEAD does not give."""
    h = hashlib.sha256()
    top = Path(repo).resolve()
    fields = status.split(b"\0")
    i = 0
    while i < len(fields):
        item = fields[i]
        i += 1
        if len(item) < 4:
            continue
        if item[:1] in (b"R", b"C"):  # a rename or copy: the next field is where it came from
            i += 1
        path = top / item[3:].decode("utf-8", "surrogateescape")
        h.update(bytes(path) + b"\0")
        try:
            st = os.lstat(path)
            if stat.S_ISREG(st.st_mode):
                with open(path, "rb") as f:
                    h.update(hashlib.blake2b(f.read(), digest_size=16).digest())
            elif stat.S_ISLNK(st.st_mode):
                h.update(b"link:" + os.fsencode(os.readlink(path)))
            elif stat.S_ISDIR(st.st_mode):  # an untracked folder listed whole
                for dirpath, dirnames, filenames in os.walk(path):
                    dirnames.sort()
                    for name in sorted(filenames):
                        full = os.path.join(dirpath, name)
                        h.update(os.fsencode(full) + b"\0")
                        if os.path.isfile(full) and not os.path.islink(full):
                            with open(full, "rb") as f:
                                h.update(hashlib.blake2b(f.read(), digest_size=16).digest())
            else:
                h.update(f"mode:{st.st_mode:o}".encode())
        except OSError:
            h.update(b"gone")
    return h.hexdigest()


def outputs_state(out: Path) -> dict[str, list[int]]:
    """{path under out: [size, mtime_ns, ctime_ns, inode, mode]} of every entry under out/site and out/private."""
    state = {}
    for top in ("site", "private"):
        base = out / top
        if not base.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(base):
            for name in dirnames + filenames:
                full = os.path.join(dirpath, name)
                st = os.lstat(full)
                kind = stat.S_IFMT(st.st_mode)
                size = st.st_size if stat.S_ISREG(st.st_mode) else 0
                state[os.path.relpath(full, out)] = [size, st.st_mtime_ns if not stat.S_ISDIR(st.st_mode) else 0,
                                                     st.st_ctime_ns if not stat.S_ISDIR(st.st_mode) else 0, st.st_ino, kind]
    return state


def recall(opts, key: str | None):
    """The summary the last build stored under this key, when its outputs are untouched; else None."""
    if key is None:
        return None
    found = cache.Store(Path(opts.data)).get(f"{KIND}-{cache.name_of(Path(opts.data))}", key)
    if not isinstance(found, dict) or not isinstance(found.get("outputs"), dict):
        return None
    if found["outputs"] != outputs_state(Path(opts.out)):
        return None
    return found.get("summary")


def forget(opts) -> None:
    """Before a build writes anything: a build stopped half-way leaves no record behind."""
    cache.Store(Path(opts.data)).put(f"{KIND}-{cache.name_of(Path(opts.data))}", "", None)


def remember(opts, key: str | None, summary: dict) -> None:
    if key is None:
        return
    cache.Store(Path(opts.data)).put(f"{KIND}-{cache.name_of(Path(opts.data))}", key,
                                     {"outputs": outputs_state(Path(opts.out)), "summary": summary})


def status_rows(statuses: dict) -> dict:
    """{id: index} and the distinct rows: applications approved in the same commits share a status
    (100,000 rows of proofs are 25 MB; the distinct ones a few thousand)."""
    rows, index, out = [], {}, {}
    for rid, st in statuses.items():
        key = (st, st.proofs, st.round, st.filed_day, st.paid_day)  # a Status compares without these
        n = index.get(key)
        if n is None:
            n = index[key] = len(rows)
            rows.append(st.row())
        out[rid] = n
    return {"rows": rows, "of": out}
