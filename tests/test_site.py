"""The pages' sources and the built site (site/, from `nox -s docs`)."""

import gzip
import html
import json
import re

import pytest

from conftest import ROOT, SNIPPETS

DOCS = ROOT / "docs"
SITE = ROOT / "site"
CACHE = ROOT / ".cache" / "snippets"
LANGUAGES = {"en": SITE, "zh": SITE / "zh"}
PAGES = sorted(p.stem for p in (DOCS / "en").glob("*.md"))
INCLUDE = re.compile(r'^[ \t]*--8<-- "(.+)"$', re.MULTILINE)  # also indented, in solutions


@pytest.fixture(scope="module", autouse=True)
def built_site():
    if not (SITE / "index.html").is_file() or not (SITE / "zh" / "index.html").is_file():
        pytest.fail("site/ is not built: run `nox -s docs` (nox -s tests does it first)")


def source(language, page):
    return (DOCS / language / f"{page}.md").read_text(encoding="utf-8")


def built(language, page):
    folder = LANGUAGES[language] if page == "index" else LANGUAGES[language] / page
    return (folder / "index.html").read_text(encoding="utf-8")


def text_of(page_html):
    """What a reader sees: the page without tags, scripts and styles."""
    visible = re.sub(r"<(script|style)\b.*?</\1>", "", page_html, flags=re.DOTALL)
    return html.unescape(re.sub(r"<[^>]+>", "", visible))


def all_html():
    return sorted(SITE.rglob("*.html"))


# --- Both languages have the same structure --------------------------------------------


def test_both_languages_have_the_same_pages():
    assert PAGES and PAGES == sorted(p.stem for p in (DOCS / "zh").glob("*.md"))


@pytest.mark.parametrize("page", PAGES)
def test_both_languages_include_the_same_snippets_in_the_same_order(page):
    assert INCLUDE.findall(source("en", page)) == INCLUDE.findall(source("zh", page))


@pytest.mark.parametrize("page", PAGES)
def test_both_languages_have_the_same_headings_and_links(page):
    anchors = re.compile(r"^#+ .*\{ #([\w-]+) \}$", re.MULTILINE)
    links = re.compile(r"\]\(([^)\s]+)\)")
    for pattern in (anchors, links):
        assert pattern.findall(source("en", page)) == pattern.findall(source("zh", page))


def test_every_snippet_cell_is_shown_on_a_page():
    included = {i for page in PAGES for i in INCLUDE.findall(source("en", page))}
    cells = {f"{p.parent.name}/{p.name}" for p in CACHE.glob("*/*.md")}
    assert cells and included == cells


# --- The pages show the real outputs ---------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_jacobian_page_shows_the_executed_jacobian(language):
    page = text_of(built(language, "jacobian-assembly"))
    assert "J = tensor([[4., 3.],\n        [2., 6.]]" in page  # then ")" or ", device=…)"
    assert "torch.equal(J, J_jacrev): True" in page


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("page", PAGES)
def test_pages_contain_every_included_output_under_its_code(language, page):
    page_html = built(language, page)
    for include in INCLUDE.findall(source(language, page)):
        fragment = (CACHE / include).read_text(encoding="utf-8")
        output = re.search(r"\{ \.text \.output \}\n(.*)\n`{3,}\n$", fragment, re.DOTALL)
        if output:
            assert output[1] in text_of(page_html), include
    blocks = re.findall(r'<div class="(output )?highlight">', page_html)
    assert not blocks or blocks[0] != "output ", "an output comes before any code"


@pytest.mark.parametrize("page_file", all_html(), ids=lambda p: str(p.relative_to(SITE)))
def test_no_page_shows_an_address_a_warning_or_raw_tex(page_file):
    page = page_file.read_text(encoding="utf-8")
    assert not re.search(r"object at 0x[0-9a-f]+", page)
    assert "(Triggered internally at" not in page  # a path on the machine that built torch
    assert "NumPy" not in page
    assert not re.search(r"\.py:\d+: \w*Warning: ", text_of(page)), "a warning as Python prints it"
    assert 'class="arithmatex"' not in page and "\\(" not in text_of(page)
    assert "$$" not in text_of(page)


@pytest.mark.parametrize("language", LANGUAGES)
def test_formulas_are_mathml(language):
    page = built(language, "weighted-backward")
    assert page.count("<math ") >= 5 and 'display="block"' in page
    assert '<mo stretchy="true" fence="true" form="prefix">[</mo><mtable>' in built(language, "index")


