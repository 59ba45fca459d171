"""The built site in a real browser: Debian's Chromium, driven by Playwright.

Skipped when Chromium is not installed (`apt-get install chromium`; .ci/run installs it).
"""

import functools
import http.server
import re
import shutil
import threading
from urllib.parse import urlparse

import pytest
import torch

from test_links import SITE_URL
from test_site import SITE, page_urls

sync_api = pytest.importorskip("playwright.sync_api")
# axe-core itself (axe.min.js), bundled in the package: nothing is fetched.
AXE_SCRIPT = pytest.importorskip("axe_playwright_python.base").AXE_SCRIPT
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
PAGES = URLS + ["/404.html", "/zh/404.html"]


SUB_PATH = urlparse(SITE_URL).path.rstrip("/")  # e.g. /<repo>, as GitHub Pages serves it


class SubPathHandler(http.server.SimpleHTTPRequestHandler):
    """site/ served under the path of site_url, as it is published; 404.html for the rest."""

    def translate_path(self, path):
        inside = path.startswith(SUB_PATH + "/")
        return super().translate_path(path[len(SUB_PATH):] if inside else "/404.html")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    """The site's root URL under the sub-path (no trailing slash)."""
    handler = functools.partial(SubPathHandler, directory=str(SITE))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}{SUB_PATH}"
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
    assert SUB_PATH + expected in results


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


@pytest.fixture(scope="module")
def axe_page(browser):
    """One page for every accessibility check, with axe-core loaded into each document.

    Material stores the colour scheme of the last page it showed; forgetting it before
    each load lets the page follow the emulated system preference, as on a first visit.
    """
    page = browser.new_page()
    page.add_init_script("localStorage.clear()")
    page.add_init_script(AXE_SCRIPT)
    yield page
    page.close()


# Only colours change with the colour scheme, so in dark mode only the colour rules run.
AXE_OPTIONS = {
    "light": {"resultTypes": ["violations"]},
    "dark": {"resultTypes": ["violations"], "runOnly": ["color-contrast", "link-in-text-block"]},
}
MATERIAL_SCHEME = {"light": "default", "dark": "slate"}


@pytest.mark.parametrize("scheme", AXE_OPTIONS)
@pytest.mark.parametrize("url", PAGES)
def test_axe_finds_no_serious_violation(axe_page, server, url, scheme):
    """axe-core's serious and critical violations, on every page, in both colour schemes."""
    axe_page.emulate_media(color_scheme=scheme)
    axe_page.goto(server + url, wait_until="load")
    # Two frames: the resize observers of Material and of focusable-scroll.js have run.
    axe_page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    assert axe_page.evaluate("document.body.dataset.mdColorScheme") == MATERIAL_SCHEME[scheme]
    results = axe_page.evaluate("options => axe.run(document, options)", AXE_OPTIONS[scheme])
    serious = [
        f"{url} ({scheme}): {violation['id']} ({violation['impact']}) at {node['target']}: "
        + (node.get("failureSummary") or "").replace("\n", " ")
        for violation in results["violations"]
        if violation["impact"] in ("serious", "critical")
        for node in violation["nodes"]
    ]
    assert serious == []


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("/benchmark/", "Median time per Jacobian of each method at each size n → m, on CPU"),
        ("/zh/benchmark/", "CPU 上各方法在每种规模 n → m 下求一次雅可比矩阵的时间中位数"),
    ],
)
def test_benchmark_figures_are_images_named_in_the_page_language(axe_page, server, url, name):
    axe_page.goto(server + url, wait_until="load")
    figures = axe_page.eval_on_selector_all(
        ".benchmark-figure > svg",
        "svgs => svgs.map(s => [s.getAttribute('role'), s.querySelector(':scope > title')?.textContent])",
    )
    assert figures  # one per measured device; CPU is always measured
    assert all(role == "img" and title for role, title in figures)
    # The name the browser gives the CPU figure, as a screen reader reads it.
    assert axe_page.get_by_role("img", name=name, exact=True).count() == 1


