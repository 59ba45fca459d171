"""Every Jacobian method the site teaches, against torch.func.jacrev, on random shapes and dtypes.

The methods come from the snippets themselves (their reusable functions and the row loop
of lesson 4), so a change to a lesson's code is tested here.
"""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import run_cells

TOLERANCE = {torch.float32: dict(rtol=1e-4, atol=1e-5), torch.float64: dict(rtol=1e-10, atol=1e-12)}


@pytest.fixture(scope="module")
def lessons(device):
    """Each lesson's namespace, run once on the device."""
    names = ["jacobian_assembly", "batched_rows", "forward_mode"]
    return {name: run_cells(name, device)[0] for name in names}


def row_loop(lessons):
    """Lesson 4's `rows` cell, rerun on another f and x."""

    def jacobian(f, x):
        ns = dict(lessons["jacobian_assembly"])
        ns["x"] = x.detach().requires_grad_(True)
        ns["y"] = f(ns["x"])
        ns["m"], ns["n"] = ns["y"].numel(), x.numel()
        run_cells("jacobian_assembly", x.device.type, namespace=ns, only={"rows"})
        return ns["J"]

    return jacobian


def methods(lessons):
    from torch.autograd.functional import jacobian

    def flat(J, y_numel, x_numel):
        return J.reshape(y_numel, x_numel)

    return {
        "row loop": row_loop(lessons),
        "is_grads_batched": lessons["batched_rows"]["jacobian_batched_rows"],
        "forward-mode columns": lessons["forward_mode"]["jacobian_forward_columns"],
        "functional.jacobian": lambda f, x: flat(jacobian(f, x), f(x).numel(), x.numel()),
        "functional.jacobian vectorize": lambda f, x: flat(
            jacobian(f, x, vectorize=True), f(x).numel(), x.numel()
        ),
        "functional.jacobian forward-mode": lambda f, x: flat(
            jacobian(f, x, vectorize=True, strategy="forward-mode"), f(x).numel(), x.numel()
        ),
        "func.jacfwd": lambda f, x: flat(torch.func.jacfwd(f)(x), f(x).numel(), x.numel()),
    }


problems = st.fixed_dictionaries(
    {
        "n": st.integers(1, 6),
        "m": st.integers(1, 6),
        "batch": st.integers(1, 5),
        "dtype": st.sampled_from([torch.float32, torch.float64]),
        "seed": st.integers(0, 2**16),
    }
)


def random_tensors(problem, device, *shapes):
    """Tensors of these shapes, drawn from the problem's seed, in its dtype, on the device."""
    generator = torch.Generator().manual_seed(problem["seed"])
    draw = lambda shape: torch.randn(*shape, generator=generator, dtype=problem["dtype"])
    return [draw(shape).to(device) for shape in shapes]


@settings(max_examples=200, deadline=None)
@given(problem=problems)
def test_every_method_equals_jacrev(lessons, device, problem):
    n, m, dtype = problem["n"], problem["m"], problem["dtype"]
    W, x = random_tensors(problem, device, (m, n), (1, n))

    def f(x):  # R^(1xn) -> R^(1xm), nonlinear
        return torch.tanh(x @ W.T) ** 2 + (x**2).sum()

    expected = torch.func.jacrev(f)(x).reshape(m, n)
    for name, method in methods(lessons).items():
        got = method(f, x)
        if name == "row loop":  # lesson 4 stores rows in torch.zeros(m, n): the default dtype
            got, tolerance = got.to(dtype), TOLERANCE[torch.float32]
        else:
            assert got.dtype == dtype, name
            tolerance = TOLERANCE[dtype]
        assert got.shape == (m, n), name
        assert torch.allclose(got, expected, **tolerance), name


@settings(max_examples=200, deadline=None)
@given(problem=problems)
def test_every_hessian_method_equals_jacrev_of_jacrev(device, problem):
    """Lesson 9's ways to H and H v, on random scalar functions."""
    from torch.func import grad, hessian, jacfwd, jacrev, jvp

    n, dtype = problem["n"], problem["dtype"]
    A, x, v = random_tensors(problem, device, (n, n), (n,), (n,))

    def loss(x):  # R^n -> R, nonlinear, with a non-symmetric quadratic part
        return torch.tanh(x).pow(3).sum() + x @ A @ x

    expected = jacrev(jacrev(loss))(x)
    tolerance = TOLERANCE[dtype]
    assert torch.allclose(hessian(loss)(x), expected, **tolerance)
    assert torch.allclose(jacfwd(jacrev(loss))(x), expected, **tolerance)
    _, Hv = jvp(grad(loss), (x,), (v,))
    assert torch.allclose(Hv, expected @ v, **tolerance)
    x_ = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(loss(x_), x_, create_graph=True)
    (Hv_backward,) = torch.autograd.grad(g, x_, v)
    assert torch.allclose(Hv_backward, expected @ v, **tolerance)


