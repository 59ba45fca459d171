"""The built site (site/, from `nox -s docs`) as it is published at site_url.

Every page's links are followed as a browser would from the page's published URL, under
the sub-path of site_url (GitHub Pages serves a project site at /<repo>/), and mapped
back to the files in site/: each must be a file, and each #anchor an id in it. The 404
pages are served for any missing URL, so their links are followed from a deep one.
Then the links for search engines: hreflang, canonical, the sitemaps, the descriptions.
"""

import functools
import gzip
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

import pytest
import yaml

from conftest import ROOT

SITE = ROOT / "site"
SITE_URL = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))["site_url"]
LANGUAGE_URLS = {"en": SITE_URL, "zh": urljoin(SITE_URL, "zh/")}
NOT_FOUND = {"404.html": "no/such/page/", "zh/404.html": "zh/no/such/page/"}
HTML = sorted(SITE.rglob("*.html"))
LINK_ATTRIBUTES = {"href", "src", "xlink:href"}
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module", autouse=True)
def built_site():
    if not (SITE / "index.html").is_file() or not (SITE / "zh" / "index.html").is_file():
        pytest.fail("site/ is not built: run `nox -s docs` (nox -s tests does it first)")


def test_zh_site_url_is_under_the_english_one():
    zh = yaml.safe_load((ROOT / "mkdocs.zh.yml").read_text(encoding="utf-8"))["site_url"]
    assert SITE_URL.endswith("/") and zh == LANGUAGE_URLS["zh"]


def relative(file):
    return file.relative_to(SITE).as_posix()


def published_url(file):
    """The URL at which the host serves this file of site/."""
    path = relative(file)
    if path in NOT_FOUND:
        return SITE_URL + NOT_FOUND[path]
    return SITE_URL + re.sub(r"(^|/)index\.html$", r"\1", path)


def file_at(url):
    """The file of site/ that the host serves at this URL (no fragment), or None."""
    if not url.startswith(SITE_URL) or urlsplit(url).query:
        return None
    path = unquote(url[len(SITE_URL) :])
    file = SITE / path / "index.html" if path in ("", ".") or path.endswith("/") else SITE / path
    return file if file.is_file() and SITE in file.resolve().parents else None


class Page(HTMLParser):
    """The ids of a page, its links (tag, attribute, value), and its head's <link>s."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.ids, self.links, self.head_links, self.meta, self.config = set(), [], [], [], None
        self._config_script = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        for name in LINK_ATTRIBUTES & attrs.keys():
            self.links.append((tag, name, attrs[name]))
        if tag == "link":
            self.head_links.append(attrs)
        if tag == "meta":
            self.meta.append(attrs)
        self._config_script = tag == "script" and attrs.get("id") == "__config"

    def handle_data(self, data):
        if self._config_script:
            self.config = json.loads(data)
            self._config_script = False


@functools.cache
def parsed(file):
    return Page(file.read_text(encoding="utf-8"))


def links_of(file):
    """Every link of the page, as written, with Material's own: its base and search worker."""
    page = parsed(file)
    links = [value for _, _, value in page.links]
    if page.config:
        links += [page.config["base"].rstrip("/") + "/", page.config["search"]]
    return links


def broken(file, href):
    """Why this link of the page does not resolve under site_url, or None."""
    if re.match(r"(mailto|tel|data|blob|javascript):", href):
        return None
    url, fragment = urldefrag(urljoin(published_url(file), href))
    if urlsplit(url).netloc != urlsplit(SITE_URL).netloc:
        return None  # another host: not ours to check (test_site: nothing loads from one)
    target = file_at(url)
    if target is None:
        return f"{href} -> {url}: no such file in site/"
    if fragment and fragment not in parsed(target).ids:
        return f"{href} -> {url}#{fragment}: no such id"
    return None


@pytest.mark.parametrize("file", HTML, ids=relative)
def test_every_link_and_anchor_resolves_under_the_sub_path(file):
    links = links_of(file)
    assert len(links) > 20, "a page without its navigation"
    failures = [reason for href in links if (reason := broken(file, href))]
    assert failures == [], f"{len(failures)} of {len(links)} links do not resolve"


def test_link_check_counts():
    """The checker checks something: every page's links, the 404 pages included."""
    pages = {relative(f) for f in HTML}
    assert {"404.html", "zh/404.html", "index.html", "zh/index.html"} <= pages
    assert sum(len(links_of(f)) for f in HTML) > 50 * len(HTML)


def test_the_checker_catches_a_broken_link_and_a_missing_anchor():
    page = SITE / "leaf-setup" / "index.html"
    assert broken(page, "../weighted-backward/#why-v") is None
    assert broken(page, "../weighted-backward/#no-such-anchor")
    assert broken(page, "../no-such-page/")
    assert broken(page, "/leaf-setup/")  # the domain's root, outside the sub-path
    assert broken(SITE / "404.html", "leaf-setup/")  # relative, from a missing URL


