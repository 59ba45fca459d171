"""The built site in a real browser: Debian's Chromium, driven by Playwright.

Skipped when Chromium is not installed (`apt-get install chromium`; .ci/run installs it).
"""

import base64
import functools
import hashlib
import http.server
import io
import os
import re
import shutil
import tarfile
import threading
import urllib.request
from urllib.parse import urlparse

import pytest
import torch

from conftest import ROOT
from test_links import SITE_URL
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
# axe-core, the accessibility checker, from the npm registry: pinned, checked against the
# registry's integrity hash, and kept in .cache/. 4.14 checks colour contrast about three
# times faster than the 4.12 that axe-playwright-python bundles.
AXE_VERSION = "4.14.1"
AXE_INTEGRITY = "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="
AXE_FILE = ROOT / ".cache" / f"axe-core-{AXE_VERSION}" / "axe.min.js"


@functools.cache
def axe_script():
    """axe.min.js: from .cache/, or fetched once from the registry (npm_config_registry)."""
    if not AXE_FILE.is_file():
        registry = os.environ.get("npm_config_registry", "https://registry.npmjs.org/").rstrip("/")
        url = f"{registry}/axe-core/-/axe-core-{AXE_VERSION}.tgz"
        with urllib.request.urlopen(url, timeout=60) as response:
            tarball = response.read()
        digest = "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode()
        assert digest == AXE_INTEGRITY, f"{url} is not the published axe-core {AXE_VERSION}"
        with tarfile.open(fileobj=io.BytesIO(tarball)) as archive:
            script = archive.extractfile("package/axe.min.js").read()
        AXE_FILE.parent.mkdir(parents=True, exist_ok=True)
        AXE_FILE.write_bytes(script)
    return AXE_FILE.read_text(encoding="utf-8")


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


# --- Every page, loaded once: what it loads, what it shows, and axe in both schemes --------

# Only colours change with the colour scheme, so in dark mode only the colour rules run.
AXE_OPTIONS = {
    "light": {"resultTypes": ["violations"]},
    "dark": {"resultTypes": ["violations"], "runOnly": ["color-contrast", "link-in-text-block"]},
}
MATERIAL_SCHEME = {"light": "default", "dark": "slate"}
NEXT_FRAMES = "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"


def one_group_per_page(urls):
    """With pytest-xdist (`--dist loadgroup`, as `nox -s tests` runs it), every check of a
    page runs on the worker that has loaded the page."""
    return [pytest.param(url, marks=pytest.mark.xdist_group(url)) for url in urls]


def serious_violations(page, url, scheme):
    """axe-core's serious and critical violations on the page as it is shown now."""
    assert page.evaluate("document.body.dataset.mdColorScheme") == MATERIAL_SCHEME[scheme]
    results = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS[scheme])
    return [
        f"{url} ({scheme}): {violation['id']} ({violation['impact']}) at {node['target']}: "
        + (node.get("failureSummary") or "").replace("\n", " ")
        for violation in results["violations"]
        if violation["impact"] in ("serious", "critical")
        for node in violation["nodes"]
    ]


def visit(page, server, url, style=None):
    """Load the page on a first visit with a light system scheme, and record what every
    check of it needs; then switch to the dark scheme in place, with the page's own toggle,
    as a reader does, and run axe's colour rules again. `style` is CSS added to the page
    before axe runs (to show that a fault is caught). `page` is a tab made by `tab()`."""
    requests, errors = [], []

    def on_request(request):
        requests.append(request.url)

    def on_console(message):
        if message.type == "error":
            errors.append(message.text)

    def on_error(error):
        errors.append(str(error))

    listeners = {"request": on_request, "console": on_console, "pageerror": on_error}
    for event, listener in listeners.items():
        page.on(event, listener)
    try:
        page.goto(server + url, wait_until="networkidle")
        if style:
            page.add_style_tag(content=style)
        seen = {
            "requests": requests,
            "errors": errors,
            "text": page.inner_text("article"),
            "math_rendered": page.eval_on_selector_all(
                "article math", "els => els.every(e => e.getBoundingClientRect().width > 0)"
            ),
            "blocks_without_copy_button": page.eval_on_selector_all(
                "article pre",
                """pres => pres.filter(pre =>
                    pre.querySelector(':scope > code') &&
                    !pre.querySelector('button[data-md-type=copy]') &&
                    !pre.closest('.jp-Cell-inputWrapper')?.querySelector('clipboard-copy')
                ).length""",
            ),
            "schemes": page.locator("form[data-md-component=palette] input").count(),
        }
        # Two frames: the resize observers of Material and of focusable-scroll.js have run.
        page.evaluate(NEXT_FRAMES)
        seen["light"] = serious_violations(page, url, "light")
        page.locator("form[data-md-component=palette] label:visible").click()
        page.wait_for_function("document.body.dataset.mdColorScheme === 'slate'")
        page.evaluate(NEXT_FRAMES)
        seen["dark"] = serious_violations(page, url, "dark")
    finally:
        for event, listener in listeners.items():
            page.remove_listener(event, listener)
    return seen


