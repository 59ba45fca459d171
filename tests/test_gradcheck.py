"""Lesson 17: gradcheck and gradgradcheck, against hand-derived values, jacrev and exact arithmetic."""

from fractions import Fraction

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.autograd import gradcheck, gradgradcheck
from torch.func import hessian, jacrev

from conftest import cpu, hand_jacobian, run_cells, without_device

J = hand_jacobian(2.0, 3.0).double()  # [[4, 3], [2, 6]]
V = torch.tensor([0.5, -2.0], dtype=torch.float64)  # lesson 2's v
MISMATCH = "Jacobian mismatch for output 0 with respect to input 0"


@pytest.fixture(scope="module")
def lesson(device):
    return run_cells("gradcheck", device)


def test_f_passes_gradcheck_and_gradgradcheck_in_float64(lesson, device):
    ns, out = lesson
    assert out["setup"] == "gradcheck(f, (x,)): True\ngradgradcheck(f, (x,)): True\n"
    x = torch.tensor([2.0, 3.0], dtype=torch.float64, device=device, requires_grad=True)
    assert gradcheck(ns["f"], (x,)) and gradgradcheck(ns["f"], (x,))


def test_central_difference_is_the_hand_jacobian_up_to_rounding(lesson):
    ns, _ = lesson
    J_num, J_auto = cpu(ns, "J_num", "J")
    assert torch.equal(J_auto, J)
    # f is quadratic: its central difference has no truncation error, only rounding.
    assert (J_num - J).abs().max() < 1e-8
    assert not torch.equal(J_num, J)


def test_printed_defaults_are_gradchecks_own(lesson):
    ns, out = lesson
    # keyword-only arguments: their defaults, read without inspect.signature
    kwdefaults = gradcheck.__kwdefaults__
    assert {k: kwdefaults[k] for k in ("eps", "atol", "rtol")} == {"eps": 1e-6, "atol": 1e-5, "rtol": 1e-3}
    assert ns["defaults"] == {"eps": 1e-6, "atol": 1e-5, "rtol": 1e-3}
    assert "gradcheck's defaults: {'eps': 1e-06, 'atol': 1e-05, 'rtol': 0.001}" in out["tolerance"]


def test_tolerance_bound_is_atol_plus_rtol_times_numerical(lesson):
    ns, out = lesson
    J_num, bound = cpu(ns, "J_num", "bound")
    assert torch.allclose(bound, 1e-5 + 1e-3 * J.abs())
    assert torch.allclose(J, J_num, rtol=1e-3, atol=1e-5)  # what gradcheck decides with
    assert "(J - J_num).abs() <= bound: True" in out["tolerance"]


@pytest.mark.parametrize("atol, passes", [(0.0, False), (1e-12, False), (1e-8, True), (1e-5, True)])
def test_gradcheck_passes_exactly_when_allclose_does(lesson, device, atol, passes):
    ns, _ = lesson
    x = torch.tensor([2.0, 3.0], dtype=torch.float64, device=device, requires_grad=True)
    # the rounding error of the central difference is about 1e-9: atol decides
    assert torch.allclose(J, cpu(ns, "J_num")[0], rtol=0.0, atol=atol) == passes
    assert gradcheck(ns["f"], (x,), atol=atol, rtol=0.0, raise_exception=False) == passes


def test_zero_tolerance_raises_and_prints_both_jacobians_transposed(lesson):
    ns, out = lesson
    with pytest.raises(RuntimeError, match=MISMATCH):
        gradcheck(ns["f"], (ns["x"],), atol=0.0, rtol=0.0)
    text = without_device(out["zero_tolerance"])
    assert text.startswith(f"GradcheckError: {MISMATCH}")
    # one row per input element, one column per output element: J transposed
    assert "analytical:tensor([[4., 2.],\n        [3., 6.]], dtype=torch.float64)" in text


def test_float32_step_is_four_units_in_the_last_place(lesson):
    ns, _ = lesson
    step, J_num32 = cpu(ns, "step", "J_num32")
    ulp = torch.tensor([2.0, 3.0]).nextafter(torch.tensor(4.0)) - torch.tensor([2.0, 3.0])
    assert torch.equal(ulp, torch.full((2,), 2.0**-22))  # 2 and 3 lie in [2, 4)
    assert torch.equal(step, 4 * ulp)  # 1e-6 rounds to 4 ulps = 2^-20
    # f is quadratic, so the difference is exact for the step taken: J * step / eps
    assert torch.allclose(J_num32.double(), J * 2.0**-20 / 1e-6, rtol=1e-6)
    assert ns["y1"].item() == 13.0


def test_float32_gradcheck_warns_and_raises(lesson, device):
    ns, out = lesson
    x32 = torch.tensor([2.0, 3.0], device=device, requires_grad=True)
    with pytest.warns(UserWarning, match="not a double precision"):
        with pytest.raises(RuntimeError, match=MISMATCH):
            gradcheck(ns["f"], (x32,))
    text = without_device(out["float32_gradcheck"])
    assert text.startswith(f"GradcheckError: {MISMATCH}")
    assert "numerical:tensor([[3.8147, 1.9073],\n        [2.8610, 5.7220]])" in text
    # gradcheck's numerical matrix is the by-hand central difference, transposed
    printed = torch.tensor([[3.8147, 1.9073], [2.8610, 5.7220]])
    assert torch.allclose(cpu(ns, "J_num32")[0].T, printed, atol=1e-4)
    assert "UserWarning: Input #0 requires gradient and is not a double precision" in text


def test_float32_passes_with_a_larger_eps(lesson):
    _, out = lesson
    assert out["float32_eps"] == "gradcheck(f, (x32,), eps=1e-2): True\nwarnings caught: 1\n"


