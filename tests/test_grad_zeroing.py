import pytest
import torch

from conftest import hand_jacobian, run_cells, without_device

ROW_0 = hand_jacobian(2.0, 3.0)[:1]  # v = [1, 0] picks row 0: [[4, 3]]


def grad_after(cell, device):
    ns, _ = run_cells("grad_zeroing", device, until=cell)
    return ns["x"].grad


def test_two_backward_calls_double_the_gradient(device):
    assert torch.equal(grad_after("accumulate", device).cpu(), 2 * ROW_0)


def test_zero_in_place_resets_before_the_next_backward(device):
    ns, out = run_cells("grad_zeroing", device, until="zero_in_place")
    assert torch.equal(ns["x"].grad.cpu(), ROW_0)  # zeroed, then one backward: not 3 * ROW_0
    assert without_device(out["zero_in_place"]).startswith("x.grad = tensor([[0., 0.]])\n")


def test_set_to_none_drops_the_tensor(device):
    assert grad_after("set_to_none", device) is None


def test_zero_in_place_on_none_raises(device):
    ns, out = run_cells("grad_zeroing", device, until="zero_none")
    with pytest.raises(AttributeError, match="'NoneType' object has no attribute 'zero_'"):
        ns["x"].grad.zero_()
    assert out["zero_none"] == "AttributeError: 'NoneType' object has no attribute 'zero_'\n"


def test_optimizer_zero_grad_sets_none(device):
    assert grad_after("zero_grad", device) is None


def test_zeros_like_gives_zeros_of_the_same_shape(device):
    grad = grad_after("zeros_like", device)
    assert torch.equal(grad.cpu(), torch.zeros(1, 2))


def test_second_backward_without_retain_graph_raises(device):
    ns, out = run_cells("grad_zeroing", device, until="last_backward")
    assert torch.equal(ns["x"].grad.cpu(), ROW_0)
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        ns["y"].backward(ns["v"])
    _, out = run_cells("grad_zeroing", device)
    assert out["second_backward"].startswith(
        "RuntimeError: Trying to backward through the graph a second time"
    )
