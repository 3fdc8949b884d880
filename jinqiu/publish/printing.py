"""Print the forms' bundles to PDF: one Chromium kept open, many forms to a print job, one job per
core at a time, and every printed page kept in a cache so that a form is printed once.

A form's page depends on its HTML, the page style (shell.html), the fonts it is set in, Chromium's
version and the print settings, and on nothing else (no script, no remote asset). Its key is the
digest of all of these. A print job prints many forms, each exactly one page (checked); the PDF of
a job is kept in the cache under the digest of its own bytes, and an index (JSON) says which page
of which job holds each key. Bundles are put together from those pages (pikepdf), so a form that
did not change is never printed again, and each is printed once however many bundles hold it.

The cache is the user's ($XDG_CACHE_HOME/jinqiu/forms), never a folder inside a git work tree or
the data or output directory (a file there could come from whoever can commit): such a place is
refused and every form printed afresh. The index is JSON (never pickle) carrying an HMAC made with
the user's cache secret (jinqiu.check.cache); a job's PDF is used only if its bytes still have the digest
it is named by and the page the index names is in it. An index that fails its HMAC, or an entry or
a job that does not hold, is ignored and the forms printed again: the cache can make printing
faster, never change what is printed.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import re
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..check import cache as caches
from . import browser, forms as fm

FORMAT = "jinqiu-forms-1"
JOB_PAGES = 100  # forms to one print job
KEEP_DAYS = 30  # an entry not used for this long is dropped, and a job's PDF when no entry uses it
PRINT_OPTIONS = {"printBackground": False, "preferCSSPageSize": True, "displayHeaderFooter": False,
                 "marginTop": 0, "marginBottom": 0, "marginLeft": 0, "marginRight": 0, "generateTaggedPDF": False}
FONT_FAMILIES = ("Noto Serif CJK SC", "Noto Sans CJK SC", "serif", "sans-serif")
_HEX = re.compile(r"[0-9a-f]{64}")


class PrintError(Exception):
    """Printing failed; the message says what to install or check."""


# ---------------------------------------------------------------- where the cache is


def user_cache_dir() -> Path:
    return caches.user_cache_home() / "forms"


def refused(place: Path, untrusted: tuple[Path, ...] = ()) -> str | None:
    """Why a cache may not live here (inside a git work tree, or inside one of the untrusted
    folders), or None."""
    place = Path(os.path.abspath(place))
    for root in untrusted:
        if place.is_relative_to(Path(os.path.abspath(root))):
            return f"{place} 在数据或输出目录之内"
    if caches.in_work_tree(place):
        return f"{place} 在 git 工作区之内"
    return None


# ---------------------------------------------------------------- what a page depends on


def fonts_fingerprint() -> str:
    """The font files the forms' families resolve to, with their sizes and times."""
    out = []
    for family in FONT_FAMILIES:
        try:
            proc = subprocess.run(["fc-match", "-f", "%{file}", family], capture_output=True, text=True, timeout=30)
            path = proc.stdout.strip()
            st = os.stat(path)
            out.append(f"{family}\0{path}\0{st.st_size}\0{st.st_mtime_ns}")
        except (OSError, subprocess.SubprocessError):
            out.append(f"{family}\0?")
    return "\n".join(out)


def base_key(chromium_version: str) -> str:
    h = hashlib.sha256()
    for part in (FORMAT, chromium_version, fonts_fingerprint(), json.dumps(PRINT_OPTIONS, sort_keys=True),
                 fm.shell("", [])):
        h.update(part.encode() + b"\0")
    return h.hexdigest()


def page_key(base: str, html: str) -> str:
    return hashlib.sha256(base.encode() + b"\0" + html.encode()).hexdigest()


# ---------------------------------------------------------------- the cache


