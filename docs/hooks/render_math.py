"""Render the pages' math to MathML at build time, so that no page needs math JavaScript.

pymdownx.arithmatex (generic mode) finds ``$...$`` and ``$$...$$`` in the Markdown and
wraps the TeX as ``<span class="arithmatex">\\(...\\)</span>`` or
``<div class="arithmatex">\\[...\\]</div>``; this hook replaces each with MathML, which
browsers draw natively.
"""

import html
import re

from latex2mathml.converter import convert
from mkdocs.exceptions import PluginError

MATH = re.compile(
    r'<(?P<tag>span|div) class="arithmatex">\\(?P<open>[(\[])(?P<tex>.*?)\\[)\]]</(?P=tag)>',
    re.DOTALL,
)


# latex2mathml draws bmatrix brackets at text height; \left[ ... \right] stretches them.
STRETCHY_BRACKETS = {r"\begin{bmatrix}": r"\left[\begin{matrix}", r"\end{bmatrix}": r"\end{matrix}\right]"}
# latex2mathml puts the power of \lVert y \rVert^2 on the closing bar alone, which Chromium
# draws small and lowered; in braces, the power applies to the whole norm (or |x|).
NORM_POWER = re.compile(r"(\\l([Vv])ert(?:(?!\\[lr][Vv]ert).)*?\\r\2ert)(?=\s*[\^_])", re.DOTALL)


def to_mathml(match: re.Match) -> str:
    display = "block" if match["open"] == "[" else "inline"
    tex = html.unescape(match["tex"]).strip()
    for environment, stretchy in STRETCHY_BRACKETS.items():
        tex = tex.replace(environment, stretchy)
    tex = NORM_POWER.sub(r"{\1}", tex)
    try:
        mathml = convert(tex, display=display)
    except Exception as error:
        raise ValueError(f"cannot render {tex!r}: {type(error).__name__} {error}") from error
    if "\\" in mathml:  # latex2mathml keeps a command it does not know as text
        raise ValueError(f"unknown command in {tex!r}")
    return mathml


def on_page_content(content, page, config, files):
    try:
        return MATH.sub(to_mathml, content)
    except ValueError as error:
        raise PluginError(f"{page.file.src_uri}: {error}") from error
