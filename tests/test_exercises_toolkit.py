"""The solutions of the exercises of lessons 6 and 8-12, against hand-derived values and jacrev."""

import re

import pytest
import torch
from torch.func import grad, hessian, jacrev

from conftest import (
    ROOT, SNIPPETS_DIR, cpu, hand_jacobian, run_cells, snippet_cells, without_device,
)


def solve(cell, device):
    """Run the snippet up to this exercise's cell; each solution stands alone."""
    return run_cells("exercises_toolkit", device, until=cell)


def test_error_cells_are_the_two_pitfall_exercises():
    source = (SNIPPETS_DIR / "exercises_toolkit.py").read_text()
    assert re.findall(r'^# %% (\w+) raises="(\w+)"', source, re.MULTILINE) == [
        ("pitfalls_1", "RuntimeError"),
        ("pitfalls_2", "RuntimeError"),
    ]


# --- Lesson 8: torch.func -------------------------------------------------------------


def test_torch_func_1_two_vjps_and_three_jvps_give_the_hand_derived_J(device):
    ns, out = solve("torch_func_1", device)
    J = torch.tensor([[2.0, 1.0, 0.0], [0.0, 1.0, 6.0]])  # [[x2, x1, 0], [0, 1, 2 x3]]
    J_rows, J_columns, x = cpu(ns, "J_rows", "J_columns", "x")
    assert torch.equal(J_rows, J) and torch.equal(J_columns, J.T)
    assert torch.equal(jacrev(ns["f"])(x), J)
    assert "VJPs: 2 | JVPs: 3" in out["torch_func_1"]


def test_torch_func_2_jacobian_has_shape_y_plus_X_and_holds_w(device):
    ns, out = solve("torch_func_2", device)
    J, w = cpu(ns, "J", "w")
    assert J.shape == (2, 2, 3)
    expected = torch.einsum("ik,j->ikj", torch.eye(2), w)  # dy_i/dX_kj = δ_ik w_j
    assert torch.equal(J, expected)
    assert torch.equal(J.reshape(2, 6), torch.block_diag(w[None], w[None]))
    assert "J.shape: (2, 2, 3)" in out["torch_func_2"]


# --- Lesson 6: forward mode -----------------------------------------------------------


def test_forward_mode_1_dual_pass_gives_J_u(device):
    ns, _ = solve("forward_mode_1", device)
    Ju, y = cpu(ns, "Ju", "y")
    assert torch.equal(Ju, hand_jacobian(2.0, 3.0) @ torch.tensor([1.0, 1.0]))
    assert torch.equal(Ju, torch.tensor([7.0, 8.0]))  # (4 + 3, 6 + 2), from the ε terms
    assert torch.equal(y, torch.tensor([13.0, 13.0]))


def test_forward_mode_2_one_pass_gives_the_whole_tall_jacobian(device):
    ns, _ = solve("forward_mode_2", device)
    velocity, position, t = cpu(ns, "velocity", "position", "t")
    assert torch.equal(velocity, torch.tensor([1.0, 4.0, 12.0, 32.0]))  # k t^(k-1), t = 2
    assert torch.equal(position, torch.tensor([2.0, 4.0, 8.0, 16.0]))
    assert torch.equal(jacrev(ns["curve"])(t), velocity)  # 4 VJPs for the same column


# --- Lesson 9: Hessians ---------------------------------------------------------------


def test_hessian_1_equals_the_hand_derived_gradient_and_hessian(device):
    ns, _ = solve("hessian_1", device)
    g, H = cpu(ns, "g", "H")
    assert torch.equal(g, torch.tensor([7.0, 6.0]))  # (3 + 4, 2 + 4) at (1, 2)
    assert torch.equal(H, torch.tensor([[6.0, 2.0], [2.0, 2.0]]))
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    H_autograd = torch.autograd.functional.hessian(ns["L"], x)
    assert torch.equal(H_autograd, H)


def test_hessian_2_hvp_of_a_quadratic_is_A_plus_A_transpose_times_v(device):
    ns, out = solve("hessian_2", device)
    H = torch.tensor([[2.0, 2.0], [2.0, 6.0]])  # A + Aᵀ, by hand
    v = torch.tensor([1.0, 2.0])
    assert torch.equal(ns["Hv"].cpu(), H @ v)
    any_x = torch.tensor([3.0, -7.0], device=device)
    assert torch.equal(hessian(ns["q"])(any_x).cpu(), H)
    text = without_device(out["hessian_2"])
    assert text.count("Hv = tensor([ 6., 14.])") == 2
    assert "A @ v = tensor([5., 6.])" in text


# --- Lesson 10: per-sample ------------------------------------------------------------


def test_per_sample_1_vmap_grad_gives_each_sample_its_gradient(device):
    ns, _ = solve("per_sample_1", device)
    grads, total, w, xs, ts = cpu(ns, "grads", "total", "w", "xs", "ts")
    by_hand = 2 * (xs @ w - ts)[:, None] * xs  # 2 (w . x_b - t_b) x_b
    assert torch.equal(grads, by_hand)
    assert torch.equal(grads, torch.tensor([[-2.0, -4.0], [6.0, 2.0], [-8.0, -4.0]]))
    for b in range(3):
        w_b = w.clone().requires_grad_(True)
        ((w_b @ xs[b] - ts[b]) ** 2).backward()
        assert torch.equal(w_b.grad, grads[b])
    assert torch.equal(total, grads.sum(0))


