"""The printable forms (private): 附件1 / 附件2 for each application and 附件3 for each union,
A4, one HTML file per union with one page per form, and the same as PDF (headless Chromium)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import jinja2
from markupsafe import Markup

from . import statistics as stats
from . import status as st

TEMPLATES = Path(__file__).resolve().parent / "templates" / "forms"
CHROMIUM = os.environ.get("JINQIU_CHROMIUM", "chromium")
TITLES = {
    "new": ("附件1", "当年考入大学学生“金秋助学”审批登记表"),
    "continuing": ("附件2", "大学在读学生“金秋助学”审批登记表"),
    "local": ("", "“金秋助学”审批登记表（本单位资助）"),
}


class FormsError(Exception):
    """Printing failed; the message says what to install or check."""


def _cn_date(iso: str | None) -> dict:
    if not iso:
        return {"y": "", "m": "", "d": ""}
    d = date.fromisoformat(iso)
    return {"y": d.year, "m": d.month, "d": d.day}


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


def opinions(record: dict, reviewers: dict, proofs: dict) -> dict:
    """level -> what the opinion box shows: opinion, date, reviewer, fingerprint, commit, verified."""
    boxes = {}
    for entry in record.get("approvals") or []:
        level = entry.get("level")
        if level in boxes:
            continue
        reviewer = reviewers.get(entry.get("reviewer"))
        proof = proofs.get((record["id"], level), {})
        boxes[level] = {
            "opinion": entry.get("opinion", ""),
            "decision": entry.get("decision"),
            "date": entry.get("date"),
            "reviewer": (reviewer or {}).get("name", entry.get("reviewer", "")),
            "fingerprint": proof.get("fingerprint") or _fingerprint(reviewer, entry.get("date", "")),
            "commit": proof.get("commit", ""),
            "verified": bool(proof),
        }
    return boxes


def application_context(record: dict, units: dict, reviewers: dict, status: st.Status, proofs: dict) -> dict:
    number, title = TITLES[record["form"]]
    boxes = opinions(record, reviewers, proofs)
    funder = record["aid"]["funding_unit"]
    return {
        "a": record,
        "number": number,
        "title": title,
        "unit_name": units.get(record["unit"], {}).get("name", record["unit"]),
        "boxes": boxes,
        "own_funded": units.get(funder, {}).get("kind") != "city",  # 本单位资助的对象
        "status": status,
        "checked_by": boxes.get(1, {}).get("reviewer", ""),
        "reviewed_by": boxes.get(2, {}).get("reviewer", ""),
    }


def write_all(dataset, year: int, statuses: dict, tables: dict, out: Path, proofs: dict | None = None) -> list[Path]:
    """One HTML file per union: its 附件3 page, then one page per application it filed."""
    proofs = proofs or {}
    env = environment()
    page_app = env.get_template("application.html")
    page_stats = env.get_template("statistics.html")
    shell = env.get_template("shell.html")
    units, reviewers = dataset.units, dataset.reviewers
    reports = {r.data["unit"]: r.data for r in dataset.reports if r.data.get("year") == year}
    by_unit: dict[str, list] = {}
    for rec in dataset.applications:
        if rec.data.get("year") == year:
            by_unit.setdefault(rec.data["unit"], []).append(rec.data)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    written = []
    as_of = dataset.campaigns[year]["statistics_as_of"]
    for uid in sorted(units):
        pages = []
        if uid in tables:
            report = reports.get(uid, {})
            pages.append(Markup(page_stats.render(t=tables[uid], year=year, as_of=_cn_date(as_of),
                                           filled_by=report.get("filled_by", ""), phone=report.get("phone", ""))))
        for record in sorted(by_unit.get(uid, []), key=lambda r: r["id"]):
            pages.append(Markup(page_app.render(**application_context(record, units, reviewers, statuses[record["id"]], proofs))))
        path = out / f"{uid}.html"
        path.write_text(shell.render(title=units[uid].get("name", uid), pages=pages), encoding="utf-8")
        written.append(path)
    return written


def print_pdf(html: Path, pdf: Path) -> None:
    """Print one HTML file to PDF with headless Chromium (A4, no headers or footers)."""
    exe = shutil.which(CHROMIUM)
    if exe is None:
        raise FormsError(f"找不到 {CHROMIUM}；请安装 chromium（Debian: apt-get install chromium fonts-noto-cjk），或用 --no-pdf")
    with tempfile.TemporaryDirectory(prefix="jinqiu-chromium-") as profile:
        proc = subprocess.run(
            [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}", "--no-pdf-header-footer",
             f"--print-to-pdf={pdf}", html.resolve().as_uri()],
            capture_output=True, text=True, timeout=300,
        )
    if proc.returncode or not pdf.exists():
        raise FormsError(f"chromium 打印 {html.name} 失败：{proc.stderr.strip()[-300:]}")


def print_pdfs(htmls: list[Path], workers: int | None = None) -> list[Path]:
    """Every HTML file beside itself as PDF, a few Chromium processes at a time."""
    workers = workers or max(1, min(4, os.cpu_count() or 1))
    pdfs = [h.with_suffix(".pdf") for h in htmls]
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(print_pdf, htmls, pdfs))
    return pdfs