@settings(max_examples=200, deadline=None)
@given(problem=problems)
def test_per_sample_methods_equal_jacrev_sample_by_sample(device, problem):
    """Lesson 10's vmap(jacrev(f)) and sum trick, against one jacrev call per sample."""
    from torch.func import jacrev, vmap

    batch, n, m, dtype = problem["batch"], problem["n"], problem["m"], problem["dtype"]
    W, xs = random_tensors(problem, device, (m, n), (batch, n))

    def f(x):  # one sample: R^n -> R^m
        return torch.sin(W @ x) * x.sum()

    expected = torch.stack([jacrev(f)(x) for x in xs])  # (batch, m, n)
    tolerance = TOLERANCE[dtype]
    assert torch.allclose(vmap(jacrev(f))(xs), expected, **tolerance)
    summed = jacrev(lambda xs: vmap(f)(xs).sum(dim=0))(xs)  # (m, batch, n)
    assert torch.allclose(summed.permute(1, 0, 2), expected, **tolerance)


@settings(max_examples=50, deadline=None)
@given(problem=problems, eval_mode=st.booleans())
def test_batchnorm_jacobians_equal_jacrev_sample_by_sample(device, problem, eval_mode):
    """Lesson 10's samples that interact: in training mode the whole-batch Jacobian's
    diagonal blocks are each sample's Jacobian with the others held fixed, and the sum
    trick adds up a column of blocks; in eval mode vmap(jacrev) is the per-sample loop."""
    from torch.func import jacrev, replace_all_batch_norm_modules_, vmap

    batch, n, m, dtype = max(problem["batch"], 2), problem["n"], problem["m"], problem["dtype"]
    (xs,) = random_tensors(problem, device, (batch, n))
    torch.manual_seed(problem["seed"])
    model = torch.nn.Sequential(torch.nn.Linear(n, m), torch.nn.BatchNorm1d(m), torch.nn.Tanh())
    model = model.to(device, dtype).requires_grad_(False)
    tolerance = TOLERANCE[dtype]
    one_sample = lambda x: model(x[None])[0]
    if eval_mode:
        model(xs)  # running statistics from one training-mode step
        model.eval()
        expected = torch.stack([jacrev(one_sample)(x) for x in xs])
        assert torch.allclose(vmap(jacrev(one_sample))(xs), expected, **tolerance)
        summed = jacrev(lambda xs: model(xs).sum(dim=0))(xs).permute(1, 0, 2)
        assert torch.allclose(summed, expected, **tolerance)
        return
    replace_all_batch_norm_modules_(model)
    whole = jacrev(model)(xs)  # (batch, m, batch, n)
    for b in range(batch):
        moved_alone = lambda x: model(torch.cat([xs[:b], x[None], xs[b + 1 :]]))[b]
        assert torch.allclose(whole[b, :, b, :], jacrev(moved_alone)(xs[b]), **tolerance)
    summed = jacrev(lambda xs: model(xs).sum(dim=0))(xs).permute(1, 0, 2)
    assert torch.allclose(summed, whole.sum(dim=0).permute(1, 0, 2), **tolerance)


@pytest.fixture(scope="module")
def benchmark_methods(device):
    """The six methods the benchmark page times (lesson 12), and its chunked exercise."""
    ns, _ = run_cells("benchmark", device, until="setup")
    exercise, _ = run_cells("exercises_toolkit", device, until="benchmark_1")
    chunked = exercise["jacobian_in_chunks"]
    return {**ns["METHODS"], "in chunks of 2": lambda f, x: chunked(f, x, 2)}


@settings(max_examples=200, deadline=None)
@given(problem=problems)
def test_every_benchmarked_method_equals_jacrev(benchmark_methods, device, problem):
    n, m, dtype = problem["n"], problem["m"], problem["dtype"]
    W, x = random_tensors(problem, device, (m, n), (n,))

    def f(x):  # R^n -> R^m, on a flat x as the benchmark uses
        return torch.tanh(W @ x) ** 2 + (x**2).sum()

    expected = torch.func.jacrev(f)(x)
    for name, method in benchmark_methods.items():
        got = method(f, x)
        # the row loop stores rows in torch.zeros(m, n): the default dtype
        tolerance = TOLERANCE[torch.float32 if name == "row loop" else dtype]
        assert got.shape == (m, n), name
        assert torch.allclose(got.to(dtype), expected, **tolerance), name
