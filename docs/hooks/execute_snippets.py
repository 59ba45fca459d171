"""Run every lesson snippet once per build, cache what it printed, and hand it to the pages.

A snippet is a plain Python file in ``snippets/`` split into named percent cells::

    # %% rows
    J = torch.zeros(2, 2)
    ...

    # %% shape_mismatch raises="RuntimeError"
    try:
        ...
    except RuntimeError as error:
        print(f"{type(error).__name__}: {error}")

A snippet that times something says so in one cell header, ``# %% setup timed=true``,
so that it runs alone (see run_all).

A cell that demonstrates an error catches it itself, so that the file still runs as a
script, and declares it with ``raises=``: the build then checks that this exception was
really raised in the cell (and no other one), and that the cell printed it as
``Name: message``. Any other exception, and any warning, fails the build, naming the
snippet's file and line.

For each snippet this module writes, under ``.cache/snippets/``:

* ``<snippet>/<cell>.md``: the cell's code and its real output, which both languages'
  pages include with ``--8<-- "<snippet>/<cell>.md"`` (pymdownx.snippets);
* ``notebooks/<snippet>.ipynb``: the executed notebook, which mkdocs-jupyter renders as a
  page and offers for download, next to the ``.py``;
* ``<snippet>/<name>.json``: for a cell declared ``export="<name>"``, the JSON value of its
  variable ``<name>`` after the cell, for a page to draw (see benchmark_figures.py and
  vjp_explorer.py);
* ``<snippet>/<cell>.graph.json``: for a cell declared ``graph="y"``, the autograd graph
  of its tensor ``y`` as it is right after the cell, for a page to draw (see
  autograd_graphs.py and walk_graph).

Torch is imported once per build, in this process; each snippet that needs running then
runs in a fork of it, in a fresh namespace, so nothing a snippet changes (torch settings,
seeds, imported modules, the working directory) reaches the next one or MkDocs. The
forks run side by side, one per CPU core; the timed snippets run after them, alone. A
snippet is skipped when its cache key is unchanged: the key covers its source, every
other file in ``snippets/`` (the helpers and data it may use), this file, the torch
version and the device (``DOCS_DEVICE``, default ``cpu``).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import io
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import time
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path

import jupytext
import nbformat
import yaml
from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[2]
SNIPPETS_DIR = ROOT / "snippets"
CACHE_DIR = ROOT / ".cache" / "snippets"
CELL_NAME = re.compile(r"[a-z][a-z0-9_]*")
# jupytext's round-trip notes; not ours to check.
JUPYTEXT_METADATA = {"lines_to_next_cell"}
PERCENT = {"extension": ".py", "format_name": "percent", "comment_magics": False}

log = logging.getLogger("mkdocs.hooks.execute_snippets")


class SnippetError(Exception):
    """A snippet failed: the message starts with ``path:line``."""


@dataclass
class Cell:
    name: str
    source: str
    line: int  # line of the cell's first code line in the snippet file
    raises: str | None
    export: str | None
    timed: bool
    graph: str | None


@dataclass
class Job:
    """A snippet to run, and where its run stands."""

    path: Path
    notebook: nbformat.NotebookNode
    cells: list[Cell]
    key: str
    timed: bool  # it measures time: it runs alone
    started: float = 0.0
    report: str = ""  # the file its process reports in


@dataclass
class Report:
    ran: list[str]
    cached: list[str]
    failed: list[str]
    seconds: float

    def summary(self) -> str:
        return (
            f"snippets: {len(self.ran)} ran, {len(self.cached)} cached, "
            f"{len(self.failed)} failed in {self.seconds:.1f} s"
        )


# --- Reading a snippet ---------------------------------------------------------------


def snippet_paths(snippets_dir: Path) -> list[Path]:
    """The lesson snippets; modules whose name starts with ``_`` are helpers."""
    return sorted(p for p in snippets_dir.glob("*.py") if not p.name.startswith("_"))


def read_cells(path: Path) -> tuple[nbformat.NotebookNode, list[Cell]]:
    where = display_path(path)
    try:
        notebook = jupytext.read(path, fmt=PERCENT)
    except Exception as error:
        raise SnippetError(f"{where}:1: jupytext cannot read it: {error}") from error
    lines = path.read_text(encoding="utf-8").splitlines()
    header_lines = [i + 1 for i, line in enumerate(lines) if line.startswith("# %%")]
    if len(header_lines) != len(notebook.cells) or header_lines[:1] != [1]:
        raise SnippetError(f"{where}:1: a snippet must start with '# %% <cell name>'")
    cells = []
    for header, cell in zip(header_lines, notebook.cells):
        meta = cell.metadata
        name = meta.get("title", "")
        if cell.cell_type != "code" or not CELL_NAME.fullmatch(name):
            raise SnippetError(f"{where}:{header}: each cell needs a header '# %% <name>'")
        if set(meta) - {"title", "raises", "export", "timed", "graph"} - JUPYTEXT_METADATA:
            raise SnippetError(f"{where}:{header}: unknown cell metadata {dict(meta)}")
        if name in {c.name for c in cells}:
            raise SnippetError(f"{where}:{header}: cell name '{name}' is used twice")
        first_code_line = header + 1
        cells.append(
            Cell(name, cell.source, first_code_line, meta.get("raises"), meta.get("export"),
                 meta.get("timed") is True, meta.get("graph"))
        )
    return notebook, cells


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


# --- Cache key -----------------------------------------------------------------------


def helper_files(snippets_dir: Path) -> list[Path]:
    """Everything in snippets/ but the lessons: helper modules, packages and data files."""
    lessons = set(snippet_paths(snippets_dir))
    return sorted(
        p
        for p in snippets_dir.rglob("*")
        if p.is_file() and p not in lessons and "__pycache__" not in p.parts
    )


@functools.cache
def torch_version() -> str:
    """Looked up once: importlib.metadata parses torch's METADATA file on every call."""
    return importlib.metadata.version("torch")


