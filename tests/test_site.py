"""The build command end to end: real mkdocs (and Zensical) builds, downloads, --as-of, invalid data."""

import csv
import io
import shutil
import subprocess
from html import unescape
from pathlib import Path

import openpyxl
import pytest

from jinqiu import cli
from jinqiu.check import safemd
from jinqiu.publish import pipeline as publish, site

DATA = Path(__file__).parent / "site_data" / "data"
GIT = ["git", "-c", "user.name=T", "-c", "user.email=t@example.invalid"]


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    code, stdout, stderr = run("build", "--data", str(DATA), "--out", str(out), "--today", "2011-08-20", "--no-forms")
    assert code == 0, stdout + stderr
    return out


def test_default_command_is_build():
    assert cli.DEFAULT_COMMAND == "build" and "build" in cli.COMMANDS


def test_site_and_private_are_separate(built):
    assert (built / "site" / "index.html").exists()
    assert (built / "private" / "site-build" / "docs" / "index.md").exists()
    assert not list((built / "site").rglob("*.md"))
    assert not (built / "site" / "private").exists()


def test_home_page_content(built):
    html = (built / "site" / "index.html").read_text(encoding="utf-8")
    for text in ("2011年“金秋助学”活动", "还有 5 天", "已截止", "已发放", "审批状态经签名核验", "<svg", "万元"):
        assert text in html, text
    assert "fonts.googleapis" not in html and "https://" not in html.split("</head>")[0]


def test_progress_page_completeness_and_timeliness(built):
    html = (built / "site" / "progress.html").read_text(encoding="utf-8")
    assert "已报送总结和统计表 2 个，其中按时报送 1 个" in html
    assert "逾期" in html and "未报送" in html


def test_statistics_pages_for_city_and_each_union(built):
    stats = built / "site" / "statistics"
    assert {p.name for p in stats.glob("*.html")} == {"index.html", "dl-zs.html", "dl-xg.html", "dl-jx.html"}
    zs = (stats / "dl-zs.html").read_text(encoding="utf-8")
    assert "与工会自填数字不同" in zs and "02A：计算 1.2，自填 1.3" in zs
    assert "<li>03A：计算 4，自填 5</li>" in zs  # a list, not a literal "- 03A" in a paragraph


def article_text(html: str) -> str:
    import re

    body = html[html.index("<article"):html.index("</article>")]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def test_each_statistics_page_has_its_own_h1_and_title(built):
    import re

    seen = set()
    for page in sorted((built / "site" / "statistics").glob("*.html")):
        html = page.read_text(encoding="utf-8")
        h1 = re.search(r"<h1[^>]*>(.*?)</h1>", html).group(1)
        title = re.search(r"<title>(.*?)</title>", html).group(1)
        assert "附件3" in h1, page.name
        assert (h1, title) not in seen
        seen.add((h1, title))
    zs = (built / "site" / "statistics" / "dl-zs.html").read_text(encoding="utf-8")
    assert "<h1 id=" in zs and "大连市中山区总工会统计表（附件3）</h1>" in zs


def test_a_union_that_has_not_reported_says_so(built):
    """dl-xg has filed no report: its funds are 未报送, not 0, and no box says the check passed."""
    xg = article_text((built / "site" / "statistics" / "dl-xg.html").read_text(encoding="utf-8"))
    assert "尚未报送总结和统计表" in xg and "一致性检查通过" not in xg
    assert "2011年助学活动共筹集资金（万元） 未报送" in xg
    assert "筹集资金 未报送" in xg  # the summary band
    zs = article_text((built / "site" / "statistics" / "dl-zs.html").read_text(encoding="utf-8"))
    assert "与工会自填数字不同" in zs and "一致性检查通过" not in zs  # one box, not passed beside inconsistent
    city = article_text((built / "site" / "statistics" / "index.html").read_text(encoding="utf-8"))
    assert "大连市西岗区总工会 0 0 未报送 1 0 未报送" in city