@pytest.mark.parametrize("page_file", all_html(), ids=lambda p: str(p.relative_to(SITE)))
def test_no_page_loads_anything_from_another_host(page_file):
    page = page_file.read_text(encoding="utf-8")
    assert not re.search(r"<(script|img|iframe)\b[^>]*\bsrc=\"(https?:)?//", page)
    # rel=canonical and rel=alternate (hreflang) name the published URLs; nothing loads them
    loaded = re.sub(r'<link rel="(canonical|alternate)" href="https://[^"]*"', "", page)
    assert not re.search(r"<link\b[^>]*\bhref=\"(https?:)?//", loaded)
    assert not re.search(r"@import\s+url\((https?:)?//", page)
    assert 'href="//' not in page  # a protocol-relative link would leave the site


# --- Notebook pages and downloads ------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", SNIPPETS)
def test_notebook_downloads_carry_outputs_and_the_script(language, name):
    folder = LANGUAGES[language] / "notebooks" / name
    notebook = json.loads((folder / f"{name}.ipynb").read_text(encoding="utf-8"))
    code_cells = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    assert code_cells and all(c["outputs"] for c in code_cells if "print(" in "".join(c["source"]))
    script = (folder / f"{name}.py").read_text(encoding="utf-8")
    assert script == (ROOT / "snippets" / f"{name}.py").read_text(encoding="utf-8")
    page = (folder / "index.html").read_text(encoding="utf-8")
    for suffix in (".ipynb", ".py"):
        assert re.search(rf'<a [^>]*href="{name}\{suffix}"[^>]*\bdownload>', page), suffix


@pytest.mark.parametrize("language", LANGUAGES)
def test_notebook_page_shows_outputs(language):
    page = text_of((LANGUAGES[language] / "notebooks" / "jacobian_assembly" / "index.html").read_text())
    assert "J = tensor([[4., 3.],\n        [2., 6.]]" in page  # then ")" or ", device=…)"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("page", PAGES)
def test_lesson_pages_offer_their_notebook_and_downloads_before_the_text(language, page):
    name = page.replace("-", "_")
    page_html = built(language, page)
    if name not in SNIPPETS:  # the home page and the decision guide
        assert "notebook-downloads" not in page_html
        return
    links = page_html.split('<div class="notebook-downloads">', 1)[1].split("</div>", 1)[0]
    assert page_html.index("notebook-downloads") < page_html.index("<h1")
    folder = f"../notebooks/{name}/"
    assert f'href="{folder}"' in links
    assert f'href="{folder}{name}.ipynb"' in links and f'href="{folder}{name}.py"' in links
    assert "Open this lesson as a notebook" not in page_html  # the old button at the bottom
    solutions = {"en": "Solutions as a notebook", "zh": "参考答案笔记本"}[language]
    assert re.search(rf'href="\.\./notebooks/exercises_\w+/">{solutions}<', links)


def titles(page_html):
    h1 = re.search(r"<h1[^>]*>(.*?)</h1>", page_html, re.DOTALL)[1]
    return text_of(h1).strip("¶ \n"), html.unescape(re.search(r"<title>(.*?)</title>", page_html)[1])


@pytest.mark.parametrize("language", LANGUAGES)
def test_notebook_pages_carry_their_lesson_title_in_the_page_language(language):
    root = LANGUAGES[language]
    lesson, notebook = built(language, "jacobian-assembly"), (root / "notebooks" / "jacobian_assembly" / "index.html").read_text()
    suffix = {"en": " (notebook)", "zh": "（笔记本）"}[language]
    lesson_title = {"en": "4. The Jacobian, one row at a time", "zh": "4. 逐行组装雅可比矩阵"}[language]
    assert lesson_title in titles(lesson)[1]
    assert titles(notebook)[0] == lesson_title + suffix
    assert titles(notebook)[1].startswith(lesson_title + suffix)
    assert 'href="../../jacobian-assembly/"' in notebook  # back to the lesson
    exercises = (root / "notebooks" / "exercises_backward" / "index.html").read_text()
    assert titles(exercises)[0].startswith({"en": "Exercise solutions", "zh": "练习参考答案"}[language])
    for name in SNIPPETS:  # no notebook page is titled after its file
        page_html = (root / "notebooks" / name / "index.html").read_text(encoding="utf-8")
        assert titles(page_html)[0].endswith(suffix), name


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_nav_lists_no_file_name(language):
    nav = built(language, "index").split('<nav class="md-nav md-nav--primary"', 1)[1].split("</nav>", 1)[0]
    labels = [text_of(label).strip() for label in re.findall(r'<span class="md-ellipsis">(.*?)</span>', nav, re.DOTALL)]
    assert labels and not [label for label in labels if re.fullmatch(r"[a-z0-9_]+", label)]
    assert "notebooks/" not in nav


# --- Page weight ------------------------------------------------------------------------

PAGE_LIMIT = 30 * 1024  # bytes, gzipped


