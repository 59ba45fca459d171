import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.func import jacrev

from conftest import hand_jacobian, run_cells, without_device

J = hand_jacobian(2.0, 3.0)  # [[4, 3], [2, 6]]
V = torch.tensor([[0.5, -2.0]])


def g(x1, x2):  # y as a function of the two intermediates
    return torch.stack([x1**2 + 3 * x2, x2**2 + 2 * x1])


def test_hooks_receive_v_then_v_times_dy_dh_then_v_times_J(device):
    _, out = run_cells("hooks", device, until="watch")
    dy_dx1, dy_dx2 = jacrev(g, argnums=(0, 1))(torch.tensor(2.0), torch.tensor(3.0))
    assert torch.equal(torch.stack([dy_dx1, dy_dx2], dim=1), J)  # the columns of J
    at_x1, at_x2 = float(V[0] @ dy_dx1), float(V[0] @ dy_dx2)
    assert (at_x1, at_x2) == (-2.0, -10.5)  # 0.5·4 − 2·2 and 0.5·3 − 2·6
    assert without_device(out["watch"]).splitlines() == [
        "at y: tensor([[ 0.5000, -2.0000]])",  # v itself
        "at x2: tensor([-10.5000])",
        "at x1: tensor([-2.])",
        "at x: tensor([[ -2.0000, -10.5000]])",  # v @ J
        "x.grad = tensor([[ -2.0000, -10.5000]])",
    ]
    assert torch.equal(V @ J, torch.tensor([[at_x1, at_x2]]))


def test_hooks_that_return_none_leave_x_grad_as_v_times_J(device):
    ns, _ = run_cells("hooks", device, until="watch")
    assert torch.equal(ns["x"].grad.cpu(), V @ J)


def test_removed_hooks_do_not_fire(device):
    ns, out = run_cells("hooks", device, until="remove")
    assert without_device(out["remove"]) == "x.grad = tensor([[ -2.0000, -10.5000]])\n"
    assert torch.equal(ns["x"].grad.cpu(), V @ J)
    # independently: a removed hook is not called
    calls = []
    handle = ns["y"].register_hook(calls.append)
    handle.remove()
    ns["y"].backward(ns["v"], retain_graph=True)
    assert calls == []


def test_grad_of_a_non_leaf_is_none_and_warns(device):
    ns, out = run_cells("hooks", device, until="non_leaf_grad")
    assert len(ns["caught"]) == 1 and ns["caught"][0].category is UserWarning
    lines = out["non_leaf_grad"].splitlines()
    assert lines[0] == "y.grad: None"
    assert lines[1].startswith(
        "UserWarning: The .grad attribute of a Tensor that is not a leaf Tensor is being accessed."
    )
    assert len(lines) == 2 and "Triggered internally" not in out["non_leaf_grad"]  # no build path
    with pytest.warns(UserWarning, match="retain_grad"):
        assert ns["x1"].grad is None


def test_retain_grad_keeps_v_and_v_times_dy_dx1_without_a_warning(device):
    ns, out = run_cells("hooks", device, until="retain_grad")
    assert torch.equal(ns["y"].grad.cpu(), V)
    dy_dx1 = jacrev(g)(torch.tensor(2.0), torch.tensor(3.0))
    assert torch.equal(ns["x1"].grad.cpu(), (V[0] @ dy_dx1).reshape(1))
    assert torch.equal(ns["x"].grad.cpu(), V @ J)
    assert ns["caught"] == [] and "warnings: 0" in out["retain_grad"]


def test_clipping_hook_on_y_gives_clamped_v_times_J(device):
    ns, out = run_cells("hooks", device, until="clip")
    clipped = torch.tensor([[0.5, -1.0]])  # clamp of (0.5, -2) to [-1, 1]
    assert torch.equal(ns["y"].grad.cpu(), clipped)  # retain_grad stores the hook's result
    assert torch.equal(ns["x"].grad.cpu(), clipped @ J)
    assert torch.equal(ns["x"].grad.cpu(), torch.tensor([[0.0, -4.5]]))  # 0.5·(4, 3) − (2, 6)
    assert not torch.equal(ns["x"].grad.cpu(), V @ J)
    assert "by hand, (0.5, -1) @ J = tensor([[ 0.0000, -4.5000]])" in without_device(out["clip"])


def test_removing_the_clipping_hook_restores_v_times_J(device):
    ns, _ = run_cells("hooks", device)
    assert torch.equal(ns["y"].grad.cpu(), V)
    assert torch.equal(ns["x"].grad.cpu(), V @ J)


@pytest.fixture(scope="module")
def graph(device):
    ns, _ = run_cells("hooks", device, until="setup")
    return ns["x"], ns["y"]


weights = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, width=32)


@settings(max_examples=100, deadline=None)
@given(v1=weights, v2=weights)
def test_hook_on_y_sees_v_and_clipping_it_gives_clamped_v_times_J(graph, v1, v2):
    x, y = graph
    v = torch.tensor([[v1, v2]], device=y.device)
    seen = []
    handles = [y.register_hook(seen.append), y.register_hook(lambda grad: grad.clamp(-1, 1))]
    x.register_hook(seen.append).remove()  # a removed hook sees nothing
    x.grad = None
    y.backward(v, retain_graph=True)
    for handle in handles:
        handle.remove()
    assert len(seen) == 1 and torch.equal(seen[0], v)
    assert torch.allclose(x.grad.cpu(), v.cpu().clamp(-1, 1) @ J)


@settings(max_examples=50, deadline=None)
@given(
    shape=st.lists(st.integers(1, 4), min_size=0, max_size=3),
    seed=st.integers(0, 2**16),
)
def test_hooks_and_retain_grad_on_any_shape(device, shape, seed):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=generator).to(device).requires_grad_()
    v = torch.randn(shape, generator=generator).to(device)
    h = x**2  # dh/dx = diag(2x)
    y = 3 * h  # dy/dh = 3 I
    seen = {}
    y.register_hook(lambda grad: seen.setdefault("y", grad))
    h.register_hook(lambda grad: seen.setdefault("h", grad))
    h.retain_grad()
    y.backward(v)
    assert torch.equal(seen["y"], v)
    assert torch.allclose(seen["h"], 3 * v) and torch.allclose(h.grad, 3 * v)
    assert torch.allclose(x.grad, 6 * x.detach() * v)
