"""Each pitfall cell raises what it claims, with torch's live message, and its fix works."""

import re

import pytest
import torch
from torch.func import vmap

from conftest import SNIPPETS_DIR, hand_jacobian, run_cells, without_device

ERRORS = {  # cell -> (exception, start of torch's message)
    "non_scalar": (RuntimeError, "grad can be implicitly created only for scalar outputs"),
    "shape_mismatch": (RuntimeError, "Mismatch in shape: grad_output[0] has a shape of torch.Size([2])"),
    "second_backward": (RuntimeError, "Trying to backward through the graph a second time"),
    "in_place_leaf": (RuntimeError, "a leaf Variable that requires grad is being used in an in-place operation."),
    "no_grad_fn": (RuntimeError, "element 0 of tensors does not require grad and does not have a grad_fn"),
    "no_grad_fn_under_no_grad": (RuntimeError, "element 0 of tensors does not require grad"),
    "backward_in_vmap": (RuntimeError, "backward() called inside a functorch transform."),
    "article_leaf": (IndexError, "index 1 is out of bounds for dimension 1 with size 1"),
}


def test_every_error_cell_is_listed_here():
    source = (SNIPPETS_DIR / "pitfalls.py").read_text()
    assert dict(re.findall(r'^# %% (\w+) raises="(\w+)"', source, re.MULTILINE)) == {
        cell: error.__name__ for cell, (error, _) in ERRORS.items()
    }


@pytest.mark.parametrize("cell", ERRORS)
def test_error_cell_prints_the_live_error(device, cell):
    _, out = run_cells("pitfalls", device)
    error, message = ERRORS[cell]
    assert f"{error.__name__}: {message}" in out[cell]


def test_the_errors_are_raised(device):
    ns, _ = run_cells("pitfalls", device, until="setup")
    x, f, y = ns["x"], ns["f"], ns["y"]
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        y.backward()
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        y.backward(torch.ones(2), retain_graph=True)
    z = f(x)
    z.sum().backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        z.sum().backward()
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x -= 1.0
    with pytest.raises(RuntimeError, match="does not require grad and does not have a grad_fn"):
        f(x.detach()).sum().backward()
    with torch.no_grad():
        out = f(x)
    with pytest.raises(RuntimeError, match="does not require grad and does not have a grad_fn"):
        out.sum().backward()
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"backward\(\) called inside a functorch transform"):
        vmap(lambda row: (w * row).sum().backward())(torch.ones(2, 2))
    with pytest.raises(IndexError, match="index 1 is out of bounds"):
        torch.tensor([[2.3]])[0, 1]


def test_fixes(device):
    ns, out = run_cells("pitfalls", device)
    J = hand_jacobian(2.0, 3.0)
    assert "x.grad = tensor([[6., 9.]])" in without_device(out["non_scalar_fix"])  # [1, 1] @ J
    assert "x.grad = tensor([[6., 9.]])" in without_device(out["shape_mismatch_fix"])
    assert "x.grad = tensor([[12., 18.]])" in without_device(out["second_backward_fix"])
    assert "z.grad = tensor([[1., 1.]])" in without_device(out["non_leaf_grad_fix"])
    assert out["non_leaf_grad"].startswith("y.grad: None\nUserWarning: The .grad attribute of a Tensor that is not a leaf")
    assert torch.allclose(ns["x"].detach().cpu(), torch.tensor([[2.0, 3.0]]) - 0.1 * torch.ones(1, 2) @ J)
    x1, x2 = ns["x"].detach().cpu()[0]
    rows = hand_jacobian(float(x1), float(x2))
    assert torch.allclose(ns["g"].cpu(), rows.sum(0, keepdim=True))  # summed, silently
    assert torch.allclose(ns["row_0"].cpu(), rows[:1]) and torch.allclose(ns["row_1"].cpu(), rows[1:])
    assert torch.equal(ns["per_row"](ns["w"].detach(), torch.eye(2, device=device)).cpu(), torch.eye(2))
