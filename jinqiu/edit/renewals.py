"""Continuing students: who was funded in earlier years and is still within the course.

The notice funds a student admitted to university every year until the course ends (附件2,
继续资助). A student is due a continuing application in YEAR when their latest application
before YEAR
- is a new-student (附件1) or continuing (附件2) application,
- was approved up to its funding union (or paid), as verify proves it (its verified status: a
  claimed approval that does not verify funds nobody),
- and YEAR is still within the course: admission_year + course_years[education] > YEAR,
  with course_years from the campaign file of YEAR,
and no application for the same student exists in YEAR yet (the same student as validate's
duplicate rule sees it: by canonical ID number, or the worker's ID number and the student's name).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..check import crossrules, identity
from ..records import dataset
from ..trust import status


@dataclass
class Renewal:
    """A student due a continuing application, and the application they were last funded by."""

    previous: dataset.Record
    last_year: int
    course_end: int  # the last year of the course

    @property
    def unit(self) -> str:
        return self.previous.data["unit"]


def student_key(data: dict) -> tuple:
    """Who the student is, in the canonical form validate compares (jinqiu.check.identity): the
    student's ID number, else the worker's ID number with the student's name."""
    student = data.get("student") or {}
    if isinstance(student.get("id_number"), str) and identity.canonical(student["id_number"]):
        return ("id", identity.canonical(student["id_number"]))
    worker, name = (data.get("worker") or {}).get("id_number"), student.get("name")
    return ("worker", identity.canonical(worker) if isinstance(worker, str) else worker,
            identity.canonical(name) if isinstance(name, str) else name)


def load_applications(root: Path, display_root: str) -> list:
    top = root / "applications"
    out = []
    if not top.is_dir():
        return out
    for rel in dataset.discover(top):
        record = dataset.read_one(root, display_root, f"applications/{rel}")[0]
        if record.kind == "application" and isinstance(record.data, dict):
            out.append(record)
    return out


def funded(st) -> bool:
    """Approved all the way to the funding union, or paid, as verify proved it (st: the record's
    verified Status, None when verify has none)."""
    return st is not None and st.verified and (st.complete or st.state == status.PAID)


def due(applications: list, year: int, campaign: dict, statuses: dict) -> dict:
    """{unit: [Renewal]} for YEAR, each list sorted by the previous application's id. statuses:
    verify's, by record rel."""
    course_years = campaign.get("course_years") or {}
    latest: dict = {}
    this_year = set()
    for r in applications:
        d = r.data
        y = d.get("year")
        if not isinstance(y, int):
            continue
        if y == year:
            this_year.update(crossrules.child_keys(d))
        elif y < year and d.get("form") in ("new", "continuing") and funded(statuses.get(r.rel)):
            k = student_key(d)
            if k not in latest or latest[k].data["year"] < y:
                latest[k] = r
    out: dict = {}
    for k, r in latest.items():
        if this_year & set(crossrules.child_keys(r.data)):
            continue  # applied for already (the same child as validate's duplicate rule sees it)
        student = r.data.get("student") or {}
        years = course_years.get(student.get("education"))
        admitted = student.get("admission_year")
        if not isinstance(years, int) or not isinstance(admitted, int):
            continue
        end = admitted + years - 1
        if year <= end:
            out.setdefault(r.data["unit"], []).append(Renewal(r, r.data["year"], end))
    for items in out.values():
        items.sort(key=lambda x: x.previous.data.get("id", ""))
    return dict(sorted(out.items()))


def continuing_application(renewal: Renewal, *, year: int, record_id: str, filed_on: str, campaign: dict) -> dict:
    """The continuing application for the clerk to complete: people copied, documents to do."""
    prev = renewal.previous.data
    education = (prev.get("student") or {}).get("education")
    standard = ((campaign.get("amounts") or {}).get("continuing") or {}).get(education)
    aid = {"funding_unit": (prev.get("aid") or {}).get("funding_unit", prev["unit"]),
           "amount": standard if standard is not None else (prev.get("aid") or {}).get("amount")}
    data = {
        "id": record_id,
        "form": "continuing",
        "year": year,
        "unit": prev["unit"],
        "filed_on": filed_on,
        "worker": dict(prev.get("worker") or {}),
        "student": dict(prev.get("student") or {}),
        "continues": prev["id"],
        "flags": dict(prev.get("flags") or {}),
        "documents": {"scholarship_letter": False, "transcript": False, "system_printout": False},
        "aid": aid,
        "approvals": [],
    }
    return data


HEADER_COMMENT = (
    "# 由 renewals 生成的在读生（附件2）继续资助申请：请核对职工和学生情况（家庭人口、收入、学校等可能已变），"
    "附上奖学金申请书、年度成绩单和表现鉴定、系统打印页后把对应的 false 改为 true，再提交"
)
