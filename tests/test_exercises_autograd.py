"""The solutions of the exercises of the lessons on the rest of autograd (issue 8)."""

import torch

from conftest import hand_jacobian, run_cells

J = hand_jacobian(2.0, 3.0)  # [[4, 3], [2, 6]]
V = torch.tensor([[0.5, -2.0]])


def solve(cell, device):
    """Run the snippet up to this exercise's cell; each solution stands alone."""
    return run_cells("exercises_autograd", device, until=cell)


# --- Lesson 15: hooks -----------------------------------------------------------------


def test_hooks_1_clipping_at_x_clamps_v_times_J(device):
    ns, out = solve("hooks_1", device)
    assert torch.equal(ns["x"].grad.cpu(), (V @ J).clamp(-1, 1))  # (-2, -10.5) -> (-1, -1)
    assert not torch.equal(ns["x"].grad.cpu(), V.clamp(-1, 1) @ J)  # clipping at y: (0, -4.5)
    assert "x.grad = tensor([[-1., -1.]])" in out["hooks_1"]


def test_hooks_2_retained_grad_accumulates_like_a_leaf(device):
    ns, out = solve("hooks_2", device)
    assert torch.equal(ns["y"].grad.cpu(), 2 * V)
    assert torch.equal(ns["x"].grad.cpu(), 2 * V @ J)
    assert "y.grad = tensor([[ 1., -4.]])" in out["hooks_2"]
