"""Draw the benchmark's figures and tables, in the page's language, from the numbers that
this build measured (snippets/benchmark.py exports them; see execute_snippets.py).

A page holds, in its own language, a fenced block such as::

    ```benchmark
    data: benchmark/summary.json
    x_label: inputs n → outputs m
    y_label: median time per Jacobian (ms, log scale)
    title: "Median time per Jacobian of each method at each size n → m, on {device}"
    size: n → m
    fastest: fastest
    tied: " tied with {}"
    separator: ", "
    speedup: ", {:.1f}× the row loop's speed"
    ```

and this hook replaces it, for every device that was measured, with a heading naming
the device, an inline SVG plot and a table of all the times. To assistive technology
the plot is one image (``role="img"``), named by ``title`` in the page's language. A
block with ``show: advice`` (the decision guide) gets one table per device instead, with
only the recommended methods of each size: the fastest and those tied with it, and their
times.
The snippet computes the verdicts (fastest, ties, speed-up); this hook only lays them out.
"""

import html
import io
import warnings

from execute_snippets import replace_blocks

def on_page_markdown(markdown, page, config, files):
    return replace_blocks(markdown, "benchmark", page, lambda summary, labels, _: render(summary, labels))


def render(summary: dict, labels: dict) -> str:
    parts = []
    for device, rows in summary["devices"].items():
        parts += [f"### {device}", ""]
        if labels.get("show") == "advice":
            parts += advice(summary["methods"], rows, labels) + [""]
        else:
            title = labels["title"].format(device=device)
            parts += [figure(summary["methods"], rows, labels, title), ""]
            parts += table(summary["methods"], rows, labels) + [""]
    return "\n".join(parts)


def recommended(row: dict) -> list[str]:
    """The fastest method of a row and the methods tied with it, fastest first."""
    return [row["fastest"], *row["tied"]]


def figure(methods: list[str], rows: list[dict], labels: dict, title: str) -> str:
    import matplotlib

    matplotlib.use("svg")
    import matplotlib.pyplot as plt

    # The labels stay text in the SVG (svg.fonttype none): the reader's browser draws them
    # in its own fonts, Chinese included. matplotlib measures them with DejaVu Sans, which
    # has no CJK glyphs, and warns once per character; the measure only sets how long a
    # label is along its axis, and each label is centred on its axis, so nothing moves.
    with warnings.catch_warnings(), plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": "benchmark"}):
        warnings.filterwarnings("ignore", r"Glyph \d+ .* missing from font", UserWarning)
        fig, ax = plt.subplots(figsize=(7.5, 4.6))
        sizes = [row["size"] for row in rows]
        for i, method in enumerate(methods):
            ax.plot(sizes, [row["ms"][i] for row in rows], marker="o", label=method)
        ax.set_yscale("log")
        ax.set_xlabel(labels["x_label"])
        ax.set_ylabel(labels["y_label"])
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize="small", ncols=3, loc="upper center", bbox_to_anchor=(0.5, -0.16))
        fig.tight_layout()
        svg = io.StringIO()
        fig.savefig(svg, format="svg", metadata={"Date": None})  # no build time in the page
        plt.close(fig)
    text = svg.getvalue()
    text = text[text.index("<svg") :]
    head = text.index(">") + 1  # the end of the <svg …> tag
    title = html.escape(title)
    text = f'{text[: head - 1]} role="img">\n <title>{title}</title>{text[head:]}'
    return '<div class="benchmark-figure">' + text + "</div>"


def table(methods: list[str], rows: list[dict], labels: dict) -> list[str]:
    header = [labels["size"], *(f"`{m}`" for m in methods), labels["fastest"]]
    lines = ["| " + " | ".join(header) + " |", "|" + "---:|" * len(header)]
    for row in rows:
        cells = [row["size"], *(f"{ms:.3g}" for ms in row["ms"])]
        tied = labels["separator"].join(f"`{m}`" for m in row["tied"])
        tied = labels["tied"].format(tied) if tied else ""
        speedup = "" if row["speedup"] == 1 else labels["speedup"].format(row["speedup"])
        cells.append(f"`{row['fastest']}`{tied}{speedup}")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def advice(methods: list[str], rows: list[dict], labels: dict) -> list[str]:
    lines = [f"| {labels['size']} | {labels['recommended']} |", "|---:|:---|"]
    for row in rows:
        times = dict(zip(methods, row["ms"]))
        picks = [f"`{m}` {labels['ms'].format(times[m])}" for m in recommended(row)]
        lines.append(f"| {row['size']} | {'<br>'.join(picks)} |")
    return lines