def cache_key(path: Path, device: str) -> str:
    digest = hashlib.sha256()
    for part in (
        Path(__file__).read_bytes(),  # how outputs are made and rendered
        f"torch=={torch_version()}".encode(),
        f"device={device}".encode(),
        f"python={sys.version_info[:2]}".encode(),
    ):
        digest.update(part)
    for file in [path, *helper_files(path.parent)]:
        digest.update(str(file.relative_to(path.parent)).encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()


def is_cached(path: Path, key: str, cache_dir: Path) -> bool:
    notebook = cache_dir / "notebooks" / f"{path.stem}.ipynb"
    if not notebook.is_file() or not (cache_dir / path.stem).is_dir():
        return False
    metadata = json.loads(notebook.read_text(encoding="utf-8"))["metadata"]
    return metadata.get("snippet", {}).get("key") == key


# --- Executing ------------------------------------------------------------------------


def execute_all(jobs: list[Job], device: str, workers: int):
    """Run each job's snippet in a fork of this process, at most ``workers`` at a time, and
    yield each job with its outputs and exports, or with the SnippetError that ended it.

    A fork has torch imported already and throws away whatever the snippet changes. It
    reports in a file, read once it has exited. Where there is no fork (Windows), the
    snippets run one after another in this process instead.
    """
    if not hasattr(os, "fork"):
        for job in jobs:
            job.started = time.perf_counter()
            try:
                yield job, run_cells(job.path, job.cells, device)
            except SnippetError as error:
                yield job, error
        return
    waiting, running = list(jobs), {}
    while waiting or running:
        while waiting and len(running) < workers:
            job = waiting.pop(0)
            job.started = time.perf_counter()
            running[fork(job, device)] = job
        pid, status = os.wait()
        if pid in running:
            job = running.pop(pid)
            yield job, collect(job, status)


def fork(job: Job, device: str) -> int:
    """Start the job's snippet in a child process; return its pid."""
    fd, job.report = tempfile.mkstemp(prefix=f"{job.path.stem}-", suffix=".json")
    with warnings.catch_warnings():
        # Python 3.12+ warns that torch's helper thread makes fork() unsafe in general;
        # torch's own DataLoader forks after `import torch` in the same way.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid:
        os.close(fd)
        return pid
    # The child: run, report, and leave without cleanup.
    try:
        outputs, exports = run_cells(job.path, job.cells, device)
        result = {"outputs": outputs, "exports": exports}
    except SnippetError as error:
        result = {"error": str(error)}
    except BaseException as error:
        result = {"error": f"{display_path(job.path)}:1: {type(error).__name__}: {error}"}
    with os.fdopen(fd, "w", encoding="utf-8") as report:
        json.dump(result, report)
    os._exit(0)


def collect(job: Job, status: int) -> tuple[list[str], dict] | SnippetError:
    """What the child that ran the job reported."""
    report = Path(job.report)
    text = report.read_text(encoding="utf-8")
    report.unlink()
    if not text:
        return SnippetError(f"{display_path(job.path)}:1: the process running it died ({status=})")
    result = json.loads(text)
    if "error" in result:
        return SnippetError(result["error"])
    return result["outputs"], result["exports"]


def run_cells(path: Path, cells: list[Cell], device: str) -> tuple[list[str], dict]:
    """Run the cells, as `python snippets/x.py` would, in a fresh namespace; return each
    cell's output, and {name: value} for the cells that export a variable as JSON."""
    import torch

    where = display_path(path)
    namespace = {"__name__": "__main__", "__file__": str(path)}
    on_device = torch.device(device) if device != "cpu" else contextlib.nullcontext()
    shown_warnings = []
    outputs = []
    saved = sys.path[:], sys.dont_write_bytecode
    sys.path.insert(0, str(path.parent))  # as for a script: helpers import as `import _name`
    sys.dont_write_bytecode = True  # see forget_compiled_helpers
    try:
        with warnings.catch_warnings(), on_device:
            use_script_warning_filters()
            warnings.showwarning = lambda message, category, *_, **__: shown_warnings.append(
                f"{category.__name__}: {message}"
            )
            graphs = {}
            for cell in cells:
                outputs.append(run_cell(path, where, cell, namespace, shown_warnings))
                if cell.graph:  # drawn as it is right after the cell
                    graphs[f"{cell.name}.graph"] = walk_graph(where, cell, namespace)
    finally:
        sys.path[:], sys.dont_write_bytecode = saved
    exports = dict(graphs)
    for cell in cells:
        if cell.export:
            try:
                exports[cell.export] = json.loads(json.dumps(namespace[cell.export]))
            except (KeyError, TypeError, ValueError) as error:
                raise SnippetError(
                    f"{where}:{cell.line}: cell '{cell.name}' cannot export "
                    f"'{cell.export}' as JSON: {type(error).__name__}: {error}"
                ) from error
    return outputs, exports


def walk_graph(where: str, cell: Cell, namespace: dict) -> dict:
    """The autograd graph of the tensor named by the cell's ``graph=``, walked from its
    ``grad_fn`` through ``next_functions``: the tensor is node 0, then its backward
    functions, each once; edges go from a node to the nodes its gradient flows to. An
    ``AccumulateGrad`` node names its leaf (the snippet's variable) and shape. A node lists
    the tensors it saved for backward (``_saved_*``), each marked freed or not."""
    import torch

    tensor = namespace.get(cell.graph)
    if not isinstance(tensor, torch.Tensor) or tensor.grad_fn is None:
        raise SnippetError(
            f"{where}:{cell.line}: cell '{cell.name}': graph={cell.graph!r} names no tensor "
            "with a grad_fn"
        )
    names = {id(value): name for name, value in namespace.items()
             if isinstance(value, torch.Tensor) and not name.startswith("_")}
    nodes = [{"name": cell.graph, "shape": list(tensor.shape)}]
    edges, seen = [], {}

    def visit(function) -> int:
        if function in seen:
            return seen[function]
        seen[function] = index = len(nodes)
        node = {"name": type(function).__name__}
        nodes.append(node)
        if hasattr(function, "variable"):  # AccumulateGrad
            node["leaf"] = names.get(id(function.variable), "")
            node["shape"] = list(function.variable.shape)
        saved = []
        for attribute in sorted(a for a in dir(function) if a.startswith("_saved_")):
            try:
                value = getattr(function, attribute)
            except RuntimeError:  # freed by a backward without retain_graph
                saved.append({"name": attribute.removeprefix("_saved_"), "freed": True})
                continue
            if isinstance(value, torch.Tensor):
                saved.append({"name": attribute.removeprefix("_saved_"), "freed": False})
        if saved:
            node["saved"] = saved
        for child, _ in function.next_functions:
            if child is not None:
                edges.append([index, visit(child)])
        return index

    edges.append([0, visit(tensor.grad_fn)])
    return {"nodes": nodes, "edges": edges}


def run_cell(path: Path, where: str, cell: Cell, namespace: dict, shown_warnings: list) -> str:
    buffer = io.StringIO()
    raised = []
    tracing = record_exceptions(path, raised) if cell.raises else contextlib.nullcontext()
    try:
        code = compile("\n" * (cell.line - 1) + cell.source, str(path), "exec")
        with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer), tracing:
            exec(code, namespace)
    except SyntaxError as error:
        raise SnippetError(f"{where}:{error.lineno}: SyntaxError: {error.msg}") from error
    except BaseException as error:  # SystemExit too: it must not end the build quietly
        line = next(
            (f.lineno for f in reversed(traceback.extract_tb(error.__traceback__))
             if f.filename == str(path)),
            cell.line,
        )
        raise SnippetError(
            f"{where}:{line}: {type(error).__name__}: {error} (cell '{cell.name}')"
        ) from error
    text = buffer.getvalue()
    if shown_warnings:
        raise SnippetError(f"{where}:{cell.line}: cell '{cell.name}' emitted {shown_warnings[0]}")
    if cell.raises:
        check_declared_exception(where, cell, raised, text)
    return text