def test_per_sample_2_centring_breaks_the_sum_trick(device):
    ns, _ = solve("per_sample_2", device)
    J_whole, blocks, J_sum = cpu(ns, "J_whole", "blocks", "J_sum")
    B, n = 4, 2
    # dy_bi/dx_cj = (δ_bc - 1/B) δ_ij
    expected = torch.einsum("bc,ij->bicj", torch.eye(B) - 1 / B, torch.eye(n))
    assert torch.equal(J_whole, expected)
    assert torch.equal(blocks, 0.75 * torch.eye(n).expand(B, n, n))
    assert torch.equal(J_sum, torch.zeros(B, n, n))  # sum_b y_b = 0 for every input
    assert not torch.allclose(J_sum, blocks)


# --- Lesson 11: pitfalls --------------------------------------------------------------


def test_pitfalls_1_grad_of_a_non_scalar_raises_and_jacrev_fixes_it(device):
    ns, out = solve("pitfalls_1", device)
    message = "Expected f(*args) to return a scalar Tensor, got tensor with 1 dims"
    with pytest.raises(RuntimeError, match=re.escape(message)):
        grad(ns["f"])(ns["x"])
    assert f"RuntimeError: grad_and_value(f)(*args): {message}" in out["pitfalls_1"]
    J, vJ = cpu(ns, "J", "vJ")
    assert torch.equal(J, hand_jacobian(2.0, 3.0))
    assert torch.equal(vJ, torch.ones(2) @ hand_jacobian(2.0, 3.0))  # (6, 9)


def test_pitfalls_2_hvp_needs_create_graph(device):
    ns, out = solve("pitfalls_2", device)
    message = "element 0 of tensors does not require grad and does not have a grad_fn"
    x, v = ns["x"], ns["v"]
    (g,) = torch.autograd.grad(ns["loss"](x), x)
    with pytest.raises(RuntimeError, match=message):
        torch.autograd.grad(g, x, v)
    assert f"RuntimeError: {message}" in out["pitfalls_2"]
    H = torch.tensor([[6.0, 4.0], [4.0, 0.0]])  # [[2 x2, 2 x1], [2 x1, 0]] at (2, 3)
    assert torch.equal(ns["Hv"].cpu(), H @ v.cpu())
    assert "g.requires_grad: True" in out["pitfalls_2"]


def test_pitfalls_3_only_a_copy_made_after_requires_grad_is_a_non_leaf(device):
    ns, out = solve("pitfalls_3", device)
    expected = {  # name: (is_leaf, grad_fn, dtype)
        "a": (False, "ToCopyBackward0", torch.float64),
        "b": (True, None, torch.float64),
        "c": (True, None, torch.float64),
        "d": (True, None, torch.float32),  # .float() of a float32 tensor returns it unchanged
        "e": (True, None, torch.float64),
    }
    for name, (is_leaf, node, dtype) in expected.items():
        t = ns["candidates"][name]
        assert t.is_leaf is is_leaf and t.requires_grad and t.dtype == dtype, name
        assert (t.grad_fn.name() if t.grad_fn else None) == node, name
        assert f"{name}: is_leaf={is_leaf}, grad_fn={node}, dtype={dtype}\n" in out["pitfalls_3"]
    for name, t in ns["candidates"].items():  # what an optimizer accepts: leaves only
        if t.is_leaf:
            torch.optim.SGD([t], lr=0.1)
        else:
            with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
                torch.optim.SGD([t], lr=0.1)


def test_pitfalls_4_weights_one_over_B_give_the_gradient_of_the_mean(device):
    ns, out = solve("pitfalls_4", device)
    X, targets, w, grad_v = cpu(ns, "X", "targets", "w", "grad_v")
    B = ns["B"]
    by_hand = 2 * (X @ w - targets) @ X / B  # d/dw of mean_i (x_i . w - t_i)^2
    assert torch.allclose(grad_v, by_hand) and torch.allclose(ns["w"].grad.cpu(), by_hand)
    assert torch.allclose(grad(lambda w: ((X @ w - targets) ** 2).mean())(w), by_hand)
    printed = [line.split("w.grad = ")[1] for line in without_device(out["pitfalls_4"]).splitlines()]
    assert printed[0] == printed[1]


# --- The pages ------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "zh"])
def test_every_solution_is_included_once_inside_a_collapsed_block(language):
    pages = "".join(p.read_text() for p in sorted((ROOT / "docs" / language).glob("*.md")))
    included = re.findall(r'^ +--8<-- "exercises_toolkit/(\w+)\.md"$', pages, re.MULTILINE)
    assert sorted(included) == sorted(snippet_cells("exercises_toolkit"))
    assert pages.count("exercises_toolkit/") == len(included)


# --- Lesson 12: the benchmark -------------------------------------------------------------


def test_benchmark_1_chunked_rows_equal_jacrev(device):
    ns, out = solve("benchmark_1", device)
    f, x = ns["f"], ns["x"]
    expected = jacrev(f)(x)
    for k in (1, 2, 4, 6, 10):  # any chunk size gives the same J
        assert torch.allclose(ns["jacobian_in_chunks"](f, x, k), expected)
    assert "torch.allclose(J, jacrev(f)(x)): True" in out["benchmark_1"]


def test_benchmark_2_verdicts_follow_the_example_numbers(device):
    ns, out = solve("benchmark_2", device)
    lines = out["benchmark_2"].splitlines()
    assert len(lines) == 4
    for line, ((n, m), t) in zip(lines, ns["times"].items()):
        slow, fast = max(t.values()), min(t.values())
        fastest = "jacrev" if t["jacrev"] == fast else "jacfwd"
        assert f"verdict = {'tie' if slow <= 1.1 * fast else fastest}," in line
        assert f"{max(t.values()) / min(t.values()):.2f}" in line
