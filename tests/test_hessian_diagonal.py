"""Lesson 23: the Hessian's diagonal, against hand-derived values, closed forms and torch.func."""

import contextlib
import itertools

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.func import hessian, jacrev

from conftest import cpu, hand_jacobian, run_cells

J = hand_jacobian(2.0, 3.0)  # [[4, 3], [2, 6]]
Y = torch.tensor([13.0, 13.0])  # y at x = (2, 3)
H = J.T @ J + torch.diag(2 * Y)  # L = ½ |y|²: J^T J + y1 ∇²y1 + y2 ∇²y2, ∇²y_i = 2 e_i e_i^T


def run_on(ns, fn):  # as the lesson's cells ran: on its device
    with torch.device(ns["x"].device):
        return fn()


@pytest.fixture(scope="module")
def lesson(device):
    return run_cells("hessian_diagonal", device)


def closed_form_hessian(A, x):  # of sum_k softplus(a_k . x): A^T diag(s (1 - s)) A
    s = torch.sigmoid(A @ x)
    return A.T @ ((s * (1 - s))[:, None] * A)


def test_hessian_of_half_squared_norm_matches_the_hand_derived_one(lesson):
    ns, out = lesson
    assert torch.equal(H, torch.tensor([[46.0, 24.0], [24.0, 71.0]]))
    assert torch.allclose(ns["H"].cpu(), H)
    assert torch.allclose(jacrev(jacrev(ns["loss"]))(torch.tensor([2.0, 3.0])), H)
    assert "H.diagonal() = tensor([46., 71.])" in out["setup"]


def test_one_product_cannot_tell_two_diagonals_apart(lesson):
    ns, out = lesson
    H_other, u = cpu(ns, "H_other", "u")
    assert torch.equal(H_other, torch.diag(H @ u)) and torch.equal(H_other, H_other.T)
    assert torch.equal(H_other @ u, H @ u)
    assert not torch.equal(H_other.diagonal(), H.diagonal())
    assert "H @ u = tensor([70., 95.]) | H_other @ u = tensor([70., 95.])" in out["one_product"]


@settings(max_examples=100, deadline=None)
@given(u=st.tuples(st.floats(-10, 10), st.floats(-10, 10)).filter(lambda u: max(map(abs, u)) > 0.1))
def test_for_any_probe_another_hessian_gives_the_same_product(u):
    u1, u2 = u  # D = [[u2², -u1 u2], [-u1 u2, u1²]] is symmetric, D u = 0, diag(D) != 0
    u = torch.tensor(u, dtype=torch.float64)
    D = torch.tensor([[u2 * u2, -u1 * u2], [-u1 * u2, u1 * u1]], dtype=torch.float64)
    assert torch.allclose(D @ u, torch.zeros(2, dtype=torch.float64), atol=1e-9)
    assert D.diagonal().abs().sum() > 0


def test_one_hot_hvps_give_the_columns_and_the_exact_diagonal(lesson):
    ns, out = lesson
    columns = run_on(ns, lambda: torch.func.vmap(ns["hvp"])(torch.eye(2)))
    assert torch.allclose(columns.cpu(), H)
    assert torch.allclose(run_on(ns, lambda: ns["exact_diagonal"](ns["hvp"], 2)).cpu(), H.diagonal())
    assert "exact_diagonal(hvp, 2) = tensor([46., 71.])" in out["exact"]


def test_averaging_over_every_sign_vector_gives_the_diagonal_exactly(lesson):
    ns, out = lesson
    U_all = ns["U_all"].cpu()
    assert sorted(map(tuple, U_all.tolist())) == sorted(itertools.product([-1.0, 1.0], repeat=2))
    per_probe = U_all * (U_all @ H)  # u ⊙ H u, H symmetric
    assert torch.allclose(per_probe, torch.tensor([[70.0, 95], [22, 47], [22, 47], [70, 95]]))
    assert torch.allclose(run_on(ns, lambda: ns["hutchinson"](ns["hvp"], ns["U_all"])).cpu(), H.diagonal())
    assert "hutchinson(hvp, U_all) = tensor([46., 71.])" in out["expectation"]


def test_exact_diagonal_of_the_larger_problem_matches_the_closed_form(lesson):
    ns, out = lesson
    A, x_big, diagonal, H_big = cpu(ns, "A", "x_big", "diagonal", "H_big")
    assert A.shape == (200, 100) and x_big.shape == (100,)
    expected = closed_form_hessian(A, x_big)
    assert torch.allclose(H_big, expected, atol=1e-6)
    assert torch.allclose(diagonal, expected.diagonal(), atol=1e-6)
    assert torch.allclose(diagonal, hessian(ns["loss_big"])(ns["x_big"]).diagonal().cpu(), atol=1e-6)
    assert "torch.allclose(diagonal, H_big.diagonal()): True" in out["problem"]


