"""The solutions of the exercises of lessons 14 and on, against hand-derived values and torch.func."""

import torch
from torch.func import grad, jacrev, vjp

from conftest import run_cells


def solve(cell, device):
    """Run the snippet up to this exercise's cell; each solution stands alone."""
    return run_cells("exercises_autograd", device, until=cell)


def cpu(ns, *names):
    return [ns[name].detach().cpu() for name in names]


# --- Lesson 14: torch.autograd.grad ---------------------------------------------------


def test_autograd_grad_1_linear_layer_gradients_are_v_x_transposed_and_v(device):
    ns, out = solve("autograd_grad_1", device)
    grad_W, grad_b, W, b, x, v = cpu(ns, "grad_W", "grad_b", "W", "b", "x", "v")
    assert torch.equal(grad_W, torch.tensor([[1.0, 2.0, -1.0], [-2.0, -4.0, 2.0]]))  # v_i x_j
    assert torch.equal(grad_b, torch.tensor([1.0, -2.0]))
    _, vjp_fn = vjp(lambda W, b: W @ x + b, W, b)
    expected_W, expected_b = vjp_fn(v)
    assert torch.equal(grad_W, expected_W) and torch.equal(grad_b, expected_b)
    assert ns["W"].grad is None and ns["b"].grad is None
    assert "W.grad: None\n" in out["autograd_grad_1"]


def test_autograd_grad_2_gradient_penalty_has_the_hand_derived_gradient(device):
    ns, _ = solve("autograd_grad_2", device)
    g, grad_P, P = cpu(ns, "g", "grad_P", "P")
    assert torch.equal(g, torch.tensor([6.0, 9.0]))  # (2 v1 x1 + 2 v2, 3 v1 + 2 v2 x2)
    assert P.item() == 117.0
    assert torch.equal(grad_P, torch.tensor([24.0, 36.0]))  # (4 v1 g1, 4 v2 g2)
    f, v = ns["f"], ns["v"].cpu()
    penalty = lambda x: ((jacrev(f)(x).T @ v) ** 2).sum()
    assert torch.allclose(grad(penalty)(torch.tensor([2.0, 3.0])), grad_P)
