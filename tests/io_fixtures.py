"""Shared helpers for the import/export/fmt/new/renewals tests: a small data tree and valid rows."""

from __future__ import annotations

import random
from pathlib import Path

from jinqiu.check import ids
from jinqiu.edit import fmt

UNITS = """\
units:
- id: dl
  name: 大连市总工会
  kind: city
  area_codes:
  - "0411"
- id: dl-zs
  name: 大连市中山区总工会
  kind: district
  parent: dl
- id: dl-zs-0001
  name: 大连某机床厂工会
  kind: enterprise
  parent: dl-zs
- id: dl-zs-0002
  name: 中山区青泥洼桥街道工会
  kind: street
  parent: dl-zs
- id: dl-xg
  name: 大连市西岗区总工会
  kind: district
  parent: dl
- id: dl-xg-0001
  name: 西岗区某公司工会
  kind: enterprise
  parent: dl-xg
"""

CAMPAIGN = """\
year: {year}
title: {year}年“金秋助学”活动
materials_due: "{year}-08-10"
report_due: "{year}-08-25"
ends_on: "{year}-08-25"
statistics_as_of: "{year}-08-31"
amounts:
  new:
    本科: 5000
    大专: 4000
    高职: 4000
  continuing:
    本科: 3000
    大专: 2000
    高职: 2000
  local:
    小学: 1000
    初中: 1000
    高中: 1500
    本科: 3000
course_years:
  本科: 4
  大专: 3
  高职: 3
  研究生: 3
"""


def make_data(root: Path, years=(2010, 2011, 2012)) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "units.yaml").write_text(UNITS, encoding="utf-8")
    (root / "campaigns").mkdir(exist_ok=True)
    for y in years:
        (root / "campaigns" / f"{y}.yaml").write_text(CAMPAIGN.format(year=y), encoding="utf-8")
    fmt.run(root, str(root), None, check=False)
    return root


def id_number(region="210202", birth="19680315", seq=123, male=True) -> str:
    seq = seq % 1000
    if (seq % 2 == 1) != male:
        seq = (seq + 1) % 1000
    first = f"{region}{birth}{seq:03d}"
    return first + ids.check_digit(first)


HEADERS_NEW = [
    "填表日期", "职工姓名", "性别", "出生年月", "工作单位", "身份证号码", "家庭住址", "联系电话", "家庭人口",
    "家庭月人均收入", "就业状况", "家庭致困原因", "学生姓名", "学校名称", "专业", "所学学历", "考取年度",
    "困难职工档案内", "其中困难农民工", "录取通知书", "高考成绩通知单复印件", "工作单位帮扶", "助学资金",
]
HEADERS_NEW[-2] = "工会帮扶工作管理系统中职工本人打印页"


def row_new(i: int = 0, rng: random.Random | None = None) -> list:
    """A valid row of a 附件1 sheet (values as a clerk types them), different for each i."""
    number = id_number(birth=f"19{60 + i % 10}0{1 + i % 9}1{i % 10}", seq=i)
    return [
        "2011-07-20", f"王{'建国明华强伟'[i % 6]}{'一二三四五'[i % 5]}", "男", f"19{60 + i % 10}-0{1 + i % 9}",
        "大连某机床厂", number, f"大连市中山区人民路{i + 1}号", f"1380411{i % 10000:04d}", 3 + i % 3,
        800 + (i % 7) * 10.5, "下岗", "疾病致困", f"王小{'甲乙丙丁戊己'[i % 6]}{i}", "大连理工大学", "机械工程",
        "本科", 2011, "是", "否", "是", "是", "是", 5000,
    ]


def application(year: int, unit: str, seq: int, *, form="new", education="本科", admission_year=None,
                approved_to=0, funding_unit="dl", worker_seq=None, student="王小明") -> dict:
    """A valid application record (as data), approved up to a level as its approvals claim."""
    from decimal import Decimal

    wseq = seq if worker_seq is None else worker_seq
    number = id_number(birth="19650505", seq=wseq)
    data = {
        "id": f"{year}-{unit}-{seq:03d}", "form": form, "year": year, "unit": unit, "filed_on": f"{year}-07-20",
        "worker": {"name": "王建国", "gender": ids.id_gender(number), "birth_month": "1965-05", "employer": "大连某机床厂",
                   "id_number": number, "address": "大连市中山区人民路1号", "phone": "0411-84123456",
                   "household_size": 3, "income_per_capita": Decimal("800.50"), "employment": "下岗",
                   "hardship_cause": "疾病致困"},
        "student": {"name": student, "school": "大连理工大学", "major": "机械工程", "education": education,
                    "admission_year": admission_year or year},
        "flags": {"in_archive": True, "migrant_worker": False},
        "documents": {"admission_notice": True, "exam_scores": True, "system_printout": True},
        "aid": {"funding_unit": funding_unit, "amount": Decimal(5000 if education == "本科" else 4000)},
        "approvals": [
            {"level": lv, "decision": "approve", "opinion": "情况属实，同意", "reviewer": f"r-{lv}", "date": f"{year}-07-2{lv}"}
            for lv in range(1, approved_to + 1)
        ],
    }
    if form == "continuing":
        data["documents"] = {"scholarship_letter": True, "transcript": True, "system_printout": True}
        data["continues"] = f"{year - 1}-{unit}-{seq:03d}"
        data["aid"]["amount"] = Decimal(3000)
    return data


def write_record(root: Path, data: dict, kind: str = "application") -> Path:
    from jinqiu.records import yamlwrite

    top = "applications" if kind == "application" else "graduates"
    path = root / top / str(data["year"]) / data["unit"] / f"{data['id']}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yamlwrite.dump(data, kind), encoding="utf-8")
    return path