def use_script_warning_filters() -> None:
    """The filters of a plain `python` run, whatever MkDocs has set in this process."""
    warnings.resetwarnings()
    for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
        warnings.simplefilter("ignore", category)
    warnings.filterwarnings("default", category=DeprecationWarning, module="__main__")


@contextlib.contextmanager
def record_exceptions(path: Path, raised: list[BaseException]):
    """Collect the exceptions that pass through the snippet's own code, caught or not."""

    def in_snippet(frame, event, arg):
        if event == "exception":
            raised.append(arg[1])
        return in_snippet

    def tracer(frame, event, arg):
        return in_snippet if frame.f_code.co_filename == str(path) else None

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        yield
    finally:
        sys.settrace(previous)


def check_declared_exception(where: str, cell: Cell, raised: list, text: str) -> None:
    names = {type(e).__name__ for e in raised}
    if names != {cell.raises}:
        found = ", ".join(sorted(names)) or "none"
        raise SnippetError(
            f"{where}:{cell.line}: cell '{cell.name}' declares raises=\"{cell.raises}\", "
            f"but raised {found}"
        )
    first_line = str(raised[0]).partition("\n")[0]
    if f"{cell.raises}: {first_line}" not in text:
        raise SnippetError(
            f"{where}:{cell.line}: cell '{cell.name}' raised {cell.raises} "
            f"but did not print it as '{cell.raises}: <message>'"
        )


