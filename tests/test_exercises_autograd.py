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


# --- Lesson 22: derivatives with respect to a model's parameters ----------------------


def test_param_derivatives_1_penalty_through_f_has_gradient_2_W_J_J_transposed(device):
    ns, out = solve("param_derivatives_1", device)
    W = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    # ||W J||^2 = tr(W J J^T W^T), so d/dW = 2 W J J^T; J J^T = [[25, 26], [26, 40]]
    expected = 2 * W @ J @ J.T
    assert torch.equal(expected, torch.tensor([[154.0, 212.0], [358.0, 476.0]]))
    assert torch.equal(ns["grads"]["weight"].cpu(), expected)
    assert torch.equal(ns["grads"]["bias"].cpu(), torch.zeros(2))
    # independently: finite differences of ||W J||^2 in float64
    W64, J64, h = W.double(), J.double(), 1e-6
    norm = lambda W: ((W @ J64) ** 2).sum()
    fd = torch.zeros(2, 2, dtype=torch.float64)
    for i in range(2):
        for j in range(2):
            E = torch.zeros(2, 2, dtype=torch.float64)
            E[i, j] = h
            fd[i, j] = (norm(W64 + E) - norm(W64 - E)) / (2 * h)
    assert torch.allclose(fd, expected.double(), rtol=1e-6)
    assert 'grads["bias"] = tensor([0., 0.])' in without_device(out["param_derivatives_1"])


def test_param_derivatives_2_hvp_over_the_parameter_dict_is_J_transposed_J_u(device):
    ns, _ = solve("param_derivatives_2", device)
    x, u_W, u_b = torch.tensor([2.0, 3.0]), ns["u"]["weight"].cpu(), ns["u"]["bias"].cpu()
    r = u_W @ x + u_b  # J_theta u = (3, -2)
    assert torch.equal(r, torch.tensor([3.0, -2.0]))
    assert torch.equal(ns["Hu"]["weight"].cpu(), torch.outer(r, x))  # J_theta^T r, W part
    assert torch.equal(ns["Hu"]["bias"].cpu(), r)
    # independently: the full Hessian of the flattened loss, times the flattened u
    W, b, t = ns["params"]["weight"].cpu(), ns["params"]["bias"].cpu(), ns["target"].cpu()
    loss = lambda th: 0.5 * ((th[:4].reshape(2, 2) @ x + th[4:] - t) ** 2).sum()
    H = torch.autograd.functional.hessian(loss, torch.cat([W.flatten(), b]))
    Hu = H @ torch.cat([u_W.flatten(), u_b])
    assert torch.equal(torch.cat([ns["Hu"]["weight"].cpu().flatten(), ns["Hu"]["bias"].cpu()]), Hu)
