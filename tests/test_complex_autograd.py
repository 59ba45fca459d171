"""Lesson 21: complex autograd, against real arithmetic, finite differences and jacrev on real views."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.func import grad, jacrev

from conftest import cpu, run_cells, without_device

Z = torch.tensor([1 + 2j, 1 - 1j])
J = torch.tensor([[2 + 4j, 3], [2, 2 - 2j]])  # dy/dz = [[2 z1, 3], [2, 2 z2]] at Z, by hand
V = torch.tensor([1j, 1])


def loss_real(ab):
    """L = |f(z)|^2 written in real arithmetic, z_j = a_j + i b_j, ab = (a1, b1, a2, b2)."""
    a1, b1, a2, b2 = ab
    re1, im1 = a1**2 - b1**2 + 3 * a2, 2 * a1 * b1 + 3 * b2  # z1^2 + 3 z2
    re2, im2 = a2**2 - b2**2 + 2 * a1, 2 * a2 * b2 + 2 * b1  # z2^2 + 2 z1
    return re1**2 + im1**2 + re2**2 + im2**2


AB = torch.view_as_real(Z).reshape(-1).double()
G = grad(loss_real)(AB)  # (dL/da1, dL/db1, dL/da2, dL/db2)


@pytest.fixture(scope="module")
def lesson(device):
    return run_cells("complex_autograd", device)


def test_setup_has_the_hand_derived_complex_jacobian(lesson):
    ns, _ = lesson
    y, J_lesson = cpu(ns, "y", "J")
    assert torch.equal(J_lesson, J)
    assert torch.equal(y, torch.tensor([1j, 2 + 2j]))  # ((1+2i)^2 + 3(1-i), (1-i)^2 + 2(1+2i))


def test_scalar_loss_grad_is_twice_the_conjugate_wirtinger_derivative(lesson):
    ns, out = lesson
    w = ns["w"].detach().cpu()
    assert ns["w"].grad.cpu().item() == 2 + 4j
    # L = a^2 + b^2 in real arithmetic: (dL/da, dL/db) = (2, 4)
    d = grad(lambda ab: (ab**2).sum())(torch.tensor([1.0, 2.0]))
    assert ns["w"].grad.cpu().item() == complex(d[0].item(), d[1].item())
    # Wirtinger, by definition: dL/dconj(w) = (dL/da + i dL/db) / 2 = w, dL/dw = its conjugate
    assert complex(d[0].item(), d[1].item()) / 2 == w.item()
    assert ns["w"].grad.cpu().item() == 2 * w.item() != w.item()
    assert "L = 5.0 | w.grad = tensor(2.+4.j" in out["scalar_loss"]


def test_seed_loss_grad_equals_the_real_partials_and_twice_J_hermitian_y(lesson):
    ns, out = lesson
    (z_grad,) = cpu(ns, "g")  # z.grad after L.backward()
    z_real_grad = ns["z_real"].grad.cpu()
    assert loss_real(AB).item() == 9.0
    assert torch.equal(torch.view_as_real(z_grad).reshape(-1).double(), G)
    assert torch.equal(z_real_grad.reshape(-1).double(), G)
    y = torch.tensor([1j, 2 + 2j])
    assert torch.equal(z_grad, 2 * J.conj().T @ y)
    assert torch.equal(z_grad, torch.tensor([16 + 12j, 22j]))


def test_finite_differences_along_re_and_im_give_the_gradient(lesson):
    ns, out = lesson
    g = torch.view_as_real(ns["g"].cpu()).reshape(-1).double()
    h = 1e-6
    for k in range(4):  # independent central differences on the real formula
        e = torch.zeros(4, dtype=torch.float64)
        e[k] = h
        fd = (loss_real(AB + e) - loss_real(AB - e)) / (2 * h)
        assert math.isclose(fd.item(), g[k].item(), abs_tol=1e-5)
    text = without_device(out["finite_differences"])
    assert "finite differences = tensor([[16., 12.],\n        [ 0., 22.]], dtype=torch.float64)" in text
    assert torch.allclose(ns["fd"].cpu().reshape(-1), g, atol=1e-5)
    norm = round(math.sqrt(16**2 + 12**2 + 22**2), 4)  # sqrt(884), the steepest slope
    assert f"along g/|g|: {norm}\n|g| = {norm}\n" in text


def test_steepest_ascent_no_unit_direction_is_steeper(lesson):
    ns, _ = lesson
    g = torch.view_as_real(ns["g"].cpu()).reshape(-1).double()
    generator = torch.Generator().manual_seed(0)
    directions = torch.randn(200, 4, generator=generator, dtype=torch.float64)
    directions = directions / directions.norm(dim=1, keepdim=True)
    slopes = directions @ G  # directional derivatives of the real formula
    assert slopes.max() < g.norm() and torch.isclose(G @ (g / g.norm()), g.norm())


def test_descent_step_decreases_the_loss_and_the_conjugate_step_does_not(lesson):
    ns, out = lesson
    lr = ns["lr"]
    step = torch.view_as_real(ns["g"].cpu()).reshape(-1).double()
    conj_step = step * torch.tensor([1.0, -1.0, 1.0, -1.0], dtype=torch.float64)
    after = loss_real(AB - lr * step).item()
    assert after < 9.0 and math.isclose(after, 8.1492, abs_tol=1e-3)
    assert loss_real(AB - lr * conj_step).item() > 9.0
    text = out["descent_step"]
    assert "L(z - lr * g)       = 8.149" in text
    assert f"L - lr * |g|^2      = {round(9 - lr * 884, 4)}" in text
    assert "L(z - lr * conj(g)) = 9.381" in text
    assert "torch.allclose(z_sgd, z - lr * g): True" in text


def test_backward_with_complex_v_gives_J_hermitian_v(lesson):
    ns, out = lesson
    expected = J.conj().T @ V
    assert torch.equal(expected, torch.tensor([6 + 2j, 2 + 5j]))
    assert torch.equal(ns["vJ_real"].cpu(), torch.view_as_real(expected).reshape(-1))
    assert not torch.equal(J.T @ V, expected)
    assert "z.grad         = tensor([6.+2.j, 2.+5.j]" in out["complex_v"]
    # the same from the real formula: d/d(a, b) of v_real . y_real
    def weighted(ab):
        a1, b1, a2, b2 = ab
        y_real = torch.stack([a1**2 - b1**2 + 3 * a2, 2 * a1 * b1 + 3 * b2,
                              a2**2 - b2**2 + 2 * a1, 2 * a2 * b2 + 2 * b1])
        return torch.view_as_real(V).reshape(-1).double() @ y_real
    assert torch.equal(grad(weighted)(AB), torch.view_as_real(expected).reshape(-1).double())


def test_real_jacobian_has_the_blocks_of_J(lesson):
    ns, _ = lesson
    J_real = ns["J_real"].cpu()
    blocks = torch.zeros(4, 4)
    for k in range(2):
        for j in range(2):
            a, b = J[k, j].real, J[k, j].imag  # multiplying by a + ib, on (Re, Im)
            blocks[2 * k : 2 * k + 2, 2 * j : 2 * j + 2] = torch.tensor([[a, -b], [b, a]])
    assert torch.equal(J_real, blocks)
    real_formula = jacrev(lambda ab: torch.stack(
        [ab[0]**2 - ab[1]**2 + 3 * ab[2], 2 * ab[0] * ab[1] + 3 * ab[3],
         ab[2]**2 - ab[3]**2 + 2 * ab[0], 2 * ab[2] * ab[3] + 2 * ab[1]]))(AB)
    assert torch.equal(J_real.double(), real_formula)


def test_backward_v_is_the_gradient_of_the_real_dot_product(lesson):
    _, out = lesson
    text = without_device(out["real_dot"])
    assert "vdot(v, y).real.backward(): tensor([6.+2.j, 2.+5.j])" in text
    assert "y.backward(2 * y): tensor([16.+12.j,  0.+22.j])" in text


def test_backward_of_a_complex_scalar_without_v_raises(lesson):
    ns, out = lesson
    with pytest.raises(RuntimeError, match="only for real scalar outputs"):
        ns["f"](ns["z"]).sum().backward()
    assert out["complex_scalar"].startswith("RuntimeError: grad can be implicitly created only for real scalar outputs")


TOLERANCE = {torch.complex64: dict(rtol=1e-4, atol=1e-4), torch.complex128: dict(rtol=1e-10, atol=1e-10)}

problems = st.fixed_dictionaries(
    {
        "z_shape": st.lists(st.integers(1, 3), min_size=0, max_size=2).map(tuple),
        "m": st.integers(1, 4),
        "dtype": st.sampled_from([torch.complex64, torch.complex128]),
        "seed": st.integers(0, 2**16),
    }
)


@settings(max_examples=60, deadline=None)
@given(problem=problems)
def test_backward_v_equals_v_real_times_the_real_jacobian(lesson, device, problem):
    ns, _ = lesson
    dtype, shape, m = problem["dtype"], problem["z_shape"], problem["m"]
    generator = torch.Generator().manual_seed(problem["seed"])
    draw = lambda *s: torch.randn(s, generator=generator, dtype=dtype).to(device)
    n = torch.Size(shape).numel()
    A, B = draw(m, n), draw(m, n)

    def h(z):  # C^n -> C^m, not holomorphic (conj and abs)
        flat = z.reshape(-1)
        return A @ torch.sin(flat) + B @ (flat.conj() * flat.abs())

    z = draw(*shape).requires_grad_(True)
    v = draw(m)
    h(z).backward(v)
    J_real = ns["real_jacobian"](h, z)
    assert J_real.shape == (2 * m, 2 * n)
    expected = torch.view_as_complex((torch.view_as_real(v).reshape(-1) @ J_real).reshape(*shape, 2))
    assert torch.allclose(z.grad, expected, **TOLERANCE[dtype])