# --- Writing what the pages use -------------------------------------------------------


def fence(text: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def write_outputs(
    path: Path,
    notebook: nbformat.NotebookNode,
    cells: list[Cell],
    outputs: list[str],
    exports: dict,
    key: str,
    device: str,
    cache_dir: Path,
) -> None:
    fragments = cache_dir / path.stem
    shutil.rmtree(fragments, ignore_errors=True)
    fragments.mkdir(parents=True)
    for name, value in exports.items():
        (fragments / f"{name}.json").write_text(json.dumps(value, ensure_ascii=False, indent=1))
    for count, (cell, nb_cell, text) in enumerate(zip(cells, notebook.cells, outputs), 1):
        markdown = f"{fence(cell.source)}python\n{cell.source}\n{fence(cell.source)}\n"
        if text:
            markdown += f"\n{fence(text)}{{ .text .output }}\n{text.rstrip()}\n{fence(text)}\n"
        (fragments / f"{cell.name}.md").write_text(markdown, encoding="utf-8")
        nb_cell.id = cell.name  # not nbformat's random id: two builds give the same file
        nb_cell.execution_count = count
        nb_cell.outputs = (
            [nbformat.v4.new_output("stream", name="stdout", text=text)] if text else []
        )
    notebook.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
        "snippet": {
            "source": f"snippets/{path.name}",
            "key": key,
            "device": device,
            "torch": torch_version(),
        },
    }
    for nb_cell in notebook.cells:
        nb_cell.metadata.clear()  # cell names and declarations are for the build, not the reader
    target = cache_dir / "notebooks" / f"{path.stem}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target)  # written last: it marks the entry complete


def remove_stale(snippets: list[Path], cache_dir: Path) -> None:
    """Drop the outputs of snippets that no longer exist, so no page can include them."""
    names = {p.stem for p in snippets}
    for notebook in (cache_dir / "notebooks").glob("*.ipynb"):
        if notebook.stem not in names:
            notebook.unlink()
            shutil.rmtree(cache_dir / notebook.stem, ignore_errors=True)


def forget_compiled_helpers(snippets_dir: Path) -> None:
    """Delete snippets/**/__pycache__. Python trusts a .pyc whose source has the same size
    and modification second, so a helper edited quickly could run as its old code."""
    for folder in list(snippets_dir.rglob("__pycache__")):
        shutil.rmtree(folder, ignore_errors=True)


