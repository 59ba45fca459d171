"""The solutions of the exercises of lessons 1-5 and 7, against jacrev and hand-derived values."""

import pytest
import torch
from torch.func import jacrev

from conftest import hand_jacobian, run_cells, without_device

J = hand_jacobian(2.0, 3.0)  # [[4, 3], [2, 6]] for y = (x1² + 3·x2, x2² + 2·x1)


def solve(cell, device):
    return run_cells("exercises_backward", device, until=cell)


# --- Lesson 1: leaf-setup ----------------------------------------------------------------


def test_leaves_are_the_tensors_no_operation_created(device):
    ns, out = solve("leaf_setup_1", device)
    expected = {  # name: (is_leaf, requires_grad, grad_fn)
        "a": (True, True, None),
        "b": (False, True, "MulBackward0"),
        "c": (True, False, None),
        "d": (True, False, None),
        "e": (False, True, "SumBackward0"),
    }
    for name, (is_leaf, requires_grad, node) in expected.items():
        t = ns[name]
        assert t.is_leaf is is_leaf and t.requires_grad is requires_grad, name
        assert (t.grad_fn.name() if t.grad_fn else None) == node, name
        line = f"{name}: is_leaf={is_leaf}, requires_grad={requires_grad}, grad_fn={node}\n"
        assert line in out["leaf_setup_1"]


def test_three_input_jacobian_by_hand_equals_jacrev(device):
    ns, out = solve("leaf_setup_2", device)

    def f(x):  # (x1·x2, x2 + x3²), written here independently
        return torch.cat([x[:, :1] * x[:, 1:2], x[:, 1:2] + x[:, 2:] ** 2], dim=1)

    x = ns["x"].detach()
    assert torch.equal(ns["y"].detach().cpu(), torch.tensor([[2.0, 11.0]]))
    assert ns["y"].shape == (1, 2) and ns["J"].shape == (2, 3)
    assert torch.equal(ns["J"].cpu(), jacrev(f)(x).reshape(2, 3).cpu())
    assert "y.shape: (1, 2) | m = 2 | n = 3\n" in out["leaf_setup_2"]


def test_mean_of_replica_means_is_the_batch_mean_only_for_equal_chunks(device):
    ns, out = solve("leaf_setup_3", device)
    X, targets, w = (ns[k].detach().cpu() for k in ("X", "targets", "w"))
    per_sample = (X @ w - targets) ** 2  # by hand, without MSELoss
    assert torch.equal(per_sample, torch.tensor([2.25, 0.5625, 9.0, 4.0, 1.0]))
    equal = torch.stack([per_sample[:2].mean(), per_sample[2:4].mean()])
    unequal = torch.stack([per_sample[:3].mean(), per_sample[3:].mean()])
    assert torch.allclose(equal.mean(), per_sample[:4].mean())
    assert not torch.allclose(unequal.mean(), per_sample.mean())  # 3.21875 against 3.3625
    assert torch.allclose((unequal * torch.tensor([3.0, 2.0])).sum() / 5, per_sample.mean())
    assert out["leaf_setup_3"].splitlines() == [
        "chunks (2, 2): gathered.shape = (2,)",
        "  gathered.mean() = 3.9531, losses.mean() = 3.9531, weighted = 3.9531",
        "chunks (3, 2): gathered.shape = (2,)",
        "  gathered.mean() = 3.2188, losses.mean() = 3.3625, weighted = 3.3625",
    ]


# --- Lesson 2: weighted-backward ---------------------------------------------------------


def test_weights_2_and_minus_1_give_2_row0_minus_row1(device):
    ns, out = solve("weighted_backward_1", device)
    expected = torch.tensor([[2.0, -1.0]]) @ J
    assert torch.equal(expected, torch.tensor([[6.0, 0.0]]))
    assert torch.equal(ns["x"].grad.cpu(), expected)
    assert without_device(out["weighted_backward_1"]) == "x.grad = tensor([[6., 0.]])\n"


def test_v_for_target_1_0_is_the_first_row_of_the_inverse(device):
    ns, out = solve("weighted_backward_2", device)
    # J⁻¹ = [[6, -3], [-2, 4]] / 18, and vᵀJ = e1ᵀ gives vᵀ = e1ᵀ J⁻¹
    assert torch.allclose(ns["v"].cpu(), torch.tensor([[1 / 3, -1 / 6]]))
    assert torch.allclose(ns["x"].grad.cpu(), torch.tensor([[1.0, 0.0]]), atol=1e-6)
    assert "torch.allclose(x.grad[0], target): True\n" in out["weighted_backward_2"]


# --- Lesson 3: grad-zeroing --------------------------------------------------------------


def test_three_backward_calls_add_three_products(device):
    ns, out = solve("grad_zeroing_1", device)
    vs = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    expected = (vs @ J).sum(dim=0, keepdim=True)
    assert torch.equal(expected, torch.tensor([[12.0, 18.0]]))
    assert torch.equal(ns["x"].grad.cpu(), expected)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        ns["y"].backward(torch.ones_like(ns["y"]))  # the third call freed the graph


