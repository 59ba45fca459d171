import pytest
import torch

from conftest import run_cells


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
