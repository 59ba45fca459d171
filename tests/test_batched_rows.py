import torch

from conftest import hand_jacobian, run_cells

J = hand_jacobian(2.0, 3.0)


def test_one_batched_call_gives_every_row(device):
    ns, out = run_cells("batched_rows", device)
    assert ns["V"].shape == (2, 1, 2)
    assert ns["rows"].shape == (2, 1, 2)
    assert torch.equal(ns["J"].cpu(), J)
    assert torch.equal(ns["J_loop"].cpu(), J)
    assert torch.equal(ns["jacobian_batched_rows"](ns["f"], ns["x"]).cpu(), J)


def test_autograd_grad_leaves_x_grad_alone(device):
    ns, out = run_cells("batched_rows", device)
    assert ns["x"].grad is None
    assert "x.grad: None\n" in out["batched"]


def test_any_batch_of_weights_gives_w_times_J(device):
    ns, _ = run_cells("batched_rows", device)
    W = ns["W"].cpu().reshape(2, 2)
    assert torch.allclose(ns["WJ"].cpu().reshape(2, 2), W @ J)


def test_prototype_vmap_falls_back_for_tanh_backward(device):
    ns, out = run_cells("batched_rows", device)
    assert ns["caught"]
    assert all("batching rule for aten::tanh_backward." in str(w.message) for w in ns["caught"])
    assert "UserWarning | no batching rule for aten::tanh_backward\n" in out["fallback"]
    t = ns["t"].detach().cpu()
    assert torch.allclose(ns["J_tanh"].cpu(), torch.func.jacrev(torch.tanh)(t))
    assert not torch._C._debug_only_are_vmap_fallback_warnings_enabled()
