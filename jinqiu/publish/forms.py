"""The printable forms (private): 附件1 / 附件2 for each application and 附件3 for each union, one
A4 page each. Every union gets one bundle: a cover page with a table of contents, then every form
of that union and of the unions below it, in order (the union itself first, then each union below
it, depth first by code), as PDF; and one HTML file with the same cover, whose contents link to the
HTML files of the unions below it, and the union's own forms. PDFs are printed by jinqiu.publish.printing."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import jinja2
from markupsafe import Markup

from .. import parallel
from ..check import rounds
from . import statistics as stats
from ..trust import status as st

TEMPLATES = Path(__file__).resolve().parent / "templates" / "forms"
PARALLEL_FORMS = 10000  # fewer forms than this: written in this process (forking costs more)
TITLES = {
    "new": ("附件1", "当年考入大学学生“金秋助学”审批登记表"),
    "continuing": ("附件2", "大学在读学生“金秋助学”审批登记表"),
    "local": ("", "“金秋助学”审批登记表（本单位资助）"),
}


def _cn_date(iso: str | None) -> dict:
    if not iso:
        return {"y": "", "m": "", "d": ""}
    d = date.fromisoformat(iso)
    return {"y": d.year, "m": d.month, "d": d.day}


@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        undefined=jinja2.StrictUndefined,
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["cn"] = _cn_date
    env.filters["fmt"] = stats.fmt
    return env


def _fingerprint(reviewer: dict | None, on: str) -> str:
    for key in (reviewer or {}).get("keys", []):
        if key.get("valid_from", "") <= on and (not key.get("valid_until") or on <= key["valid_until"]):
            return key.get("fingerprint", "")
    return ""


def opinions(record: dict, reviewers: dict, status: st.Status | None) -> dict:
    """level -> what the opinion box shows: opinion, date, reviewer, fingerprint, commit, verified,
    and the day the commit entered the branch when it differs from the date written. The boxes are
    the latest round's (jinqiu.check.rounds): the decisions verify counted, else (nothing verified)
    the latest round as written; earlier rounds are history (build.py history shows them)."""
    listed = record.get("approvals") or []
    chosen = []
    if status is not None and status.proofs:
        chosen = [(p.index, p) for p in status.proofs]
    else:
        entries = [(i, e) for i, e in enumerate(listed) if isinstance(e, dict)]
        chosen = [(entries[i][0], None) for i in rounds.walk([e for _, e in entries]).chain]
    boxes = {}
    for index, proof in chosen:
        entry = listed[index] if 0 <= index < len(listed) and isinstance(listed[index], dict) else {}
        level = proof.level if proof is not None else entry.get("level")
        reviewer = reviewers.get(entry.get("reviewer"))
        boxes[level] = {
            "opinion": entry.get("opinion", "（这条审批已被未经授权地从文件中删除，仍然有效，见 build.py verify）"),
            "decision": entry.get("decision"),
            "date": entry.get("date"),
            "reviewer": (reviewer or {}).get("name", entry.get("reviewer", "")),
            "fingerprint": (proof.proof if proof is not None else "") or _fingerprint(reviewer, entry.get("date", "")),
            "commit": proof.commit if proof is not None else "",
            "entered": proof.day if proof is not None and proof.day and proof.day != entry.get("date") else "",
            "verified": proof is not None,
        }
    return boxes


def application_context(record: dict, units: dict, reviewers: dict, status: st.Status) -> dict:
    number, title = TITLES[record["form"]]
    boxes = opinions(record, reviewers, status)
    funder = record["aid"]["funding_unit"]
    return {
        "a": record,
        "number": number,
        "title": title,
        "unit_name": units.get(record["unit"], {}).get("name", record["unit"]),
        "boxes": boxes,
        "round": status.round if status is not None else 0,
        "own_funded": units.get(funder, {}).get("kind") != "city",  # 本单位资助的对象
        "status": status,
        "checked_by": boxes.get(1, {}).get("reviewer", ""),
        "reviewed_by": boxes.get(2, {}).get("reviewer", ""),
    }


# The table of contents: rows are one line each (no wrapping), so that how many pages the cover
# takes is known before it is printed, and so every page number in it.
TOC_FIRST_PAGE = 26
TOC_PAGE = 38


@dataclass
class Forms:
    """Every form of one year: how many each union has, the union tree, and each union's pages
    rendered when asked for (one union's at a time: 100,000 rendered forms would not fit the
    memory the build is allowed)."""

    year: int
    names: dict[str, str]
    order: list[str]  # every union, depth first from the top, each union's children by code
    children: dict[str, list[str]]
    counts: dict[str, int]  # union -> how many forms of its own (附件3 and applications)
    render_union: Callable[[str], list[str]] = field(repr=False)
    key_union: Callable[[str], str | None] = field(default=lambda uid: None, repr=False)

    def pages(self, uid: str) -> list[str]:
        """A union's own forms as HTML pages, in order: its 附件3, then its applications by number."""
        return self.render_union(uid)

    def own_key(self, uid: str) -> str | None:
        """A digest of everything the union's own pages show, worked out without rendering them (None
        when render was not told each record's content: then pages must be rendered to be known)."""
        return self.key_union(uid)

    def file_key(self, uid: str) -> str | None:
        """A digest of everything the union's HTML file shows: its cover (with its contents) and its own pages."""
        own = self.own_key(uid)
        if own is None:
            return None
        h = hashlib.sha256()
        for part in (own, str(self.year), self.names.get(uid, uid), json.dumps(self.contents(uid), ensure_ascii=False)):
            h.update(part.encode() + b"\0")
        return h.hexdigest()

    def members(self, uid: str) -> list[str]:
        """The unions a bundle holds: uid, then every union below it, depth first by code."""
        out, todo, seen = [], [uid], set()
        while todo:
            node = todo.pop()
            if node in seen:  # a loop of parents in invalid data
                continue
            seen.add(node)
            out.append(node)
            todo.extend(reversed(self.children.get(node, [])))
        return out

    def cover_pages(self, uid: str) -> int:
        rows = len(self.members(uid))
        return 1 + max(0, -(-(rows - TOC_FIRST_PAGE) // TOC_PAGE))

    def contents(self, uid: str) -> list[dict]:
        """The table of contents of uid's bundle: one row per union, with its first page."""
        page = self.cover_pages(uid) + 1
        depth = {uid: 0}
        rows = []
        for n, member in enumerate(self.members(uid), 1):
            for child in self.children.get(member, []):
                depth.setdefault(child, depth[member] + 1)
            count = self.counts.get(member, 0)
            rows.append({"n": n, "uid": member, "name": self.names.get(member, member), "depth": depth.get(member, 0),
                         "count": count, "page": page if count else None})
            page += count
        return rows


def _tree(units: dict) -> tuple[list[str], dict[str, list[str]]]:
    children: dict[str, list[str]] = {}
    roots = []
    for uid in sorted(units):
        parent = units[uid].get("parent")
        if parent in units and parent != uid:
            children.setdefault(parent, []).append(uid)
        else:
            roots.append(uid)
    order, seen = [], set()
    for root in roots:
        todo = [root]
        while todo:
            node = todo.pop()
            if node not in seen:
                seen.add(node)
                order.append(node)
                todo.extend(reversed(children.get(node, [])))
    order += [uid for uid in sorted(units) if uid not in seen]  # on a loop of parents: still printed, last
    return order, children


def code_digest() -> str:
    """The forms' templates and the code that fills them."""
    h = hashlib.sha256()
    for path in sorted(TEMPLATES.rglob("*")) + [Path(__file__)]:
        if path.is_file():
            h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def render(dataset, year: int, statuses: dict, tables: dict, load=None, versions: dict | None = None) -> Forms:
    """Every union's own forms as HTML pages: its 附件3 page, then one page per application it filed.
    load(record) -> the record's whole data, when the dataset holds only part of each (read when the
    union's pages are rendered). versions: {rel: an id of the file's content} of every application,
    for Forms.own_key (what a union's pages show, known without rendering them)."""
    env = environment()
    page_app = env.get_template("application.html")
    page_stats = env.get_template("statistics.html")
    units, reviewers = dataset.units, dataset.reviewers
    reports = {r.data["unit"]: r.data for r in dataset.reports if r.data.get("year") == year}
    by_unit: dict[str, list] = {}
    for rec in dataset.applications:
        if rec.data.get("year") == year:
            by_unit.setdefault(rec.data["unit"], []).append(rec if load is not None else rec.data)
    as_of = dataset.campaigns[year]["statistics_as_of"]
    order, children = _tree(units)

    def render_union(uid: str) -> list[str]:
        pages = []
        if uid in tables:
            report = reports.get(uid, {})
            pages.append(page_stats.render(t=tables[uid], year=year, as_of=_cn_date(as_of),
                                           filled_by=report.get("filled_by", ""), phone=report.get("phone", "")))
        found = by_unit.get(uid, [])
        for record in sorted(found if load is None else (load(rec) for rec in found), key=lambda r: r["id"]):
            pages.append(page_app.render(**application_context(record, units, reviewers, statuses[record["id"]])))
        return pages

    counts = {uid: (uid in tables) + len(by_unit.get(uid, [])) for uid in order}
    key_union = lambda uid: None  # noqa: E731
    if versions is not None and load is not None:
        shared = hashlib.sha256(json.dumps([code_digest(), year, as_of, units, reviewers], ensure_ascii=False, sort_keys=True,
                                           default=str).encode()).hexdigest()

        def key_union(uid: str) -> str:
            t = tables.get(uid)
            report = reports.get(uid, {})
            rows = [shared, uid, None if t is None else [t.unit_name, list(t.rows()), t.broken, t.differences, t.typed_broken],
                    report.get("filled_by", ""), report.get("phone", "")]
            for rec in sorted(by_unit.get(uid, []), key=lambda r: r.rel):
                rows.append([rec.rel, versions.get(rec.rel), statuses[rec.data["id"]].row()])
            return hashlib.sha256(json.dumps(rows, ensure_ascii=False, default=str).encode()).hexdigest()

    return Forms(year, {uid: u.get("name", uid) for uid, u in units.items()}, order, children, counts, render_union,
                 key_union)


def cover(forms: Forms, uid: str, links: bool = False) -> list[str]:
    """The cover of uid's bundle, with its table of contents, as HTML pages; links: to the HTML files."""
    env = environment()
    rows = forms.contents(uid)
    chunks = [rows[:TOC_FIRST_PAGE]] + [rows[i:i + TOC_PAGE] for i in range(TOC_FIRST_PAGE, len(rows), TOC_PAGE)]
    total = forms.cover_pages(uid) + sum(r["count"] for r in rows)
    page = env.get_template("cover.html")
    return [page.render(year=forms.year, uid=uid, name=forms.names.get(uid, uid), rows=chunk, first=i == 0,
                        unions=len(rows), total=total, links=links) for i, chunk in enumerate(chunks)]


def shell(title: str, pages: list[str]) -> str:
    return environment().get_template("shell.html").render(title=title, pages=[Markup(p) for p in pages])


def write_html(forms: Forms, out: Path, memo: dict | None = None, keep_bundles: bool = False) -> list[Path]:
    """One HTML file per union: its cover and contents (linking to the files of the unions below
    it), then its own forms. memo ({union: [file_key, its file's state]}, from the last build into
    out, updated here): a union whose file_key is the same and whose file is as it was written is
    not written again; everything else in out goes (the bundles too, unless keep_bundles)."""
    unions = sorted(forms.order)
    todo = unions
    if memo is None or not out.is_dir():
        if out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True)
        memo = {} if memo is None else memo
        memo.clear()
    else:
        wanted = {f"{uid}.html" for uid in unions} | ({f"{uid}.pdf" for uid in unions} if keep_bundles else set())
        for entry in os.scandir(out):
            if entry.name not in wanted or entry.is_symlink() or not entry.is_file(follow_symlinks=False):
                shutil.rmtree(entry.path) if entry.is_dir(follow_symlinks=False) else os.unlink(entry.path)
        keys = {uid: forms.file_key(uid) for uid in unions}
        todo = [uid for uid in unions if keys[uid] is None or memo.get(uid) != [keys[uid], *file_state(out / f"{uid}.html")]]
        for uid in list(memo):
            if uid not in keys:
                del memo[uid]
    environment().get_template("shell.html")  # compiled once, before the workers fork

    def write(uid: str) -> str:
        path = out / f"{uid}.html"
        path.write_text(shell(forms.names.get(uid, uid), cover(forms, uid, links=True) + forms.pages(uid)), encoding="utf-8")
        return str(path)

    if sum(forms.counts.get(uid, 0) for uid in todo) < PARALLEL_FORMS:
        for uid in todo:
            write(uid)
    elif parallel.fork_map(write, todo, min_items=2, chunk=1) is None:  # unions are of very unequal size
        for uid in todo:
            write(uid)
    for uid in todo:
        key = forms.file_key(uid)
        if key is not None:
            memo[uid] = [key, *file_state(out / f"{uid}.html")]
        else:
            memo.pop(uid, None)
    return [out / f"{uid}.html" for uid in unions]


def file_state(path: Path) -> list:
    """[size, mtime_ns, ctime_ns, inode] of a file (ctime: no program can set it back), or [] when missing."""
    try:
        st = os.lstat(path)
    except OSError:
        return []
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
