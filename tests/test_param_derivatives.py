"""Lesson 22: derivatives with respect to a model's parameters, against hand-derived
blocks, torch.autograd.functional on flattened parameters, and closed forms."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.autograd.functional import hessian as functional_hessian
from torch.autograd.functional import jacobian as functional_jacobian
from torch.func import functional_call, jacrev

from conftest import cpu, run_cells, without_device

W0 = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
B0 = torch.tensor([0.5, -1.0])
X0 = torch.tensor([2.0, 3.0])
V = torch.tensor([0.5, -2.0])
I = torch.eye(2)


@pytest.fixture(scope="module")
def lesson(device):
    return run_cells("param_derivatives", device)


def test_functional_call_runs_the_module_with_the_given_tensors(lesson):
    ns, out = lesson
    y, x = cpu(ns, "y", "x")
    assert torch.equal(y, W0 @ X0 + B0)  # (8.5, 17)
    doubled = functional_call(ns["model"], ns["doubled"], (ns["x"],))  # the model's own tensors unused
    assert torch.equal(doubled.cpu(), 2 * (W0 @ X0 + B0))
    text = without_device(out["functional_call"])
    assert "{'weight': (2, 2), 'bias': (2,)}\n" in text
    assert "with doubled parameters: tensor([17., 34.])\n" in text
    assert "model.weight is still tensor([[1., 2.],\n        [3., 4.]])" in text


def test_jacobian_blocks_have_out_shape_plus_param_shape_and_the_hand_values(lesson):
    ns, out = lesson
    blocks = {name: block.cpu() for name, block in ns["blocks"].items()}
    assert list(blocks) == ["weight", "bias"]
    assert blocks["weight"].shape == (2, 2, 2) and blocks["bias"].shape == (2, 2)
    # dy_i/dW_jk = δ_ij x_k, dy_i/db_j = δ_ij
    hand = torch.zeros(2, 2, 2)
    for i in range(2):
        hand[i, i] = X0
    assert torch.equal(blocks["weight"], hand)
    assert torch.equal(blocks["bias"], I)
    # independently: torch.autograd.functional on the two tensors, no module
    J_W, J_b = functional_jacobian(lambda W, b: W @ X0 + b, (W0, B0))
    assert torch.equal(blocks["weight"], J_W) and torch.equal(blocks["bias"], J_b)
    assert "weight: (2, 2, 2) = (2,) + (2, 2)" in out["jacobian_blocks"]
    assert "blocks['weight'] equals by_hand: True" in out["jacobian_blocks"]


def test_flat_jacobian_is_kron_and_backward_v_gives_one_weighted_row(lesson):
    ns, out = lesson
    J_theta = ns["J_theta"].cpu()
    theta = torch.cat([W0.flatten(), B0])
    expected = functional_jacobian(lambda t: t[:4].reshape(2, 2) @ X0 + t[4:], theta)
    assert torch.equal(J_theta, expected)
    assert torch.equal(J_theta[:, :4], torch.tensor([[2.0, 3.0, 0, 0], [0, 0, 2.0, 3.0]]))
    expected_vJ = torch.cat([torch.outer(V, X0).flatten(), V])  # lesson 14's v x^T and v
    assert torch.equal(V @ J_theta, expected_vJ)
    lines = without_device(out["flatten"]).splitlines()
    assert lines[-2].removeprefix("v @ J_theta =") == lines[-1].removeprefix("backward(v):")


def test_hessian_blocks_are_the_hand_derived_gauss_newton_blocks(lesson):
    ns, out = lesson
    H = {a: {b: block.cpu() for b, block in row.items()} for a, row in ns["H"].items()}
    assert H["weight"]["weight"].shape == (2, 2, 2, 2)
    assert H["weight"]["bias"].shape == (2, 2, 2) and H["bias"]["weight"].shape == (2, 2, 2)
    # L = 1/2 ||W x + b - t||^2: d2L/dW_ij dW_kl = δ_ik x_j x_l, d2L/dW_ij db_k = δ_ik x_j
    assert torch.equal(H["weight"]["weight"], torch.einsum("ik,j,l->ijkl", I, X0, X0))
    assert torch.equal(H["weight"]["bias"], torch.einsum("ik,j->ijk", I, X0))
    assert torch.equal(H["bias"]["weight"], torch.einsum("ik,l->ikl", I, X0))
    assert torch.equal(H["bias"]["bias"], I)
    t = ns["target"].cpu()
    loss = lambda th: 0.5 * ((th[:4].reshape(2, 2) @ X0 + th[4:] - t) ** 2).sum()
    expected = functional_hessian(loss, torch.cat([W0.flatten(), B0]))
    assert torch.equal(ns["H_flat"].cpu(), expected)
    assert "H_flat equals J_theta.T @ J_theta: True" in out["hessian_blocks"]


def test_jacobian_penalty_backward_gives_2W_and_no_bias_gradient(lesson):
    ns, out = lesson
    assert torch.equal(ns["J_x"].detach().cpu(), W0)
    assert ns["J_x"].requires_grad
    text = without_device(out["jacobian_penalty"])
    assert "model.weight.grad = tensor([[2., 4.],\n        [6., 8.]])" in text  # d||W||^2/dW = 2W
    assert "model.bias.grad: None" in text


def test_jacobian_without_create_graph_cannot_be_backpropagated(lesson):
    ns, out = lesson
    assert not ns["J_plain"].requires_grad
    with pytest.raises(RuntimeError, match="does not require grad"):
        (ns["J_plain"] ** 2).sum().backward()
    assert "RuntimeError: element 0 of tensors does not require grad" in out["without_create_graph"]


def test_create_graph_and_composed_transforms_give_the_same_gradient(lesson):
    ns, out = lesson
    assert ns["J_graph"].requires_grad
    assert torch.equal(ns["grads"]["weight"].cpu(), 2 * W0)
    assert torch.equal(ns["grads"]["bias"].cpu(), torch.zeros(2))  # grad: zeros; backward: None
    text = without_device(out["create_graph"])
    two_w = "tensor([[2., 4.],\n        [6., 8.]])"
    assert f"after backward:\n{two_w}\nNone\n" in text
    assert f"grad(penalty_of)(params):\n{two_w}\ntensor([0., 0.])\n" in text


def test_training_step_gradient_is_task_gradient_plus_2_lam_B_W(lesson):
    ns, _ = lesson
    X, T = cpu(ns, "X", "T")
    B, m = X.shape[0], 2
    lam, lr = ns["lam"], 0.01
    R = X @ W0.T + B0 - T  # residuals, (B, m)
    task_grad_W = 2 / (B * m) * R.T @ X  # d mean(R^2) / dW, by hand
    assert torch.allclose(ns["task_grad_W"].cpu(), task_grad_W)
    assert ns["penalty"].item() == B * (W0**2).sum().item()  # 3 * 30
    grad_W = task_grad_W + lam * 2 * B * W0
    assert torch.allclose(ns["model"].weight.grad.cpu(), grad_W)
    assert torch.allclose(ns["model"].weight.detach().cpu(), W0 - lr * grad_W)
    task_grad_b = 2 / (B * m) * R.sum(0)  # the penalty does not reach b
    assert torch.allclose(ns["model"].bias.grad.cpu(), task_grad_b)
    assert torch.allclose(ns["task_grad_b"].cpu(), task_grad_b)


problems = st.fixed_dictionaries(
    {
        "n": st.integers(1, 4),
        "m": st.integers(1, 4),
        "batch": st.lists(st.integers(1, 3), min_size=0, max_size=2).map(tuple),
        "seed": st.integers(0, 2**16),
    }
)


def linear(problem, device):
    torch.manual_seed(problem["seed"])
    return torch.nn.Linear(problem["n"], problem["m"], dtype=torch.float64, device=device)


@settings(max_examples=50, deadline=None)
@given(problem=problems)
def test_parameter_jacobian_blocks_for_any_shapes(device, problem):
    n, m, batch = problem["n"], problem["m"], problem["batch"]
    model = linear(problem, device)
    params = {name: p.detach() for name, p in model.named_parameters()}
    x = torch.randn(*batch, n, dtype=torch.float64, device=device)
    blocks = jacrev(lambda p: functional_call(model, p, (x,)))(params)
    assert blocks["weight"].shape == (*batch, m, m, n)  # out_shape + param_shape
    assert blocks["bias"].shape == (*batch, m, m)
    eye = torch.eye(m, dtype=torch.float64, device=device)
    assert torch.equal(blocks["weight"], torch.einsum("ij,...k->...ijk", eye, x))
    assert torch.equal(blocks["bias"], eye.expand(*batch, m, m))


@settings(max_examples=50, deadline=None)
@given(problem=problems)
def test_jacobian_penalty_of_a_linear_layer_is_B_norm_W_squared(lesson, device, problem):
    ns, _ = lesson
    model = linear(problem, device)
    B = 1 + problem["seed"] % 4
    X = torch.randn(B, problem["n"], dtype=torch.float64, device=device)
    penalty = ns["jacobian_penalty"](model, X)
    W = model.weight.detach()
    assert torch.allclose(penalty, B * (W**2).sum())
    penalty.backward()
    assert torch.allclose(model.weight.grad, 2 * B * W)
    assert model.bias.grad is None


@settings(max_examples=25, deadline=None)
@given(problem=problems)
def test_jacobian_penalty_of_a_nonlinear_model_equals_create_graph(lesson, device, problem):
    ns, _ = lesson
    torch.manual_seed(problem["seed"])
    n, m = problem["n"], problem["m"]
    model = torch.nn.Sequential(
        torch.nn.Linear(n, 3), torch.nn.Tanh(), torch.nn.Linear(3, m)
    ).to(device, torch.float64)
    X = torch.randn(1 + problem["seed"] % 4, n, dtype=torch.float64, device=device)
    ns["jacobian_penalty"](model, X).backward()
    got = [p.grad for p in model.parameters()]
    model.zero_grad()
    reference = sum(
        (functional_jacobian(model, x, create_graph=True) ** 2).sum() for x in X
    )  # one sample at a time, torch.autograd.functional
    reference.backward()
    for g, p in zip(got, model.parameters()):
        if p.grad is None:  # the last bias does not reach dy/dx
            assert g is None
        else:
            assert torch.allclose(g, p.grad, rtol=1e-10, atol=1e-12)
    assert model[2].bias.grad is None
