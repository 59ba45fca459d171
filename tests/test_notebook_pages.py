"""docs/hooks/notebook_pages.py: mkdocs-jupyter's output with a reused exporter, and the
notebook styles cut down to the rules in use."""

import re
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

pytest.importorskip("mkdocs_jupyter", reason="the hook needs the docs dependencies")
sys.path.insert(0, str(__import__("conftest").ROOT / "docs" / "hooks"))
import notebook_pages  # noqa: E402
from mkdocs_jupyter import nbconvert2  # noqa: E402
from mkdocs_jupyter.config import settings  # noqa: E402

NOTEBOOK = """{
 "cells": [
  {"cell_type": "markdown", "id": "title", "metadata": {}, "source": ["# A title"]},
  {"cell_type": "code", "execution_count": 1, "id": "one", "metadata": {},
   "outputs": [{"name": "stdout", "output_type": "stream", "text": ["J = 4\\n"]}],
   "source": ["J = 2 * 2\\n", "print('J =', J)"]}
 ],
 "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
              "language_info": {"name": "python"}},
 "nbformat": 4, "nbformat_minor": 5
}"""
OPTIONS = dict(execute=False, kernel_name="", theme="", allow_errors=False, include_requirejs=False,
               custom_mathjax_url="")


PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
WITH_IMAGE = NOTEBOOK.replace(
    '"outputs": [',
    '"outputs": [{"output_type": "display_data", "metadata": {}, "data": {"image/png": "%s"}}, ' % PNG,
)


@pytest.mark.parametrize("notebook", [NOTEBOOK, WITH_IMAGE], ids=["text", "image"])
def test_the_reused_exporter_renders_what_mkdocs_jupyter_renders(tmp_path, notebook):
    path = tmp_path / "example.ipynb"
    path.write_text(notebook, encoding="utf-8")
    fresh = nbconvert2.nb2html(str(path), **OPTIONS)
    # mkdocs-jupyter then appends the Pygments CSS once more, as a Python list; we do not.
    fresh = fresh[: fresh.rindex("<style>")].rstrip()
    for _ in range(2):  # the second time with the exporter built the first time
        ours = notebook_pages.nb2html(str(path), **OPTIONS)
        assert 0 < len(ours) < len(fresh) / 5 and ours.count('<style data-file="') == 2
        inlined = re.sub(  # as nbconvert's include_css would have put them
            r'<style data-file="([^"]+)"></style>',
            lambda m: '<style type="text/css">\n%s</style>' % Path(settings.templates_dir, m[1]).read_text(),
            ours,
        )
        if "<img" not in ours:  # printed by BeautifulSoup, as nbconvert does, it is the same
            assert 'tabindex="0"' in ours
            inlined = str(BeautifulSoup(inlined, features="html.parser"))
        assert inlined.rstrip() == fresh
        assert notebook_pages.nb2md(str(path)) == nbconvert2.nb2md(str(path))
    assert notebook_pages.html_exporter.cache_info().currsize == 1


def test_only_the_rules_that_can_apply_are_kept():
    css = """
    .a{color:var(--used)}
    .a .b{color:red}
    .missing,.a:not(.missing)>pre{margin:0}
    .missing-too{color:blue}
    .x{--used:var(--chained);--unused:1px;--chained:#123}
    @media (max-width:10em){.a{padding:0}.missing{padding:1px}}
    @media print{.missing{padding:1px}}
    @keyframes spin{to{transform:rotate(1turn)}}
    @keyframes unused{to{opacity:0}}
    .b{animation:spin 1s}
    pre{line-height:125%}
    """
    kept = notebook_pages.used_css(css, {"a", "b", "x"})
    assert kept.startswith('@charset "UTF-8";')
    assert ".a{color:var(--used)}" in kept and ".a .b{color:red}" in kept
    assert ".a:not(.missing)>pre{margin:0}" in kept and ".missing," not in kept
    assert "missing-too" not in kept and "@media print" not in kept
    assert ".x{--used:var(--chained);--chained:#123}" in kept  # --unused is gone
    assert "@media (max-width:10em){\n.a{padding:0}\n}" in kept
    assert "@keyframes spin" in kept and "unused" not in kept
    assert "pre{line-height:125%}" in kept  # no class needed: kept


def test_the_built_stylesheet_is_much_smaller_than_the_inline_styles():
    stylesheet = Path(notebook_pages.ROOT / "site" / notebook_pages.STYLESHEET)
    if not stylesheet.is_file():
        pytest.skip("site/ is not built")
    assert stylesheet.stat().st_size < 60_000  # mkdocs-jupyter inlines about 590 KB
