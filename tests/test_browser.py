"""The built site in real headless Chromium (Debian's /usr/bin/chromium, driven by playwright)."""

import functools
import http.server
import threading
from pathlib import Path

import pytest

import campaign_repo
from jinqiu.publish import pipeline as publish

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "site_data" / "data"
CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).parent / "screenshots"  # for a person to look at; ignored by git
WIDTHS = (1280, 390)
# One page of each kind: home, progress, the city's and a union's 附件3 (one that reported and
# typed its own figures, one that has not reported), 公示, the two guides, and the 404 page.
KINDS = ["index.html", "progress.html", "statistics/index.html", "statistics/dl-zs.html", "statistics/dl-xg.html",
         "notice.html", "apply.html", "review.html", "404.html"]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    out = tmp_path_factory.mktemp("browser")
    repo = campaign_repo.build(tmp_path_factory.mktemp("browser-repo") / "repo")  # a history dated in the campaign
    result = publish.build(publish.Options(data=repo / "data", out=out, today="2011-08-20", forms=False))
    assert result.ok, (result.problems, result.findings)
    handler = functools.partial(QuietHandler, directory=str(result.site_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", result.site_dir
    server.shutdown()
    server.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def open_page(browser, url, width=1280):
    """Open url; return (page, console errors, requests that left localhost)."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors, outside = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    def route(r):
        if r.request.url.startswith(("http://127.0.0.1", "data:", "blob:")):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(url, wait_until="networkidle")
    return page, errors, outside


def test_every_page_loads_without_errors_or_outside_requests(served, browser):
    base, site_dir = served
    pages = sorted(p.relative_to(site_dir).as_posix() for p in site_dir.rglob("*.html"))
    assert "statistics/dl-zs.html" in pages and "index.html" in pages
    for rel in pages:
        page, errors, outside = open_page(browser, f"{base}/{rel}")
        assert errors == [], (rel, errors)
        assert outside == [], (rel, outside)
        page.close()


def test_home_has_charts_and_tables(served, browser):
    page, _, _ = open_page(browser, served[0] + "/index.html")
    assert page.locator("ul.jq-bars").count() == 3
    assert page.locator(".jq-chart-text").count() == 4  # the three bar charts and the campaign over time
    # the over-time chart marks the three deadlines (two of them on 08-25: one marker), and its figures are also a table
    assert page.locator("svg.jq-line-chart line[stroke-dasharray='4 3']").count() == 2
    assert page.locator(".jq-timeline details table th[scope=col]").count() == 6
    assert page.locator(".jq-deadlines table tr").count() == 4
    assert page.locator(".jq-deadlines .md-typeset__scrollwrap table").count() == 1  # the theme's table wrapper
    assert "审批状态经签名核验" in page.inner_text("article")
    assert "尚未核验" not in page.inner_text("article")
    page.close()


def test_statistics_table_in_official_layout(served, browser):
    page, _, _ = open_page(browser, served[0] + "/statistics/index.html")
    rows = page.locator(".jq-statistics table tbody tr")
    assert rows.count() == 42
    assert page.locator("#item-03A td").nth(2).inner_text() == "5"
    page.close()


@pytest.mark.parametrize("term", ["西岗区", "中山区", "机械冶金"])
def test_search_finds_a_union_name(served, browser, term):
    """中山区 is the case jieba alone splits (中 / 山区); union names are added to its dictionary."""
    page, errors, _ = open_page(browser, served[0] + "/index.html")
    page.locator("input.md-search__input").click()
    page.fill("input.md-search__input", term)
    page.keyboard.press("End")  # a key event makes the search run
    page.wait_for_selector(".md-search-result__item", timeout=15000)
    assert term in page.inner_text(".md-search-result")
    assert errors == []
    page.close()


@pytest.fixture(scope="module")
def axe_source():
    """axe-core, pinned in package.json (./setup.sh dev installs it), injected into each page: offline."""
    from conftest import npm_tools

    return (npm_tools() / "axe-core" / "axe.min.js").read_text(encoding="utf-8")


def test_search_ranks_the_union_first_and_finds_the_statistics_table(served, browser):
    for term, first in (("中山区", "大连市中山区总工会统计表（附件3）"), ("附件3", "全市统计表（附件3）"),
                        ("统计表", "全市统计表（附件3）")):
        page, errors, _ = open_page(browser, served[0] + "/index.html")
        page.locator("input.md-search__input").click()
        page.fill("input.md-search__input", term)
        page.keyboard.press("End")
        page.wait_for_selector(".md-search-result__item", timeout=15000)
        titles = [s.replace("\u200b", "") for s in page.locator(".md-search-result__item > .md-search-result__link h1").all_inner_texts()]
        assert titles and titles[0] == first, (term, titles)
        assert errors == []
        page.close()


# Layout checks run in the page: each returns a list of what is wrong.
TABLES = """async () => {
  // Every table of the article (those in a closed <details> opened first): a caption, a scope on
  // every header cell, column headers and a header for each row; no column out of sight unless
  // the table's own scrolling box says so in view (a hint under it, kept at its left edge), or the
  // table is laid out as cards (one block per row, each cell under its column's name).
  document.querySelectorAll("article details").forEach(d => { d.open = true; });
  for (let i = 0; i < 3; i++) await new Promise(requestAnimationFrame);  // scroll-state is taken once a frame
  const vw = document.documentElement.clientWidth, bad = [];
  if (document.documentElement.scrollWidth > vw + 1) bad.push("page scrolls sideways: " + document.documentElement.scrollWidth);
  for (const t of document.querySelectorAll("article table")) {
    const name = t.caption && t.caption.textContent.trim();
    const what = name || t.outerHTML.slice(0, 80);
    if (!name) bad.push("table without a caption: " + what);
    for (const th of t.querySelectorAll("th"))
      if (!["col", "row", "colgroup", "rowgroup"].includes(th.getAttribute("scope"))) bad.push("header without scope: " + th.textContent.trim() + " in " + what);
    if (!t.querySelector("thead th[scope=col]")) bad.push("no column headers: " + what);
    for (const r of t.tBodies[0] ? t.tBodies[0].rows : [])
      if (!r.querySelector("th[scope=row]")) bad.push("row without a row header: " + r.textContent.trim().slice(0, 30) + " in " + what);
    const row = t.tBodies[0] && t.tBodies[0].rows[0];
    if (row && getComputedStyle(row).display === "block") {  // cards
      for (const td of t.querySelectorAll("tbody td"))
        if (!td.dataset.label || getComputedStyle(td, "::before").content.replace(/"/g, "") !== td.dataset.label) bad.push("card cell without its column's name: " + what);
      if (t.getBoundingClientRect().right > vw + 1) bad.push("cards wider than the screen: " + what);
      continue;
    }
    let box = t.parentElement;
    while (box && box !== document.body && !["auto", "scroll"].includes(getComputedStyle(box).overflowX)) box = box.parentElement;
    if (!box || box === document.body) {
      if (t.getBoundingClientRect().right > vw + 1) bad.push("table cut off at the screen's edge: " + what);
      continue;
    }
    const r = box.getBoundingClientRect();
    if (r.right > vw + 1 || r.left < -1) bad.push("scrolling box wider than the screen: " + what);
    if (box.scrollWidth <= box.clientWidth + 1) continue;  // every column in view
    const hint = getComputedStyle(box, "::after");
    const shown = hint.display !== "none" && hint.visibility === "visible" && parseFloat(hint.opacity) > 0.5 &&
      hint.position === "sticky" && parseFloat(hint.fontSize) >= 12 && /左右滑动/.test(hint.content);
    if (!shown) bad.push("columns out of sight without a visible hint: " + what + " (" + box.scrollWidth + " > " + box.clientWidth + ")");
    if (!box.classList.contains("jq-table") || box.getAttribute("role") !== "region" || box.tabIndex !== 0 || !box.getAttribute("aria-label"))
      bad.push("a scrolling box a keyboard cannot reach, or without a name: " + what);
  }
  return bad;
}"""
SMALL_TEXT = """() => {
  const bad = [], walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    if (!n.textContent.trim()) continue;
    const el = n.parentElement, s = getComputedStyle(el);
    if (s.display === "none" || s.visibility === "hidden" || el.closest("[hidden], .md-search, script, style, title")) continue;
    const r = el.getBoundingClientRect();
    if (r.width < 2 || r.height < 2 || s.clip === "rect(0px, 0px, 0px, 0px)" || s.position === "absolute" && r.width <= 1) continue;
    let size = parseFloat(s.fontSize);
    if (el instanceof SVGElement && el.getScreenCTM) size *= el.getScreenCTM().a;  // drawn scaled
    if (size < 12 - 0.01) bad.push(size.toFixed(1) + "px: " + n.textContent.trim().slice(0, 30));
  }
  return bad;
}"""
BAR_CONTRAST = """() => {
  const lum = (c) => { const [r, g, b] = c.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number).map(v => v / 255)
      .map(v => v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4)); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const bg = lum(getComputedStyle(document.querySelector(".md-main")).backgroundColor === "rgba(0, 0, 0, 0)"
                 ? "rgb(255, 255, 255)" : getComputedStyle(document.querySelector(".md-main")).backgroundColor);
  return [...document.querySelectorAll(".jq-bar")].map(b => { const l = lum(getComputedStyle(b).backgroundColor);
    return (Math.max(l, bg) + 0.05) / (Math.min(l, bg) + 0.05); });
}"""


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_of_page_is_readable_and_accessible(served, browser, axe_source, kind, width):
    """At desktop and phone width: every table with a caption and header scopes, no column out of
    sight without a visible hint (or the table in cards), no text under 12 px, no serious or
    critical axe-core violation; a screenshot is kept for a person."""
    page, errors, outside = open_page(browser, f"{served[0]}/{kind}", width)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{kind.replace('/', '_').removesuffix('.html')}-{width}.png"), full_page=True)
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    assert page.evaluate(TABLES) == []
    assert page.evaluate(SMALL_TEXT) == []
    assert axe_violations(page, axe_source) == [], (kind, width)
    assert errors == [] and outside == []
    page.close()


def axe_violations(page, axe_source) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now."""
    page.add_script_tag(content=axe_source)
    return page.evaluate("""async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
        .filter(v => v.impact === "serious" || v.impact === "critical")
        .map(v => v.impact + " " + v.id + ": " + v.nodes.map(n => n.target.join(" ")).join(", "))""")


def test_chart_bars_stand_out_from_the_page(served, browser):
    """Each bar's colour against the page: at least 3:1 (WCAG 1.4.11, non-text contrast)."""
    page, _, _ = open_page(browser, served[0] + "/index.html")
    ratios = page.evaluate(BAR_CONTRAST)
    assert len(ratios) == 16 and min(ratios) >= 3, ratios
    page.close()


def test_a_narrow_table_really_scrolls_with_its_union_column_in_view(served, browser):
    page, _, _ = open_page(browser, served[0] + "/progress.html", 390)
    box = page.locator(".jq-progress")  # the table's own scrolling region
    assert box.evaluate("t => t.scrollWidth > t.clientWidth")  # wider than the phone: it scrolls
    box.evaluate("t => { t.scrollLeft = 400; }")
    assert box.evaluate("t => t.scrollLeft") > 100
    head = page.locator(".jq-progress tbody th").first
    box, tbox = head.bounding_box(), box.bounding_box()
    assert abs(box["x"] - tbox["x"]) < 2  # the union column stays at the left edge while the rest scrolls
    page.close()


HINT = "getComputedStyle(document.querySelector(%r), '::after').content"


def test_a_wide_table_says_it_scrolls_only_while_a_column_is_out_of_sight(served, browser):
    """The progress page at 1280 px: every column of every table in view, and no hint. On a phone
    the stages table scrolls, and the hint under it stays in view, also once scrolled to the end."""
    page, _, _ = open_page(browser, served[0] + "/progress.html", 1280)
    for box in page.locator("article .jq-table").all():
        assert box.evaluate("b => b.scrollWidth <= b.clientWidth"), box.get_attribute("aria-label")
        assert box.evaluate("b => getComputedStyle(b, '::after').content") == "none"
    page.close()
    page, _, _ = open_page(browser, served[0] + "/progress.html", 390)
    assert "左右滑动" in page.evaluate(HINT % ".jq-progress")
    box = page.locator(".jq-progress")
    box.evaluate("b => { b.scrollLeft = b.scrollWidth; }")
    page.wait_for_timeout(100)
    assert "左右滑动" in page.evaluate(HINT % ".jq-progress")
    page.close()


def test_deadlines_fit_a_phone_with_the_days_left_in_view(served, browser):
    page, _, _ = open_page(browser, served[0] + "/index.html", 390)
    box = page.locator(".jq-deadlines")
    assert box.evaluate("b => b.scrollWidth <= b.clientWidth")
    cells = page.locator(".jq-deadlines tbody td:last-child")
    assert cells.count() == 3 and "剩余天数" in page.inner_text(".jq-deadlines thead th:last-child")
    for cell in cells.all():
        r = cell.bounding_box()
        assert r["x"] >= 0 and r["x"] + r["width"] <= 390, cell.inner_text()
        assert cell.evaluate("c => c.textContent.trim()") in ("已截止", "今天截止") or "天" in cell.inner_text()
    page.close()


LINES = """c => { const r = document.createRange(); r.selectNodeContents(c);
  return new Set([...r.getClientRects()].filter(x => x.width > 0).map(x => Math.round(x.top))).size; }"""
CELL_GAP = """t => { let least = Infinity;
  for (const row of t.rows) { const cells = [...row.cells];
    for (let i = 1; i < cells.length; i++) {
      const r = document.createRange(), s = document.createRange();
      r.selectNodeContents(cells[i - 1]); s.selectNodeContents(cells[i]);
      least = Math.min(least, s.getBoundingClientRect().left - r.getBoundingClientRect().right); } }
  return least; }"""


def test_notice_table_is_styled_by_the_theme_and_readable_at_both_widths(served, browser):
    """公示 at 1280 px: the theme's table (its wrapper, cell padding, rules between rows), the words
    of neighbouring cells well apart. On a phone: one card per student, each value under its
    column's name, and a name, a school or a union's name never broken inside a word (a school
    of 13 characters included)."""
    page, _, _ = open_page(browser, served[0] + "/notice.html", 1280)
    table = page.locator(".jq-notice .md-typeset__scrollwrap .md-typeset__table table")
    assert table.count() == 1  # the theme's JavaScript wraps (and styles) only the tables it owns
    assert table.locator("tbody tr").count() == 1 and "王*雨" in table.inner_text()
    td = table.locator("tbody td").first
    assert td.evaluate("c => parseFloat(getComputedStyle(c).paddingLeft)") >= 8
    assert td.evaluate("c => parseFloat(getComputedStyle(c).borderTopWidth)") > 0
    assert table.evaluate(CELL_GAP) >= 16  # 刘*雨 东北大学 … read as separate cells, not run together
    page.close()
    page, _, _ = open_page(browser, served[0] + "/notice.html", 390)
    row = page.locator(".jq-notice tbody tr").first
    assert row.evaluate("r => getComputedStyle(r).display") == "block"  # a card
    assert page.locator(".jq-notice thead").evaluate("h => h.getBoundingClientRect().height") <= 1  # for screen readers only
    for cell in page.locator(".jq-notice tbody th, .jq-notice tbody td").all():
        assert cell.evaluate(LINES) == 1, cell.inner_text()
    school = page.locator(".jq-notice tbody td").first
    school.evaluate("c => { c.textContent = '中国人民解放军信息工程大学'; }")
    assert school.evaluate(LINES) == 1
    assert school.evaluate("c => c.getBoundingClientRect().right") <= 390
    page.close()


def test_the_404_page_has_no_serious_violation_however_it_is_reached(served, browser, axe_source, tmp_path):
    """404.html served at a missing address, and opened from disk, where its /assets/ links point
    nowhere and the theme's hidden search toggle shows: axe-core finds nothing serious or critical."""
    base, site_dir = served
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(MissingHandler, directory=str(site_dir)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        for width in WIDTHS:
            for url in (f"http://127.0.0.1:{server.server_address[1]}/no/such/page.html", (site_dir / "404.html").as_uri()):
                page = browser.new_page(viewport={"width": width, "height": 900})
                page.goto(url, wait_until="load")
                assert page.inner_text("article h1" if url.startswith("http") else "h1") == "找不到这个页面"
                assert axe_violations(page, axe_source) == [], (url, width)
                page.close()
    finally:
        server.shutdown()
        server.server_close()


class MissingHandler(QuietHandler):
    """A static host that answers a missing address with the site's 404.html and status 404."""

    def send_head(self):
        if not Path(self.translate_path(self.path)).exists():
            body = (Path(self.directory) / "404.html").read_bytes()
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return None
        return super().send_head()


class SubPathHandler(http.server.SimpleHTTPRequestHandler):
    """A static host that serves the site under /jinqiu/ and answers a missing address with the
    site's 404.html and status 404, as Pages and Gitea do."""

    def log_message(self, *args):
        pass

    def send_head(self):
        if not self.path.startswith("/jinqiu/"):
            self.send_error(404)
            return None
        self.path = self.path.removeprefix("/jinqiu")
        if not Path(self.translate_path(self.path)).exists():
            body = (Path(self.directory) / "404.html").read_bytes()
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return None
        return super().send_head()


def test_the_404_page_works_under_a_sub_path(tmp_path, browser):
    """Built with site_url under /jinqiu/, a missing address three folders deep shows the Chinese
    404 page with the theme's styles and a working link home."""
    result = publish.build(publish.Options(data=DATA, out=tmp_path, today="2011-08-20", forms=False,
                                           site_url="https://pages.example.invalid/jinqiu/"))
    assert result.ok
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(SubPathHandler, directory=str(result.site_dir)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        page = browser.new_page()
        failed = []
        page.on("response", lambda r: failed.append(r.url) if r.status >= 400 and "/no/such/" not in r.url else None)
        response = page.goto(base + "/jinqiu/no/such/page.html", wait_until="networkidle")
        assert response.status == 404
        assert page.inner_text("article h1") == "找不到这个页面"
        assert failed == []  # every stylesheet, script and icon of the 404 page loaded from /jinqiu/
        assert page.evaluate("getComputedStyle(document.querySelector('.md-header')).position") == "sticky"  # styled
        page.click("article a")
        page.wait_for_load_state("networkidle")
        assert page.url == base + "/jinqiu/index.html" and "金秋助学" in page.inner_text("article h1")
        page.close()
    finally:
        server.shutdown()
        server.server_close()
