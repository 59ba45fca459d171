"""The built site in a real browser: Debian's Chromium, driven by Playwright.

Skipped when Chromium is not installed (`apt-get install chromium`; .ci/run installs it).
"""

import functools
import http.server
import shutil
import threading

import pytest

from test_site import SITE, page_urls

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM, reason="Chromium is not installed")
# Without these, Chromium calls Google's hosts on start, which the outside-host check would see.
QUIET_CHROMIUM = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
]
URLS = [f"/{u}/" if u else "/" for u in page_urls("en")]
URLS += [f"/zh{u}" for u in URLS]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    handler = functools.partial(QuietHandler, directory=str(SITE))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=QUIET_CHROMIUM)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    page = browser.new_page()
    yield page
    page.close()


@pytest.mark.parametrize("url", URLS)
def test_page_is_self_contained_and_complete(page, server, url):
    requests, errors = [], []
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server + url, wait_until="networkidle")

    assert [u for u in requests if not u.startswith((server, "data:", "blob:"))] == []
    assert errors == []
    text = page.inner_text("article")
    for tex in ("$$", "\\(", "\\[", "\\frac", "\\begin"):
        assert tex not in text
    rendered_math = page.eval_on_selector_all(
        "article math", "els => els.every(e => e.getBoundingClientRect().width > 0)"
    )
    assert rendered_math
    without_copy_button = page.eval_on_selector_all(
        "article pre",
        """pres => pres.filter(pre =>
            pre.querySelector(':scope > code') &&
            !pre.querySelector('button[data-md-type=copy]') &&
            !pre.closest('.jp-Cell-inputWrapper')?.querySelector('clipboard-copy')
        ).length""",
    )
    assert without_copy_button == 0
    assert page.locator("form[data-md-component=palette] input").count() == 2  # light and dark


@pytest.mark.parametrize(
    ("start", "query", "expected"),
    [
        ("/zh/", "雅可比矩阵", "/zh/jacobian-assembly/"),
        ("/zh/", "叶子节点", "/zh/leaf-setup/"),
        ("/", "Jacobian", "/jacobian-assembly/"),
        ("/", "leaf", "/leaf-setup/"),
    ],
)
def test_search_finds_the_page(page, server, start, query, expected):
    page.goto(server + start, wait_until="networkidle")
    search = page.locator("input.md-search__input")
    search.click()
    search.fill(query)
    search.press("End")  # Material searches on keyup
    page.wait_for_selector(".md-search-result__item")
    results = page.eval_on_selector_all(
        ".md-search-result__item a", "links => links.map(a => new URL(a.href).pathname)"
    )
    assert expected in results


@pytest.mark.parametrize(
    ("start", "language", "expected"),
    [
        ("/jacobian-assembly/", "zh", "/zh/jacobian-assembly/"),
        ("/zh/grad-zeroing/", "en", "/grad-zeroing/"),
        ("/zh/", "en", "/"),
        ("/notebooks/leaf_setup/", "zh", "/zh/notebooks/leaf_setup/"),
    ],
)
def test_switcher_leads_to_the_same_page(page, server, start, language, expected):
    page.goto(server + start, wait_until="networkidle")
    page.locator(".md-select").hover()
    page.locator(f'a.md-select__link[hreflang="{language}"]').click()
    page.wait_for_load_state("networkidle")
    assert page.url == server + expected
