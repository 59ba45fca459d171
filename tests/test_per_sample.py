import torch

from conftest import run_cells


def by_hand(W, x):
    """d tanh(W x) / dx = diag(1 - tanh(W x)²) W."""
    return (1 - torch.tanh(W @ x) ** 2)[:, None] * W


def test_vmap_jacrev_gives_one_jacobian_per_sample(device):
    ns, _ = run_cells("per_sample", device)
    W, xs = ns["W"].cpu(), ns["xs"].cpu()
    assert ns["J"].shape == (5, 3, 4)
    for b in range(5):
        assert torch.allclose(ns["J"][b].cpu(), by_hand(W, xs[b]), atol=1e-6)


def test_whole_batch_jacobian_is_zero_off_the_blocks(device):
    ns, out = run_cells("per_sample", device)
    assert ns["J_whole"].shape == (5, 3, 5, 4)
    assert torch.allclose(ns["blocks"], ns["J"])
    assert "nonzero entries off the blocks: 0" in out["whole_batch"]


def test_sum_trick_gives_the_same_blocks(device):
    ns, _ = run_cells("per_sample", device)
    assert torch.allclose(ns["J_sum"].permute(1, 0, 2), ns["J"])