# --- The vᵀJ explorer of lesson 2 (docs/hooks/vjp_explorer.py, vjp-explorer.js) ----------

EXPLORER_LABELS = {  # as the pages write them
    "": ("{}, exact value", "Column view: show J·u instead, with u = v (forward mode)"),
    "/zh": ("{} 的精确值", "列视图：改为显示 J·u，取 u = v（前向模式）"),
}
# What is typed into the number entries, the keys pressed on the sliders after that, and
# the point (x₁, x₂, v₁, v₂) that this sets.
EXPLORER_CASES = [
    ({"x₁": "-1.5", "x₂": "0.5", "v₁": "0.37", "v₂": "-2.2"}, {"x₂": "ArrowRight", "v₂": "ArrowLeft"},
     (-1.5, 1.0, 0.37, -2.3)),
    ({"x₁": "-3", "x₂": "3", "v₁": "1", "v₂": "0"}, {}, (-3.0, 3.0, 1.0, 0.0)),
    ({"x₁": "-2.5", "x₂": "-0.5", "v₁": "-1.3", "v₂": "2.75"}, {"x₁": "ArrowLeft", "v₁": "ArrowRight"},
     (-3.0, -0.5, -1.2, 2.75)),
]


def seed_function(x):
    """Lesson 2's y = (x₁² + 3x₂, x₂² + 2x₁)."""
    return torch.stack([x[:, 0] ** 2 + 3 * x[:, 1], x[:, 1] ** 2 + 2 * x[:, 0]], dim=1)


def announced(page, product):
    """The vector that the explorer's live region gives for `product` (vᵀJ or J·u)."""
    text = page.locator(".vjp-explorer [aria-live=polite]").inner_text()
    match = re.search(re.escape(product) + r" = \(([^,]+), ([^)]+)\)", text)
    assert match, text
    return [float(number.replace("\u2212", "-")) for number in match.groups()]


@pytest.mark.parametrize("language", EXPLORER_LABELS)
def test_explorer_shows_the_products_that_torch_gives(page, server, language):
    exact_label, switch_label = EXPLORER_LABELS[language]
    requests, errors = [], []
    page.on("request", lambda request: requests.append(request.url))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server + language + "/weighted-backward/", wait_until="networkidle")
    switch = page.get_by_label(switch_label, exact=True)
    for typed, keys, point in EXPLORER_CASES:
        for name, value in typed.items():
            page.get_by_label(exact_label.format(name), exact=True).fill(value)
        for name, key in keys.items():
            page.get_by_label(name, exact=True).press(key)  # the slider, by keyboard
        shown = [page.get_by_label(exact_label.format(name), exact=True).input_value()
                 for name in ("x₁", "x₂", "v₁", "v₂")]
        assert [float(value) for value in shown] == pytest.approx(point)
        x1, x2, v1, v2 = point
        x = torch.tensor([[x1, x2]], dtype=torch.float64, requires_grad=True)
        v = torch.tensor([[v1, v2]], dtype=torch.float64)
        seed_function(x).backward(v)
        assert announced(page, "vᵀJ") == pytest.approx(x.grad[0].tolist(), rel=1e-3, abs=1e-3)
        switch.focus()
        switch.press("Space")  # the column view, J·u with u = v
        assert switch.is_checked()
        _, jvp = torch.func.jvp(seed_function, (x.detach(),), (v,))
        assert announced(page, "J·u") == pytest.approx(jvp[0].tolist(), rel=1e-3, abs=1e-3)
        switch.press("Space")
    strong = page.locator(".vjp-explorer td.vjp-weight.vjp-strong").inner_text()
    assert strong.startswith("v₂ = 2.75")  # |v₂| > |v₁|: its row is highlighted, in words too
    assert errors == []
    assert any(url.endswith("/assets/javascripts/vjp-explorer.js") for url in requests)
    assert [url for url in requests if not url.startswith((server, "data:", "blob:"))] == []
