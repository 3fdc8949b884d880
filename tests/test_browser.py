"""The built site in real headless Chromium (Debian's /usr/bin/chromium, driven by playwright)."""

import functools
import http.server
import threading
from pathlib import Path

import pytest

from jinqiu import publish

DATA = Path(__file__).parent / "site_data" / "data"
CHROMIUM = "/usr/bin/chromium"


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


def open_page(browser, url):
    """Open url; return (page, console errors, requests that left localhost)."""
    page = browser.new_page()
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
    assert page.locator("svg.jq-chart-svg").count() == 4  # status, money, jobs and the campaign over time
    assert page.locator(".jq-chart-text").count() == 4
    # the over-time chart marks the three deadlines, and its figures are also a table
    assert page.locator("svg.jq-line-chart line[stroke-dasharray='4 3']").count() == 3
    assert page.locator(".jq-timeline details table th[scope=col]").count() == 6
    assert page.locator("table.jq-deadlines tr").count() == 4
    assert "审批状态经签名核验" in page.inner_text("article")
    assert "尚未核验" not in page.inner_text("article")
    page.close()


def test_statistics_table_in_official_layout(served, browser):
    page, _, _ = open_page(browser, served[0] + "/statistics/index.html")
    rows = page.locator("table.jq-statistics tbody tr")
    assert rows.count() == 42
    assert page.locator("#item-03A td").nth(3).inner_text() == "5"
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
