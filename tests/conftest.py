"""Shared test helpers: run a snippet cell by cell on a device, and the device fixture.

This file needs only torch and pytest, so the snippet tests also run on a GPU machine
that has nothing else installed (`nox -s cuda`).
"""

import contextlib
import io
import re
from pathlib import Path

import pytest
import torch

from forked_python import TorchReadyPython

ROOT = Path(__file__).resolve().parents[1]
SNIPPETS_DIR = ROOT / "snippets"
SNIPPETS = sorted(p.stem for p in SNIPPETS_DIR.glob("*.py") if not p.name.startswith("_"))
CELL_HEADER = re.compile(r"# %% (\w+)")

CUDA = pytest.param(
    "cuda",
    marks=[
        pytest.mark.cuda,
        pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available"),
    ],
)


def pytest_configure(config):
    config.addinivalue_line("markers", "cuda: runs on a CUDA GPU (nox -s cuda)")
    config.addinivalue_line("markers", "slow: builds the whole site twice (test_reproducible.py)")
    # pytest-xdist's mark, named here too for a run without xdist (the GPU machine's pytest)
    config.addinivalue_line("markers", "xdist_group(name): run on the same xdist worker (--dist loadgroup)")


@pytest.fixture(scope="session", params=["cpu", CUDA])
def device(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def python():
    """A new `python` for each program, with torch imported already (forked_python.py)."""
    interpreter = TorchReadyPython()
    yield interpreter
    interpreter.close()


def snippet_cells(name: str) -> dict[str, str]:
    """The snippet's cells, by name, in order: the code under each `# %% <name>` line,
    preceded by blank lines so that line numbers in tracebacks match the file."""
    lines = (SNIPPETS_DIR / f"{name}.py").read_text(encoding="utf-8").splitlines()
    cells = {}
    for number, line in enumerate(lines):
        if header := CELL_HEADER.match(line):
            current = cells[header[1]] = ["" for _ in range(number + 1)]
        else:
            current.append(line)
    return {cell: "\n".join(code) for cell, code in cells.items()}


def run_cells(name, device="cpu", until=None, namespace=None, only=None):
    """Run a snippet's cells in order, as a script would, and return (namespace, outputs).

    `until` stops after that cell; `only` runs just those cells in `namespace`, so a
    test can change the inputs of a cell and run it again.
    """
    path = SNIPPETS_DIR / f"{name}.py"
    namespace = {"__name__": "__main__", "__file__": str(path)} if namespace is None else namespace
    outputs = {}
    with torch.device(device):
        for cell, code in snippet_cells(name).items():
            if only is not None and cell not in only:
                continue
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                exec(compile(code, str(path), "exec"), namespace)
            outputs[cell] = buffer.getvalue()
            if cell == until:
                break
    return namespace, outputs


def cpu(namespace: dict, *names: str) -> list[torch.Tensor]:
    """The named tensors of a snippet's namespace, detached and on the CPU."""
    return [namespace[name].detach().cpu() for name in names]


def without_device(text: str) -> str:
    """Printed text as the CPU prints it: drop `, device='cuda:0'`, and name the tensor
    types of error messages as on the CPU (`torch.cuda.FloatTensor` -> `torch.FloatTensor`)."""
    return re.sub(r", device='\w+(:\d+)?'", "", text).replace("torch.cuda.", "torch.")


def hand_jacobian(x1: float, x2: float) -> torch.Tensor:
    """J of y = (x1² + 3·x2, x2² + 2·x1), derived by hand."""
    return torch.tensor([[2 * x1, 3.0], [2.0, 2 * x2]])