def test_hutchinson_errors_follow_the_independent_computation(lesson):
    ns, out = lesson
    A, x_big, U = cpu(ns, "A", "x_big", "U")
    assert U.shape == (1000, 100) and set(U.unique().tolist()) == {-1.0, 1.0}
    H_big = closed_form_hessian(A, x_big).double()
    diagonal = H_big.diagonal()
    off = H_big - torch.diag(diagonal)
    estimates = U.double() * (U.double() @ H_big)  # u ⊙ H u per probe
    lines = out["samples"].splitlines()
    table = lines[lines.index("     k  error  predicted") + 1 :]
    errors = []
    for k, line in zip((1, 10, 100, 1000), table, strict=True):
        error = ((estimates[:k].mean(0) - diagonal).norm() / diagonal.norm()).item()
        predicted = ((off**2).sum() / k).sqrt().item() / diagonal.norm().item()
        shown_k, shown_error, shown_predicted = line.split()  # k and two percentages
        assert int(shown_k) == k
        assert float(shown_error.removesuffix("%")) == pytest.approx(100 * error, abs=0.051)
        assert float(shown_predicted.removesuffix("%")) == pytest.approx(100 * predicted, abs=0.051)
        assert predicted / 2 < error < 2 * predicted  # the seeded draw is a typical one
        errors.append(error)
    assert errors == sorted(errors, reverse=True)


def test_benchmark_times_the_lessons_problem_and_methods(lesson, device):
    ns, _ = lesson
    bench, _ = run_cells("benchmark", until="verdict")
    bench["devices"] = {}  # define the cell's functions without timing them
    run_cells("benchmark", namespace=bench, only={"hessian_diagonal"})
    loss, x, U = bench["diagonal_problem"](device)
    assert torch.equal(x.cpu(), ns["x_big"].cpu()) and torch.equal(U.cpu(), ns["U"][:100].cpu())
    assert torch.equal(loss(x), ns["loss_big"](ns["x_big"]))
    methods = bench["diagonal_methods"](loss, x, U)
    assert list(methods) == [
        "hessian().diagonal()", "one-hot HVPs", "Hutchinson, k = 10", "Hutchinson, k = 100"
    ]
    diagonal = ns["diagonal"].cpu()
    assert torch.allclose(methods["hessian().diagonal()"]().cpu(), diagonal, atol=1e-6)
    assert torch.allclose(methods["one-hot HVPs"]().cpu(), diagonal, atol=1e-6)
    for k in (10, 100):
        expected = run_on(ns, lambda: ns["hutchinson"](ns["hvp_big"], ns["U"][:k])).cpu()
        assert torch.allclose(methods[f"Hutchinson, k = {k}"]().cpu(), expected, atol=1e-6)


TOLERANCE = {torch.float32: dict(rtol=1e-4, atol=1e-4), torch.float64: dict(rtol=1e-10, atol=1e-10)}
problems = st.fixed_dictionaries(
    {"n": st.integers(1, 5), "dtype": st.sampled_from([torch.float32, torch.float64]),
     "seed": st.integers(0, 2**16)}
)


def quadratic(n, dtype, seed, device):  # L = ½ xᵀSx + sum sin(x): H = S - diag(sin x)
    generator = torch.Generator().manual_seed(seed)
    B = torch.randn(n, n, generator=generator, dtype=dtype)
    S, x = (B + B.T).to(device), torch.randn(n, generator=generator, dtype=dtype).to(device)
    H = S - torch.diag(torch.sin(x))

    def loss(x):
        return 0.5 * x @ S @ x + torch.sin(x).sum()

    def hvp(u):
        return torch.func.jvp(torch.func.grad(loss), (x,), (u,))[1]

    return H, hvp


@settings(max_examples=100, deadline=None)
@given(problem=problems)
def test_exact_diagonal_and_the_hutchinson_mean_over_all_signs_for_any_n(lesson, device, problem):
    ns, _ = lesson
    n, dtype = problem["n"], problem["dtype"]
    H, hvp = quadratic(n, dtype, problem["seed"], device)
    with torch.device(device), default_dtype(dtype):  # the lesson's torch.eye(n) takes the default
        got = ns["exact_diagonal"](hvp, n)
        signs = torch.tensor(list(itertools.product([-1.0, 1.0], repeat=n)), dtype=dtype)
        mean = ns["hutchinson"](hvp, signs)
    assert torch.allclose(got, H.diagonal(), **TOLERANCE[dtype])
    assert torch.allclose(mean, H.diagonal(), **TOLERANCE[dtype])  # unbiased: E[u ⊙ H u] = diag(H)


@contextlib.contextmanager
def default_dtype(dtype):
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


@settings(max_examples=50, deadline=None)
@given(problem=problems, k=st.integers(1, 4))
def test_one_probe_is_exact_when_the_hessian_is_diagonal(lesson, device, problem, k):
    ns, _ = lesson
    n, dtype = problem["n"], problem["dtype"]
    generator = torch.Generator().manual_seed(problem["seed"])
    x = torch.randn(n, generator=generator, dtype=dtype).to(device)
    U = (torch.randint(0, 2, (k, n), generator=generator) * 2 - 1).to(x)
    hvp = lambda u: torch.func.jvp(torch.func.grad(lambda x: (x**4).sum()), (x,), (u,))[1]
    assert torch.allclose(ns["hutchinson"](hvp, U), 12 * x**2, **TOLERANCE[dtype])  # no variance