class Cache:
    """key -> (job PDF, page) in a directory; with no directory, the jobs of this run only."""

    def __init__(self, directory: Path | None):
        self._tmp = None
        if directory is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="jinqiu-print-")
            directory = Path(self._tmp.name)
        self.dir = directory
        self.jobs = directory / "jobs"
        self.index_path = directory / "index.json"
        self.entries: dict[str, list] = {}  # key -> [job digest, page, day last used]
        self._pdfs: dict = {}  # job digest -> its pikepdf.Pdf, or None when it does not hold
        self._lock = threading.Lock()
        self.today = int(time.time() // 86400)
        self.secret = caches._secret() if self._tmp is None else b"this run only"
        doc = None
        try:
            mac, _, body = self.index_path.read_bytes().partition(b"\n")
            if self.secret and hmac.compare_digest(mac, self._mac(body)):
                doc = json.loads(body)
        except (OSError, ValueError, RecursionError):
            pass
        if isinstance(doc, dict) and doc.get("format") == FORMAT and isinstance(doc.get("entries"), dict):
            for key, entry in doc["entries"].items():
                if (isinstance(key, str) and _HEX.fullmatch(key) and isinstance(entry, list) and len(entry) == 3
                        and isinstance(entry[0], str) and _HEX.fullmatch(entry[0])
                        and all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in entry[1:])):
                    self.entries[key] = entry

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self.secret, body, hashlib.sha256).hexdigest().encode()

    def write_index(self, entries: dict) -> None:
        if not self.secret:
            return
        body = json.dumps({"format": FORMAT, "entries": entries}, separators=(",", ":")).encode()
        tmp = self.index_path.with_name(f"index.{os.getpid()}.tmp")
        tmp.write_bytes(self._mac(body) + b"\n" + body)
        os.replace(tmp, self.index_path)

    def job_path(self, digest: str) -> Path:
        return self.jobs / f"{digest}.pdf"

    def job(self, digest: str):
        """A job's PDF (pikepdf), used only if its bytes still have the digest it is named by."""
        if digest not in self._pdfs:
            import pikepdf

            path = self.job_path(digest)
            try:
                with open(path, "rb") as f:
                    ok = hashlib.file_digest(f, "sha256").hexdigest() == digest
                self._pdfs[digest] = pikepdf.open(path) if ok else None
            except (OSError, pikepdf.PdfError):
                self._pdfs[digest] = None
        return self._pdfs[digest]

    def find(self, key: str):
        """The page (pikepdf) that holds the form with this key, or None."""
        entry = self.entries.get(key)
        if entry is None:
            return None
        pdf = self.job(entry[0])
        if pdf is None or entry[1] >= len(pdf.pages):
            return None
        entry[2] = self.today
        return pdf.pages[entry[1]]

    def add(self, pdf: bytes, keys: list[str]) -> str:
        digest = hashlib.sha256(pdf).hexdigest()
        self.jobs.mkdir(parents=True, exist_ok=True)
        path = self.job_path(digest)
        tmp = path.with_name(f"{digest}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_bytes(pdf)
        os.replace(tmp, path)
        with self._lock:
            self._pdfs.pop(digest, None)
            for page, key in enumerate(keys):
                self.entries[key] = [digest, page, self.today]
        return digest

    def save(self) -> None:
        """Write the index (entries used in the last KEEP_DAYS days) and drop jobs no entry uses."""
        keep = {k: e for k, e in self.entries.items() if self.today - e[2] <= KEEP_DAYS}
        try:
            self.write_index(keep)
            used = {e[0] for e in keep.values()}
            for path in self.jobs.glob("*.pdf"):
                if path.stem not in used and time.time() - path.stat().st_mtime > 3600:
                    path.unlink()
        except OSError:
            pass  # a cache that cannot be written only costs time

    def close(self) -> None:
        for pdf in self._pdfs.values():
            if pdf is not None:
                pdf.close()
        if self._tmp is not None:
            self._tmp.cleanup()


# ---------------------------------------------------------------- printing and putting together


@dataclass
class Report:
    pdfs: list[Path] = field(default_factory=list)
    pages: int = 0  # pages in all bundles
    printed: int = 0  # forms printed by Chromium in this run
    reused: int = 0  # forms taken from the cache
    assembled: list = field(default_factory=list)  # the bundles put together in this run (the others were as they are)
    patched: list = field(default_factory=list)  # of those, the ones whose changed pages were replaced in the last bundle
    cache: str | None = None  # where the cache is, or None
    cache_refused: str | None = None  # why the cache asked for was not used
    timings: dict = field(default_factory=dict)


def print_jobs(jobs: list[list[tuple[str, str]]], cache: Cache, workers: int) -> None:
    """Print each job ([(key, page HTML)]) as one document, on `workers` tabs at once."""
    shell_head, shell_tail = fm.shell("表格", ["\0"]).split("\0")
    with tempfile.TemporaryDirectory(prefix="jinqiu-forms-") as tmp, browser.Browser() as chrome:
        tabs = [chrome.tab() for _ in range(min(workers, len(jobs)))]
        todo = list(enumerate(jobs))
        lock = threading.Lock()

        def work(tab):
            import pikepdf

            while True:
                with lock:
                    if not todo:
                        return
                    n, job = todo.pop(0)
                path = Path(tmp) / f"job-{n}.html"
                path.write_text(shell_head + "\n".join(html for _, html in job) + shell_tail, encoding="utf-8")
                pdf = tab.pdf(path.as_uri(), PRINT_OPTIONS)
                path.unlink()
                with pikepdf.open(io.BytesIO(pdf)) as doc:
                    if len(doc.pages) != len(job):
                        raise PrintError(f"打印结果有 {len(doc.pages)} 页，应为 {len(job)} 页（每份表格一页）：有表格内容超出一页")
                cache.add(pdf, [key for key, _ in job])

        with ThreadPoolExecutor(len(tabs)) as pool:
            for done in [pool.submit(work, tab) for tab in tabs]:
                done.result()


def bundle_pdfs(forms: fm.Forms, out: Path, *, use_cache: bool = True, cache_dir: Path | None = None,
                untrusted: tuple[Path, ...] = (), workers: int | None = None, memo: dict | None = None) -> Report:
    """Every union's bundle as out/<union>.pdf: cover and contents, then every form of it and of
    the unions below it. cache_dir: the cache (default the user's); untrusted: folders it may not
    be in (the data and output directories). memo (from the last build into out, updated here):
    {"pages": {union: [own_key, base, its own pages' keys]}, "bundles": {union: [digest, file state]}}:
    a union whose own_key is unchanged is not rendered to know its pages, and a bundle whose pages
    (and contents) are the same, and whose file is as it was written, is not put together again."""
    report = Report()
    workers = workers or max(1, min(4, os.cpu_count() or 1))
    t = time.perf_counter()
    use = (cache_dir or user_cache_dir()) if use_cache else None
    if use is not None:
        report.cache_refused = refused(use, untrusted)
        if report.cache_refused:
            use = None
    cache = Cache(use)
    report.cache = str(use) if use else None
    memo = {} if memo is None else memo
    known, made = memo.setdefault("pages", {}), memo.setdefault("bundles", {})
    try:
        base = base_key(browser.version())
        # each union's cover and own pages by key (a union's pages are rendered here one union at a
        # time, and kept only while the cache does not have them)
        covers: dict[str, list[str]] = {}
        own: dict[str, list[str]] = {}
        pending: dict[str, str] = {}  # key -> page HTML, for those the cache does not have
        for uid in forms.order:
            own_key = forms.own_key(uid)
            was = known.get(uid)
            if own_key is not None and was is not None and was[:2] == [own_key, base] \
                    and all(key in pending or cache.find(key) is not None for key in was[2]):
                own[uid] = was[2]  # the same pages, all printed: not rendered again
                pages = []
            else:
                pages = forms.pages(uid)
                own[uid] = [page_key(base, html) for html in pages]
                if own_key is not None:
                    known[uid] = [own_key, base, own[uid]]
            for into, keys, htmls in ((covers, None, fm.cover(forms, uid)), (own, own[uid], pages)):
                into[uid] = keys if keys is not None else [page_key(base, html) for html in htmls]
                for key, html in zip(into[uid], htmls):
                    if key not in pending and cache.find(key) is None:
                        pending[key] = html
        for uid in list(known):
            if uid not in own:
                del known[uid]
        report.timings["keys"] = time.perf_counter() - t
        t = time.perf_counter()
        items = list(pending.items())
        size = max(1, min(JOB_PAGES, -(-len(items) // workers)))
        if items:
            print_jobs([items[i:i + size] for i in range(0, len(items), size)], cache, workers)
        report.printed = len(items)
        report.reused = len({key for keys in (*covers.values(), *own.values()) for key in keys}) - len(items)
        report.timings["print"] = time.perf_counter() - t
        t = time.perf_counter()
        out.mkdir(parents=True, exist_ok=True)
        for uid in forms.order:
            path = out / f"{uid}.pdf"
            digest = _bundle_digest(forms, uid, covers[uid], own)
            frame = _frame_digest(forms, uid, covers[uid], own)
            pages = list(covers[uid]) + [key for m in forms.members(uid) for key in own[m]]
            was = made.get(uid)
            state = fm.file_state(path)
            if was is not None and was[:5] == [digest, *state]:
                report.pages += len(pages)
            else:
                if was is not None and len(was) == 7 and was[1:5] == state and was[5] == frame and len(was[6]) == len(pages) \
                        and _patch(path, was[6], pages, cache):  # the same frame: only the pages that changed replaced
                    report.pages += len(pages)
                    report.patched.append(uid)
                else:
                    report.pages += _assemble(forms, uid, covers[uid], own, cache, path)
                report.assembled.append(uid)
                made[uid] = [digest, *fm.file_state(path), frame, pages]
            report.pdfs.append(path)
        for uid in list(made):
            if uid not in own:
                del made[uid]
        report.timings["assemble"] = time.perf_counter() - t
        cache.save()
    except browser.BrowserError as exc:
        raise PrintError(str(exc)) from None
    finally:
        cache.close()
    return report


def _bundle_digest(forms: fm.Forms, uid: str, cover: list[str], own: dict) -> str:
    """What a bundle is made of: its pages (by key), its outline and its title."""
    h = hashlib.sha256()
    h.update(json.dumps([FORMAT, cover, forms.names.get(uid, uid), forms.contents(uid),
                         [own[m] for m in forms.members(uid)]], ensure_ascii=False).encode())
    return h.hexdigest()


def _frame_digest(forms: fm.Forms, uid: str, cover: list[str], own: dict) -> str:
    """What a bundle is made of but its forms' pages: its cover, outline, title and how many pages each union has."""
    h = hashlib.sha256()
    h.update(json.dumps([FORMAT, cover, forms.names.get(uid, uid), forms.contents(uid),
                         [len(own[m]) for m in forms.members(uid)]], ensure_ascii=False).encode())
    return h.hexdigest()


def _patch(path: Path, old: list[str], new: list[str], cache: Cache) -> bool:
    """Replace, in the bundle as the last build wrote it (its file checked unchanged by the caller),
    the pages whose keys differ; False (nothing written) when that is not the cheaper way."""
    import pikepdf

    changed = [i for i, (a, b) in enumerate(zip(old, new)) if a != b]
    if not changed or len(changed) * 10 > len(new):
        return False
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with pikepdf.open(path) as pdf:
            if len(pdf.pages) != len(new):
                return False
            for i in changed:
                page = cache.find(new[i])
                if page is None:
                    return False
                pdf.pages[i] = page
            pdf.save(tmp, deterministic_id=True, stream_decode_level=pikepdf.StreamDecodeLevel.none)
        os.replace(tmp, path)
    except (OSError, pikepdf.PdfError):
        tmp.unlink(missing_ok=True)
        return False
    return True


def _assemble(forms: fm.Forms, uid: str, cover: list[str], own: dict, cache: Cache, path: Path) -> int:
    """uid's bundle from the printed pages (by key): cover, then the forms of each member union."""
    import pikepdf

    pdf = pikepdf.new()
    marks = [("目录", 0, 0)]
    pages = list(cover)
    for member, row in zip(forms.members(uid), forms.contents(uid)):
        if row["count"]:
            marks.append((row["name"], row["depth"], len(pages)))
        pages.extend(own[member])
    for key in pages:
        page = cache.find(key)
        if page is None:
            raise PrintError(f"打印缓存中找不到刚打印的页（{cache.dir}）")
        pdf.pages.append(page)
    with pdf.open_outline() as outline:
        stack: list = []  # (depth, item) of the open entries
        for title, depth, index in marks:
            item = pikepdf.OutlineItem(title, index)
            while stack and stack[-1][0] >= depth:
                stack.pop()
            (stack[-1][1].children if stack else outline.root).append(item)
            stack.append((depth, item))
    pdf.docinfo["/Title"] = forms.names.get(uid, uid)
    pdf.save(path, deterministic_id=True, stream_decode_level=pikepdf.StreamDecodeLevel.none)
    pdf.close()
    return len(pages)
