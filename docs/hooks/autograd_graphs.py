"""Draw autograd graphs, as the build walked them, as SVG in the page's language.

A snippet cell declared ``graph="y"`` makes execute_snippets.py walk ``y.grad_fn`` right
after the cell and save the graph. A page holds, in its own language, a fenced block
such as::

    ```autograd-graph
    data: leaf_setup/output.graph.json
    title: "The autograd graph of y, walked from y.grad_fn by this build"
    saved: "saves {}"
    freed: "{}: freed"
    ```

and this hook replaces it with an inline SVG: the tensor at the top, its backward
functions below it, each once, and the leaves' ``AccumulateGrad`` nodes at the bottom
with the leaf's name and shape. An arrow goes from a node to each node it passes the
gradient to, as v travels in ``y.backward(v)``. A node that saved tensors for backward
lists them (``saved``), and marks those a backward has freed (``freed``). To assistive
technology the drawing is one image (``role="img"``), named by ``title``.

The layout is a plain layered drawing: each node as low as its longest path down to a
leaf allows, invisible waypoints where an arrow skips layers, and the order within a
layer improved by a few barycenter sweeps.
"""

from __future__ import annotations

import html

from execute_snippets import replace_blocks

CHAR = 7.8  # px per character of the 13 px monospace labels
LINE = 17  # px per label line
PAD = 8  # px around the labels in a box
LAYER_GAP = 34  # px between the boxes of two layers
NODE_GAP = 16  # px between two boxes of a layer


def on_page_markdown(markdown, page, config, files):
    return replace_blocks(
        markdown, "autograd-graph", page,
        lambda graph, labels, number: draw(graph, labels, f"autograd-graph-{number}"),
    )


def node_lines(node: dict, index: int, labels: dict) -> list[tuple[str, str]]:
    """The label lines of a node, each with its CSS class."""
    shape = str(tuple(node.get("shape", [])))
    if index == 0:  # the tensor itself
        return [(f"{node['name']} {shape}", "tensor")]
    lines = [(node["name"], "function")]
    if "leaf" in node:
        lines.append((f"{node['leaf']} {shape}", "leaf"))
    for saved in node.get("saved", []):
        label = labels["freed"] if saved["freed"] else labels["saved"]
        lines.append((label.format(saved["name"]), "freed" if saved["freed"] else "saved"))
    return lines


def layers_of(count: int, edges: list[list[int]]) -> list[int]:
    """Each node's layer: as low as the longest path from it down to a leaf allows, so
    that the leaves share the bottom layer and long arrows run near the top."""
    children = {i: [] for i in range(count)}
    for a, b in edges:
        children[a].append(b)
    height = {}

    def measure(i):  # the longest path from node i down to a node without children
        if i not in height:
            height[i] = max((measure(c) + 1 for c in children[i]), default=0)
        return height[i]

    top = measure(0)
    return [top - measure(i) for i in range(count)]


def layout(graph: dict, labels: dict):
    """Boxes {node: (x, y, width, height)} and arrows [(points, ...)], and the size."""
    nodes = graph["nodes"]
    count = len(nodes)
    layer = layers_of(count, graph["edges"])
    # Split every arrow that skips layers with waypoints, one per layer skipped.
    chains, rank = [], list(layer)
    for a, b in graph["edges"]:
        chain = [a]
        for depth in range(layer[a] + 1, layer[b]):
            rank.append(depth)
            chain.append(len(rank) - 1)
        chains.append(chain + [b])
    rows = [[] for _ in range(max(rank) + 1)]
    for item, depth in enumerate(rank):
        rows[depth].append(item)
    above = {i: [] for i in range(len(rank))}
    below = {i: [] for i in range(len(rank))}
    for chain in chains:
        for a, b in zip(chain, chain[1:]):
            below[a].append(b)
            above[b].append(a)
    for sweep in range(4):  # order each layer by the mean position of its neighbours
        down = sweep % 2 == 0
        for depth in range(1, len(rows)) if down else range(len(rows) - 2, -1, -1):
            fixed = {item: i for i, item in enumerate(rows[depth - 1 if down else depth + 1])}
            now = {item: i for i, item in enumerate(rows[depth])}

            def centre(item, fixed=fixed, now=now, down=down):
                near = [fixed[n] for n in (above if down else below)[item] if n in fixed]
                return sum(near) / len(near) if near else now[item]

            rows[depth].sort(key=centre)
    lines = {i: node_lines(nodes[i], i, labels) for i in range(count)}
    size = {}
    for item in range(len(rank)):
        if item < count:
            width = max(len(text) for text, _ in lines[item]) * CHAR + 2 * PAD
            size[item] = (width, len(lines[item]) * LINE + 2 * PAD - 4)
        else:
            size[item] = (0, 0)
    widths = [sum(size[i][0] for i in row) + NODE_GAP * (len(row) - 1) for row in rows]
    heights = [max(size[i][1] for i in row) for row in rows]
    total = max(widths) + 2
    box, y = {}, 1
    for row, width, height in zip(rows, widths, heights):
        x = (total - width) / 2
        for item in row:
            w, h = size[item]
            box[item] = (x, y + (height - h) / 2, w, h)
            x += w + NODE_GAP
        y += height + LAYER_GAP
    arrows = []
    for chain in chains:
        points = []
        for k, item in enumerate(chain):
            x, top, w, h = box[item]
            if 0 < k < len(chain) - 1:  # a waypoint
                points.append((x, top))
                continue
            if k > 0:
                points.append((x + w / 2, top))
            if k < len(chain) - 1:
                points.append((x + w / 2, top + h))
        arrows.append(points)
    return box, arrows, lines, total, y - LAYER_GAP + 1


def draw(graph: dict, labels: dict, key: str) -> str:
    box, arrows, lines, width, height = layout(graph, labels)
    title = html.escape(labels["title"])
    parts = [
        f'<svg class="autograd-graph" role="img" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{title}</title>",
        f'<defs><marker id="{key}-arrow" viewBox="0 0 10 10" refX="10" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M 0 0 L 10 5 L 0 10 z" fill="currentColor"/></marker></defs>',
    ]
    for points in arrows:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(f'<polyline class="edge" points="{path}" marker-end="url(#{key}-arrow)"/>')
    for item, node_labels in lines.items():
        x, y, w, h = box[item]
        kind = "tensor" if item == 0 else "leaf" if "leaf" in graph["nodes"][item] else "function"
        parts.append(f'<g class="node {kind}"><rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" '
                     f'height="{h:.1f}" rx="{8 if item == 0 else 3}"/>')
        for k, (text, cls) in enumerate(node_labels):
            parts.append(f'<text class="{cls}" x="{x + w / 2:.1f}" y="{y + PAD + 12 + k * LINE:.1f}">'
                         f"{html.escape(text)}</text>")
        parts.append("</g>")
    parts.append("</svg>")
    return '<figure class="autograd-graph">' + "".join(parts) + "</figure>"
