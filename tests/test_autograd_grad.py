"""Lesson 14: torch.autograd.grad, against hand-derived values and torch.func."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.func import hessian, jacrev, vjp

from conftest import cpu, hand_jacobian, run_cells, without_device

J = hand_jacobian(2.0, 3.0)  # [[4, 3], [2, 6]]
V = torch.tensor([0.5, -2.0])  # lesson 2's v
J_Z = torch.tensor([[3.0, 2.0], [1.0, -1.0], [0.0, 27.0]])  # z = (x1 x2, x1 - x2, x2^3)


@pytest.fixture(scope="module")
def lesson(device):
    return run_cells("autograd_grad", device)


def test_grad_outputs_is_v_and_gives_v_times_J(lesson):
    ns, _ = lesson
    assert isinstance(ns["result"], tuple) and len(ns["result"]) == 1
    vJ, vJ_again = cpu(ns, "vJ", "vJ_again")
    assert torch.equal(vJ, V @ J)
    assert torch.equal(vJ, torch.tensor([-2.0, -10.5]))


def test_grad_returns_instead_of_accumulating(lesson):
    ns, out = lesson
    assert torch.equal(ns["vJ_again"].cpu(), V @ J)  # not 2 v^T J
    assert ns["x"].grad is None
    assert "x.grad: None\n" in out["grad_outputs"]
    assert out["grad_outputs"].count("x.grad: None") == 2


def test_v_times_J_is_J_transposed_times_v_and_not_J_times_v(lesson):
    ns, out = lesson
    assert torch.equal(ns["J"].cpu(), J)
    assert torch.equal(J.T @ V, V @ J)
    assert not torch.equal(J @ V, V @ J)
    assert '"vector-Jacobian product" in grad.__doc__: True' in out["naming"]
    assert '"Jacobian-vector product" in backward.__doc__: True' in out["naming"]


def test_several_outputs_and_inputs_give_the_blocks_of_v_times_J(lesson):
    ns, _ = lesson
    g1, g2 = cpu(ns, "g1", "g2")
    x1, x2 = 2.0, 3.0
    _, vjp_fn = vjp(lambda a, b: (a**2 + 3 * b, b**2 + 2 * a), torch.tensor(x1), torch.tensor(x2))
    expected = vjp_fn((V[0], V[1]))
    assert torch.equal(g1, expected[0]) and torch.equal(g2, expected[1])
    assert torch.equal(torch.stack([g1, g2]), V @ J)


def test_backward_inputs_accumulates_into_the_named_inputs_only(lesson):
    ns, out = lesson
    g1 = float(V @ J[:, 0])  # -2
    text = without_device(out["backward_inputs"])
    assert f"x1.grad = tensor({g1:.0f}.) | x2.grad: None\n" in text
    assert f"x1.grad = tensor({2 * g1:.0f}.) | x2.grad: None\n" in text
    assert ns["x2"].grad is None and ns["x1"].grad is None  # the cell resets x1.grad


def test_backward_inputs_matches_grad_on_a_fresh_graph(device):
    x1 = torch.tensor(2.0, device=device, requires_grad=True)
    x2 = torch.tensor(3.0, device=device, requires_grad=True)
    y1, y2 = x1**2 + 3 * x2, x2**2 + 2 * x1
    v = V.to(device)
    (g1,) = torch.autograd.grad([y1, y2], x1, [v[0], v[1]], retain_graph=True)
    torch.autograd.backward([y1, y2], [v[0], v[1]], inputs=[x1])
    assert torch.equal(x1.grad, g1) and x2.grad is None


def test_create_graph_gives_a_differentiable_gradient(lesson):
    ns, out = lesson
    assert not ns["g1_plain"].requires_grad
    assert ns["g1"].requires_grad and ns["g1"].grad_fn is not None
    assert torch.equal(ns["h11"].cpu(), 2 * V[0])  # d(2 v1 x1 + 2 v2)/dx1
    assert "with create_graph:    g1.requires_grad = True |" in out["create_graph"]


def test_unused_input_raises_without_allow_unused(lesson):
    ns, out = lesson
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
        torch.autograd.grad(ns["g2"], [ns["x1"], ns["x2"]], retain_graph=True)
    assert out["unused"].startswith("RuntimeError: ")
    assert "Set allow_unused=True if this is the desired behavior." in out["unused"]


def test_allow_unused_gives_none_and_materialize_grads_gives_zeros(lesson):
    ns, _ = lesson
    none, used = ns["row_unused"]
    zero, used_too = ns["row_zero"]
    assert none is None
    assert torch.equal(zero.cpu(), torch.tensor(0.0)) and zero.shape == ns["x1"].shape
    assert torch.equal(used.cpu(), 2 * V[1]) and torch.equal(used_too.cpu(), 2 * V[1])


def test_materialized_rows_give_the_hessian_of_the_weighted_sum(lesson):
    ns, _ = lesson
    f = ns["f"]
    expected = hessian(lambda x: V @ f(x))(torch.tensor([2.0, 3.0]))
    assert torch.equal(ns["H"].cpu(), expected)
    assert torch.equal(expected, torch.diag(2 * V))


def test_materialize_grads_with_allow_unused_false_raises(lesson):
    ns, _ = lesson
    with pytest.raises(ValueError, match="allow_unused"):
        torch.autograd.grad(
            ns["g2"], [ns["x1"], ns["x2"]], retain_graph=True, materialize_grads=True, allow_unused=False
        )


def test_split_basis_gives_the_stacked_jacobian(lesson):
    ns, _ = lesson
    V_y, V_z, rows = cpu(ns, "V_y", "V_z", "rows")
    assert V_y.shape == (5, 2) and V_z.shape == (5, 3)
    assert torch.equal(torch.cat([V_y, V_z], dim=1), torch.eye(5))
    assert torch.equal(rows, torch.cat([J, J_Z]))
    expected = jacrev(lambda x: torch.cat([ns["f"](x), ns["h"](x)]))(torch.tensor([2.0, 3.0]))
    assert torch.equal(rows, expected)


def test_jacobian_rows_of_the_lesson(lesson):
    ns, _ = lesson
    got = ns["jacobian_rows"]([ns["y"], ns["z"]], ns["x"])
    assert torch.equal(got.cpu(), torch.cat([J, J_Z]))


TOLERANCE = {torch.float32: dict(rtol=1e-4, atol=1e-5), torch.float64: dict(rtol=1e-10, atol=1e-12)}

shapes = st.lists(st.integers(1, 3), min_size=0, max_size=2).map(tuple)
problems = st.fixed_dictionaries(
    {
        "x_shape": st.lists(st.integers(1, 3), min_size=1, max_size=2).map(tuple),
        "output_shapes": st.lists(shapes, min_size=1, max_size=3),
        "dtype": st.sampled_from([torch.float32, torch.float64]),
        "seed": st.integers(0, 2**16),
    }
)


@settings(max_examples=100, deadline=None)
@given(problem=problems)
def test_jacobian_rows_equal_jacrev_for_any_outputs(lesson, device, problem):
    ns, _ = lesson
    dtype, x_shape = problem["dtype"], problem["x_shape"]
    generator = torch.Generator().manual_seed(problem["seed"])
    n = torch.Size(x_shape).numel()
    draw = lambda *shape: torch.randn(*shape, generator=generator, dtype=dtype).to(device)
    Ws = [draw(torch.Size(shape).numel(), n) for shape in problem["output_shapes"]]
    x = draw(*x_shape).requires_grad_(True)

    def outputs(x):  # one nonlinear function of x per output shape
        return [
            (torch.sin(W @ x.reshape(-1)) * x.sum()).reshape(shape)
            for W, shape in zip(Ws, problem["output_shapes"])
        ]

    ys = outputs(x)
    got = ns["jacobian_rows"](ys, x)
    expected = jacrev(lambda x: torch.cat([y.reshape(-1) for y in outputs(x)]))(x.detach())
    assert got.dtype == dtype
    assert torch.allclose(got, expected.reshape(-1, n), **TOLERANCE[dtype])
    assert x.grad is None
    sum(y.sum() for y in ys).backward()  # the caller's graph is still there
    assert x.grad is not None
