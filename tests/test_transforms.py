"""Lesson 20: argnums, has_aux, grad_and_value and linearize, against hand-derived values and jacrev."""

import warnings

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.func import jacrev, jvp, linearize, vmap

from conftest import cpu, hand_jacobian, run_cells, without_device

J = hand_jacobian(2.0, 3.0)  # [[4, 3], [2, 6]]
V = torch.tensor([0.5, -2.0])  # lesson 2's v
LINEARIZE_WARNING = "Attempted to insert a get_attr Node"


@pytest.fixture(scope="module")
def lesson(device):
    return run_cells("transforms", device)


def quiet_linearize(f, *primals):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=LINEARIZE_WARNING)
        return linearize(f, *primals)


def test_argnums_picks_columns_of_J(lesson):
    _, out = lesson
    text = without_device(out["argnums"])
    assert "jacrev(f2)(x1, x2) = tensor([4., 2.])\n" in text  # column 1: argnums=0 by default
    assert "argnums=1:      tensor([3., 6.])\n" in text
    assert "argnums=(0, 1): (tensor([4., 2.]), tensor([3., 6.]))\n" in text


def test_argnums_tuple_of_grad_gives_the_pieces_of_v_times_J(lesson):
    ns, out = lesson
    pieces = ns["grad"](ns["weighted"], argnums=(0, 1))(ns["x1"], ns["x2"])
    assert isinstance(pieces, tuple) and len(pieces) == 2
    assert torch.equal(torch.stack(pieces).cpu(), V @ J)  # (-2, -10.5)
    assert "(tensor(-2.), tensor(-10.5000))" in without_device(out["argnums"])


def test_grad_of_a_non_scalar_raises(lesson):
    ns, out = lesson
    with pytest.raises(RuntimeError, match="to return a scalar Tensor"):
        ns["grad"](ns["f2"])(ns["x1"], ns["x2"])
    assert out["not_scalar"].startswith("RuntimeError: ")
    assert "vjp or jacrev" in out["not_scalar"]


def test_has_aux_returns_the_gradient_and_the_prediction(lesson):
    ns, out = lesson
    g, y = ns["grad"](ns["loss_and_prediction"], has_aux=True)(ns["x"], ns["target"])
    assert torch.equal(y.cpu(), torch.tensor([13.0, 13.0]))  # f(2, 3), by hand
    assert torch.equal(y.cpu() - ns["target"].cpu(), V)  # the residual is lesson 2's v
    assert torch.equal(g.cpu(), V @ J)  # J^T (y - target)
    assert not y.requires_grad  # the extra is returned as a plain value
    assert "| y.requires_grad: False\n" in out["has_aux"]


def test_a_tuple_without_has_aux_raises(lesson):
    ns, out = lesson
    with pytest.raises(RuntimeError, match="to return a Tensor"):
        ns["grad"](ns["loss_and_prediction"])(ns["x"], ns["target"])
    assert out["without_has_aux"].startswith("RuntimeError: ")
    assert "tuple" in out["without_has_aux"]


def test_grad_and_value_evaluates_f_once(lesson):
    ns, out = lesson
    text = out["grad_and_value"]
    assert "grad_and_value: evaluations of f = 1\n" in text
    assert "grad, then f again: evaluations of f = 2\n" in text
    loss = 0.5 * float((V**2).sum())  # 0.5 |y - target|^2 = 2.125
    assert ns["loss"].item() == loss
    assert torch.equal(ns["g_x"].cpu(), V @ J)
    assert torch.equal(ns["g_target"].cpu(), -V)  # d loss / d target = -(y - target)


def test_repeated_jvp_gives_the_columns_and_runs_f_each_time(lesson):
    _, out = lesson
    text = without_device(out["repeated_jvp"])
    assert "jvp: J u = tensor([4., 2.])\njvp: J u = tensor([3., 6.])\n" in text
    assert "jvp, 2 directions: evaluations of f = 2\n" in text


def test_linearize_evaluates_f_twice_and_never_again(lesson):
    ns, out = lesson
    text = without_device(out["linearize"])
    assert "linearize: evaluations of f = 2\n" in text
    assert "jvp_fn(u) = tensor([4., 2.])\njvp_fn(u) = tensor([3., 6.])\n" in text
    assert "after 2 calls of jvp_fn: evaluations of f = 2\n" in text
    assert torch.equal(ns["y"].cpu(), torch.tensor([13.0, 13.0]))
    assert torch.equal(vmap(ns["jvp_fn"])(torch.eye(2, device=ns["x"].device)).T.cpu(), J)
    for line in text.splitlines()[4:]:  # what linearize warned, if anything
        assert line.startswith("UserWarning: ")


def test_jvp_fn_checks_its_tangent(lesson):
    ns, _ = lesson
    with pytest.raises(RuntimeError, match="doesn't match the shape"):
        ns["jvp_fn"](torch.ones(3, device=ns["x"].device))


def test_power_iteration_finds_the_largest_eigenvalue(lesson):
    ns, out = lesson
    largest = torch.linalg.eigvals(J.double()).real.max().item()  # 5 + sqrt(7)
    assert largest == pytest.approx(5 + 7**0.5, abs=1e-12)
    assert ns["eigenvalue"].item() == pytest.approx(largest, abs=1e-4)
    assert f"power iteration: {largest:.4f} | by hand, 5 + 7 ** 0.5 = {largest:.4f}\n" in out[
        "power_iteration"
    ]
    assert "31 calls of jvp_fn later: evaluations of f = 2\n" in out["power_iteration"]


TOLERANCE = {torch.float32: dict(rtol=1e-4, atol=1e-5), torch.float64: dict(rtol=1e-10, atol=1e-12)}
problems = st.fixed_dictionaries(
    {
        "x_shape": st.lists(st.integers(1, 3), min_size=1, max_size=2).map(tuple),
        "m": st.integers(1, 4),
        "dtype": st.sampled_from([torch.float32, torch.float64]),
        "seed": st.integers(0, 2**16),
    }
)


@settings(max_examples=15, deadline=None)
@given(problem=problems)
def test_linearize_agrees_with_jvp_and_jacrev_for_any_shape(device, problem):
    dtype, x_shape, m = problem["dtype"], problem["x_shape"], problem["m"]
    generator = torch.Generator().manual_seed(problem["seed"])
    draw = lambda *shape: torch.randn(*shape, generator=generator, dtype=dtype).to(device)
    n = torch.Size(x_shape).numel()
    W, x, u = draw(m, n), draw(*x_shape), draw(*x_shape)

    def f(x):  # R^x_shape -> R^m
        return torch.sin(W @ x.reshape(-1)) * x.sum()

    y, jvp_fn = quiet_linearize(f, x)
    assert torch.allclose(y, f(x), **TOLERANCE[dtype])
    assert torch.allclose(jvp_fn(u), jvp(f, (x,), (u,))[1], **TOLERANCE[dtype])
    J_f = jacrev(f)(x).reshape(m, n)
    assert torch.allclose(jvp_fn(u), J_f @ u.reshape(-1), **TOLERANCE[dtype])
