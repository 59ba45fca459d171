import pytest
import torch
from torch.func import jacrev, vmap

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


def with_row(xs, c, x):
    """The batch xs with sample c replaced by x."""
    return torch.cat([xs[:c], x[None], xs[c + 1 :]])


def test_vmap_over_training_batchnorm_raises(device):
    ns, out = run_cells("per_sample", device, until="batchnorm_setup")
    model, xs = ns["model"], ns["xs"]
    assert model.training and model[1].track_running_stats
    with pytest.raises(RuntimeError, match="mutate a captured Tensor"):
        vmap(jacrev(ns["one_sample"](model)))(xs)
    _, out = run_cells("per_sample", device)
    assert out["batchnorm_vmap"].startswith("RuntimeError: ")
    assert "mutate a captured Tensor" in out["batchnorm_vmap"]


def test_batchnorm_without_running_stats_still_cannot_take_one_sample(device):
    ns, out = run_cells("per_sample", device, until="batchnorm_setup")
    model = torch.func.replace_all_batch_norm_modules_(ns["model"])
    assert not model[1].track_running_stats and model[1].running_mean is None
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        vmap(jacrev(ns["one_sample"](model)))(ns["xs"])
    _, out = run_cells("per_sample", device)
    assert "ValueError: Expected more than 1 value per channel when training" in out["batchnorm_batch_of_one"]


def test_diagonal_blocks_with_batchnorm_match_each_sample_moved_alone(device):
    ns, out = run_cells("per_sample", device)
    model, xs, J_bn = ns["model"], ns["xs"], ns["J_bn"]
    assert J_bn.shape == (5, 3, 5, 4)
    for b in range(5):
        for c in range(5):
            # y_b against x_c, the other samples held fixed: one jacrev per block
            block = jacrev(lambda x: model(with_row(xs, c, x))[b])(xs[c])
            assert torch.allclose(J_bn[b, :, c, :], block, atol=1e-6)
            if b == c:
                assert torch.allclose(ns["blocks_bn"][b], block, atol=1e-6)
            else:
                assert block.abs().max() > 1e-3  # the samples interact
    assert "nonzero entries off the blocks: 240" in out["batchnorm_whole_batch"]


def test_sum_trick_with_batchnorm_adds_the_off_diagonal_blocks(device):
    ns, out = run_cells("per_sample", device)
    J_bn, J_sum_bn = ns["J_bn"], ns["J_sum_bn"]
    column_sums = J_bn.sum(dim=0).permute(1, 0, 2)  # sum_b dy_b/dx_c, (5, 3, 4)
    assert torch.allclose(J_sum_bn, column_sums, atol=1e-6)
    assert not torch.allclose(J_sum_bn, ns["blocks_bn"], atol=1e-3)
    assert "torch.allclose(J_sum_bn, blocks_bn): False" in out["batchnorm_whole_batch"]


def test_eval_mode_per_sample_jacobians_equal_a_loop_and_the_hand_derived_ones(device):
    ns, out = run_cells("per_sample", device)
    model, xs, J_eval = ns["model_eval"], ns["xs"], ns["J_eval"]
    assert not model.training
    linear, bn = model[0], model[1]
    assert bn.num_batches_tracked.item() == 1  # one training-mode step, then eval
    loop = torch.stack([jacrev(lambda x: model(x[None])[0])(x) for x in xs])
    assert torch.allclose(J_eval, loop, atol=1e-6)
    # tanh(a (W x + c) + d): J = diag(1 - y²) diag(a) W, a = gamma / sqrt(running_var + eps)
    a = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    for b in range(5):
        y = model(xs[b : b + 1])[0]
        by_hand_b = ((1 - y**2) * a)[:, None] * linear.weight
        assert torch.allclose(J_eval[b], by_hand_b, atol=1e-6)
    assert torch.allclose(ns["J_sum_eval"], J_eval, atol=1e-6)
    assert "torch.allclose(J_eval, J_loop): True" in out["batchnorm_eval"]
    assert "torch.allclose(J_eval, J_sum_eval): True" in out["batchnorm_eval"]
