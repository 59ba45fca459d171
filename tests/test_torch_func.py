import torch

from conftest import hand_jacobian, run_cells

J = hand_jacobian(2.0, 3.0)


def test_vjp_gives_a_row_and_jvp_a_column(device):
    ns, _ = run_cells("torch_func", device)
    assert torch.equal(ns["row_0"].cpu(), J[0])
    assert torch.equal(ns["column_0"].cpu(), J[:, 0])


def test_vmapped_vjps_are_rows_and_vmapped_jvps_are_columns(device):
    ns, _ = run_cells("torch_func", device)
    assert torch.equal(ns["J_rows"].cpu(), J)
    assert torch.equal(ns["J_columns"].cpu(), J.T)


def test_jacrev_in_chunks_gives_the_same_jacobian(device):
    ns, _ = run_cells("torch_func", device)
    assert torch.equal(ns["J_chunked"].cpu(), J)


def test_jacrev_and_jacfwd_agree_on_every_shape(device):
    _, out = run_cells("torch_func", device)
    lines = out["shapes"].splitlines()
    assert len(lines) == 3 and all(line.endswith("allclose: True") for line in lines)
    assert "J.shape = (256, 4), VJPs = 256, JVPs =   4" in out["shapes"]
