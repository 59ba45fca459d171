"""Paste each lesson page's code, as a reader sees it, into one fresh interpreter.

For every lesson page of the built site (site/, from `nox -s docs`), the code blocks,
run in page order in a new `python` process with one shared namespace, must print
exactly the outputs shown under them, and a block that shows no output must print
nothing. The Chinese page must show the same code and outputs as the English one.
The process is forked from one that has imported torch already (forked_python.py),
so that each page does not pay for starting Python and importing torch again.

One exemption: the benchmark page's tables of measured times (TIMINGS), whose numbers
and verdicts change from run to run; their blocks still run, and their lines and labels
must match. Memory addresses (0x...) would be masked on both sides; no page prints one.
"""

import difflib
import html
import json
import re

import pytest
import torch

from conftest import ROOT

DOCS = ROOT / "docs"
SITE = ROOT / "site"
INCLUDE = re.compile(r'^[ \t]*--8<-- "(.+)"$', re.MULTILINE)
PAGES = sorted(p.stem for p in (DOCS / "en").glob("*.md") if INCLUDE.search(p.read_text("utf-8")))
BLOCK = re.compile(
    r'<div class="(output )?highlight"><pre><span></span><code>(.*?)</code></pre></div>', re.DOTALL
)
# The cells that print measured times:
TIMINGS = {"benchmark/table.md", "benchmark/linearize.md", "benchmark/hessian_diagonal.md"}

# Runs in the fresh interpreter: each block in turn in one `__main__` namespace, with what
# it writes to file descriptor 1 (print, and anything below Python) captured per block.
DRIVER = r"""
import json, linecache, os, sys, tempfile, traceback

blocks = json.load(sys.stdin)
namespace = {"__name__": "__main__", "__builtins__": __builtins__}
outputs, error = [], None
for number, code in enumerate(blocks, 1):
    name = f"<block {number}>"
    linecache.cache[name] = (len(code), None, code.splitlines(True), name)
    with tempfile.TemporaryFile() as capture:
        sys.stdout.flush()
        terminal = os.dup(1)
        os.dup2(capture.fileno(), 1)
        try:
            exec(compile(code, name, "exec"), namespace)
        except BaseException:
            error = traceback.format_exc()
        finally:
            sys.stdout.flush()
            os.dup2(terminal, 1)
            os.close(terminal)
        capture.seek(0)
        outputs.append(capture.read().decode("utf-8"))
    if error:
        break
with open(sys.argv[1], "w", encoding="utf-8") as result:
    json.dump({"outputs": outputs, "error": error}, result)
"""


def built(language, page):
    root = SITE if language == "en" else SITE / language
    path = root / page / "index.html"
    if not path.is_file():
        pytest.fail(f"{path.relative_to(ROOT)} is not built: run `nox -s docs`")
    return path.read_text(encoding="utf-8")


def blocks_of(page_html):
    """The page's code blocks in order, each as (code, the output shown under it or None)."""
    blocks = []
    for is_output, inner in BLOCK.findall(page_html):
        text = html.unescape(re.sub(r"<[^>]+>", "", inner)).removesuffix("\n")
        if not is_output:
            blocks.append((text, None))
        elif blocks and blocks[-1][1] is None:
            blocks[-1] = (blocks[-1][0], text)
        else:
            raise AssertionError("an output block that is not under a code block")
    assert len(BLOCK.findall(page_html)) == page_html.count("<pre"), "a block of another kind"
    return blocks


def built_with(includes):
    """The devices and torch versions that the page's snippets were run with."""
    found = set()
    for name in {include.split("/")[0] for include in includes}:
        notebook = SITE / "notebooks" / name / f"{name}.ipynb"
        build = json.loads(notebook.read_text(encoding="utf-8"))["metadata"]["snippet"]
        found.add((build["device"], build["torch"]))
    return found


def normalised(text):
    """Trailing whitespace dropped (the page shows `text.rstrip()`), addresses masked."""
    lines = [line.rstrip() for line in text.rstrip().splitlines()]
    return re.sub(r"0x[0-9a-fA-F]+", "0x…", "\n".join(lines))


def timing_shape(text):
    """The benchmark table with its times and verdicts masked: its lines and labels."""
    masked = re.sub(r"\d+\.\d+", "#", text)
    masked = re.sub(r"  [^\s#][^#]*, #x$", "  <verdict>", masked, flags=re.MULTILINE)
    return re.sub(r"[ \t]+", " ", masked)


def diff(a, b, a_name, b_name):
    lines = difflib.unified_diff(
        (a or "").splitlines(), (b or "").splitlines(), a_name, b_name, lineterm=""
    )
    return "\n".join(lines)


def paste(python, codes, folder):
    result_file = folder / "result.json"
    process = python.run(["-c", DRIVER, str(result_file)], cwd=folder, input=json.dumps(codes))
    if process.returncode or not result_file.is_file():
        pytest.fail(f"the interpreter died ({process.returncode}):\n{process.stderr}")
    return json.loads(result_file.read_text(encoding="utf-8"))


def test_lesson_pages_are_found():
    assert {"jacobian-assembly", "pitfalls", "benchmark"} <= set(PAGES)


@pytest.mark.parametrize("page", PAGES)
def test_pasting_the_page_prints_what_it_shows(page, python, tmp_path):
    blocks = blocks_of(built("en", page))
    zh_blocks = blocks_of(built("zh", page))
    assert len(zh_blocks) == len(blocks), f"{page}: the zh page shows another number of blocks"
    for number, (en, zh) in enumerate(zip(blocks, zh_blocks), 1):
        for what, en_text, zh_text in zip(("code", "output"), en, zh):
            assert zh_text == en_text, (
                f"{page}: block {number}: the zh page shows another {what}:\n"
                + diff(en_text, zh_text, "en", "zh")
            )
    includes = INCLUDE.findall((DOCS / "en" / f"{page}.md").read_text(encoding="utf-8"))
    assert len(includes) == len(blocks), f"{page}: each included cell is one code block"
    if (build := built_with(includes)) != {("cpu", torch.__version__)}:
        pytest.skip(f"built with (device, torch) {build}; pasted on the CPU, {torch.__version__}")

    result = paste(python, [code for code, _ in blocks], tmp_path)
    problems = []
    for number, ((_, shown), include, printed) in enumerate(
        zip(blocks, includes, result["outputs"]), 1
    ):
        where = f"{page}: block {number} ({include})"
        if shown is None:
            if printed:
                problems.append(f"{where} shows no output, but printed:\n{printed}")
            continue
        expected, got = normalised(shown), normalised(printed)
        if include in TIMINGS:
            expected, got = timing_shape(expected), timing_shape(got)
        if got != expected:
            problems.append(f"{where}:\n" + diff(expected, got, "shown on the page", "printed"))
    if result["error"]:
        number = len(result["outputs"])
        where = f"{page}: block {number} ({includes[number - 1]})"
        problems.append(f"{where} raised:\n{result['error']}")
    assert not problems, "\n\n".join(problems)