def test_third_backward_raises_and_leaves_the_gradient_of_two(device):
    ns, out = solve("grad_zeroing_2", device)
    message = "Trying to backward through the graph a second time"
    with pytest.raises(RuntimeError, match=message):
        ns["y"].backward(ns["v"], retain_graph=True)
    assert out["grad_zeroing_2"].startswith(f"RuntimeError: {message}")
    assert torch.equal(ns["x"].grad.cpu(), 2 * J[1:])  # v = [0, 1] picks row 1, twice
    assert without_device(out["grad_zeroing_2"]).endswith("x.grad = tensor([[ 4., 12.]])\n")


# --- Lesson 4: jacobian-assembly ---------------------------------------------------------


def test_row_loop_of_three_outputs_equals_jacrev(device):
    ns, _ = solve("jacobian_assembly_1", device)

    def g(x):  # (x1·x2, x1 + x2², 3·x1), written here independently
        x1, x2 = x[0, 0], x[0, 1]
        return torch.stack([x1 * x2, x1 + x2**2, 3 * x1])

    expected = jacrev(g)(ns["x"].detach()).reshape(3, 2)
    assert torch.equal(ns["J"], expected)
    assert torch.equal(ns["J"].cpu(), torch.tensor([[3.0, 2.0], [1.0, 6.0], [3.0, 0.0]]))


def test_loop_without_zeroing_gives_running_sums_of_rows(device):
    ns, _ = solve("jacobian_assembly_2", device)
    assert torch.equal(ns["J_wrong"].cpu(), J.cumsum(dim=0))  # [[4, 3], [6, 9]]


def test_v_transpose_J_differs_from_J_v_for_every_nonzero_v(device):
    ns, out = solve("jacobian_assembly_3", device)
    v = torch.tensor([1.0, 1.0])
    assert torch.equal(ns["x"].grad.cpu(), torch.tensor([[6.0, 9.0]]))  # (4, 3) + (2, 6)
    expected = jacrev(lambda x: torch.stack([x[0] ** 2 + 3 * x[1], x[1] ** 2 + 2 * x[0]]))(
        torch.tensor([2.0, 3.0])
    )
    assert torch.equal(ns["x"].grad.cpu()[0], v @ expected)
    assert torch.equal((ns["J"] @ ns["v"]).cpu(), torch.tensor([7.0, 8.0]))  # (4, 2) + (3, 6)
    # vᵀJ = (Jv)ᵀ means vᵀ(J − Jᵀ) = 0; J − Jᵀ has determinant 1, so only v = 0 solves it
    assert torch.linalg.det(ns["J"] - ns["J"].T).item() == 1.0
    assert without_device(out["jacobian_assembly_3"]).startswith(
        "x.grad = tensor([[6., 9.]])\nJ @ v = tensor([7., 8.])\n"
    )


# --- Lesson 5: batched-rows --------------------------------------------------------------


def test_batched_rows_of_a_tall_function_equal_jacrev(device):
    ns, out = solve("batched_rows_1", device)
    x1, x2 = 2.0, 3.0
    by_hand = torch.tensor([[2 * x1, 0.0], [x2, x1], [0.0, 3 * x2**2], [1.0, 1.0]])
    assert ns["rows"].shape == (4, 2)
    assert torch.equal(ns["rows"].cpu(), by_hand)

    def tall(x):  # written here independently
        return torch.cat([x[:1] ** 2, x[:1] * x[1:], x[1:] ** 3, x.sum().reshape(1)])

    assert torch.equal(ns["rows"], jacrev(tall)(ns["x"].detach()))
    assert "torch.equal(rows, J_jacrev): True\n" in out["batched_rows_1"]


def test_batched_rows_of_a_matrix_input_have_shape_m_by_x_shape(device):
    ns, out = solve("batched_rows_2", device)
    X = ns["X"].detach()
    assert ns["rows"].shape == (3, 2, 3)
    assert torch.equal(ns["rows"], jacrev(lambda X: (X**2).sum(dim=0))(X))
    by_hand = torch.zeros(3, 2, 3)
    for i in range(3):
        by_hand[i, :, i] = 2 * X[:, i].cpu()  # d(X_0i² + X_1i²)/dX sits in column i
    assert torch.equal(ns["rows"].cpu(), by_hand)
    assert "J.shape: (3, 6)\n" in out["batched_rows_2"]


# --- Lesson 7: functional-jacobian -------------------------------------------------------


def test_two_input_blocks_are_u_per_row_and_w(device):
    ns, out = solve("functional_jacobian_1", device)
    W, u = ns["W"], ns["u"]
    J_W, J_u = jacrev(lambda W, u: W @ u, argnums=(0, 1))(W, u)
    assert torch.equal(ns["J_W"], J_W) and torch.equal(ns["J_u"], J_u)
    # d(Wu)_i / dW_jk = δ_ij u_k, and d(Wu)/du = W
    by_hand = torch.einsum("ij,k->ijk", torch.eye(2), u.cpu())
    assert torch.equal(ns["J_W"].cpu(), by_hand)
    assert torch.equal(ns["J_u"].cpu(), W.cpu())
    assert "J_W.shape: (2, 2, 3) | J_u.shape: (2, 3)\n" in out["functional_jacobian_1"]


def test_jacobian_of_a_scalar_is_the_gradient(device):
    ns, out = solve("functional_jacobian_2", device)
    x = ns["x"]
    assert ns["J"].shape == x.shape  # y.shape + x.shape, with y.shape = ()
    assert torch.equal(ns["J"].cpu(), 2 * x.cpu())
    assert "torch.equal(J, x_leaf.grad): True\n" in out["functional_jacobian_2"]
