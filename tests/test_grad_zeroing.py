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


def test_optimizer_skips_none_grad_but_moves_zero_grad(device):
    ns, out = run_cells("grad_zeroing", device, until="none_vs_zero")
    a, b, sgd = ns["a"], ns["b"], ns["sgd"]
    # SGD with momentum 0.9, lr 0.1, by hand: step 1, grad 1: buf = 1, p = 1 − 0.1 = 0.9;
    # step 2: a (grad None) is skipped; b (grad 0): buf = 0.9·1 + 0, p = 0.9 − 0.1·0.9 = 0.81
    assert torch.allclose(a.detach().cpu(), torch.tensor(0.9))
    assert torch.allclose(b.detach().cpu(), torch.tensor(0.81))
    assert torch.allclose(sgd.state[a]["momentum_buffer"].cpu(), torch.tensor(1.0))
    assert torch.allclose(sgd.state[b]["momentum_buffer"].cpu(), torch.tensor(0.9))
    assert without_device(out["none_vs_zero"]).endswith(
        "after step 2: a = tensor(0.9000) | b = tensor(0.8100)\n"
    )


def test_graph_without_saved_tensors_runs_backward_twice(device):
    ns, out = run_cells("grad_zeroing", device, until="nothing_saved")
    assert without_device(out["nothing_saved"]) == (
        "AddBackward0 twice -> w.grad = tensor([2., 2.])\n"
        "SumBackward0 twice -> w.grad = tensor([2., 2.])\n"
    )
    w = torch.tensor([2.0, 3.0], requires_grad=True)
    y = torch.stack([w[0] + 1, w.sum()])  # AddBackward0, SumBackward0: nothing saved
    y.backward(torch.ones(2))
    y.backward(torch.ones(2))
    assert torch.equal(w.grad, torch.tensor([4.0, 2.0]))


def test_multiplying_by_a_python_number_saves_it_and_frees_it(device):
    ns, out = run_cells("grad_zeroing", device, until="saved_factor")
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        ns["out"].backward(torch.ones_like(ns["out"]))
    assert out["saved_factor"].startswith(
        "saved: tensor(3)\nRuntimeError: Trying to backward through the graph a second time"
    )
    assert torch.equal(ns["w"].grad.cpu(), torch.tensor([3.0, 3.0]))  # one backward only


def test_create_graph_retains_the_graph_by_default(device):
    torch.set_warn_always(True)  # torch gives this warning once per process
    try:
        ns, out = run_cells("grad_zeroing", device)
    finally:
        torch.set_warn_always(False)
    assert ns["w"].grad is None
    assert without_device(out["create_graph"]) == (
        "UserWarning: Using backward() with create_graph=True will create a reference cycle "
        "between the parameter and its gradient which can cause a memory leak.\n"
        "w.grad = tensor([ 8., 12.])\n"  # 2w, twice, at w = (2, 3)
    )
