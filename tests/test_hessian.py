import math

import torch

from conftest import run_cells

X1, X2 = 2.0, 3.0
H = torch.tensor([[2 * X2, 2 * X1], [2 * X1, -math.sin(X2)]])  # by hand


def test_hessian_and_forward_over_reverse_equal_the_hand_derived_one(device):
    ns, _ = run_cells("hessian", device)
    assert torch.allclose(ns["H"].cpu(), H)
    assert torch.allclose(ns["H_fr"].cpu(), H)


def test_hvp_without_forming_H(device):
    ns, _ = run_cells("hessian", device)
    v = ns["v"].cpu()
    assert torch.allclose(ns["Hv"].cpu(), H @ v)
    assert torch.allclose(ns["Hv_backward"].cpu(), H @ v)


def test_large_hvp_matches_the_analytic_diagonal(device):
    ns, out = run_cells("hessian", device)
    x, v = ns["x_big"].cpu(), ns["v_big"].cpu()
    assert torch.allclose(ns["Hv_big"].cpu(), 12 * x**2 * v)
    assert "H: 1.5 GiB; H v: 78 KiB" in out["memory"]
