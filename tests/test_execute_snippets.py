"""The build pipeline (docs/hooks/execute_snippets.py) on small snippets in a temporary folder."""

import json
import logging
import os
import sys
import textwrap

import re

import pytest

pytest.importorskip("mkdocs", reason="the build pipeline needs the docs dependencies")
sys.path.insert(0, str(__import__("conftest").ROOT / "docs" / "hooks"))
import execute_snippets as pipeline  # noqa: E402

from conftest import SNIPPETS, SNIPPETS_DIR, snippet_cells  # noqa: E402


def write(folder, name, source):
    path = folder / f"{name}.py"
    path.write_text(textwrap.dedent(source).lstrip(), encoding="utf-8")
    return path


@pytest.fixture
def tree(tmp_path):
    snippets, cache = tmp_path / "snippets", tmp_path / "cache"
    snippets.mkdir()
    write(snippets, "first", """
        # %% define
        secret = 41 + 1
        print(secret)
    """)
    write(snippets, "second", """
        # %% look
        print("secret" in globals())
    """)
    return snippets, cache


def run(tree, device="cpu"):
    return pipeline.run_all(*tree, device)


def fragment(tree, snippet, cell):
    return (tree[1] / snippet / f"{cell}.md").read_text(encoding="utf-8")


def test_each_snippet_runs_in_a_fresh_namespace(tree):
    run(tree)
    assert "\n42\n" in fragment(tree, "first", "define")
    assert "\nFalse\n" in fragment(tree, "second", "look")


def test_clean_build_runs_each_snippet_once_and_rebuild_runs_none(tree, caplog):
    caplog.set_level(logging.INFO)
    first = run(tree)
    assert (len(first.ran), len(first.cached), first.failed) == (2, 0, [])
    again = run(tree)
    assert (len(again.ran), len(again.cached), again.failed) == (0, 2, [])
    messages = [r.getMessage() for r in caplog.records]
    assert sum("ran in" in m for m in messages) == 2
    assert sum(m.endswith(": cached") for m in messages) == 2
    assert messages[-1] == again.summary() and again.summary().startswith(
        "snippets: 0 ran, 2 cached, 0 failed in"
    )


def test_editing_a_snippet_reruns_it_and_changes_its_output(tree):
    run(tree)
    write(tree[0], "first", """
        # %% define
        secret = 6 * 9
        print(secret)
    """)
    report = run(tree)
    assert [p.rsplit("/", 1)[-1] for p in report.ran] == ["first.py"]
    assert "\n54\n" in fragment(tree, "first", "define")


def test_editing_a_helper_reruns_the_snippets(tree):
    write(tree[0], "_helper", "VALUE = 1\n")
    write(tree[0], "third", """
        # %% use
        from _helper import VALUE
        print(VALUE)
    """)
    run(tree)
    write(tree[0], "_helper", "VALUE = 2\n")  # same size, and likely the same second
    report = run(tree)
    assert "snippets/third.py" in [p[-len("snippets/third.py"):] for p in report.ran]
    assert report.cached == []
    assert "\n2\n" in fragment(tree, "third", "use")  # not the module compiled before


def test_what_a_snippet_changes_does_not_reach_the_next(tree):
    write(tree[0], "first", """
        # %% meddle
        import os, torch
        torch.set_printoptions(precision=1)
        os.chdir("/")
        torch.manual_seed(123)
    """)
    write(tree[0], "second", """
        # %% look
        import os, torch
        print(torch.tensor([1 / 3]), os.getcwd() == "/", "torch" in globals())
    """)
    alone = tree[0].parent / "alone"
    alone.mkdir()
    (alone / "second.py").write_text((tree[0] / "second.py").read_text())
    cwd = os.getcwd()
    run(tree)
    assert os.getcwd() == cwd
    pipeline.run_all(alone, tree[1].parent / "alone-cache", "cpu")
    expected = (tree[1].parent / "alone-cache" / "second" / "look.md").read_text()
    assert fragment(tree, "second", "look") == expected
    assert "tensor([0.3333]) False True" in expected


def test_cache_key_covers_torch_version_and_device(tree, monkeypatch):
    path = tree[0] / "first.py"
    on_cpu = pipeline.cache_key(path, "cpu")
    assert pipeline.cache_key(path, "cuda") != on_cpu
    assert pipeline.torch_version() == pipeline.importlib.metadata.version("torch")
    monkeypatch.setattr(pipeline, "torch_version", lambda: "0.0.1")
    assert pipeline.cache_key(path, "cpu") != on_cpu