def test_wrong_backward_gives_a_silently_wrong_vjp_and_gradcheck_catches_it(lesson, device):
    ns, out = lesson
    J_wrong = J.clone()
    J_wrong[0, 0] = 2.0  # x1 instead of 2 x1 at x1 = 2
    assert torch.equal(ns["vJ_wrong"].cpu(), V @ J_wrong)
    assert torch.equal(ns["f_wrong"](ns["x"]).detach().cpu(), ns["f"](ns["x"]).detach().cpu())
    x = torch.tensor([2.0, 3.0], dtype=torch.float64, device=device, requires_grad=True)
    with pytest.raises(RuntimeError, match=MISMATCH):
        gradcheck(ns["f_wrong"], (x,))
    assert "analytical:tensor([[2., 2.],\n        [3., 6.]]" in without_device(out["wrong_backward"])


def test_the_same_function_with_the_right_backward_passes(device):
    class Square(torch.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            ctx.save_for_backward(t)
            return t * t

        @staticmethod
        def backward(ctx, grad_output):
            (t,) = ctx.saved_tensors
            return grad_output * 2 * t

    x = torch.tensor([2.0, 3.0], dtype=torch.float64, device=device, requires_grad=True)
    fixed = lambda x: torch.stack([Square.apply(x[0]) + 3 * x[1], x[1] ** 2 + 2 * x[0]])
    assert gradcheck(fixed, (x,)) and gradcheck(fixed, (x,), fast_mode=True)
    assert gradgradcheck(fixed, (x,))


def test_fast_mode_compares_v_J_u_both_ways(lesson):
    ns, out = lesson
    u = ns["u"].cpu()
    expected = float(V @ J @ u)  # (-2, -10.5) . (0.6, 0.8) = -9.6
    assert expected == pytest.approx(-9.6, abs=1e-12)
    assert ns["vJ"].cpu() @ u == pytest.approx(expected, abs=1e-12)
    assert (V @ ns["Ju_num"].cpu()).item() == pytest.approx(expected, abs=1e-8)
    assert "gradcheck(f, (x,), fast_mode=True): True" in out["fast_mode"]


def test_fast_mode_catches_the_wrong_backward_and_recomputes_in_slow_mode(lesson):
    ns, out = lesson
    with pytest.raises(RuntimeError, match=MISMATCH):
        gradcheck(ns["f_wrong"], (ns["x"],), fast_mode=True)
    text = without_device(out["fast_mode_wrong"])
    assert text.startswith(f"GradcheckError: {MISMATCH}")
    assert "fast mode" in text
    assert "Analytical:\ntensor([[2., 2.],\n        [3., 6.]]" in text


def test_gradgradcheck_catches_a_backward_cut_off_from_its_input(lesson, device):
    ns, out = lesson
    x = torch.tensor([2.0, 3.0], dtype=torch.float64, device=device, requires_grad=True)
    v = V.to(device).requires_grad_(True)
    assert gradcheck(ns["f_detached"], (x,))
    with pytest.raises(RuntimeError, match=MISMATCH):
        gradgradcheck(ns["f_detached"], (x,), grad_outputs=(v,))
    # what gradgradcheck's numerical side sees: d(v^T J)/dx, the Hessian of v^T f
    H = hessian(lambda x: V @ ns["f"](x))(torch.tensor([2.0, 3.0], dtype=torch.float64))
    assert torch.equal(H, torch.diag(2 * V))  # diag(1, -4)
    text = without_device(out["gradgradcheck_wrong"])
    assert "gradcheck(f_detached, (x,)): True\n" in text
    assert "gradgradcheck(f, (x,), v): True\n" in text
    assert "numerical:tensor([[ 1.0000,  0.0000],\n        [ 0.0000, -4.0000]]" in text


def test_central_difference_of_a_quadratic_is_exact_in_exact_arithmetic():
    # (f(x + h) - f(x - h)) / 2h = f'(x) for f(t) = a t^2 + b t + c, with no truncation term
    a, b, c, t, h = Fraction(3), Fraction(-2), Fraction(5), Fraction(2), Fraction(1, 10**6)
    q = lambda t: a * t * t + b * t + c
    assert (q(t + h) - q(t - h)) / (2 * h) == 2 * a * t + b


problems = st.fixed_dictionaries(
    {
        "x_shape": st.lists(st.integers(1, 3), min_size=1, max_size=2).map(tuple),
        "m": st.integers(1, 4),
        "seed": st.integers(0, 2**16),
    }
)


@settings(max_examples=60, deadline=None)
@given(problem=problems)
def test_central_difference_and_v_J_u_match_jacrev_for_any_shape(lesson, device, problem):
    ns, _ = lesson
    generator = torch.Generator().manual_seed(problem["seed"])
    n, m = torch.Size(problem["x_shape"]).numel(), problem["m"]
    draw = lambda *shape: torch.randn(*shape, generator=generator, dtype=torch.float64).to(device)
    A, B, x, u, v = draw(m, n), draw(m, n), draw(*problem["x_shape"]), draw(n), draw(m)

    def g(x):  # smooth, not quadratic: some truncation error as well
        flat = x.reshape(-1)
        return torch.sin(A @ flat) + (B @ flat) ** 2

    expected = jacrev(lambda x: g(x.reshape(problem["x_shape"])))(x.reshape(-1))
    J_num = ns["central_difference"](g, x, 1e-6)
    assert J_num.shape == (m, n)
    assert torch.allclose(J_num, expected, rtol=1e-6, atol=1e-6)
    assert torch.allclose(v @ J_num @ u, v @ expected @ u, rtol=1e-6, atol=1e-6)
    xr = x.clone().requires_grad_(True)
    assert gradcheck(g, (xr,)) and gradcheck(g, (xr,), fast_mode=True)
