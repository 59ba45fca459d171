"""Lesson 16: no_grad, inference_mode, requires_grad_(False), detach, and control flow,
against hand-derived Jacobians and torch.func."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.func import grad, jacrev

from conftest import cpu, hand_jacobian, run_cells, without_device

J = hand_jacobian(2.0, 3.0)  # [[4, 3], [2, 6]]
Y = torch.tensor([13.0, 13.0])  # f(2, 3) = (4 + 9, 9 + 4)


@pytest.fixture(scope="module")
def lesson(device):
    return run_cells("tracking_off", device)


def test_setup_jacobian_from_the_row_loop_is_the_hand_derived_J(lesson):
    ns, out = lesson
    x = ns["x"].detach().cpu()
    assert torch.equal(jacrev(ns["f"])(x), J)
    assert "J = tensor([[4., 3.],\n        [2., 6.]])" in without_device(out["setup"])


def test_no_grad_records_nothing_and_its_result_is_a_constant_later(lesson, device):
    ns, out = lesson
    y_ng = ns["y_ng"]
    assert not y_ng.requires_grad and y_ng.grad_fn is None and not y_ng.is_inference()
    assert torch.is_grad_enabled()  # switched back on after the block
    x = torch.tensor([2.0, 3.0])
    # y_ng constant: d(c . x)/dx = c = f(x); y tracked: d(f(x) . x)/dx = f(x) + J^T x
    assert torch.equal(grad(lambda x: (ns["f"](x).detach() * x).sum())(x), Y)
    assert torch.equal(grad(lambda x: (ns["f"](x) * x).sum())(x), Y + J.T @ x)
    assert without_device(out["no_grad"]).splitlines()[-2:] == [
        "y_ng constant: x.grad = tensor([13., 13.])",
        "y tracked:     x.grad = tensor([27., 37.])",
    ]
    assert "inside: torch.is_grad_enabled(): False" in out["no_grad"]
    assert ns["x"].grad is None


def test_inference_tensor_may_join_an_op_that_saves_nothing(lesson):
    ns, out = lesson
    y_inf = ns["y_inf"]
    assert y_inf.is_inference() and not y_inf.requires_grad
    assert torch.equal(y_inf.cpu(), Y)
    assert (y_inf + ns["x"]).grad_fn.name() == "AddBackward0"
    assert "(y_inf + x).grad_fn: AddBackward0" in out["inference_mode"]


# Stable from torch 2.11 to 2.13: the first sentence, and the clone workaround (2.13 adds
# "or use `torch.no_grad()` instead" at the end).
SAVED = "Inference tensors cannot be saved for backward"


def test_inference_tensor_saved_for_backward_raises(lesson):
    ns, out = lesson
    with pytest.raises(RuntimeError, match=SAVED):
        ns["y_inf"] * ns["x"]
    assert out["inference_saved"].startswith(f"RuntimeError: {SAVED}.")
    assert "make a clone to get a normal tensor" in out["inference_saved"]


def test_inference_tensor_has_no_version_counter(lesson):
    ns, out = lesson
    with pytest.raises(RuntimeError, match="Inference tensors do not track version counter"):
        ns["y_inf"]._version
    assert ns["y_ng"]._version == 0
    assert out["inference_version"] == "RuntimeError: Inference tensors do not track version counter.\n"


def test_clone_outside_inference_mode_is_a_normal_constant(lesson):
    ns, out = lesson
    assert not ns["y_normal"].is_inference()
    assert without_device(out["inference_clone"]).splitlines() == [
        "y_normal.is_inference(): False",
        "x.grad = tensor([13., 13.])",
    ]


def test_frozen_weight_gets_no_grad_bias_and_input_do(lesson):
    ns, out = lesson
    lin = ns["lin"]
    W = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    v = torch.tensor([1.0, -2.0])
    assert not lin.weight.requires_grad and lin.bias.requires_grad
    assert lin.weight.grad is None
    assert torch.equal(lin.bias.grad.cpu(), v)  # d(v . (W x + b))/db = v
    # d(v . (W x + b))/dx = v W, by hand: (1 - 6, 2 - 8)
    assert torch.equal(v @ W, torch.tensor([-5.0, -6.0]))
    assert "x.grad = tensor([-5., -6.])" in without_device(out["freeze"])
    assert "trainable: ['bias']" in out["freeze"]
    assert "lin.weight.grad: None" in out["freeze"]


def test_detached_term_loses_its_jacobian_entry_not_its_value(lesson):
    ns, out = lesson
    J_stopped, y_stopped, y = cpu(ns, "J_stopped", "y_stopped", "y")
    assert torch.equal(y_stopped, y)
    expected = torch.tensor([[0.0, 3.0], [2.0, 6.0]])  # the 2 x1 of x1^2 is gone
    assert torch.equal(J_stopped, expected)
    assert torch.equal(jacrev(ns["f_stopped"])(torch.tensor([2.0, 3.0])), expected)
    term = jacrev(lambda x: torch.stack([x[0] ** 2, 0 * x[0]]))(torch.tensor([2.0, 3.0]))
    assert torch.equal(J - J_stopped, term)
    assert "J - J_stopped = tensor([[4., 0.],\n        [0., 0.]])" in without_device(out["detach"])


def hand_jacobian_g(x1, x2):
    if x1 + x2 > 0:
        return hand_jacobian(x1, x2)
    return torch.tensor([[x2, x1], [1.0, -1.0]])


def test_each_branch_records_its_own_graph_and_jacobian(lesson):
    ns, out = lesson
    lines = without_device(out["control_flow"]).splitlines()
    assert lines[:2] == [
        "x = [2.0, 3.0]",
        "recorded: AddBackward0, MulBackward0, PowBackward0, SelectBackward0, StackBackward0",
    ]
    assert lines[4:6] == [
        "x = [-1.0, -2.0]",
        "recorded: MulBackward0, SelectBackward0, StackBackward0, SubBackward0",
    ]
    text = "\n".join(lines)
    assert "J = tensor([[4., 3.],\n        [2., 6.]])" in text
    assert "J = tensor([[-2., -1.],\n        [ 1., -1.]])" in text
    for point in ([2.0, 3.0], [-1.0, -2.0]):
        assert torch.equal(jacrev(ns["g"])(torch.tensor(point)), hand_jacobian_g(*point))


points = st.floats(min_value=-100, max_value=100, allow_nan=False, width=32)


@settings(max_examples=100, deadline=None)
@given(x1=points, x2=points)
def test_row_loop_jacobian_of_g_follows_the_branch_taken(lesson, device, x1, x2):
    ns, _ = lesson
    with torch.device(device):
        x = torch.tensor([x1, x2], requires_grad=True)
        J_rows = ns["jacobian_rows"](ns["g"](x), x)
    assert torch.equal(J_rows.cpu(), hand_jacobian_g(x1, x2))
    assert x.grad is None


@settings(max_examples=100, deadline=None)
@given(x1=points, x2=points)
def test_detaching_x1_squared_removes_exactly_2_x1(lesson, device, x1, x2):
    ns, _ = lesson
    with torch.device(device):
        x = torch.tensor([x1, x2], requires_grad=True)
        J_stopped = ns["jacobian_rows"](ns["f_stopped"](x), x)
    removed = torch.tensor([[2 * x1, 0.0], [0.0, 0.0]])
    assert torch.equal(J_stopped.cpu(), hand_jacobian(x1, x2) - removed)


shapes = st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple)


@settings(max_examples=50, deadline=None)
@given(x_shape=shapes, y_shape=shapes, seed=st.integers(0, 2**16))
def test_row_loop_equals_jacrev_on_any_shapes(lesson, device, x_shape, y_shape, seed):
    ns, _ = lesson
    generator = torch.Generator().manual_seed(seed)
    n, m = torch.Size(x_shape).numel(), torch.Size(y_shape).numel()
    W = torch.randn(m, n, generator=generator, dtype=torch.float64).to(device)
    x0 = torch.randn(x_shape, generator=generator, dtype=torch.float64).to(device)

    def h(x):
        return torch.tanh(W @ x.reshape(-1)).reshape(y_shape)

    with torch.device(device):
        x = x0.clone().requires_grad_(True)
        J_rows = ns["jacobian_rows"](h(x), x)
    expected = jacrev(h)(x0).reshape(m, n)
    assert J_rows.device == expected.device
    assert torch.allclose(J_rows.double(), expected, rtol=1e-6, atol=1e-6)  # J_rows is float32
