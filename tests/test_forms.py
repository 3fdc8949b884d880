"""The printable forms: one A4 page per form; each union's bundle (cover and contents, then its forms
and those of every union below it) as PDF printed by headless Chromium, and as HTML."""

import json
from collections import Counter
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from jinqiu.check import validate
from jinqiu.publish import browser, forms, pipeline as publish, printing, statistics
from jinqiu.problems import has_errors

DATA = Path(__file__).parent / "site_data" / "data"
ALL_UNIONS = ["dl", "dl-zs", "dl-xg", "dl-jx", "dl-zs-0001", "dl-zs-0002", "dl-xg-0001", "dl-jx-0001"]


def render(data: Path, change=None) -> forms.Forms:
    dataset, problems = validate.run(data)
    assert not has_errors(problems)
    sts = publish.statuses(dataset)[0]
    if change:
        change(dataset)
    return forms.render(dataset, 2011, sts, statistics.compute_all(dataset, 2011, sts))


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    out = tmp_path_factory.mktemp("forms")
    cache = tmp_path_factory.mktemp("cache")
    rendered = render(DATA)
    htmls = forms.write_html(rendered, out)
    report = printing.bundle_pdfs(rendered, out, cache_dir=cache, workers=2)
    return rendered, htmls, report, cache


def pdf_pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def pdf_text(pdf: Path, page: int | None = None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return subprocess.run(["pdftotext", *pages, "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def pages_of(pdf: Path) -> list[str]:
    return pdf_text(pdf).split("\f")[:-1]


def bundle(report, uid: str) -> Path:
    return next(p for p in report.pdfs if p.stem == uid)


def test_one_html_file_per_union_with_cover_then_its_own_forms(printed):
    rendered, htmls, _, _ = printed
    assert sorted(h.stem for h in htmls) == sorted(ALL_UNIONS)
    html = next(h for h in htmls if h.stem == "dl-zs-0001").read_text(encoding="utf-8")
    assert html.count('<section class="page cover') == 1
    assert html.count('<section class="page form-') == 1 + 3  # 附件3 + three applications
    assert "@page { size: A4" in html
    district = next(h for h in htmls if h.stem == "dl-zs").read_text(encoding="utf-8")
    assert '<a href="dl-zs-0001.html">' in district and '<a href="dl-zs-0002.html">' in district


def test_each_union_has_one_pdf_of_its_forms_and_those_below_it(printed):
    rendered, _, report, _ = printed
    assert sorted(p.stem for p in report.pdfs) == sorted(ALL_UNIONS)
    own = {uid: len(rendered.pages(uid)) for uid in ALL_UNIONS}
    assert own == {uid: rendered.counts[uid] for uid in ALL_UNIONS}
    assert own["dl-zs-0001"] == 4 and own["dl-zs-0002"] == 3
    below = {"dl": ALL_UNIONS, "dl-zs": ["dl-zs", "dl-zs-0001", "dl-zs-0002"], "dl-xg": ["dl-xg", "dl-xg-0001"],
             "dl-jx": ["dl-jx", "dl-jx-0001"]}
    for uid in ALL_UNIONS:
        members = below.get(uid, [uid])
        assert rendered.members(uid)[0] == uid and sorted(rendered.members(uid)) == sorted(members)
        assert pdf_pages(bundle(report, uid)) == 1 + sum(own[m] for m in members), uid
    assert report.pages == sum(pdf_pages(p) for p in report.pdfs)


def test_bundle_order_and_contents_page_numbers(printed):
    rendered, _, report, _ = printed
    pages = pages_of(bundle(report, "dl"))
    toc = pages[0]
    assert "2011年“金秋助学”审批登记表汇编" in toc and "大连市总工会" in toc and "目" in toc
    order = rendered.members("dl")
    assert order[:4] == ["dl", "dl-jx", "dl-jx-0001", "dl-xg"]  # depth first, by code
    for row in rendered.contents("dl"):
        name = rendered.names[row["uid"]]
        line = next(line for line in toc.splitlines() if name in line and line.split()[0] == str(row["n"]))
        assert line.split()[-2:] == [str(row["count"]), str(row["page"])], line
        # the page the contents name: the union's 附件3 page (its first form)
        assert f"填报单位：{name}" in pages[row["page"] - 1].replace(" ", ""), name


def test_batched_printing_gives_the_text_each_form_gives_alone(printed, tmp_path):
    """Every page of the city's bundle (every form of every union) against that form printed in a
    document of its own; and one of them printed the old way, `chromium --print-to-pdf`."""
    rendered, _, report, _ = printed
    got = pages_of(bundle(report, "dl"))
    alone = forms.cover(rendered, "dl") + [p for uid in rendered.members("dl") for p in rendered.pages(uid)]
    assert len(got) == len(alone) == 17
    with browser.Browser() as chrome:
        tab = chrome.tab()
        for n, page in enumerate(alone):
            html = tmp_path / f"{n}.html"
            html.write_text(forms.shell("x", [page]), encoding="utf-8")
            pdf = tmp_path / f"{n}.pdf"
            pdf.write_bytes(tab.pdf(html.as_uri(), printing.PRINT_OPTIONS))
            assert pdf_pages(pdf) == 1
            assert pdf_text(pdf) == got[n] + "\f", n
    old = tmp_path / "old.pdf"
    subprocess.run([browser.executable(), "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path / 'p'}",
                    "--no-pdf-header-footer", f"--print-to-pdf={old}", (tmp_path / "3.html").as_uri()],
                   capture_output=True, check=True, timeout=120)
    assert pdf_text(old) == got[3] + "\f"


def test_pdf_text_holds_labels_and_values(printed):
    _, _, report, _ = printed
    pdf = bundle(report, "dl-zs-0001")
    stats_page = pdf_text(pdf, 2)
    for text in ("附件3", "行动情况统计表", "填报单位：大连港湾商贸有限公司工会", "其中大专以上（人）", "50000"):
        assert text in stats_page, text
    form1 = pdf_text(pdf, 3)
    for text in ("附件1", "当年考入大学学生“金秋助学”审批登记表", "职工姓名", "王建国", "身份证号码", "210202196601101019",
                 "家庭致困", "考入学校", "大连理工大学", "审查意见", "审核意见", "审批意见", "盖章", "备注",
                 "困难职工档案内", "本单位资助的对象", "审查人：周红梅", "审核人：孙立新", "情况属实，同意上报"):
        assert text in form1, text
    form2 = pdf_text(pdf, 5)
    for text in ("附件2", "大学在读学生“金秋助学”审批登记表", "学生姓名", "赵晓梅", "考取年度", "2010"):
        assert text in form2, text
    assert "备注" not in form2  # 附件2 has no 备注 in the notice


def test_own_funded_box_is_ticked_with_amount_and_date(printed):
    _, _, report, _ = printed
    text = pdf_text(bundle(report, "dl-zs-0002"), 3)  # 004: funded by the grassroots union itself, paid 08-05
    assert "本单位资助的对象☑" in text.replace(" ", "") and "1000" in text


def test_cache_reprints_only_a_changed_form(printed, tmp_path):
    rendered, _, report, cache = printed
    assert report.printed == 8 + 16 and report.reused == 0  # a cover per union, and every form once
    again = printing.bundle_pdfs(render(DATA), tmp_path / "same", cache_dir=cache)
    assert again.printed == 0 and again.reused == report.printed
    for uid in ALL_UNIONS:
        assert pages_of(bundle(again, uid)) == pages_of(bundle(report, uid)), uid

    def change(dataset):
        record = next(r for r in dataset.applications if r.data["id"] == "2011-dl-zs-0001-001")
        assert record.data["worker"]["hardship_cause"] == "本人患病，家庭收入低"
        record.data["worker"]["hardship_cause"] = "本人患病，家庭收入很低"

    changed = render(DATA, change)
    got = printing.bundle_pdfs(changed, tmp_path / "changed", cache_dir=cache)
    assert got.printed == 1 and got.reused == report.printed - 1  # its page; no cover, 附件3 or other form
    for uid in ALL_UNIONS:
        before, after = pages_of(bundle(report, uid)), pages_of(bundle(got, uid))
        differ = [n for n in range(len(before)) if before[n] != after[n]]
        if "dl-zs-0001" in changed.members(uid):
            assert len(differ) == 1 and "本人患病，家庭收入很低" in after[differ[0]].replace(" ", ""), uid
        else:
            assert differ == [], uid


def index_of(cache: Path) -> dict:
    return json.loads((cache / "index.json").read_bytes().partition(b"\n")[2])["entries"]


def _plant(cache: Path, into: Path, sign: bool = True) -> Path:
    """A copy of a good cache whose index points each form at another page of the same print job:
    what someone who can commit would plant to change what is printed; sign: with a good HMAC (as
    if the attacker had this user's secret)."""
    planted = into / "jinqiu" / "forms"
    shutil.copytree(cache, planted)
    entries = index_of(cache)
    pages: dict = {}
    for entry in entries.values():
        pages.setdefault(entry[0], []).append(entry[1])
    for entry in entries.values():
        entry[1] = max(pages[entry[0]]) - entry[1]  # the job's pages in reverse
    if sign:
        printing.Cache(planted).write_index(entries)
    else:
        (planted / "index.json").write_text(json.dumps({"format": printing.FORMAT, "entries": entries}), encoding="utf-8")
    return planted


def test_a_cache_planted_in_the_work_tree_is_not_trusted(printed, tmp_path):
    rendered, _, report, cache = printed
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    planted = _plant(cache, repo / ".cache")
    # used from outside a work tree, such a cache (with a good HMAC) would change what is printed...
    elsewhere = _plant(cache, tmp_path / "home")
    fooled = printing.bundle_pdfs(rendered, tmp_path / "fooled", cache_dir=elsewhere)
    assert fooled.printed == 0 and pages_of(bundle(fooled, "dl-zs-0001")) != pages_of(bundle(report, "dl-zs-0001"))
    # ...inside one it is refused, and every form printed afresh
    got = printing.bundle_pdfs(rendered, tmp_path / "out", cache_dir=planted)
    assert got.cache_refused and "git 工作区" in got.cache_refused and got.cache is None
    assert got.printed == report.printed + report.reused and got.reused == 0
    for uid in ALL_UNIONS:
        assert pages_of(bundle(got, uid)) == pages_of(bundle(report, uid)), uid
    # and nothing was written into it
    assert sorted(p.name for p in (planted / "jobs").iterdir()) == sorted(p.name for p in (elsewhere / "jobs").iterdir())
    # the data and output directories are refused too, in git or not
    inside = printing.bundle_pdfs(rendered, tmp_path / "o2", cache_dir=tmp_path / "o2" / "c", untrusted=(tmp_path / "o2",))
    assert inside.cache_refused and inside.printed == report.printed + report.reused


def test_an_index_without_a_good_hmac_is_ignored(printed, tmp_path):
    rendered, _, report, cache = printed
    forged = _plant(cache, tmp_path / "home", sign=False)
    got = printing.bundle_pdfs(rendered, tmp_path / "out", cache_dir=forged)
    assert got.reused == 0 and got.printed == report.printed + report.reused
    for uid in ALL_UNIONS:
        assert pages_of(bundle(got, uid)) == pages_of(bundle(report, uid)), uid


def test_a_job_whose_bytes_changed_is_printed_again(printed, tmp_path):
    rendered, _, report, cache = printed
    mine = tmp_path / "cache"
    shutil.copytree(cache, mine)
    counts = Counter(entry[0] for entry in index_of(mine).values())
    job = mine / "jobs" / f"{max(counts, key=counts.get)}.pdf"  # one of the first run's jobs
    job.write_bytes(job.read_bytes() + b"\n% changed\n")  # still a good PDF, but not the one the index names
    got = printing.bundle_pdfs(rendered, tmp_path / "out", cache_dir=mine)
    assert got.printed == counts[job.stem] > 1
    for uid in ALL_UNIONS:
        assert pages_of(bundle(got, uid)) == pages_of(bundle(report, uid)), uid


def test_the_cache_outside_any_work_tree_is_the_users(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert printing.user_cache_dir() == tmp_path / "xdg" / "jinqiu" / "forms"
    assert printing.refused(printing.user_cache_dir()) is None
    assert printing.refused(tmp_path / "data" / "c", untrusted=(tmp_path / "data",))


def test_build_prints_bundles_and_says_what_it_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    from jinqiu import cli
    import io

    for n, want in ((1, "新打印 24 份，0 份未改动沿用"), (2, "新打印 0 份，24 份未改动沿用")):
        out, err = io.StringIO(), io.StringIO()
        code = cli.main(["build", "--data", str(DATA), "--out", str(tmp_path / f"o{n}"), "--today", "2011-08-20"], out, err)
        assert code == 0, err.getvalue()
        assert want in err.getvalue(), err.getvalue()
    assert sorted(p.stem for p in (tmp_path / "o2" / "private" / "forms").glob("*.pdf")) == sorted(ALL_UNIONS)


def test_the_opinion_boxes_are_the_latest_rounds():
    """A record re-approved after an edit: the boxes show the second round's decisions (those verify
    counted, by their place in the list), say which round it is, and give the day each entered the
    repository when it differs from the date written."""
    from jinqiu.trust import status as st

    def entry(level, opinion, day, content):
        return {"level": level, "decision": "approve", "opinion": opinion, "reviewer": f"r-{level}", "date": day,
                "digest": "sha256:" + content * 64}

    record = {"id": "2011-x-001", "approvals": [entry(1, "第一轮审查", "2011-07-21", "a"), entry(2, "第一轮审核", "2011-07-22", "a"),
                                                entry(1, "第二轮审查", "2011-07-26", "b"), entry(2, "第二轮审核", "2011-08-09", "b")]}
    status = st.Status(st.APPROVED, 2, False, True, (st.Proof(1, "SHA256:k1", "c" * 40, 2, "2011-07-26"),
                                                     st.Proof(2, "SHA256:k2", "d" * 40, 3, "2011-08-15")), 2)
    boxes = forms.opinions(record, {}, status)
    assert boxes[1]["opinion"] == "第二轮审查" and boxes[2]["opinion"] == "第二轮审核"
    assert boxes[1]["entered"] == "" and boxes[2]["entered"] == "2011-08-15"
    html = forms.environment().get_template("_box.html").render(boxes=boxes, level=2, round=2)
    assert "签名已核验 · 第 2 轮审批" in html and "2011-08-15 进入仓库" in html
    # nothing verified: the latest round as written, marked unverified
    boxes = forms.opinions(record, {}, st.Status(st.FILED))
    assert boxes[1]["opinion"] == "第二轮审查" and not boxes[1]["verified"]
