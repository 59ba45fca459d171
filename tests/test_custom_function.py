"""Lesson 18: a torch.autograd.Function for the seed f, against hand-derived values and torch.func."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.func import jacfwd, jacrev, jvp, vjp, vmap

from conftest import cpu, hand_jacobian, run_cells, without_device

J = hand_jacobian(2.0, 3.0)  # [[4, 3], [2, 6]]
V = torch.tensor([0.5, -2.0])  # lesson 2's v
X = torch.tensor([[2.0, 3.0], [1.0, -1.0], [0.0, 0.5]])


def plain_f(x):  # the seed function, written here independently of the snippet
    return torch.stack([x[..., 0] ** 2 + 3 * x[..., 1], x[..., 1] ** 2 + 2 * x[..., 0]], dim=-1)


@pytest.fixture(scope="module")
def lesson(device):
    return run_cells("custom_function", device)


def test_forward_is_the_seed_function(lesson):
    ns, out = lesson
    assert torch.equal(ns["J"].cpu(), J)
    assert torch.equal(ns["SeedFunction"].apply(torch.tensor([2.0, 3.0])).cpu(), torch.tensor([13.0, 13.0]))
    assert "y = tensor([13., 13.], grad_fn=<SeedFunctionBackward>)" in without_device(out["function"])


def test_backward_receives_v_and_x_grad_is_v_times_J(device):
    ns, out = run_cells("custom_function", device, until="watch")
    assert without_device(out["watch"]).splitlines() == [
        f"backward received v = {V}",
        f"x.grad = {V @ J}",
        f"v @ J  = {V @ J}",
    ]
    assert torch.equal(ns["x"].grad.cpu(), V @ J)
    assert torch.equal(V @ J, torch.tensor([-2.0, -10.5]))


def test_backward_inside_a_chain_receives_the_upstream_gradient(device):
    ns, out = run_cells("custom_function", device, until="upstream")
    y = torch.tensor([13.0, 13.0])
    upstream = 2 * y  # d sum(y^2) / dy
    lines = without_device(out["upstream"]).splitlines()
    assert lines[0] == f"backward received v = {upstream}"
    x = torch.tensor([2.0, 3.0], requires_grad=True)
    (plain_f(x) ** 2).sum().backward()
    assert torch.equal(ns["x"].grad.cpu(), x.grad)
    assert torch.equal(x.grad, upstream @ J)


def test_old_style_function_backpropagates_but_fails_under_torch_func(lesson):
    ns, out = lesson
    assert torch.equal(ns["x_old"].grad.cpu(), V @ J)
    with pytest.raises(RuntimeError, match="must override the setup_context staticmethod"):
        jacrev(ns["OldStyle"].apply)(torch.tensor([2.0, 3.0], device=ns["x"].device))
    assert "RuntimeError: " in out["old_style"] and "setup_context" in out["old_style"]


def test_jvp_receives_u_and_gives_J_u(lesson):
    ns, out = lesson
    u = torch.tensor([1.0, 0.0])
    assert torch.equal(ns["Ju"].cpu(), J @ u)
    assert torch.equal(J @ u, torch.tensor([4.0, 2.0]))  # column 1 of J
    lines = without_device(out["jvp"]).splitlines()
    assert lines[0] == f"jvp received u = {u}"
    assert lines[1] == f"tangent of y = {J @ u}"


def test_function_without_jvp_raises_in_forward_mode(lesson):
    ns, out = lesson
    x = torch.tensor([2.0, 3.0], device=ns["x"].device)
    with pytest.raises(NotImplementedError, match="implement the jvp function"):
        jvp(ns["NoJvp"].apply, (x,), (torch.ones_like(x),))
    assert out["no_jvp"].startswith("NotImplementedError: ")


def test_without_vmap_support_jacrev_works_but_jacfwd_and_vmap_raise(lesson):
    ns, out = lesson
    NoVmap, x = ns["NoVmap"], torch.tensor([2.0, 3.0], device=ns["x"].device)
    assert torch.equal(jacrev(NoVmap.apply)(x).cpu(), J)
    for transform in (jacfwd, vmap):
        with pytest.raises(RuntimeError, match="does not have vmap support"):
            transform(NoVmap.apply)(x)
    text = out["no_vmap"]
    assert text.count("RuntimeError: You tried to vmap over NoVmap") == 2


def test_jacrev_calls_backward_once_with_the_batched_one_hot_rows(lesson):
    ns, out = lesson
    text = without_device(out["jacobians"])
    assert text.count("backward received v =") == 1
    assert "BatchedTensor(" in text and "tensor([[1., 0.],\n            [0., 1.]])" in text
    assert torch.equal(ns["J_rev"].cpu(), J)


def test_jacobians_of_the_function_equal_those_of_the_plain_function(lesson):
    ns, _ = lesson
    per_point = ns["per_point"].cpu()
    expected = torch.stack([hand_jacobian(*map(float, p)) for p in X])
    assert torch.equal(per_point, expected)
    assert torch.equal(per_point, vmap(jacrev(plain_f))(X))
    assert torch.equal(vmap(ns["SeedFunction"].apply)(ns["X"]).cpu(), plain_f(X))


def test_vmap_rule_is_called_once_per_vmap_with_the_batch(lesson):
    ns, out = lesson
    lines = out["vmap_rule"].splitlines()
    assert lines.count("vmap rule: in_dims = (0,) | batch_size = 3") == 2
    assert [line for line in lines if "equal" in line] == [
        "vmap equal: True",
        "vmap(jacrev) equal: True",
        "jacfwd equal: True",
    ]


def test_gradcheck_passes_for_the_right_backward(lesson):
    ns, out = lesson
    assert out["gradcheck"] == "gradcheck(SeedFunction.apply): True\ngradcheck(ByRule.apply): True\n"
    x64 = torch.tensor([2.0, 3.0], dtype=torch.float64, device=ns["x"].device, requires_grad=True)
    assert torch.autograd.gradgradcheck(ns["SeedFunction"].apply, (x64,))


def test_wrong_jvp_passes_the_default_gradcheck_and_fails_check_forward_ad(lesson):
    ns, out = lesson
    wrong = ns["WrongJvp"].apply
    x64 = torch.tensor([2.0, 3.0], dtype=torch.float64, device=ns["x"].device, requires_grad=True)
    for u in torch.eye(2, dtype=torch.float64, device=x64.device):  # the bug: J^T u, not J u
        _, tangent = jvp(wrong, (x64.detach(),), (u,))
        assert torch.equal(tangent.cpu(), J.double().T @ u.cpu())
    assert not torch.equal(J, J.T)
    assert torch.autograd.gradcheck(wrong, (x64,))  # the default checks backward only
    with pytest.raises(RuntimeError, match="Jacobian computed with forward mode mismatch"):
        torch.autograd.gradcheck(wrong, (x64,), check_forward_ad=True)
    text = without_device(out["wrong_jvp"])
    assert text.startswith("gradcheck(WrongJvp.apply): True\nGradcheckError: Jacobian computed with forward mode mismatch")
    assert "numerical:tensor([[4.0000, 2.0000],\n        [3.0000, 6.0000]]" in text
    assert "analytical:tensor([[4., 3.],\n        [2., 6.]]" in text


def test_transposed_backward_gives_J_v_and_gradcheck_catches_it(lesson):
    ns, out = lesson
    assert torch.equal(ns["x"].grad.cpu(), J @ V)  # the bug: J v, not v^T J
    assert not torch.equal(J @ V, V @ J)
    text = without_device(out["transposed"])
    assert text.startswith(f"x.grad = {J @ V} | v @ J = {V @ J}\n")
    assert "GradcheckError: Jacobian mismatch for output 0 with respect to input 0" in text
    # gradcheck prints J with one row per input: numerical J^T, and the bug's J
    assert "numerical:tensor([[4.0000, 2.0000],\n        [3.0000, 6.0000]]" in text
    assert "analytical:tensor([[4., 3.],\n        [2., 6.]]" in text


points = st.lists(st.floats(-10, 10, allow_nan=False, width=32), min_size=2, max_size=2)


@settings(max_examples=50, deadline=None)
@given(x=points, v=points)
def test_backward_and_jvp_equal_torch_func_at_any_point(lesson, device, x, v):
    ns, _ = lesson
    F = ns["SeedFunction"]
    x = torch.tensor(x, dtype=torch.float64, device=device)
    w = torch.tensor(v, dtype=torch.float64, device=device)
    _, vjp_fn = vjp(plain_f, x)
    (expected,) = vjp_fn(w)
    leaf = x.clone().requires_grad_(True)
    F.apply(leaf).backward(w)
    assert torch.allclose(leaf.grad, expected)
    _, expected_Ju = jvp(plain_f, (x,), (w,))
    _, got_Ju = jvp(F.apply, (x,), (w,))
    assert torch.allclose(got_Ju, expected_Ju)


@settings(max_examples=30, deadline=None)
@given(batch=st.integers(1, 5), in_dim=st.integers(0, 1), seed=st.integers(0, 2**16))
def test_vmap_rule_for_any_batch_size_and_batch_dim(lesson, device, batch, in_dim, seed):
    ns, _ = lesson
    ByRule = ns["ByRule"]
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(batch, 2, generator=generator, dtype=torch.float64).to(device)
    Xin = X if in_dim == 0 else X.T  # batch dim at in_dim
    assert torch.allclose(vmap(ByRule.apply, in_dims=in_dim)(Xin), plain_f(X))
    got = vmap(jacrev(ByRule.apply), in_dims=in_dim)(Xin)
    assert torch.allclose(got, vmap(jacrev(plain_f))(X))
    assert torch.allclose(vmap(jacfwd(ByRule.apply), in_dims=in_dim)(Xin), got)