def test_unexpected_exception_fails_and_names_file_and_line(tree):
    write(tree[0], "broken", """
        # %% fine
        x = 1

        # %% oops
        y = x / 0
    """)
    report = run(tree)
    assert len(report.failed) == 1
    assert report.failed[0].endswith("broken.py:5: ZeroDivisionError: division by zero (cell 'oops')")


def test_build_fails_when_a_snippet_raises(tree, monkeypatch):
    write(tree[0], "broken", "# %% oops\nraise ValueError('boom')\n")
    monkeypatch.setattr(pipeline, "SNIPPETS_DIR", tree[0])
    monkeypatch.setattr(pipeline, "CACHE_DIR", tree[1])
    with pytest.raises(pipeline.PluginError, match=r"broken.py:2: ValueError: boom"):
        pipeline.on_pre_build(config=None)


def test_exit_in_a_snippet_fails_the_build(tree):
    write(tree[0], "leaving", "# %% bye\nimport sys\nsys.exit(0)\n")
    (failure,) = run(tree).failed
    assert failure.endswith("leaving.py:3: SystemExit: 0 (cell 'bye')")


def test_syntax_error_names_file_and_line(tree):
    write(tree[0], "typo", "# %% fine\nx = 1\n\n# %% bad\nprint(x\n")
    (failure,) = run(tree).failed
    assert re.search(r"typo.py:5: SyntaxError: ", failure)


def test_warning_in_a_snippet_fails_the_build(tree):
    write(tree[0], "noisy", "# %% warn\nimport warnings\nwarnings.warn('careful')\n")
    (failure,) = run(tree).failed
    assert failure.endswith("noisy.py:2: cell 'warn' emitted UserWarning: careful")


def test_declared_exception_that_does_not_happen_fails(tree):
    write(tree[0], "quiet", """
        # %% calm raises="RuntimeError"
        try:
            pass
        except RuntimeError as error:
            print(f"{type(error).__name__}: {error}")
    """)
    report = run(tree)
    assert report.failed == [
        f"{tree[0] / 'quiet.py'}:2: cell 'calm' declares raises=\"RuntimeError\", "
        "but raised none"
    ]


def test_printing_an_error_without_raising_it_fails(tree):
    write(tree[0], "fake", """
        # %% pretend raises="RuntimeError"
        print("RuntimeError: not really")
    """)
    (failure,) = run(tree).failed
    assert "but raised none" in failure


@pytest.mark.parametrize(
    ("handler", "expected"),
    [  # uncaught, it fails where raised; caught by a broad handler, it fails as undeclared
        ("RuntimeError", "wrong.py:3: ValueError: invalid literal for int()"),
        ("Exception", 'wrong.py:2: cell \'demo\' declares raises="RuntimeError", but raised ValueError'),
    ],
)
def test_other_exception_than_declared_fails(tree, handler, expected):
    write(tree[0], "wrong", f"""
        # %% demo raises="RuntimeError"
        try:
            int("x")
        except {handler} as error:
            print(f"{{type(error).__name__}}: {{error}}")
    """)
    (failure,) = run(tree).failed
    assert expected in failure


def test_declared_exception_that_happens_passes(tree):
    write(tree[0], "loud", """
        # %% demo raises="ValueError"
        def fail():
            raise ValueError("first line\\nsecond line")

        try:
            fail()
        except ValueError as error:
            print(f"{type(error).__name__}: {error}")

        # %% after
        print("ok")
    """)
    assert run(tree).failed == []
    assert "ValueError: first line\nsecond line" in fragment(tree, "loud", "demo")


def test_executed_notebook_carries_outputs_and_the_key(tree):
    run(tree)
    notebook = json.loads((tree[1] / "notebooks" / "first.ipynb").read_text())
    (cell,) = notebook["cells"]
    assert cell["outputs"] == [{"output_type": "stream", "name": "stdout", "text": ["42\n"]}]
    assert notebook["metadata"]["snippet"]["key"] == pipeline.cache_key(tree[0] / "first.py", "cpu")