def test_summary_band_on_home_and_union_pages(built):
    home = article_text((built / "site" / "index.html").read_text(encoding="utf-8"))
    assert "申请 8 份" in home and "审批完成 5 份" in home and "已发放 5 份" in home
    assert "筹集资金 65.5 万元 已审批助学金 1.4 万元，占筹集资金的 2%" in home
    assert "申报材料报市总工会 已截止" in home and "活动总结和统计表报市总工会 还有 5 天" in home
    zs = article_text((built / "site" / "statistics" / "dl-zs.html").read_text(encoding="utf-8"))
    assert "申请 5 份" in zs and "已发放 4 份" in zs and "筹集资金 12.5 万元" in zs


def test_data_is_dated_by_its_own_date_and_version(built):
    """数据截至: the latest date the public records carry (never after --today), and the commit."""
    home = article_text((built / "site" / "index.html").read_text(encoding="utf-8"))
    commit = subprocess.run(["git", "-C", str(DATA), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    assert "数据截至 2011年8月4日" in home, home[:400]
    assert f"数据版本 {commit[:12]}" in home
    assert "工作区" not in home


def test_tables_have_captions_and_header_scopes(built):
    import re

    for page in ("index.html", "progress.html", "statistics/index.html", "statistics/dl-zs.html"):
        html = (built / "site" / page).read_text(encoding="utf-8")
        tables = re.findall(r"<table.*?</table>", html, re.S)
        assert tables, page
        for table in tables:
            assert "<table>" in table, (page, "the theme styles only tables without a class")
            assert "<caption>" in table and '<th scope="col"' in table and '<th scope="row"' in table, page
            assert "<th>" not in table, page


def test_search_index(built):
    """Titles tell the pages apart, 附件3 and union names are whole words, cells are not run
    together, and the index is not bloated by escaped zero-width spaces."""
    import json
    import re

    raw = (built / "site" / "search" / "search_index.json").read_text(encoding="utf-8")
    assert "\\u" not in raw[raw.index('"docs"'):]  # no \\u200b escapes (the config's separator regex has one)
    assert raw.count("\u200b") > 100  # the segmenter's zero-width spaces, as UTF-8
    docs = json.loads(raw)["docs"]
    pages = {d["location"]: d for d in docs if "#" not in d["location"]}
    titles = {loc: d["title"].replace("\u200b", "") for loc, d in pages.items()}
    assert titles["statistics/dl-zs.html"] == "大连市中山区总工会统计表（附件3）"
    assert len(set(titles.values())) == len(titles)
    assert "附件3" in pages["statistics/index.html"]["tags"]  # tags are indexed whole, with the highest boost
    assert pages["statistics/dl-zs.html"]["tags"] == ["中山区", "大连市中山区总工会"]
    assert "\u200b中山区\u200b" in pages["statistics/dl-zs.html"]["title"]
    # Material's search cuts a Chinese query by the index's words but never tries the whole run: a
    # lone 附 anywhere in the index turns the query 附件3 into 附3, which finds nothing.
    words = {w for d in docs for f in ("title", "text") for w in re.split(r"[\s\u200b\-]|<[^>]+>", d[f])}
    assert "附" not in words
    progress = pages["progress.html"]["text"].replace("\u200b", "")
    assert "大连市中山区总工会 区总工会 5 0 0 1 0 4 0 0" in progress, progress
    reports = [d["text"].replace("\u200b", "") for d in docs
               if d["location"].startswith("progress.html#") and "总结和统计表" in d["title"].replace("\u200b", "")]
    assert len(reports) == 1 and "大连市中山区总工会 已报送 2011-08-22" in reports[0], reports


def test_404_and_footer_in_chinese(built):
    html = (built / "site" / "404.html").read_text(encoding="utf-8")
    assert "找不到这个页面" in html and "Not found" not in html
    for page in ("404.html", "index.html"):
        text = (built / "site" / page).read_text(encoding="utf-8")
        assert "Made with" not in text and "本站只公开汇总数字" in text
        assert '<html lang="zh-CN"' in text


def test_site_url_and_repository_from_configuration(tmp_path):
    """--site-url puts 404.html's links under the sub-path; --repo-url is linked where the public is
    told how to check (the banner) and in the footer. Not an http(s) address: a usage error."""
    repo = "https://git.example.invalid/dl/jinqiu"
    code, out, err = run("build", "--data", str(DATA), "--out", str(tmp_path), "--today", "2011-08-20", "--no-forms",
                         "--site-url", "https://pages.example.invalid/jinqiu", "--repo-url", repo)
    assert code == 0, out + err
    page404 = (tmp_path / "site" / "404.html").read_text(encoding="utf-8")
    assert 'href="/jinqiu/assets/stylesheets/' in page404 and 'href="/jinqiu/index.html"' in page404
    assert 'href="/assets' not in page404
    home = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert f'从<a href="{repo}">活动仓库</a>取得副本' in home
    assert f'<a href="{repo}">{repo}</a>' in home  # footer
    assert run("build", "--data", str(DATA), "--out", str(tmp_path / "x"), "--repo-url", "javascript:alert(1)")[0] == 2


def test_csv_download(built):
    text = (built / "site" / "downloads" / "statistics-2011.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["编号", "项目", "大连市总工会（dl）"]
    assert len(rows) == 44 and len(rows[0]) == 2 + 8  # 42 items, the header and the note on hidden figures
    assert rows[[r[0] for r in rows].index("03A")][2] == "5"


def test_xlsx_download_in_official_layout(built):
    wb = openpyxl.load_workbook(built / "site" / "downloads" / "statistics-2011.xlsx")
    assert wb.sheetnames == ["大连市总工会", "大连市机械冶金工会", "大连市西岗区总工会", "大连市中山区总工会", "全部工会"]
    ws = wb["大连市总工会"]
    assert ws["A1"].value == "2011年“金秋助学”和“阳光就业”行动情况统计表"
    labels = {ws.cell(r, 3).value: ws.cell(r, 4).value for r in range(4, 46)}
    assert labels["2011年助学活动中共资助困难职工和困难农民工子女（人）"] == 5
    assert labels["2011年助学活动共发放助学款（万元）"] == 1.4


def test_public_notice_only_inside_window(tmp_path):
    for today, shown in (("2011-08-14", False), ("2011-08-15", True), ("2011-08-24", True), ("2011-08-25", False)):
        out = tmp_path / today
        result = publish.build(publish.Options(data=DATA, out=out, today=today, forms=False))
        html = unescape((out / "site" / "notice.html").read_text(encoding="utf-8"))
        assert ("王*雨" in html) is shown, today
        assert ("当前不在公示期" in html) is not shown
        assert result.ok


def test_invalid_data_is_not_published(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    bad = data / "applications/2011/dl-xg-0001/2011-dl-xg-0001-006.yaml"
    bad.write_text(bad.read_text(encoding="utf-8").replace("amount: 5000", "amount: -5"), encoding="utf-8")
    code, out, err = run("build", "--data", str(data), "--out", str(tmp_path / "o"), "--today", "2011-08-20", "--no-forms")
    assert code == 1 and "2011-dl-xg-0001-006.yaml:" in out and "未生成网站" in err
    assert not (tmp_path / "o" / "site").exists()
    code, out, err = run("build", "--data", str(data), "--out", str(tmp_path / "o"), "--today", "2011-08-20", "--no-forms", "--allow-invalid")
    assert code == 0, out + err
    assert "未纳入" in err
    assert "有 1 个数据文件未通过校验" in (tmp_path / "o" / "site" / "index.html").read_text(encoding="utf-8")


def test_as_of_rebuilds_from_an_earlier_commit(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(DATA, repo / "data")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    env = {"GIT_COMMITTER_DATE": "2011-08-10T18:00:00", "GIT_AUTHOR_DATE": "2011-08-10T18:00:00"}
    import os

    env = {**os.environ, **env}
    # the reviewer registry is committed on its own, as verify requires
    subprocess.run([*GIT, "-C", str(repo), "add", "data/reviewers.yaml", "data/units.yaml"], check=True)
    subprocess.run([*GIT, "-C", str(repo), "commit", "-qm", "registry"], check=True, env=env)
    subprocess.run([*GIT, "-C", str(repo), "add", "-A"], check=True)
    subprocess.run([*GIT, "-C", str(repo), "commit", "-qm", "as at 08-10"], check=True, env=env)
    extra = repo / "data/applications/2011/dl-xg-0001/2011-dl-xg-0001-006.yaml"
    extra.unlink()
    env2 = {**os.environ, "GIT_COMMITTER_DATE": "2011-08-20T10:00:00", "GIT_AUTHOR_DATE": "2011-08-20T10:00:00"}
    subprocess.run([*GIT, "-C", str(repo), "commit", "-qam", "later"], check=True, env=env2)
    code, out, err = run("build", "--data", str(repo / "data"), "--out", str(tmp_path / "now"), "--no-forms")
    assert code == 0, out + err
    code, out, err = run("build", "--data", str(repo / "data"), "--out", str(tmp_path / "then"), "--as-of", "2011-08-10", "--no-forms")
    assert code == 0, out + err
    now = (tmp_path / "now/site/index.html").read_text(encoding="utf-8")
    then = (tmp_path / "then/site/index.html").read_text(encoding="utf-8")
    assert "共收到申请 <strong>7</strong>" in now and "共收到申请 <strong>8</strong>" in then
    commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD~1"], capture_output=True, text=True).stdout.strip()
    assert f"数据截至 2011年8月10日（按当日的数据版本 <code>{commit[:12]}</code>）" in then and "今天截止" in then
    # every dated fact is cut at the day too, not only the commits: of the five payments committed by
    # 08-10 only one (004, paid 08-05) was made by then; no report was filed by then (08-22 and later)
    def paid(out):
        rows = list(csv.reader(io.StringIO((tmp_path / out / "site/downloads/statistics-2011.csv").read_text(encoding="utf-8-sig"))))
        return rows[[r[0] for r in rows].index("03A")][2]

    assert paid("now") == "5" and paid("then") == "1"
    assert "已报送总结和统计表 0 个" in (tmp_path / "then/site/progress.html").read_text(encoding="utf-8")
    assert "已报送总结和统计表 3 个" not in (tmp_path / "then/site/progress.html").read_text(encoding="utf-8")
    code, out, err = run("build", "--data", str(repo / "data"), "--out", str(tmp_path / "x"), "--as-of", "deadbeef", "--no-forms")
    assert code == 1 and "找不到提交" in err


def test_home_page_says_why_there_is_no_history_chart(tmp_path):
    """A repository with commits and no application yet says so; data outside git says that; the
    date line says no record has been filed rather than that there is no data."""
    import os

    repo = tmp_path / "repo"
    shutil.copytree(DATA, repo / "data")
    for kind in ("applications", "graduates", "reports"):
        shutil.rmtree(repo / "data" / kind)
    outside = tmp_path / "outside"
    shutil.copytree(repo / "data", outside)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    env = {**os.environ, "GIT_COMMITTER_DATE": "2011-07-01T10:00:00", "GIT_AUTHOR_DATE": "2011-07-01T10:00:00"}
    subprocess.run([*GIT, "-C", str(repo), "add", "-A"], check=True)
    subprocess.run([*GIT, "-C", str(repo), "commit", "-qm", "a city with no application yet"], check=True, env=env)
    pages = {}
    for name, data in (("git", repo / "data"), ("outside", outside)):
        code, out, err = run("build", "--data", str(data), "--out", str(tmp_path / name), "--today", "2011-08-20", "--no-forms")
        assert code == 0 and (tmp_path / name / "site/index.html").is_file(), out + err
        pages[name] = article_text((tmp_path / name / "site/index.html").read_text(encoding="utf-8"))
    assert "本年度还没有申请" in pages["git"] and "不在 git 仓库中" not in pages["git"]
    assert "数据目录不在 git 仓库中" in pages["outside"] and "本年度还没有申请" not in pages["outside"]
    for text in pages.values():
        assert "尚无已填报的申请或工会报告" in text and "暂无数据" not in text


def test_bad_option_is_a_usage_error(tmp_path):
    assert run("build", "--data", str(tmp_path / "missing"))[0] == 2
    assert run("build", "--data", str(DATA), "--today", "2011-13-01")[0] == 2


def test_mkdocs_yml_is_strict_offline_and_plugin_free():
    import yaml

    cfg = yaml.safe_load(site.MKDOCS_YML.read_text(encoding="utf-8"))
    assert cfg["strict"] is True and cfg["theme"]["font"] is False and cfg["theme"]["language"] == "zh-CN"
    assert [p if isinstance(p, str) else next(iter(p)) for p in cfg["plugins"]] == ["search"]
    assert "hooks" not in cfg and "extra_javascript" not in cfg


@pytest.mark.parametrize("tool", ["mkdocs", "zensical"])
def test_same_config_builds_with_mkdocs_and_zensical(built, tmp_path, tool):
    work = tmp_path / "w"
    shutil.copytree(built / "private" / "site-build", work)
    exe = shutil.which(tool)
    assert exe, f"{tool} is not installed (requirements-dev.txt pins it)"
    args = [exe, "build", "--strict"] if tool == "mkdocs" else [exe, "build"]
    proc = subprocess.run(args, cwd=work, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for page in ("index.html", "progress.html", "statistics/index.html", "statistics/dl-zs.html", "notice.html", "apply.html"):
        assert (work / "site" / page).exists(), page
    assert "大连市西岗区总工会" in (work / "site" / "progress.html").read_text(encoding="utf-8")


def elements(page):
    """(tag, attributes) of every element of an HTML page, as a browser would parse them."""
    from html.parser import HTMLParser

    found = []

    class Reader(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, {k: v or "" for k, v in attrs}))

    Reader(convert_charrefs=True).feed(page)
    return found


HOSTILE_NAME = "[点我](javascript:alert(1))<img src=x onerror=alert(2)>![](https://evil.example/p.png)"


def test_values_from_data_are_text_not_markup(tmp_path):
    """A union name, campaign title, issuer or 文号 written as Markdown or HTML appears literally."""
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    units = data / "units.yaml"
    units.write_text(units.read_text(encoding="utf-8").replace("name: 大连市中山区总工会", f"name: '{HOSTILE_NAME}'"), encoding="utf-8")
    campaign = data / "campaigns/2011.yaml"
    text = campaign.read_text(encoding="utf-8")
    text = text.replace("notice: 大工办发[2011]25号", "notice: '[文号](javascript:alert(3))'")
    text = text.replace("issuer: 大连市总工会", "issuer: '# ![x](https://evil.example/i.png) *粗*'")
    text += "notice_text: |\n  本年度**助学**活动，详见[申请办法](apply.md)和[市总工会](https://www.example.org/)。\n"
    campaign.write_text(text, encoding="utf-8")
    out = tmp_path / "o"
    code, stdout, stderr = run("build", "--data", str(data), "--out", str(out), "--today", "2011-08-20", "--no-forms")
    assert code == 0, stdout + stderr
    pages = {p: p.read_text(encoding="utf-8") for p in (out / "site").rglob("*.html")}
    for path, page in pages.items():
        for tag, attrs in elements(page):
            assert not [name for name in attrs if name.startswith("on")], (path, tag, attrs)
            assert not attrs.get("href", "").strip().lower().startswith("javascript:"), (path, attrs)
            assert not (tag == "img" and "://" in attrs.get("src", "")), (path, attrs)
        assert 'href="javascript:' not in page.lower()
    home, zs = pages[out / "site/index.html"], pages[out / "site/statistics/dl-zs.html"]
    assert HOSTILE_NAME in unescape(pages[out / "site/progress.html"]) and HOSTILE_NAME in unescape(zs)
    assert "[文号](javascript:alert(3))" in unescape(home) and "# ![x](https://evil.example/i.png) *粗*" in unescape(home)
    # the notice text's safe subset is rendered as Markdown
    assert "<strong>助学</strong>" in home and '<a href="apply.html">申请办法</a>' in home
    assert '<a href="https://www.example.org/">市总工会</a>' in home


@pytest.mark.parametrize("notice, expected", [
    ("请看[这里](javascript:alert(1))", "不能是 javascript:"),
    ("![海报](https://evil.example/a.png)", "外部图片"),
    ("<script>alert(1)</script>", "HTML 标签"),
    ("[x](//evil.example/)", "// 或 /\\ 开头"),
    ("[x](/\\evil.example/)", "// 或 /\\ 开头"),  # a browser reads /\host as //host
    ("**注意**{: onclick=\"alert(1)\"}", "不允许的属性 onclick"),
])
def test_hostile_notice_text_stops_the_build(tmp_path, notice, expected):
    data = tmp_path / "data"
    shutil.copytree(DATA, data)
    campaign = data / "campaigns/2011.yaml"
    lines = campaign.read_text(encoding="utf-8") + "notice_text: |\n  第一行没有问题。\n  " + notice + "\n"
    campaign.write_text(lines, encoding="utf-8")
    field_line = lines.splitlines().index("notice_text: |") + 1
    code, stdout, stderr = run("build", "--data", str(data), "--out", str(tmp_path / "o"), "--today", "2011-08-20", "--no-forms")
    assert code == 1
    assert f"campaigns/2011.yaml:{field_line}: error: “通知正文”第 2 行：" in stdout and expected in stdout, stdout
    assert not (tmp_path / "o" / "site").exists()
    # built anyway with --allow-invalid, the campaign file is left out and nothing unsafe is published
    code, stdout, stderr = run("build", "--data", str(data), "--out", str(tmp_path / "o"), "--today", "2011-08-20", "--no-forms", "--allow-invalid")
    assert code == 1 or "javascript:" not in "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "o/site").rglob("*.html"))


@pytest.mark.parametrize("href", ["//evil.example/", "/\\evil.example/", "\\/evil.example/", "/\t\\evil.example/",
                                  "/&#92;evil.example/", "/%09/evil.example/"])
def test_a_link_a_browser_reads_as_another_host_is_refused(href):
    """A browser takes a backslash for a slash in an http(s) address and drops tabs and newlines: /\\host
    is //host, another site. (/%09/host stays a path on this site: percent-escapes are not undone there.)"""
    problems = safemd.check(f"[x]({href})")
    if "%09" in href:
        assert problems == []
    else:
        assert problems and "// 或 /\\ 开头" in problems[0][1], problems


def _official_layout(ws):
    """The official 附件3 layout: A4 fitted to one page wide, the header row printed on every page,
    编号 over two columns and each item's number merged over its lines."""
    assert int(ws.page_setup.paperSize) == 9 and ws.page_setup.fitToWidth == 1
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True and ws.print_title_rows == "$3:$3"
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {"A1:D1", "A2:D2", "A3:B3", "A4:A8", "A9:A12", "A13:A16", "A17:A24", "A25:A26"} <= merged
    assert "A43:A43" not in merged and ws["A4"].value == "（01）" and ws["A9"].value == "（02）"


def test_xlsx_download_has_the_official_head_and_print_setup_without_contacts(built):
    wb = openpyxl.load_workbook(built / "site" / "downloads" / "statistics-2011.xlsx")
    ws = wb["大连市中山区总工会"]
    _official_layout(ws)
    # the public download names no one: 填报人 and 联系电话 are a union official's, kept private
    assert ws["A2"].value == "填报单位：大连市中山区总工会　　填报人：　　联系电话："


def test_statistics_export_xlsx_and_csv(tmp_path):
    code, out, err = run("export", "--statistics", "--unit", "dl", "--year", "2011", "--data", str(DATA), "--out", str(tmp_path / "s.xlsx"))
    assert code == 0, out + err
    wb = openpyxl.load_workbook(tmp_path / "s.xlsx")
    ws = wb["大连市中山区总工会"]
    _official_layout(ws)
    assert ws["A2"].value == "填报单位：大连市中山区总工会　　填报人：孙立新　　联系电话：0411-82651234"
    code, out, err = run("export", "--statistics", "--unit", "dl", "--year", "2011", "--data", str(DATA),
                         "--format", "csv", "--out", str(tmp_path / "s.csv"))
    assert code == 0, out + err
    raw = (tmp_path / "s.csv").read_bytes()
    assert not raw.startswith(b"PK") and raw.startswith("\ufeff编号,项目,".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][2:] == ["大连市总工会（dl）", "大连市中山区总工会（dl-zs）", "大连市西岗区总工会（dl-xg）", "大连市机械冶金工会（dl-jx）"]
    by_key = {r[0]: r[2:] for r in rows[1:] if r[0]}
    assert by_key["03A"][0] == "5" and by_key["02A"][1] == "1.2"
    assert rows[-2][1:4] == ["填报人", "", "孙立新"]
    assert rows[-1][1] == "联系电话" and '="0411-82651234"' in rows[-1]
    assert run("export", "--statistics", "--unit", "dl", "--year", "2011", "--data", str(DATA), "--format", "csv",
               "--out", str(tmp_path / "s.xlsx"))[0] == 2


def test_public_notice_lists_only_consenting_adults(tmp_path):
    """公示: 王小雨 (本科, consented) is listed; 刘子涵 (初中, a minor, consent given), 李明轩
    (大专, no consent) are not; the page says what the list is for and when it comes down."""
    out = tmp_path / "o"
    assert publish.build(publish.Options(data=DATA, out=out, today="2011-08-20", forms=False)).ok
    html = unescape((out / "site" / "notice.html").read_text(encoding="utf-8"))
    assert "王*雨" in html and "刘*涵" not in html and "刘子涵" not in html
    assert html.count("<tr><th scope=\"row\" class=\"jq-words\">") == 2 - 1  # one consenting adult among the approved applications
    assert "公示的目的" in html and "名单从本站撤下" in html and "2011年8月24日" in html
    assert "另有 4 名审批完成的受助学生未列入名单：" in html and "未成年" in html and "本人未同意公示" in html


def test_minors_are_never_named(tmp_path):
    from jinqiu.publish import privacy

    assert privacy.adulthood({"education": "初中"}, "2011-08-15") == "minor"
    assert privacy.adulthood({"education": "中职", "birth_date": "1980-01-01"}, "2011-08-15") == "minor"
    born_1994 = "21020219940816" + "001"
    from jinqiu.check import ids

    number = born_1994 + ids.check_digit(born_1994)
    assert privacy.adulthood({"education": "本科", "id_number": number}, "2011-08-15") == "minor"  # 16 (17 the next day)
    assert privacy.adulthood({"education": "本科", "id_number": number}, "2012-08-16") == "adult"
    assert privacy.adulthood({"education": "本科", "birth_date": "1994-08-16"}, "2012-08-15") == "minor"
    assert privacy.adulthood({"education": "本科", "birth_date": "1994-08-16"}, "2012-08-16") == "adult"


def test_a_college_student_without_proof_of_adulthood_is_not_named(tmp_path):
    """A 本科 student who consented, with neither an ID number nor a birth date on file, may be 17:
    adulthood is never assumed from the school level. 王小雨 (consented) loses the birth date that
    proved it (the record re-signed): the 公示 leaves the name out and counts why, naming no one."""
    import site_copy

    from jinqiu.publish import privacy

    data = site_copy.copy(tmp_path / "repo")
    path = data / "applications/2011/dl-zs-0001/2011-dl-zs-0001-001.yaml"
    text = path.read_text(encoding="utf-8")
    assert "notice_consent: true" in text and "  id_number:" not in text.split("student:")[1].split("flags:")[0]
    path.write_text(text.replace('  birth_date: "1993-03-12"\n', ""), encoding="utf-8")  # its proof of age
    site_copy.sign_and_commit(data)  # the approvals signed again for the content without the birth date
    out = tmp_path / "o"
    result = publish.build(publish.Options(data=data, out=out, today="2011-08-20", forms=False))
    assert result.ok, (result.problems, result.findings)
    assert result.statuses["2011-dl-zs-0001-001"].complete
    html = unescape((out / "site" / "notice.html").read_text(encoding="utf-8"))
    assert "王*雨" not in html and "<tr><td>" not in html
    assert "没有学生身份证号码或出生日期，无法确认已满 18 周岁 1 名" in html
    assert "暂无可以公示" in html and "5 名审批完成的受助学生不列入名单" in html
    assert privacy.adulthood({"education": "本科"}, "2011-08-15") == "unproven"
    assert privacy.adulthood({"education": "本科", "birth_date": "1993-03-12"}, "2011-08-15") == "adult"
