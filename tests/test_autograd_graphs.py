"""The autograd graphs: walked by the pipeline (execute_snippets.walk_graph) from the
snippets' own tensors, laid out and drawn by docs/hooks/autograd_graphs.py."""

import collections
import json
import re
import sys
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("mkdocs", reason="the hooks need the docs dependencies")
sys.path.insert(0, str(__import__("conftest").ROOT / "docs" / "hooks"))
import autograd_graphs  # noqa: E402
import execute_snippets as pipeline  # noqa: E402

from conftest import ROOT, SNIPPETS, run_cells  # noqa: E402

LABELS = {"title": "t", "saved": "saves {}", "freed": "{}: freed"}


def graph_cells():
    """(snippet, cell, tensor name) of every cell declared graph="…"."""
    found = []
    for name in SNIPPETS:
        _, cells = pipeline.read_cells(ROOT / "snippets" / f"{name}.py")
        found += [(name, cell.name, cell.graph) for cell in cells if cell.graph]
    return found


GRAPHS = graph_cells()


def test_the_lessons_draw_the_graphs_the_issue_asks_for():
    assert {(s, c) for s, c, _ in GRAPHS} >= {
        ("leaf_setup", "output"), ("jacobian_assembly", "article_code"),
        ("grad_zeroing", "accumulate"), ("grad_zeroing", "last_backward"),
    }


def plain_walk(tensor):
    """An independent walk: breadth first, by identity. Returns the node names (with
    each leaf's shape) and the number of distinct edges."""
    names, edges = collections.Counter(), set()
    seen, queue = {id(tensor.grad_fn)}, [tensor.grad_fn]
    while queue:
        function = queue.pop(0)
        leaf = getattr(function, "variable", None)
        names[(type(function).__name__, None if leaf is None else tuple(leaf.shape))] += 1
        for child, _ in function.next_functions:
            if child is None:
                continue
            edges.add((id(function), id(child)))
            if id(child) not in seen:
                seen.add(id(child))
                queue.append(child)
    return names, len(edges)


@pytest.mark.parametrize("snippet, cell, tensor", GRAPHS)
def test_the_walked_graph_is_the_tensors_grad_fn_chain(device, snippet, cell, tensor):
    namespace, _ = run_cells(snippet, device, until=cell)
    cell_spec = pipeline.Cell(cell, "", 1, None, None, False, tensor)
    graph = pipeline.walk_graph(snippet, cell_spec, namespace)
    names, edge_count = plain_walk(namespace[tensor])
    walked = collections.Counter(
        (n["name"], tuple(n["shape"]) if "leaf" in n else None) for n in graph["nodes"][1:]
    )
    assert walked == names
    assert len(graph["edges"]) == edge_count + 1  # and the tensor -> its grad_fn
    assert graph["nodes"][0] == {"name": tensor, "shape": list(namespace[tensor].shape)}
    for node in graph["nodes"]:
        if node["name"] == "AccumulateGrad":
            assert namespace[node["leaf"]].is_leaf


def test_saved_tensors_are_marked_freed_after_a_backward_without_retain_graph():
    namespace = {}
    x = torch.tensor([2.0, 3.0], requires_grad=True)
    namespace.update(x=x, y=(x**2).sum())
    cell = pipeline.Cell("c", "", 1, None, None, False, "y")
    before = pipeline.walk_graph("s", cell, namespace)
    namespace["y"].backward()
    after = pipeline.walk_graph("s", cell, namespace)
    assert [n.get("saved") for n in before["nodes"] if n["name"] == "PowBackward0"] == [
        [{"name": "self", "freed": False}]
    ]
    assert [n.get("saved") for n in after["nodes"] if n["name"] == "PowBackward0"] == [
        [{"name": "self", "freed": True}]
    ]
    leaf = next(n for n in after["nodes"] if n["name"] == "AccumulateGrad")
    assert (leaf["leaf"], leaf["shape"]) == ("x", [2])


def test_a_graph_without_grad_fn_fails_naming_the_cell():
    cell = pipeline.Cell("c", "", 7, None, None, False, "y")
    with pytest.raises(pipeline.SnippetError, match="s:7: cell 'c': graph='y'"):
        pipeline.walk_graph("s", cell, {"y": torch.ones(2)})


@st.composite
def dags(draw):
    """A graph like a walked one: node 0 on top, every other node reachable from it."""
    count = draw(st.integers(2, 14))
    edges = set()
    for child in range(1, count):
        edges.add((draw(st.integers(0, child - 1)), child))
        if child > 1 and draw(st.booleans()):
            edges.add((draw(st.integers(0, child - 1)), child))
    names = draw(st.lists(st.sampled_from(["AddBackward0", "CopySlices", "AccumulateGrad", "y"]),
                          min_size=count, max_size=count))
    nodes = [{"name": n, "shape": [1, 2]} for n in names]
    return {"nodes": nodes, "edges": sorted(map(list, edges))}


@settings(max_examples=150, deadline=None)
@given(dags())
def test_layout_boxes_never_overlap_and_arrows_point_down(graph):
    box, arrows, _, width, height = autograd_graphs.layout(graph, LABELS)
    real = [box[i] for i in range(len(graph["nodes"]))]
    for i, (x1, y1, w1, h1) in enumerate(real):
        assert 0 <= x1 and x1 + w1 <= width and 0 <= y1 and y1 + h1 <= height
        for x2, y2, w2, h2 in real[i + 1 :]:
            assert x1 + w1 <= x2 or x2 + w2 <= x1 or y1 + h1 <= y2 or y2 + h2 <= y1
    assert len(arrows) == len(graph["edges"])
    for points, (a, b) in zip(arrows, graph["edges"]):
        assert all(p[1] < q[1] for p, q in zip(points, points[1:]))  # downward
        assert points[0][1] == box[a][1] + box[a][3] and points[-1][1] == box[b][1]


SITE = ROOT / "site"
FIGURE = re.compile(r'<figure class="autograd-graph">(.*?)</figure>', re.DOTALL)


@pytest.mark.parametrize("language", ["", "zh/"])
@pytest.mark.parametrize("page, graphs", [
    ("leaf-setup", ["leaf_setup/output"]),
    ("jacobian-assembly", ["jacobian_assembly/article_code"]),
    ("grad-zeroing", ["grad_zeroing/accumulate", "grad_zeroing/last_backward"]),
])
def test_the_page_draws_every_node_of_the_walked_graph(language, page, graphs):
    path = SITE / language / page / "index.html"
    if not path.is_file():
        pytest.skip("no built site: run `nox -s docs` first")
    figures = FIGURE.findall(path.read_text(encoding="utf-8"))
    assert len(figures) == len(graphs)
    for figure, name in zip(figures, graphs):
        graph = json.loads((ROOT / ".cache" / "snippets" / f"{name}.graph.json").read_text())
        drawn = collections.Counter(re.findall(r'<text class="function"[^>]*>([^<]+)</text>', figure))
        assert drawn == collections.Counter(n["name"] for n in graph["nodes"][1:])
        assert re.search(r'role="img"[^>]*>\s*<title>[^<]{20,}</title>', figure)
        assert len(re.findall(r"<polyline ", figure)) == len(graph["edges"])
    text = "".join(figures)
    assert "AccumulateGrad" in text
    assert ("CopySlices" in text) == (page == "jacobian-assembly")
    if page == "grad-zeroing":  # before: all saved; after: all freed
        assert 'class="saved"' in figures[0] and 'class="freed"' not in figures[0]
        assert 'class="freed"' in figures[1] and 'class="saved"' not in figures[1]
