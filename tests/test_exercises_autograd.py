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


# --- Lesson 17: gradcheck -------------------------------------------------------------


def test_gradcheck_1_error_falls_as_eps_squared_then_rises_with_rounding(device):
    from fractions import Fraction

    import pytest

    ns, out = solve("gradcheck_1", device)
    errors, best = ns["errors"], ns["best"]
    for k in range(1, 9):  # exact arithmetic: ((t + e)^3 - (t - e)^3) / 2e = 3 t^2 + e^2
        e, t = Fraction(1, 10**k), Fraction(2)
        assert ((t + e) ** 3 - (t - e) ** 3) / (2 * e) - 12 == e * e
    for k in (1, 2, 3):  # float64 at a large eps: the error is the truncation error e^2
        assert errors[torch.float64][10.0**-k] == pytest.approx(10.0 ** (-2 * k), rel=1e-3)
    for dtype, error in errors.items():
        # the best eps balances e^2 against rounding, eps_mach * |t^3| / e: about (8 eps_mach)^(1/3)
        balance = (8 * torch.finfo(dtype).eps) ** (1 / 3)
        assert balance / 3 < best[dtype] < balance * 3
        assert error[1e-8] > error[best[dtype]] < error[1e-1]
    assert best == {torch.float32: 1e-2, torch.float64: 1e-5}
    assert errors[torch.float32][1e-8] == 12.0  # 2 + 1e-8 == 2 in float32: slope 0
    assert "best eps: float32 0.01 | float64 1e-05" in out["gradcheck_1"]


def test_gradcheck_2_relu_fails_at_its_kink_but_its_backward_is_fine(device):
    import pytest
    from torch.autograd import gradcheck

    ns, out = solve("gradcheck_2", device)
    x = torch.tensor([0.0, 1.0], dtype=torch.float64, device=device, requires_grad=True)
    with pytest.raises(RuntimeError, match="Jacobian mismatch for output 0 with respect to input 0"):
        gradcheck(torch.relu, (x,))
    # autograd picks the one-sided slope 0 at 0; the central difference averages 0 and 1
    assert torch.equal(jacrev(torch.relu)(x.detach()).cpu(), torch.diag(torch.tensor([0.0, 1.0])).double())
    text = without_device(out["gradcheck_2"])
    assert "numerical:tensor([[0.5000, 0.0000]," in text
    assert "slope from the right: 1.0\n" in text and "slope from the left:  0.0\n" in text
    assert text.endswith("gradcheck(torch.relu, (x_away,)): True\n")


# --- Lesson 18: torch.autograd.Function -----------------------------------------------


def test_custom_function_1_cube_has_the_diagonal_jacobian_3_x_squared(device):
    ns, out = solve("custom_function_1", device)
    Cube, x = ns["Cube"], ns["x"].cpu()
    expected = torch.diag(3 * x**2)  # by hand: diag(3, 12, 0.75)
    assert torch.equal(expected, torch.diag(torch.tensor([3.0, 12.0, 0.75])))
    assert torch.equal(jacrev(Cube.apply)(ns["x"]).cpu(), expected)
    assert torch.equal(jacrev(lambda t: t**3)(x), expected)
    leaf = ns["x"].clone().requires_grad_(True)
    v = torch.tensor([1.0, 2.0, -1.0], device=leaf.device)
    Cube.apply(leaf).backward(v)
    assert torch.equal(leaf.grad.cpu(), v.cpu() @ expected)
    assert out["custom_function_1"].endswith("jacfwd equal: True\ngradcheck: True\n")


def test_custom_function_2_matvec_returns_one_gradient_per_input(device):
    ns, out = solve("custom_function_2", device)
    W, x, v = cpu(ns, "W", "x", "v")
    assert torch.equal(ns["W"].grad.cpu(), torch.tensor([[1.0, 2.0, -1.0], [-2.0, -4.0, 2.0]]))  # v_i x_j
    assert torch.equal(ns["x"].grad.cpu(), torch.tensor([-7.0, -8.0, -9.0]))  # W^T v
    _, vjp_fn = vjp(lambda W, x: W @ x, W, x)
    expected_W, expected_x = vjp_fn(v)
    assert torch.equal(ns["W"].grad.cpu(), expected_W) and torch.equal(ns["x"].grad.cpu(), expected_x)
    assert out["custom_function_2"].endswith("equal to autograd: True\ngradcheck: True\n")


# --- Lesson 19: per-sample gradients of a model's parameters ---------------------------


def per_sample_by_loop(model, xs, ts):
    """Rows (dw1, dw2, db), one per sample, from one backward per sample."""
    rows = []
    for x, t in zip(xs, ts):
        model.zero_grad()
        ((model(x[None])[0, 0] - t) ** 2).backward()
        rows.append(torch.cat([model.weight.grad.flatten(), model.bias.grad]))
    model.zero_grad()
    return torch.stack(rows).cpu()