def tab(browser):
    """A tab for visits: every page it loads starts as a first visit (no stored scheme or
    state) with a light system scheme, and has axe-core loaded. Loading every page in one
    tab costs Chromium half the CPU time of a new tab per page."""
    page = browser.new_page()
    page.add_init_script("localStorage.clear(); sessionStorage.clear()")
    page.add_init_script(axe_script())
    page.emulate_media(color_scheme="light")
    return page


@pytest.fixture(scope="module")
def seen(browser, server):
    """What each page showed when it was visited: every page is loaded once per worker."""
    visits, page = {}, tab(browser)

    def of(url):
        if url not in visits:
            visits[url] = visit(page, server, url)
        return visits[url]

    yield of
    page.close()


@pytest.mark.parametrize("url", one_group_per_page(URLS))
def test_page_is_self_contained_and_complete(seen, server, url):
    page = seen(url)
    assert [u for u in page["requests"] if not u.startswith((server, "data:", "blob:"))] == []
    assert page["errors"] == []
    for tex in ("$$", "\\(", "\\[", "\\frac", "\\begin"):
        assert tex not in page["text"]
    assert page["math_rendered"]
    assert page["blocks_without_copy_button"] == 0
    assert page["schemes"] == 2  # light and dark


@pytest.mark.parametrize("scheme", AXE_OPTIONS)
@pytest.mark.parametrize("url", one_group_per_page(PAGES))
def test_axe_finds_no_serious_violation(seen, url, scheme):
    """axe-core's serious and critical violations, on every page, in both colour schemes."""
    assert seen(url)[scheme] == []


@pytest.mark.parametrize("scheme", AXE_OPTIONS)
def test_axe_check_catches_a_contrast_fault_of_one_scheme_on_a_notebook_page(browser, server, scheme):
    """The check above, on text whose contrast fails in one colour scheme only."""
    faint = {"light": "#d0d0d0", "dark": "#303030"}[scheme]
    style = f"[data-md-color-scheme={MATERIAL_SCHEME[scheme]}] .jp-OutputArea-output pre {{ color: {faint} }}"
    page = tab(browser)
    try:
        shown = visit(page, server, "/zh/notebooks/hooks/", style)
    finally:
        page.close()
    assert shown[scheme] and all("color-contrast (serious)" in v for v in shown[scheme])
    assert shown["dark" if scheme == "light" else "light"] == []


@pytest.mark.parametrize("scheme", MATERIAL_SCHEME)
def test_a_first_visit_follows_the_system_colour_scheme(page, server, scheme):
    page.emulate_media(color_scheme=scheme)
    page.goto(server + "/notebooks/leaf_setup/", wait_until="load")
    assert page.evaluate("document.body.dataset.mdColorScheme") == MATERIAL_SCHEME[scheme]


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


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("/benchmark/", "Median time per Jacobian of each method at each size n → m, on CPU"),
        ("/zh/benchmark/", "CPU 上各方法在每种规模 n → m 下求一次雅可比矩阵的时间中位数"),
    ],
)
def test_benchmark_figures_are_images_named_in_the_page_language(page, server, url, name):
    page.goto(server + url, wait_until="load")
    figures = page.eval_on_selector_all(
        ".benchmark-figure > svg",
        "svgs => svgs.map(s => [s.getAttribute('role'), s.querySelector(':scope > title')?.textContent])",
    )
    assert figures  # one per measured device; CPU is always measured
    assert all(role == "img" and title for role, title in figures)
    # The name the browser gives the CPU figure, as a screen reader reads it.
    assert page.get_by_role("img", name=name, exact=True).count() == 1


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