# --- Search engines ------------------------------------------------------------------


def pages():
    """Each published page (not the 404s) as (language, path under the language root)."""
    for file in HTML:
        path = relative(file)
        if path in NOT_FOUND or not path.endswith("index.html"):
            continue
        language = "zh" if path.startswith("zh/") else "en"
        yield language, path.removeprefix("zh/").removesuffix("index.html")


PAGES = sorted(pages())


def page_file(language, path):
    return (SITE / "zh" if language == "zh" else SITE) / path / "index.html"


def test_both_languages_have_the_same_pages():
    assert [p for lang, p in PAGES if lang == "en"] == [p for lang, p in PAGES if lang == "zh"]


@pytest.mark.parametrize(("language", "path"), PAGES)
def test_hreflang_links_lead_to_this_page_in_each_language(language, path):
    head = parsed(page_file(language, path)).head_links
    alternates = [(a["hreflang"], a["href"]) for a in head if "hreflang" in a]
    own = {lang: url + path for lang, url in LANGUAGE_URLS.items()}
    assert alternates == [("en", own["en"]), ("zh", own["zh"]), ("x-default", own["en"])]
    assert all(a.get("rel") == "alternate" for a in head if "hreflang" in a)
    assert [a["href"] for a in head if a.get("rel") == "canonical"] == [own[language]]
    for lang, url in own.items():
        assert file_at(url) == page_file(lang, path)


@pytest.mark.parametrize("name", NOT_FOUND)
def test_404_pages_have_no_hreflang_or_canonical(name):
    head = parsed(SITE / name).head_links
    assert [a for a in head if "hreflang" in a or a.get("rel") == "canonical"] == []


SITEMAP = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}


def sitemap(file):
    """{loc: {hreflang: href}} of a sitemap."""
    return {
        url.find("s:loc", SITEMAP).text: {
            link.get("hreflang"): link.get("href") for link in url.findall("x:link", SITEMAP)
        }
        for url in ET.parse(file).getroot().findall("s:url", SITEMAP)
    }


def test_sitemap_lists_every_page_of_both_languages_with_its_translations():
    entries = sitemap(SITE / "sitemap.xml")
    assert sorted(entries) == sorted(LANGUAGE_URLS[lang] + path for lang, path in PAGES)
    for loc, alternates in entries.items():
        assert file_at(loc) is not None, loc
        path = loc.removeprefix(LANGUAGE_URLS["zh"]).removeprefix(SITE_URL)
        assert alternates == {
            "en": LANGUAGE_URLS["en"] + path,
            "zh": LANGUAGE_URLS["zh"] + path,
            "x-default": LANGUAGE_URLS["en"] + path,
        }
    assert gzip.decompress((SITE / "sitemap.xml.gz").read_bytes()) == (
        SITE / "sitemap.xml"
    ).read_bytes()


def test_chinese_sitemap_lists_only_urls_under_its_folder():
    entries = sitemap(SITE / "zh" / "sitemap.xml")
    assert sorted(entries) == sorted(LANGUAGE_URLS["zh"] + p for lang, p in PAGES if lang == "zh")
    assert entries == {loc: a for loc, a in sitemap(SITE / "sitemap.xml").items() if loc in entries}


def front_matter(language, page):
    text = (ROOT / "docs" / language / f"{page}.md").read_text(encoding="utf-8")
    match = re.match(r"---\n(.*?)\n---\n", text, re.DOTALL)
    assert match, f"docs/{language}/{page}.md has no front matter"
    return yaml.safe_load(match[1])


@pytest.mark.parametrize(("language", "path"), PAGES)
def test_every_page_has_a_description_in_its_language(language, path):
    meta = parsed(page_file(language, path)).meta
    descriptions = [m["content"] for m in meta if m.get("name") == "description"]
    assert len(descriptions) == 1 and len(descriptions[0]) >= 40
    assert bool(CJK.search(descriptions[0])) == (language == "zh")
    if not path.startswith("notebooks/"):  # a lesson page: its own, from its front matter
        page = path.rstrip("/") or "index"
        assert descriptions[0] == front_matter(language, page)["description"]


@pytest.mark.parametrize("language", LANGUAGE_URLS)
def test_each_lesson_page_describes_itself(language):
    sources = sorted((ROOT / "docs" / language).glob("*.md"))
    descriptions = [front_matter(language, p.stem)["description"] for p in sources]
    assert len(set(descriptions)) == len(sources)
    assert all(len(d) <= (100 if language == "zh" else 180) for d in descriptions)
