"""The built site in real headless Chromium (Debian's /usr/bin/chromium, driven by playwright)."""

import functools
import http.server
import threading
from pathlib import Path

import pytest

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
    result = publish.build(publish.Options(data=DATA, out=out, today="2011-08-20", forms=False))
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
    # the over-time chart marks the three deadlines, and its figures are also a table
    assert page.locator("svg.jq-line-chart line[stroke-dasharray='4 3']").count() == 3
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
WIDE_TABLES = """() => {
  const vw = document.documentElement.clientWidth, bad = [];
  if (document.documentElement.scrollWidth > vw + 1) bad.push("page scrolls sideways: " + document.documentElement.scrollWidth);
  for (const t of document.querySelectorAll("article table")) {
    if (t.scrollWidth <= vw) continue;
    let el = t, ok = false;
    while (el && el !== document.body) {
      const s = getComputedStyle(el), r = el.getBoundingClientRect();
      if (["auto", "scroll"].includes(s.overflowX) && r.right <= vw + 1 && r.left >= -1) { ok = true; break; }
      el = el.parentElement;
    }
    if (!ok) bad.push("table wider than the viewport without its own scroll: " + (t.caption ? t.caption.textContent : t.outerHTML.slice(0, 80)));
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
    """At desktop and phone width: no table wider than the screen without its own scroll, no text
    under 12 px, no serious or critical axe-core violation; a screenshot is kept for a person."""
    page, errors, outside = open_page(browser, f"{served[0]}/{kind}", width)
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{kind.replace('/', '_').removesuffix('.html')}-{width}.png"), full_page=True)
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    assert page.evaluate(WIDE_TABLES) == []
    assert page.evaluate(SMALL_TEXT) == []
    page.add_script_tag(content=axe_source)
    violations = page.evaluate("""async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
        .filter(v => v.impact === "serious" || v.impact === "critical")
        .map(v => v.id + ": " + v.nodes.map(n => n.target.join(" ")).join(", "))""")
    assert violations == [], (kind, width)
    assert errors == [] and outside == []
    page.close()


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
