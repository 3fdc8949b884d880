"""The printable forms: one A4 page per form, in HTML and in PDF printed by headless Chromium."""

import subprocess
from pathlib import Path

import pytest

from jinqiu import forms, publish, statistics, validate
from jinqiu.problems import has_errors

DATA = Path(__file__).parent / "site_data" / "data"


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    out = tmp_path_factory.mktemp("forms")
    dataset, problems = validate.run(DATA)
    assert not has_errors(problems)
    sts = publish.statuses(dataset)[0]
    tables = statistics.compute_all(dataset, 2011, sts)
    htmls = forms.write_all(dataset, 2011, sts, tables, out)
    wanted = [h for h in htmls if h.stem in ("dl-zs-0001", "dl-zs-0002", "dl")]
    return htmls, forms.print_pdfs(wanted, workers=2)


def pdf_pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def pdf_text(pdf: Path, page: int) -> str:
    return subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), "-layout", str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout


def test_one_html_file_per_union_with_one_section_per_form(printed):
    htmls, _ = printed
    assert sorted(h.stem for h in htmls) == sorted(["dl", "dl-zs", "dl-xg", "dl-jx", "dl-zs-0001", "dl-zs-0002", "dl-xg-0001", "dl-jx-0001"])
    html = next(h for h in htmls if h.stem == "dl-zs-0001").read_text(encoding="utf-8")
    assert html.count('<section class="page') == 1 + 3  # 附件3 + three applications
    assert "@page { size: A4" in html


def test_pdf_has_exactly_one_page_per_form(printed):
    htmls, pdfs = printed
    for pdf in pdfs:
        html = pdf.with_suffix(".html").read_text(encoding="utf-8")
        assert pdf_pages(pdf) == html.count('<section class="page'), pdf.name


def test_pdf_text_holds_labels_and_values(printed):
    _, pdfs = printed
    pdf = next(p for p in pdfs if p.stem == "dl-zs-0001")
    stats_page = pdf_text(pdf, 1)
    for text in ("附件3", "行动情况统计表", "填报单位：大连港湾商贸有限公司工会", "其中大专以上（人）", "50000"):
        assert text in stats_page, text
    form1 = pdf_text(pdf, 2)
    for text in ("附件1", "当年考入大学学生“金秋助学”审批登记表", "职工姓名", "王建国", "身份证号码", "210202196601101019",
                 "家庭致困", "考入学校", "大连理工大学", "审查意见", "审核意见", "审批意见", "盖章", "备注",
                 "困难职工档案内", "本单位资助的对象", "审查人：周红梅", "审核人：孙立新", "情况属实，同意上报"):
        assert text in form1, text
    form2 = pdf_text(pdf, 4)
    for text in ("附件2", "大学在读学生“金秋助学”审批登记表", "学生姓名", "赵晓梅", "考取年度", "2010"):
        assert text in form2, text
    assert "备注" not in form2  # 附件2 has no 备注 in the notice


def test_own_funded_box_is_ticked_with_amount_and_date(printed):
    _, pdfs = printed
    pdf = next(p for p in pdfs if p.stem == "dl-zs-0002")
    text = pdf_text(pdf, 2)  # 004: funded by the grassroots union itself, paid 08-05
    assert "本单位资助的对象☑" in text.replace(" ", "") and "1000" in text
