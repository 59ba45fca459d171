import math

import torch
from torch.func import jacrev

from conftest import run_cells

X1, X2 = 2.0, 3.0
H = torch.tensor([[2 * X2, 2 * X1], [2 * X1, -math.sin(X2)]])  # by hand


def test_hessian_matches_reverse_over_reverse_and_hand_derived(device):
    ns, out = run_cells("hessian", device)
    assert torch.allclose(ns["H"].cpu(), H)
    assert torch.allclose(ns["H_by_hand"].cpu(), H)
    assert torch.allclose(ns["H_rr"].cpu(), H)
    # H_rr is reverse over reverse, not hessian's own jacfwd(jacrev) again
    assert torch.allclose(jacrev(jacrev(ns["loss"]))(ns["x"]).cpu(), H)
    assert "torch.allclose(H, H_by_hand): True" in out["hessian"]
    assert "torch.allclose(H, H_rr): True" in out["reverse_over_reverse"]


def test_hvp_without_forming_H(device):
    ns, _ = run_cells("hessian", device)
    v = ns["v"].cpu()
    assert torch.allclose(ns["Hv"].cpu(), H @ v)
    assert torch.allclose(ns["Hv_backward"].cpu(), H @ v)


def test_only_create_graph_gives_a_gradient_that_can_be_differentiated(device):
    ns, out = run_cells("hessian", device)
    assert ns["g"].grad_fn is not None
    assert ns["g_plain"].grad_fn is None
    assert "g.requires_grad: True | g_plain.requires_grad: False" in out["hvp_with_backward"]


def test_large_hvp_matches_the_analytic_diagonal(device):
    ns, out = run_cells("hessian", device)
    x, v = ns["x_big"].cpu(), ns["v_big"].cpu()
    assert torch.allclose(ns["Hv_big"].cpu(), 12 * x**2 * v)
    assert "H: 1.5 GiB; H v: 78 KiB" in out["memory"]
