"""The vᵀJ explorer of lesson 2: its markup (docs/hooks/vjp_explorer.py) and where the
built site loads its script. tests/test_browser.py drives it in Chromium."""

import json
import re
import sys

import pytest

pytest.importorskip("mkdocs", reason="the hooks need the docs dependencies")
sys.path.insert(0, str(__import__("conftest").ROOT / "docs" / "hooks"))
import vjp_explorer  # noqa: E402
from execute_snippets import CACHE_DIR  # noqa: E402

from conftest import ROOT  # noqa: E402

SITE = ROOT / "site"
SCRIPT = "assets/javascripts/vjp-explorer.js"
EXPLORER = {"grid": [-3.0, 3.0], "J": [[[[1.0, 2.0], [3.0, 4.0]]] * 2] * 2, "device": "cuda"}
LABELS = {"name": "n", "point": "p", "weights": "w", "exact": "{}, exact", "columns": "c",
          "source": "by torch on {device}", "noscript": "needs JavaScript", "vjp": "vᵀJ </script>"}


def test_markup_has_a_labelled_slider_and_number_entry_for_each_variable():
    markup = vjp_explorer.render(EXPLORER, LABELS, "../" + SCRIPT)
    for name, label in (("x1", "x₁"), ("x2", "x₂"), ("v1", "v₁"), ("v2", "v₂")):
        assert f'<label for="vjp-{name}">{label}</label><input type="range" id="vjp-{name}"' in markup
        assert f'<label for="vjp-{name}-exact" class="vjp-hidden">{label}, exact</label>' in markup
        assert f'<input type="number" id="vjp-{name}-exact" min="-3" max="3"' in markup
    assert markup.count('step="0.5"') == 4  # x: every multiple of 0.5
    assert markup.count('step="any"') == 2  # v: any number
    assert '<input type="checkbox" id="vjp-columns"><label for="vjp-columns">c</label>' in markup
    assert '<p class="vjp-result" aria-live="polite">' in markup
    assert "<noscript><p>needs JavaScript</p></noscript>" in markup  # without it, say so
    assert "by torch on CUDA" in markup
    assert f'<script src="../{SCRIPT}" defer></script>' in markup
    assert "\n\n" not in markup  # one HTML block for Markdown


def test_inline_data_carries_the_exported_rows_and_cannot_end_its_script():
    markup = vjp_explorer.render(EXPLORER, LABELS, SCRIPT)
    inline = re.search(r'<script type="application/json" class="vjp-data">(.*?)</script>', markup)[1]
    data = json.loads(inline)
    assert data["grid"] == EXPLORER["grid"] and data["J"] == EXPLORER["J"]
    assert data["labels"] == {"vjp": "vᵀJ </script>"}  # the labels the script writes
    assert data["start"] == {"x1": 2.0, "x2": 3.0, "v1": 0.5, "v2": -2.0}


@pytest.mark.parametrize("url, script", [("weighted-backward/", "../" + SCRIPT), ("", SCRIPT)])
def test_the_script_url_is_relative_to_the_page(url, script):
    page = type("Page", (), {"url": url, "file": None})()
    markdown = "a\n\n```vjp-explorer\ndata: weighted_backward/explorer.json\n" + "\n".join(
        f"{key}: {json.dumps(value)}" for key, value in LABELS.items()) + "\n```\n\nb"
    if not (CACHE_DIR / "weighted_backward" / "explorer.json").is_file():
        pytest.skip("no explorer data: run `nox -s docs` first")
    result = vjp_explorer.on_page_markdown(markdown, page, None, None)
    assert result.startswith("a\n\n<div") and result.endswith("</div>\n\nb")
    assert f'<script src="{script}" defer></script>' in result


def built_pages():
    return sorted(SITE.rglob("*.html"))


def test_only_lesson_2_loads_the_explorer_and_its_data_is_the_exported_grid():
    pages = built_pages()
    if not pages:
        pytest.skip("no built site: run `nox -s docs` first")
    exported = json.loads((ROOT / ".cache" / "snippets" / "weighted_backward" / "explorer.json").read_text())
    loading = []
    for page in pages:
        text = page.read_text(encoding="utf-8")
        if "vjp-explorer.js" in text:
            loading.append(page.relative_to(SITE).as_posix())
            assert text.count(f'<script src="../{SCRIPT}" defer></script>') == 1
            assert (page.parent / ".." / SCRIPT).resolve().is_file()
            inline = re.search(r'<script type="application/json" class="vjp-data">(.*?)</script>', text)[1]
            data = json.loads(inline)
            assert data["grid"] == exported["grid"] and data["J"] == exported["J"]
    assert loading == ["weighted-backward/index.html", "zh/weighted-backward/index.html"]
