"""Render the pages' math to MathML at build time, so that no page needs math JavaScript.

pymdownx.arithmatex (generic mode) finds ``$...$`` and ``$$...$$`` in the Markdown and
wraps the TeX as ``<span class="arithmatex">\\(...\\)</span>`` or
``<div class="arithmatex">\\[...\\]</div>``; this hook replaces each with MathML, which
browsers draw natively.
"""

import html
import re

from latex2mathml.converter import convert

MATH = re.compile(
    r'<(?P<tag>span|div) class="arithmatex">\\(?P<open>[(\[])(?P<tex>.*?)\\[)\]]</(?P=tag)>',
    re.DOTALL,
)


# latex2mathml draws bmatrix brackets at text height; \left[ ... \right] stretches them.
STRETCHY_BRACKETS = {r"\begin{bmatrix}": r"\left[\begin{matrix}", r"\end{bmatrix}": r"\end{matrix}\right]"}


def to_mathml(match: re.Match) -> str:
    display = "block" if match["open"] == "[" else "inline"
    tex = html.unescape(match["tex"]).strip()
    for environment, stretchy in STRETCHY_BRACKETS.items():
        tex = tex.replace(environment, stretchy)
    return convert(tex, display=display)


def on_page_content(content, page, config, files):
    return MATH.sub(to_mathml, content)
