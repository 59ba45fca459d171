import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import hand_jacobian, run_cells, without_device


def test_rows_equal_the_hand_derived_jacobian(device):
    ns, _ = run_cells("jacobian_assembly", device, until="rows")
    assert torch.equal(ns["J"].cpu(), torch.tensor([[4.0, 3.0], [2.0, 6.0]]))


def test_rows_equal_jacrev(device):
    ns, out = run_cells("jacobian_assembly", device, until="check")

    def f(x):  # written here, independently of the snippet
        return torch.cat([x[:, :1] ** 2 + 3 * x[:, 1:], x[:, 1:] ** 2 + 2 * x[:, :1]], dim=1)

    expected = torch.func.jacrev(f)(ns["x"].detach()).reshape(2, 2)
    assert torch.allclose(ns["J"], expected)
    assert "torch.equal(J, J_functional): True" in out["check"]
    assert "torch.equal(J, J_jacrev): True" in out["check"]
    assert "J_functional.shape: (1, 2, 1, 2)\nJ_jacrev.shape: (1, 2, 1, 2)\n" in out["check"]


def test_jacrev_refuses_a_complex_input(device):
    _, out = run_cells("jacobian_assembly", device, until="complex_jacrev")
    message = "Expected all inputs to be real"
    with pytest.raises(RuntimeError, match=message):
        torch.func.jacrev(torch.sin)(torch.tensor([1 + 2j]))
    assert out["complex_jacrev"].startswith(f"RuntimeError: jacrev: {message}")


def test_article_code_builds_J_with_copyslices(device):
    ns, out = run_cells("jacobian_assembly", device, until="article_code")
    assert torch.equal(ns["J"].cpu(), hand_jacobian(2.0, 3.0))
    assert type(ns["y"].grad_fn).__name__ == "CopySlices"  # the in-place writes into y
    assert torch.equal(ns["x"].grad.cpu(), hand_jacobian(2.0, 3.0)[1:])  # row 1 only: zeroed
    assert without_device(out["article_code"]).startswith(
        "tensor([[4., 3.],\n        [2., 6.]])\ny.grad_fn: "
    )
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        ns["y"].backward(torch.ones_like(ns["y"]))  # the article's last call freed it


def test_backward_with_e1_gives_the_row_not_J_times_e1(device):
    ns, out = run_cells("jacobian_assembly", device)
    row, column = torch.tensor([4.0, 3.0]), torch.tensor([4.0, 2.0])  # by hand
    assert torch.equal((ns["J"].T @ ns["e1"]).cpu(), row)
    assert torch.equal((ns["J"] @ ns["e1"]).cpu(), column)
    assert without_device(out["article_jv"]) == (
        "J.T @ e1 = tensor([4., 3.])\nJ @ e1 = tensor([4., 2.])\n"
    )


coordinate = st.floats(min_value=-100, max_value=100, allow_nan=False, width=32)


@settings(max_examples=200, deadline=None)
@given(x1=coordinate, x2=coordinate)
def test_row_loop_gives_the_hand_derived_jacobian_anywhere(x1, x2):
    ns, _ = run_cells("jacobian_assembly", until="setup")
    ns["x"] = torch.tensor([[x1, x2]], requires_grad=True)
    ns["y"] = ns["f"](ns["x"])
    run_cells("jacobian_assembly", namespace=ns, only={"rows"})
    assert torch.allclose(ns["J"], hand_jacobian(x1, x2))


def test_legacy_constructor_ignores_the_default_device(device):
    _, out = run_cells("jacobian_assembly", device)
    with torch.device("meta"):
        assert torch.Tensor([[1, 0]]).device.type == "cpu"
        assert torch.zeros(1, 2).device.type == "meta"
    assert out["legacy_constructor"] == (
        "torch.tensor(...).device: meta\n"
        "torch.Tensor(...).device: cpu\n"
        "RuntimeError: invalid gradient at index 0 - expected device meta but got cpu\n"
    )