def test_per_sample_grads_1_clipping_each_sample_differs_from_clipping_the_mean(device):
    ns, out = solve("per_sample_grads_1", device)
    G = per_sample_by_loop(ns["model"], ns["xs"], ns["ts"])
    norms, clipped = cpu(ns, "norms", "clipped")
    assert torch.allclose(norms, G.norm(dim=1), atol=1e-5)
    assert (norms > 1).all()  # every sample is clipped here, to norm C = 1
    assert torch.allclose(clipped, G / G.norm(dim=1, keepdim=True), atol=1e-6)
    mean = G.mean(dim=0)
    clipped_mean = mean / mean.norm()  # the mean's norm is above 1 as well
    assert mean.norm() > 1
    assert not torch.allclose(clipped.mean(dim=0), clipped_mean, atol=1e-2)
    assert (clipped.mean(dim=0)[:2] * clipped_mean[:2] < 0).all()  # opposite signs for the weight
    text = without_device(out["per_sample_grads_1"])
    assert "clipped rows' norms = tensor([1.0000, 1.0000, 1.0000, 1.0000])" in text


def test_per_sample_grads_2_weight_only_matches_the_hand_formula(device):
    ns, out = solve("per_sample_grads_2", device)
    g_w = ns["g_w"]
    model, xs, ts = ns["model"], ns["xs"].cpu(), ns["ts"].cpu()
    w, b = model.weight.detach().cpu()[0], model.bias.detach().cpu()[0]
    r = xs @ w + b - ts
    assert torch.allclose(g_w.detach().cpu(), (2 * r[:, None] * xs)[:, None], atol=1e-5)
    by_loop = per_sample_by_loop(model, ns["xs"], ns["ts"])
    assert torch.allclose(g_w.detach().cpu(), by_loop[:, None, :2], atol=1e-5)
    assert g_w.grad_fn is not None  # the bias is the module's own parameter, which requires grad
    assert "grad_fn=<" in out["per_sample_grads_2"]


# --- Lesson 20: function transforms -----------------------------------------------------


def test_transforms_1_grad_and_value_gives_both_gradients_the_loss_and_y(device):
    ns, out = solve("transforms_1", device)
    grad_W, grad_b, loss, y, x, target = cpu(ns, "grad_W", "grad_b", "loss", "y", "x", "target")
    residual = torch.tensor([1.0, -2.0])  # y - target = (2, 9) - (1, 11), by hand
    assert torch.equal(y, torch.tensor([2.0, 9.0])) and torch.equal(y - target, residual)
    assert torch.equal(grad_W, torch.outer(residual, x))  # r x^T
    assert torch.equal(grad_b, residual)
    assert loss.item() == 2.5  # 0.5 (1 + 4)
    W, b = cpu(ns, "W", "b")
    expected = jacrev(lambda W, b: 0.5 * ((W @ x + b - target) ** 2).sum(), argnums=(0, 1))(W, b)
    assert torch.equal(grad_W, expected[0]) and torch.equal(grad_b, expected[1])
    assert "grad_b = tensor([ 1., -2.]) | loss = tensor(2.5000) | y = tensor([2., 9.])" in (
        without_device(out["transforms_1"])
    )


def test_transforms_2_the_error_of_the_linearization_is_eps_squared_u_squared(device):
    ns, out = solve("transforms_2", device)
    f, x, u = ns["f"], ns["x"], ns["u"]
    for eps in (0.1, 0.01):  # f is quadratic: f(x + eps u) = f(x) + eps J u + eps^2 (u1^2, u2^2)
        error = f(x + eps * u) - (ns["y"] + eps * ns["jvp_fn"](u))
        assert torch.allclose(error.cpu(), eps**2 * u.cpu() ** 2, rtol=1e-9, atol=1e-15)
    assert torch.equal(ns["jvp_fn"](u).cpu(), J.double() @ u.cpu())
    assert out["transforms_2"] == (
        "eps = 0.1: error = (1.00e-02, 1.00e-02), error / eps**2 = (1.000000, 1.000000)\n"
        "eps = 0.01: error = (1.00e-04, 1.00e-04), error / eps**2 = (1.000000, 1.000000)\n"
    )


# --- Lesson 21: complex autograd ------------------------------------------------------


def test_complex_autograd_1_conj_sends_back_conj_v(device):
    ns, out = solve("complex_autograd_1", device)
    # y = conj(z) on real views: (a, b) -> (a, -b), J_real = diag(1, -1), by hand
    assert torch.equal(ns["J_real"].cpu(), torch.tensor([[1.0, 0.0], [0.0, -1.0]]))
    assert ns["z"].grad.cpu().item() == (1j).conjugate() == -1j  # conj(v), v = 1j
    assert ns["z"].grad.cpu().item() != 0  # what conj(dy/dz) v = 0 v would give
    text = without_device(out["complex_autograd_1"])
    assert text.startswith("z.grad = tensor(0.-1.j)\n")
    assert "v_real @ J_real = tensor([ 0., -1.])" in text


def test_complex_autograd_2_sgd_finds_a_square_root_and_conj_steps_diverge(device):
    ns, out = solve("complex_autograd_2", device)
    z = ns["z"].detach().cpu().item()
    assert abs(z - (2 + 1j)) < 1e-4  # (2 + i)^2 = 3 + 4i, the root nearest the start 1 + i
    assert ns["loss"](ns["z_conj"]).item() > ns["loss"](torch.tensor(1 + 1j)).item()  # L rose from 13
    text = without_device(out["complex_autograd_2"])
    assert "50 SGD steps:   z = tensor(2.0000+1.0000j) | z**2 = tensor(3.0000+4.0000j)" in text


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