def test_two_clean_runs_write_byte_identical_outputs(tree, tmp_path):
    """Notebook cell ids come from the cell names, not from nbformat's random ids."""
    run(tree)
    first = {p.relative_to(tree[1]): p.read_bytes() for p in tree[1].rglob("*") if p.is_file()}
    notebook = json.loads(first[pipeline.Path("notebooks/first.ipynb")])
    assert [cell["id"] for cell in notebook["cells"]] == ["define"]
    again = (tree[0], tmp_path / "again")
    run(again)
    assert {p.relative_to(again[1]): p.read_bytes() for p in again[1].rglob("*") if p.is_file()} == first


def test_outputs_of_a_deleted_snippet_are_removed(tree):
    run(tree)
    (tree[0] / "second.py").unlink()
    run(tree)
    assert not (tree[1] / "second").exists()
    assert not (tree[1] / "notebooks" / "second.ipynb").exists()


@pytest.mark.parametrize("name", SNIPPETS)
def test_pipeline_and_tests_read_the_same_cells(name):
    _, cells = pipeline.read_cells(SNIPPETS_DIR / f"{name}.py")
    assert {c.name: c.source for c in cells} == {
        k: v.strip("\n") for k, v in snippet_cells(name).items()
    }
    for cell in cells:  # and the tests compile each cell at its line in the file
        code = snippet_cells(name)[cell.name]
        assert len(code) - len(code.lstrip("\n")) == cell.line - 1


def test_snippets_run_side_by_side_and_a_timed_one_alone_after_them(tree, monkeypatch):
    """Each snippet notes when it ran; a timed one must not overlap any other."""
    monkeypatch.setattr(pipeline, "cpu_cores", lambda: 2)
    log = tree[0].parent / "log"
    log.mkdir()
    note = f"""
        import pathlib, time
        began = time.time()
        time.sleep(0.5)
        pathlib.Path({str(log)!r}, NAME).write_text(f"{{began}} {{time.time()}}")
    """
    for name in ("first", "second", "third"):
        write(tree[0], name, f"# %% note\nNAME = {name!r}\n" + textwrap.dedent(note))
    write(tree[0], "timer", f"# %% note timed=true\nNAME = 'timer'\n" + textwrap.dedent(note))
    report = run(tree)
    assert (len(report.ran), report.failed) == (4, [])
    spans = {p.name: tuple(map(float, p.read_text().split())) for p in log.iterdir()}
    timer = spans.pop("timer")
    assert all(end <= timer[0] for _, end in spans.values())  # the others had finished
    first, second = spans["first"], spans["second"]
    assert first[0] < second[1] and second[0] < first[1]  # two ran at the same time


def test_unknown_cell_metadata_fails(tree):
    write(tree[0], "first", """
        # %% setup timing=true
        print(1)
    """)
    report = run(tree)
    assert "unknown cell metadata" in report.failed[0] and "first.py:1" in report.failed[0]


def test_replace_blocks_draws_each_block_from_its_export_or_fails(tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "CACHE_DIR", tmp_path)
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / "d.json").write_text('{"n": 2}')
    page = type("Page", (), {"file": type("File", (), {"src_uri": "lesson.md"})()})()
    block = "```drawing\ndata: s/d.json\nlabel: L\n```"
    drawn = pipeline.replace_blocks(f"a\n\n{block}\n\n{block}\n\nb", "drawing", page,
                                    lambda data, labels, number: f"<{data['n']}{labels['label']}{number}>")
    assert drawn == "a\n\n<2L1>\n\n<2L2>\n\nb"
    with pytest.raises(pipeline.PluginError, match="lesson.md: its drawing block needs .*missing.json"):
        pipeline.replace_blocks("```drawing\ndata: s/missing.json\n```", "drawing", page, None)


def test_the_quiet_build_hides_info_lines_but_warnings_still_fail_strict(caplog):
    """docs/hooks/quiet_build.py raises mkdocs-jupyter's logger to WARNING: its warnings
    still reach the handler by which `mkdocs build --strict` counts them."""
    import quiet_build  # noqa: F401
    from mkdocs.utils import CountHandler

    counter = CountHandler()
    counter.setLevel(logging.WARNING)
    logging.getLogger("mkdocs").addHandler(counter)  # as mkdocs.commands.build does
    jupyter = logging.getLogger("mkdocs.plugins.mkdocs_jupyter")
    try:
        with caplog.at_level(logging.INFO):
            jupyter.info("Cache miss, writing: %s", "a.ipynb")
            jupyter.warning("a warning")
    finally:
        logging.getLogger("mkdocs").removeHandler(counter)
    assert [r.getMessage() for r in caplog.records] == ["a warning"]
    assert counter.get_counts() == [("WARNING", 1)]
