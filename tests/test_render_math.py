"""docs/hooks/render_math.py: TeX in the pages becomes MathML, or the build fails."""

import sys
from types import SimpleNamespace

import pytest

pytest.importorskip("mkdocs", reason="the hook needs the docs dependencies")
pytest.importorskip("latex2mathml", reason="the hook needs the docs dependencies")
sys.path.insert(0, str(__import__("conftest").ROOT / "docs" / "hooks"))
import render_math  # noqa: E402

PAGE = SimpleNamespace(file=SimpleNamespace(src_uri="lesson.md"))


def render(html):
    return render_math.on_page_content(html, PAGE, None, None)


def test_inline_and_block_math_become_mathml():
    html = render(
        '<p><span class="arithmatex">\\(v^\\top J\\)</span></p>'
        '<div class="arithmatex">\\[J = \\begin{bmatrix} 4 &amp; 3 \\\\ 2 &amp; 6 \\end{bmatrix}\\]</div>'
    )
    assert "arithmatex" not in html and "\\" not in html
    assert html.count("<math ") == 2 and 'display="block"' in html
    assert '<mo stretchy="true" fence="true" form="prefix">[</mo>' in html


@pytest.mark.parametrize("tex", ["\\foo x", "\\frac{"])
def test_tex_that_cannot_be_rendered_fails_the_build(tex):
    with pytest.raises(render_math.PluginError, match="lesson.md: "):
        render(f'<span class="arithmatex">\\({tex}\\)</span>')


@pytest.mark.parametrize("tex", ["\\lVert y \\rVert^2", "\\lvert z \\rvert^2", "\\lVert a \\rVert_2"])
def test_a_power_of_a_norm_applies_to_the_whole_norm(tex):
    html = render(f'<span class="arithmatex">\\({tex}\\)</span>')
    assert html.count("<msup>") + html.count("<msub>") == 1
    script = html.split("<msup>" if "<msup>" in html else "<msub>")[1]
    assert script.startswith("<mrow><mo>") and script.count("</mo>") >= 2  # both bars inside
    assert render(f'<span class="arithmatex">\\({{{tex[:-2]}}}{tex[-2:]}\\)</span>') == html