@pytest.mark.parametrize("page_file", all_html(), ids=lambda p: str(p.relative_to(SITE)))
def test_every_page_is_at_most_30_kb_gzipped(page_file):
    assert len(gzip.compress(page_file.read_bytes())) <= PAGE_LIMIT


@pytest.mark.parametrize("language", LANGUAGES)
def test_notebook_pages_link_one_stylesheet_instead_of_inline_styles(language):
    root = LANGUAGES[language]
    stylesheet = root / "assets" / "stylesheets" / "notebook.css"
    css = stylesheet.read_text(encoding="utf-8")
    assert ".jupyter-wrapper" in css and ".highlight-ipynb" in css and len(css) < 100_000
    for name in SNIPPETS:
        page = (root / "notebooks" / name / "index.html").read_text(encoding="utf-8")
        assert "<style" not in page, name
        assert '<link rel="stylesheet" href="../../assets/stylesheets/notebook.css">' in page
    assert "notebook.css" not in built(language, "jacobian-assembly")  # lessons do not need it


def measured():
    return json.loads((CACHE / "benchmark" / "summary.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_benchmark_page_shows_the_measured_numbers_in_its_language(language):
    summary = measured()
    page = built(language, "benchmark")
    axis = {"en": "median time per Jacobian", "zh": "每次求雅可比矩阵的时间中位数"}[language]
    assert page.count("<svg") >= len(summary["devices"]) and axis in page
    for device, rows in summary["devices"].items():
        assert f">{device}<" in page
        for row in rows:  # the verdict shown is the one the numbers give
            assert summary["methods"][row["ms"].index(min(row["ms"]))] == row["fastest"]
            assert f'<td style="text-align: right;">{row["size"]}</td>' in page
            section = page.split(f">{device}<", 1)[1]  # the table under the device's heading
            cells = re.search(rf"<tr>\s*<td[^>]*>{row['size']}</td>(.*?)</tr>", section, re.DOTALL)
            verdict = re.findall(r"<td[^>]*>(.*?)</td>", cells[1])[-1]
            assert re.findall(r"<code>(.*?)</code>", verdict) == [row["fastest"], *row["tied"]]


@pytest.mark.parametrize("language", LANGUAGES)
def test_decision_guide_recommends_what_this_build_measured(language):
    """One table per device; a row names the fastest and its ties, none over 1.2x the fastest."""
    summary, page = measured(), built(language, "decision-guide")
    tables = re.findall(r"<h3 [^>]*>(.*?)<a.*?</h3>\s*<table>(.*?)</table>", page, re.DOTALL)
    assert [device for device, _ in tables] == list(summary["devices"])
    for (device, table), rows in zip(tables, summary["devices"].values()):
        shown = re.findall(r"<tr>\s*<td[^>]*>(.*?)</td>\s*<td[^>]*>(.*?)</td>", table, re.DOTALL)
        assert [size for size, _ in shown] == [row["size"] for row in rows]
        for (_, cell), row in zip(shown, rows):
            times = dict(zip(summary["methods"], row["ms"]))
            named = re.findall(r"<code>(.*?)</code> [(（]([\d.e+-]+)", cell)
            assert [m for m, _ in named] == [row["fastest"], *row["tied"]], (device, row["size"])
            for method, ms in named:
                assert float(ms) == pytest.approx(times[method], rel=5e-3)
                assert times[method] <= 1.2 * times[row["fastest"]]


# --- Language switcher and search ------------------------------------------------------


def page_urls(language):
    root = LANGUAGES[language]
    return sorted(
        str(p.parent.relative_to(root)).replace(".", "")
        for p in root.rglob("index.html")
        if language == "zh" or "zh" not in p.relative_to(root).parts
    )


def test_both_languages_publish_the_same_urls():
    assert page_urls("en") == page_urls("zh")


@pytest.mark.parametrize("language", LANGUAGES)
def test_switcher_leads_to_the_same_page_in_the_other_language(language):
    root = LANGUAGES[language]
    for url in page_urls(language):
        page_file = root / url / "index.html"
        links = dict(
            (lang, href)
            for href, lang in re.findall(
                r'<a href="([^"]*)" hreflang="(\w+)" class="md-select__link"',
                page_file.read_text(encoding="utf-8"),
            )
        )
        for lang, href in links.items():
            target = (page_file.parent / href / "index.html").resolve()
            assert target == (LANGUAGES[lang] / url / "index.html").resolve(), (url, lang)


@pytest.mark.parametrize("term", ["雅可比矩阵", "叶子节点", "反向传播"])
def test_chinese_search_index_keeps_glossary_terms_whole(term):
    index = json.loads((SITE / "zh" / "search" / "search_index.json").read_text(encoding="utf-8"))
    separator = re.compile(index["config"]["separator"])
    tokens = {t for doc in index["docs"] for t in separator.split(doc["text"])}
    assert term in tokens
