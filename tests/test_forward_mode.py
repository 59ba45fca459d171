import torch

from conftest import hand_jacobian, run_cells

J = hand_jacobian(2.0, 3.0)


def test_one_dual_pass_gives_J_u(device):
    ns, _ = run_cells("forward_mode", device, until="dual")
    assert torch.equal(ns["Ju"].cpu(), J @ ns["u"].cpu())
    assert torch.equal(ns["y"].cpu(), torch.tensor([13.0, 13.0]))


def test_columns_build_the_jacobian(device):
    ns, _ = run_cells("forward_mode", device)
    assert torch.equal(ns["J"].cpu(), J)
    assert torch.equal(ns["jacobian_forward_columns"](ns["f"], ns["x"]).cpu(), J)
