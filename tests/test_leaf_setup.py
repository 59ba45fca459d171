import pytest
import torch

from conftest import cpu, run_cells


def test_x_is_a_leaf_that_requires_grad(device):
    ns, out = run_cells("leaf_setup", device, until="leaf")
    x = ns["x"]
    assert x.is_leaf and x.requires_grad and x.grad_fn is None and x.grad is None
    assert x.device.type == device
    assert "x.is_leaf: True\nx.requires_grad: True\nx.grad_fn: None\nx.grad: None\n" in out["leaf"]


def test_y_is_a_non_scalar_non_leaf(device):
    ns, out = run_cells("leaf_setup", device, until="shapes")
    y = ns["y"]
    assert not y.is_leaf and y.requires_grad
    assert y.grad_fn.name() == "StackBackward0"
    assert y.shape == (1, 2) and y.numel() == 2
    # y1 = 2² + 3·3 = 13, y2 = 3² + 2·2 = 13
    assert torch.equal(y.detach().cpu(), torch.tensor([[13.0, 13.0]]))
    assert "y.grad_fn: StackBackward0\n" in out["output"]


def test_article_leaf_is_1x1_and_indexing_it_raises():
    ns, out = run_cells("leaf_setup")
    assert ns["broken"].shape == (1, 1)
    with pytest.raises(IndexError, match="index 1 is out of bounds for dimension 1 with size 1"):
        ns["broken"][0, 1]
    assert out["article_leaf"] == "IndexError: index 1 is out of bounds for dimension 1 with size 1\n"


def test_per_sample_loss_is_a_vector_and_the_default_loss_a_scalar(device):
    ns, out = run_cells("leaf_setup", device, until="vector_loss")
    X, targets, w = cpu(ns, "X", "targets", "w")
    residual = X @ w - targets  # X @ w = (-0.5, 0.75, -1, 1), by hand
    assert torch.equal(residual**2, torch.tensor([2.25, 0.5625, 9.0, 4.0]))
    assert ns["loss"].shape == (4,) and ns["loss_mean"].shape == ()
    assert not ns["loss"].is_leaf and ns["loss"].requires_grad
    assert torch.equal(ns["loss"].detach().cpu(), residual**2)
    assert torch.allclose(ns["loss_mean"].detach().cpu(), (residual**2).mean())
    assert "| shape: ()\n" in out["vector_loss"] and "| shape: (4,)\n" in out["vector_loss"]


def test_stacked_replica_losses_are_one_mean_per_chunk(device):
    ns, out = run_cells("leaf_setup", device, until="data_parallel_loss")
    gathered = ns["gathered"]
    assert gathered.shape == (2,) and gathered.grad_fn.name() == "StackBackward0"
    # per-sample losses (2.25, 0.5625 | 9, 4): one mean per GPU's chunk of 2
    assert torch.equal(gathered.detach().cpu(), torch.tensor([(2.25 + 0.5625) / 2, (9.0 + 4.0) / 2]))
    assert "| shape: (2,)\n" in out["data_parallel_loss"]


def test_dataparallel_docs_still_say_a_scalar_comes_back_as_a_vector():
    doc = " ".join(torch.nn.DataParallel.__doc__.split())
    assert (
        "When :attr:`module` returns a scalar (i.e., 0-dimensional tensor) in :func:`forward`, "
        "this wrapper will return a vector of length equal to number of devices used in data "
        "parallelism, containing the result from each device."
    ) in doc
