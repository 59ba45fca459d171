"""The notebook pages: mkdocs-jupyter renders them; this hook makes them fast and light.

mkdocs-jupyter (0.26.3) turns each executed notebook that execute_snippets.py publishes
into a page. This hook changes the two of its habits that cost a lot at our scale, and
tells the theme how lessons and notebooks go together:

* **One exporter, reused.** For every notebook, mkdocs-jupyter's ``convert.nb2html``
  builds a new nbconvert ``HTMLExporter`` and ``convert.nb2md`` (for the table of
  contents) a new ``MarkdownExporter``; each compiles its Jinja templates again, about
  0.1 s a notebook. This hook replaces those two functions, for ``.ipynb`` files, with
  ones that build each exporter once per configuration, with the arguments mkdocs-jupyter
  would pass (its own app config, template, preprocessor and highlight filter), and reuse
  it. mkdocs-jupyter still decides what to render, caches it and makes the page.
  The exporter also skips nbconvert's BeautifulSoup round trip of every page, two thirds
  of a notebook's rendering time: it adds the same ``tabindex="0"`` to the same elements
  of the template's markup directly (see ``LinkingExporter.from_notebook_node``).

* **The styles in one cached file.** Each notebook page would carry about 590 KB of
  JupyterLab CSS in ``<style>`` elements. The reused exporter leaves the 575 KB that the
  template includes from files out of the page; this hook takes the rest out and writes
  ``assets/stylesheets/notebook.css`` once per site, with only the rules whose classes
  occur on the notebook pages and the custom properties and keyframes those rules use, in
  their original order. ``docs/overrides/main.html`` links it from the notebook pages.
  The pruned stylesheet is cached in ``.cache/notebook_pages/``.

* **Lessons and their notebooks.** Lesson page ``jacobian-assembly`` goes with snippet
  ``jacobian_assembly``. This hook tells the theme (``docs/overrides/main.html``) which
  notebook a lesson page offers (``page.notebook``), which exercise notebooks it shows
  solutions from (``page.solutions``), and which lesson a notebook page belongs to
  (``page.lesson``). A notebook page is titled after its lesson, in the site's language
  (``config.extra.notebooks``), rather than after its file.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import inspect
import json
import re
import shutil
from pathlib import Path

import markupsafe
import tinycss2
from mkdocs.exceptions import PluginError
from mkdocs_jupyter import convert, nbconvert2
from mkdocs_jupyter.config import settings
from mkdocs_jupyter.preprocessors import SubCell
from nbconvert.exporters.html import HTMLExporter
from nbconvert.exporters.markdown import MarkdownExporter
from nbconvert.exporters.templateexporter import TemplateExporter, default_filters
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

ROOT = Path(__file__).resolve().parents[2]
CSS_CACHE = ROOT / ".cache" / "notebook_pages"
STYLESHEET = "assets/stylesheets/notebook.css"
CLASSES = re.compile(r'\bclass="([^"]*)"')

# What the replacements below copy was read in this version; review them on an upgrade.
if not importlib.metadata.version("mkdocs-jupyter").startswith("0.26."):
    raise PluginError("docs/hooks/notebook_pages.py was written for mkdocs-jupyter 0.26")


def is_notebook(page) -> bool:
    return page.file.src_uri.endswith(".ipynb")


# --- One exporter, reused -------------------------------------------------------------


class LinkingExporter(HTMLExporter):
    """nbconvert's HTMLExporter, but the stylesheets that the template includes with
    ``resources.include_css(name)`` (JupyterLab's, 575 KB) come out as an empty
    ``<style data-file="name">``, which on_page_content replaces by a link, instead of
    being copied into every page."""

    def _init_resources(self, resources):
        resources = super()._init_resources(resources)
        resources["include_css"] = lambda name: markupsafe.Markup(f'<style data-file="{name}"></style>')
        return resources

    def from_notebook_node(self, nb, resources=None, **kw):
        """HTMLExporter's, without parsing and printing the page again with BeautifulSoup
        (html.parser) only to add two attributes: ``tabindex="0"`` on each cell's input
        and each output, so that keyboard users can scroll them. A page with an image,
        which nbconvert also checks for alt text, takes nbconvert's own way."""
        first_button = nbconvert2.cell_id  # the template numbers the copy buttons
        resources = self._init_resources(resources)
        data_type = WidgetsDataTypeFilter(
            notebook_metadata=self._nb_metadata, parent=self, resources=resources
        )
        self.register_filter("filter_data_type", data_type)
        html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        if "<img" in html:
            nbconvert2.cell_id = first_button
            return super().from_notebook_node(nb, resources, **kw)
        html = FOCUSABLE.sub(r'\1 tabindex="0">', html)
        return html, resources


# The elements that nbconvert makes focusable: the template writes each as one such tag.
FOCUSABLE = re.compile(r'(<div class="(?:jp-Cell-inputWrapper|[^"]*\bjp-OutputArea-output\b[^"]*)"[^>]*)>')


@functools.cache
def html_exporter(options: str) -> HTMLExporter:
    """The exporter that mkdocs-jupyter's nb2html builds for these options, built once."""
    o = json.loads(options)
    app = nbconvert2.get_nbconvert_app(
        execute=o["execute"],
        kernel_name=o["kernel_name"],
        start=o["start"],
        end=o["end"],
        allow_errors=o["allow_errors"],
        show_input=o["show_input"],
        no_input=o["no_input"],
        no_prompt=o["no_prompt"],
        remove_tag_config=o["remove_tag_config"],
    )
    # As nb2html does: let SVG and other bytes through unchanged.
    default_filters["clean_html"] = lambda e: e.decode() if isinstance(e, bytes) else str(e)
    highlight = nbconvert2.mk_custom_highlight_code(o["highlight_extra_classes"])
    return LinkingExporter(
        config=app.config,
        template_file="mkdocs_html/notebook.html.j2",
        extra_template_paths=[settings.templates_dir],
        preprocessors=[SubCell],
        filters={"highlight_code": highlight},
        theme=o["theme"],
        mathjax_url=o["custom_mathjax_url"],
    )


@functools.cache
def markdown_exporter(start, end, execute, kernel_name) -> MarkdownExporter:
    """The exporter that mkdocs-jupyter's nb2md builds, built once."""
    app = nbconvert2.get_nbconvert_app(start=start, end=end, execute=execute, kernel_name=kernel_name)
    return MarkdownExporter(
        config=app.config,
        template_file="mkdocs_md/md-no-codecell.md.j2",
        extra_template_paths=[settings.templates_dir],
    )


def nb2html(nb_path, *args, **kwargs):
    """mkdocs-jupyter's nb2html for an .ipynb, with a reused exporter. Unlike the original,
    it does not append the Pygments CSS a second time, as a Python list that no browser
    can parse."""
    if not str(nb_path).endswith(".ipynb"):
        return nbconvert2.nb2html(nb_path, *args, **kwargs)
    options = inspect.signature(nbconvert2.nb2html).bind(nb_path, *args, **kwargs)
    options.apply_defaults()
    options = dict(options.arguments)
    del options["nb_path"]
    include_requirejs = options.pop("include_requirejs")
    exporter = html_exporter(json.dumps(options, sort_keys=True))
    nbconvert2.cell_id = 0  # numbers the copy buttons of this page
    with open(nb_path, encoding="utf-8") as file:
        language = json.load(file).get("metadata", {}).get("kernelspec", {}).get("language")
    if language:
        nbconvert2.kernel_lang = language
    resources = {"mkdocs": {"test": "value", "include_requirejs": include_requirejs}}
    content, _ = exporter.from_filename(nb_path, resources=resources)
    if extra := options["highlight_extra_classes"]:
        content = content.replace("jp-OutputArea-output", f"jp-OutputArea-output {extra}")
    return content


def nb2md(nb_path, start=0, end=None, execute=False, kernel_name=""):
    """mkdocs-jupyter's nb2md for an .ipynb, with a reused exporter."""
    if not str(nb_path).endswith(".ipynb"):
        return nbconvert2.nb2md(nb_path, start, end, execute, kernel_name)
    body, _ = markdown_exporter(start, end, execute, kernel_name).from_filename(nb_path)
    # As nb2md does: drop code, so that no heading is read from inside it.
    body = re.sub(r"```.*?```", "", body, flags=re.DOTALL)
    body = re.sub(r"`[^`\n]*`", "", body)
    return re.sub(r"`[^`]*`", nbconvert2._strip_if_no_heading, body)


convert.nb2html = nb2html  # mkdocs_jupyter.plugin calls them as convert.nb2html(...)
convert.nb2md = nb2md


# --- Lessons and their notebooks ------------------------------------------------------

INCLUDE = re.compile(r'^[ \t]*--8<-- "([a-z0-9_]+)/', re.MULTILINE)
published: set[str] = set()  # the snippets that have a notebook page
lessons: dict = {}  # snippet name -> its lesson's page


def on_nav(nav, config, files):
    published.clear()
    published.update(
        f.src_uri.removeprefix("notebooks/").removesuffix(".ipynb")
        for f in files
        if f.src_uri.startswith("notebooks/") and f.src_uri.endswith(".ipynb")
    )
    lessons.clear()
    for page in nav.pages:
        name = page.file.name.replace("-", "_")
        if name in published:
            lessons[name] = page
    return nav


def on_page_markdown(markdown: str, page, config, files) -> str:
    name = page.file.name.replace("-", "_")
    if is_notebook(page):
        labels = config.extra["notebooks"]
        page.lesson = lessons.get(name)
        title = page.lesson.title if page.lesson else labels["titles"].get(name)
        if title:
            page.title = labels["title"].format(title=title)
    else:
        page.notebook = name if name in lessons else None
        page.solutions = [  # the exercise notebooks whose cells the page shows
            other
            for other in dict.fromkeys(INCLUDE.findall(markdown))
            if other.startswith("exercises_") and other in published
        ]
    return markdown


# --- The styles in one cached file ----------------------------------------------------

styles: list[str] = []  # each distinct <style> element of the notebook pages, in order
used_classes: set[str] = set()  # every class on a notebook page, around the notebook too


def on_pre_build(config) -> None:
    styles.clear()
    used_classes.clear()


def on_page_content(html: str, page, config, files) -> str:
    """Take the <style> elements out of a notebook page, keeping their CSS in order."""
    if not is_notebook(page):
        return html
    kept, end = [], 0
    while (start := html.find("<style", end)) != -1:  # str.find: a regex takes 25 ms here
        kept.append(html[end:start])
        body = html.index(">", start) + 1
        end = html.index("</style>", body)
        if file := re.search(r'data-file="([^"]+)"', html[start:body]):  # see LinkingExporter
            css = Path(settings.templates_dir, file[1]).read_text(encoding="utf-8")
        else:
            css = html[body:end]
        if css not in styles:
            styles.append(css)
        end += len("</style>")
    return "".join(kept) + html[end:]


def on_post_page(output: str, page, config) -> str:
    if is_notebook(page):
        for names in CLASSES.findall(output):
            used_classes.update(names.split())
    return output


def on_post_build(config) -> None:
    if not styles:
        return
    css = "\n".join(styles)
    key = hashlib.sha256("\n".join([css, *sorted(used_classes)]).encode()).hexdigest()
    cached = CSS_CACHE / f"{key}.css"
    if not cached.is_file():
        CSS_CACHE.mkdir(parents=True, exist_ok=True)
        cached.write_text(used_css(css, used_classes), encoding="utf-8")
    target = Path(config.site_dir) / STYLESHEET
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(cached, target)


def used_css(css: str, classes: set[str]) -> str:
    """The rules of ``css`` that can apply where only ``classes`` occur, in their order,
    with only the custom properties (``--name``) and ``@keyframes`` that they use."""
    rules = [r for r in tinycss2.parse_stylesheet(css, True, True) if r.type != "error"]
    kept = keep_rules(rules, classes)
    declarations = [d for _, ds in walk(kept) for d in ds]
    # Custom properties used by the kept declarations, and those they use in turn.
    defined = {}
    for d in declarations:
        if d.name.startswith("--"):
            defined.setdefault(d.name, []).append(tinycss2.serialize(d.value))
    used, todo = set(), [tinycss2.serialize(d.value) for d in declarations if not d.name.startswith("--")]
    while todo:
        for name in re.findall(r"var\(\s*(--[\w-]+)", todo.pop()):
            if name not in used:
                used.add(name)
                todo.extend(defined.get(name, []))
    words = {w for d in declarations if "animation" in d.name for w in re.findall(r"[\w-]+", tinycss2.serialize(d.value))}
    return '@charset "UTF-8";\n' + "".join(write(kept, used, words))


def keep_rules(rules, classes):
    """[(rule, its selectors that can match, its declarations) or (at-rule, kept contents)]."""
    kept = []
    for rule in rules:
        if rule.type == "qualified-rule":
            selectors = [s for s in split_selectors(rule.prelude) if needed_classes(s) <= classes]
            if selectors:
                body = tinycss2.parse_blocks_contents(rule.content, True, True)
                kept.append((rule, selectors, [d for d in body if d.type == "declaration"]))
        elif rule.type == "at-rule" and rule.lower_at_keyword == "media":
            inner = keep_rules(tinycss2.parse_rule_list(rule.content, True, True), classes)
            if inner:
                kept.append((rule, inner, None))
        elif rule.type == "at-rule" and rule.lower_at_keyword != "charset":
            kept.append((rule, None, None))  # @keyframes and the like, filtered in write()
    return kept


def split_selectors(prelude):
    selectors, current = [], []
    for token in prelude:
        if token.type == "literal" and token.value == ",":
            selectors.append(current)
            current = []
        else:
            current.append(token)
    return [*selectors, current]


def needed_classes(selector) -> set[str]:
    """The classes a selector requires (those inside :not(...) and the like are not)."""
    return {
        after.value
        for before, after in zip(selector, selector[1:])
        if before.type == "literal" and before.value == "." and after.type == "ident"
    }


def walk(kept):
    for rule, selectors, declarations in kept:
        if declarations is not None:
            yield rule, declarations
        elif selectors is not None:
            yield from walk(selectors)


def write(kept, used, animations):
    for rule, selectors, declarations in kept:
        if declarations is not None:
            body = [
                f"{d.name}:{tinycss2.serialize(d.value).strip()}{'!important' if d.important else ''}"
                for d in declarations
                if not d.name.startswith("--") or d.name in used
            ]
            if body:
                prelude = ",".join(tinycss2.serialize(s).strip() for s in selectors)
                yield f"{prelude}{{{';'.join(body)}}}\n"
        elif selectors is not None:
            inner = "".join(write(selectors, used, animations))
            if inner:
                yield f"@media {tinycss2.serialize(rule.prelude).strip()}{{\n{inner}}}\n"
        elif "keyframes" not in rule.lower_at_keyword or tinycss2.serialize(rule.prelude).strip() in animations:
            yield tinycss2.serialize([rule]) + "\n"
