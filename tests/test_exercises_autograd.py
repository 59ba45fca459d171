"""The solutions of the exercises of lessons 14 and later, against hand-derived values and torch.func."""

import torch
from torch.func import grad, jacrev, vjp

from conftest import cpu, hand_jacobian, run_cells, without_device

J = hand_jacobian(2.0, 3.0)  # [[4, 3], [2, 6]]
V = torch.tensor([[0.5, -2.0]])


def solve(cell, device):
    """Run the snippet up to this exercise's cell; each solution stands alone."""
    return run_cells("exercises_autograd", device, until=cell)


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


# --- Lesson 15: hooks -----------------------------------------------------------------


def test_hooks_1_clipping_at_x_clamps_v_times_J(device):
    ns, out = solve("hooks_1", device)
    assert torch.equal(ns["x"].grad.cpu(), (V @ J).clamp(-1, 1))  # (-2, -10.5) -> (-1, -1)
    assert not torch.equal(ns["x"].grad.cpu(), V.clamp(-1, 1) @ J)  # clipping at y: (0, -4.5)
    assert "x.grad = tensor([[-1., -1.]])" in without_device(out["hooks_1"])


def test_hooks_2_retained_grad_accumulates_like_a_leaf(device):
    ns, out = solve("hooks_2", device)
    assert torch.equal(ns["y"].grad.cpu(), 2 * V)
    assert torch.equal(ns["x"].grad.cpu(), 2 * V @ J)
    assert "y.grad = tensor([[ 1., -4.]])" in without_device(out["hooks_2"])


# --- Lesson 16: turning tracking off --------------------------------------------------


def test_tracking_off_1_detaching_x2_zeroes_its_column(device):
    ns, out = solve("tracking_off_1", device)
    expected = hand_jacobian(2.0, 3.0)
    expected[:, 1] = 0.0  # dy/dx2 is gone from both rows: [[4, 0], [2, 0]]
    assert torch.equal(ns["J"].cpu(), expected)
    text = without_device(out["tracking_off_1"])
    assert text.startswith("J = tensor([[4., 0.],\n        [2., 0.]])")


def test_tracking_off_2_frozen_bias_leaves_outer_product_in_weight(device):
    ns, out = solve("tracking_off_2", device)
    lin, x, v = ns["lin"], ns["x"].detach().cpu(), ns["v"].cpu()
    assert lin.bias.grad is None
    # d(v . (W x + b))/dW_ij = v_i x_j, by hand: [[1·2, 1·3], [-2·2, -2·3]]
    assert torch.equal(lin.weight.grad.cpu(), torch.tensor([[2.0, 3.0], [-4.0, -6.0]]))
    W = lin.weight.detach().cpu()
    assert torch.equal(jacrev(lambda W: v @ (W @ x))(W), lin.weight.grad.cpu())
    assert torch.equal(ns["x"].grad.cpu(), v @ W)
    assert "lin.bias.grad: None | x.grad = tensor([-5., -6.])" in without_device(out["tracking_off_2"])


def test_tracking_off_3_zero_sum_takes_the_second_branch(device):
    ns, out = solve("tracking_off_3", device)
    x1, x2 = 1.0, -1.0
    expected = torch.tensor([[x2, x1], [1.0, -1.0]])  # J of (x1 x2, x1 - x2)
    assert not torch.equal(expected, hand_jacobian(x1, x2))  # the first branch differs
    assert torch.equal(jacrev(ns["g"])(ns["x"]).cpu(), expected)
    assert torch.equal(jacrev(ns["g"])(torch.tensor([2.0, 3.0])).cpu(), hand_jacobian(2.0, 3.0))
    assert torch.equal(jacrev(ns["first"])(ns["x"]).cpu(), hand_jacobian(x1, x2))
    assert without_device(out["tracking_off_3"]) == (
        "x.sum() > 0: False\n"
        "jacrev(g)(x) = tensor([[-1.,  1.],\n        [ 1., -1.]])\n"
        "first formula's J: tensor([[ 2.,  3.],\n        [ 2., -2.]])\n"
    )


# --- Lesson 23: the Hessian's diagonal ------------------------------------------------


def test_hessian_diagonal_1_one_probe_is_exact_for_a_diagonal_hessian(device):
    ns, out = solve("hessian_diagonal_1", device)
    x, u, Hu = cpu(ns, "x", "u", "Hu")
    assert set(u.tolist()) <= {-1.0, 1.0}
    assert torch.equal(Hu, 12 * x**2 * u)  # H = diag(12 x^2), by hand
    assert torch.equal(u * Hu, torch.tensor([12.0, 3.0, 48.0]))
    assert torch.equal(torch.diag(torch.func.hessian(ns["loss"])(ns["x"])).cpu(), u * Hu)
    assert "u * Hu    = tensor([12.,  3., 48.])" in without_device(out["hessian_diagonal_1"])


def test_hessian_diagonal_2_gaussian_probes_add_twice_the_squared_diagonal(device):
    ns, out = solve("hessian_diagonal_2", device)
    H = torch.tensor([[46.0, 24.0], [24.0, 71.0]])  # J^T J + diag(2 y), by hand
    assert torch.allclose(torch.func.hessian(ns["loss"])(ns["x"]).cpu(), H)
    off = (H**2).sum(1) - H.diagonal() ** 2  # sum over j != i of H_ij^2
    for name, variance in [("rademacher", off), ("gaussian", 2 * H.diagonal() ** 2 + off)]:
        U = ns[name].cpu().double()
        samples = U * (U @ H.double())  # u ⊙ H u, without the lesson's HVP
        assert torch.allclose(samples.var(0), variance.double(), rtol=0.05)  # 10,000 probes
        assert torch.allclose(samples.mean(0), H.diagonal().double(), rtol=0.01)
    assert torch.equal(ns["rademacher"].abs().cpu(), torch.ones(10_000, 2))
    assert torch.equal(ns["off"].cpu(), torch.tensor([576.0, 576.0]))  # 24², by hand
    lines = without_device(out["hessian_diagonal_2"]).splitlines()
    assert lines[0] == "predicted variances: rademacher tensor([576., 576.]) | gaussian tensor([ 4808., 10658.])"
    assert [line.split(":")[0] for line in lines[1:]] == ["rademacher", "gaussian"]
