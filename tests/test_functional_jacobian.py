import pytest
import torch
from torch.autograd.functional import jacobian

from conftest import hand_jacobian, run_cells

J = hand_jacobian(2.0, 3.0)


def test_every_strategy_gives_the_hand_derived_jacobian(device):
    ns, out = run_cells("functional_jacobian", device)
    assert ns["J"].shape == (1, 2, 1, 2)  # y.shape + x.shape
    for key in ("J", "J_vectorized", "J_forward"):
        assert torch.equal(ns[key].cpu().reshape(2, 2), J), key


def test_forward_mode_without_vectorize_raises(device):
    ns, out = run_cells("functional_jacobian", device)
    with pytest.raises(NotImplementedError, match="only implemented for `vectorize=True`"):
        jacobian(ns["f"], ns["x"], strategy="forward-mode")
    assert out["forward_mode_needs_vectorize"].startswith("NotImplementedError: Computing Jacobian")


def test_several_inputs_give_the_columns(device):
    ns, _ = run_cells("functional_jacobian", device)
    assert torch.equal(ns["J_a"].cpu().flatten(), J[:, 0])  # d/da of (a² + 3b, b² + 2a)
    assert torch.equal(ns["J_b"].cpu().flatten(), J[:, 1])


def test_prototype_vmap_cannot_fall_back_for_flatten_in_forward_mode(device):
    ns, out = run_cells("functional_jacobian", device)
    pool_J = torch.tensor([[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]])  # 1 at each pair's max
    assert torch.equal(ns["J_pool"].cpu().reshape(2, 4), pool_J)
    with pytest.raises(RuntimeError, match="fallback path doesn't work on out= or view ops"):
        jacobian(ns["pool"], ns["x4"], vectorize=True, strategy="forward-mode")
    assert out["forward_mode_no_fallback"].endswith(
        "RuntimeError: Batching rule not implemented for aten::flatten.using_ints;"
        " the fallback path doesn't work on out= or view ops.\n"
    )
