"""Skip a build when nothing it reads has changed and its outputs are exactly as it left them.

The invariant: a build is skipped only when (1) every input is what the last complete build had,
and (2) every file it wrote is still there, untouched, with nothing added. Then the outputs are
what a new build would write, and the new build is not run.

(1) The inputs, each in the key (`inputs_key`):
- every data file's path and content (cache.ContentIndex: a file whose size, times or inode
  changed, or that was touched too recently for its time stamps to be trusted, is read again);
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
FORMAT = "build-3"  # 3: statuses carry rounds and trusted days
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
    from importlib import metadata

    return ",".join(sorted(f"{d.metadata['Name']}=={d.version}" for d in metadata.distributions() if d.metadata["Name"]))


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
    if repo is not None:
        roots, source = anchor.pinned_keys(repo, None)
        h.update(f"{gitlog.head(repo)}\0{sorted(roots)}\0{source}\0{anchor.run_context(repo)}\0".encode())
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
    index = cache.ContentIndex(data, store)
    rels = discover(data)
    h.update(cache.content_key(data, str(opts.data), rels, index).encode())
    index.save()
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
    return {rid: st.row() for rid, st in statuses.items()}
