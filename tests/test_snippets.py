"""Every snippet, as a reader runs it: a script, on CPU and on CUDA."""

import re

import pytest
import torch

from conftest import CUDA, ROOT, SNIPPETS, SNIPPETS_DIR, run_cells, snippet_cells, without_device


@pytest.mark.parametrize("name", SNIPPETS)
def test_snippet_runs_as_a_script(name, python):
    result = python.run([f"snippets/{name}.py"], cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no warning either, e.g. torch's "Failed to initialize NumPy"
    assert not re.search(r"0x[0-9a-f]{6,}", result.stdout), "prints a memory address"


@pytest.mark.parametrize("name", SNIPPETS)
def test_snippet_runs_cell_by_cell(name):
    _, outputs = run_cells(name)
    assert list(outputs) == list(snippet_cells(name))


def tensors(namespace):
    return {k: v for k, v in namespace.items() if isinstance(v, torch.Tensor)}


@pytest.mark.parametrize("device", [CUDA])
@pytest.mark.parametrize("name", SNIPPETS)
def test_cuda_numbers_equal_cpu(name, device):
    on_cpu, cpu_out = run_cells(name, "cpu")
    on_gpu, gpu_out = run_cells(name, device)
    # A seeded snippet draws other random numbers on CUDA: there, compare shapes only.
    seeded = "manual_seed" in (SNIPPETS_DIR / f"{name}.py").read_text()
    assert tensors(on_cpu).keys() == tensors(on_gpu).keys()
    for key, expected in tensors(on_cpu).items():
        got = on_gpu[key]
        assert got.device.type == "cuda" and got.shape == expected.shape, key
        if not seeded:
            assert torch.allclose(got.cpu(), expected), key
            if expected.is_leaf and expected.grad is not None:
                assert torch.allclose(got.grad.cpu(), expected.grad), key
    if not seeded:
        assert {cell: without_device(text) for cell, text in gpu_out.items()} == cpu_out