def import_torch() -> None:
    """Import torch once, before the first fork, so that no snippet pays for it."""
    began = time.perf_counter()
    import torch

    with contextlib.suppress(ImportError), warnings.catch_warnings():
        # torch's own modules call its deprecated torch.jit.script while they load.
        warnings.simplefilter("ignore", DeprecationWarning)
        # imported lazily by torch.func and the optimizers, and by forward mode:
        import torch._dynamo  # noqa: F401
        import torch._decomp.decompositions_for_jvp  # noqa: F401
    log.info(f"imported torch {torch.__version__} in {time.perf_counter() - began:.1f} s")


def run_all(snippets_dir: Path, cache_dir: Path, device: str) -> Report:
    """Bring every snippet's outputs up to date, printing each one's status as it goes.

    The snippets that need running run side by side, one per CPU core. Those that time
    something (``timed=true`` in a cell header) run afterwards, alone, one at a time, so
    that nothing else competes with their measurements.
    """
    start = time.perf_counter()
    snippets = snippet_paths(snippets_dir)
    remove_stale(snippets, cache_dir)
    forget_compiled_helpers(snippets_dir)
    report = Report([], [], [], 0.0)
    jobs = []
    for path in snippets:
        where = display_path(path)
        try:
            notebook, cells = read_cells(path)
            key = cache_key(path, device)
        except SnippetError as error:
            log.error(f"{where}: failed: {error}")
            report.failed.append(str(error))
            continue
        if is_cached(path, key, cache_dir):
            log.info(f"{where}: cached")
            report.cached.append(where)
        else:
            jobs.append(Job(path, notebook, cells, key, any(c.timed for c in cells)))
    if jobs and "torch" not in sys.modules:
        import_torch()
    side_by_side = [job for job in jobs if not job.timed]
    alone = [job for job in jobs if job.timed]
    for batch, workers in ((side_by_side, cpu_cores()), (alone, 1)):
        for job, result in execute_all(batch, device, workers):
            where = display_path(job.path)
            if isinstance(result, SnippetError):
                log.error(f"{where}: failed: {result}")
                report.failed.append(str(result))
                continue
            outputs, exports = result
            write_outputs(job.path, job.notebook, job.cells, outputs, exports, job.key, device, cache_dir)
            log.info(f"{where}: ran in {time.perf_counter() - job.started:.2f} s")
            report.ran.append(where)
    report.seconds = time.perf_counter() - start
    log.info(report.summary())
    return report


def cpu_cores() -> int:
    """The CPU cores this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1  # pragma: no cover (macOS, Windows)


# --- Drawing what a snippet exported -------------------------------------------------


def replace_blocks(markdown: str, kind: str, page, draw) -> str:
    """For the hooks that draw what a snippet exported (benchmark_figures.py,
    autograd_graphs.py, vjp_explorer.py): replace each fenced block ```<kind> of the page
    with ``draw(data, labels, number)``. ``labels`` is the block's YAML, in the page's
    language; ``data`` is the JSON file that its ``data:`` names under .cache/snippets/;
    ``number`` counts the page's blocks of this kind from 1."""
    fence = f"```{kind}\n"
    number = 0
    while fence in markdown:
        start = markdown.index(fence)
        end = markdown.index("\n```", start + len(fence))
        labels = yaml.safe_load(markdown[start + len(fence) : end])
        path = CACHE_DIR / labels.pop("data")
        if not path.is_file():
            raise PluginError(f"{page.file.src_uri}: its {kind} block needs {path}, which no "
                              "snippet exported")
        number += 1
        drawn = draw(json.loads(path.read_text(encoding="utf-8")), labels, number)
        markdown = markdown[:start] + drawn + markdown[end + 4 :]
    return markdown


# --- MkDocs events --------------------------------------------------------------------


def on_pre_build(config) -> None:
    report = run_all(SNIPPETS_DIR, CACHE_DIR, os.environ.get("DOCS_DEVICE", "cpu"))
    if report.failed:
        raise PluginError("snippet failed:\n" + "\n".join(report.failed))


@event_priority(100)  # before mkdocs-jupyter's on_files, so that it wraps the notebooks
def on_files(files, config):
    """Publish each executed notebook as a page (mkdocs-jupyter), with its .py beside it."""
    for path in snippet_paths(SNIPPETS_DIR):
        files.append(
            File(
                f"notebooks/{path.stem}.ipynb",
                src_dir=str(CACHE_DIR),
                dest_dir=config.site_dir,
                use_directory_urls=config.use_directory_urls,
            )
        )
        files.append(
            File.generated(config, f"notebooks/{path.stem}/{path.name}", abs_src_path=str(path))
        )
    return files
