import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import hand_jacobian, run_cells


def test_rows_equal_the_hand_derived_jacobian(device):
    ns, _ = run_cells("jacobian_assembly", device)
    assert torch.equal(ns["J"].cpu(), torch.tensor([[4.0, 3.0], [2.0, 6.0]]))


def test_rows_equal_jacrev(device):
    ns, out = run_cells("jacobian_assembly", device)

    def f(x):  # written here, independently of the snippet
        return torch.cat([x[:, :1] ** 2 + 3 * x[:, 1:], x[:, 1:] ** 2 + 2 * x[:, :1]], dim=1)

    expected = torch.func.jacrev(f)(ns["x"].detach()).reshape(2, 2)
    assert torch.allclose(ns["J"], expected)
    assert "torch.equal(J, J_functional): True" in out["check"]
    assert "torch.equal(J, J_jacrev): True" in out["check"]


coordinate = st.floats(min_value=-100, max_value=100, allow_nan=False, width=32)


@settings(max_examples=200, deadline=None)
@given(x1=coordinate, x2=coordinate)
def test_row_loop_gives_the_hand_derived_jacobian_anywhere(x1, x2):
    ns, _ = run_cells("jacobian_assembly", until="setup")
    ns["x"] = torch.tensor([[x1, x2]], requires_grad=True)
    ns["y"] = ns["f"](ns["x"])
    run_cells("jacobian_assembly", namespace=ns, only={"rows"})
    assert torch.allclose(ns["J"], hand_jacobian(x1, x2))
