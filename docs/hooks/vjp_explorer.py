"""The vᵀJ explorer of lesson 2: controls for x and v, and J, vᵀJ and J·u at that point,
in the page's language, from the Jacobians that torch computed in this build.

A snippet cell declared ``export="explorer"`` (snippets/weighted_backward.py) exports J at
every point of a grid of x, as rows from ``y.backward(e_i)`` (see execute_snippets.py). A
page holds, in its own language, a fenced block such as::

    ```vjp-explorer
    data: weighted_backward/explorer.json
    point: The point x
    exact: "{}, exact value"
    ...
    ```

and this hook replaces it with the explorer's markup: a form with a slider and a number
entry for each of x₁, x₂, v₁ and v₂, a switch to the column view J·u, a region that
announces the result (``aria-live``), the exported numbers and the labels as inline JSON,
and a script tag for assets/javascripts/vjp-explorer.js, relative to the page, so that
only this page loads it. The script forms vᵀJ and J·u from the exported rows of J.
"""

import html
import json

from execute_snippets import replace_blocks
from mkdocs.exceptions import PluginError
from mkdocs.utils import get_relative_url

SCRIPT = "assets/javascripts/vjp-explorer.js"
START = {"x1": 2.0, "x2": 3.0, "v1": 0.5, "v2": -2.0}  # the lesson's x and its last v
# The labels that go into the markup; the others travel in the JSON for the script.
MARKUP = {"name", "point", "weights", "exact", "columns", "source", "noscript"}


def on_page_markdown(markdown, page, config, files):
    script = get_relative_url(SCRIPT, page.url)

    def explorer(data, labels, number):
        if number > 1:
            raise PluginError(f"{page.file.src_uri}: one vjp-explorer per page (its ids are fixed)")
        return render(data, labels, script)

    return replace_blocks(markdown, "vjp-explorer", page, explorer)


def control(name: str, label: str, step: str, exact_step: str, exact: str) -> str:
    """A slider and a number entry for one variable; the script keeps them in sync."""
    value = f"{START[name]:g}"
    bounds = f'min="-3" max="3" value="{value}"'
    return (
        f'<div class="vjp-control">'
        f'<label for="vjp-{name}">{html.escape(label)}</label>'
        f'<input type="range" id="vjp-{name}" {bounds} step="{step}">'
        f'<label for="vjp-{name}-exact" class="vjp-hidden">{html.escape(exact.format(label))}</label>'
        f'<input type="number" id="vjp-{name}-exact" {bounds} step="{exact_step}">'
        "</div>"
    )


def render(explorer: dict, labels: dict, script: str) -> str:
    text = {key: html.escape(value) for key, value in labels.items() if key in MARKUP}
    data = {
        "grid": explorer["grid"],
        "J": explorer["J"],
        "start": START,
        "labels": {key: value for key, value in labels.items() if key not in MARKUP},
    }
    # Inline JSON: "</" would end the script element.
    inline = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    exact = labels["exact"]
    source = text["source"].format(device=html.escape(explorer["device"].upper()))
    return (
        '<div class="vjp-explorer">'
        f'<form class="vjp-controls" aria-label="{text["name"]}">'
        f'<fieldset><legend>{text["point"]}</legend>'
        + control("x1", "x₁", "0.5", "0.5", exact)
        + control("x2", "x₂", "0.5", "0.5", exact)
        + f'</fieldset><fieldset><legend>{text["weights"]}</legend>'
        + control("v1", "v₁", "0.1", "any", exact)
        + control("v2", "v₂", "0.1", "any", exact)
        + "</fieldset>"
        '<div class="vjp-switch"><input type="checkbox" id="vjp-columns">'
        f'<label for="vjp-columns">{text["columns"]}</label></div>'
        "</form>"
        f'<noscript><p>{text["noscript"]}</p></noscript>'
        '<div class="vjp-view"></div>'
        '<p class="vjp-result" aria-live="polite"></p>'
        '<p class="vjp-compare"></p>'
        f'<p class="vjp-source">{source}</p>'
        f'<script type="application/json" class="vjp-data">{inline}</script>'
        f'<script src="{html.escape(script)}" defer></script>'
        "</div>"
    )
