import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import hand_jacobian, run_cells, without_device

J = hand_jacobian(2.0, 3.0)  # [[4, 3], [2, 6]]


def test_backward_without_gradient_on_non_scalar_raises(device):
    ns, out = run_cells("weighted_backward", device)
    with pytest.raises(RuntimeError, match="^grad can be implicitly created only for scalar outputs$"):
        ns["y"].backward()
    assert out["non_scalar_backward"] == (
        "RuntimeError: grad can be implicitly created only for scalar outputs\n"
    )


def test_gradient_of_wrong_shape_raises(device):
    ns, out = run_cells("weighted_backward", device)
    message = (
        r"Mismatch in shape: grad_output\[0\] has a shape of torch.Size\(\[2\]\) "
        r"and output\[0\] has a shape of torch.Size\(\[1, 2\]\)"
    )
    with pytest.raises(RuntimeError, match=message):
        ns["y"].backward(torch.tensor([1.0, 0.0]), retain_graph=True)
    assert out["shape_mismatch"].startswith("RuntimeError: Mismatch in shape: grad_output[0]")


def test_each_weight_gives_v_times_J(device):
    ns, out = run_cells("weighted_backward", device, until="weighted")
    # the last v of the loop is [0.5, -2]: 0.5·[4, 3] − 2·[2, 6]
    assert torch.equal(ns["x"].grad.cpu(), torch.tensor([[-2.0, -10.5]]))
    assert out["weighted"].count("-> x.grad =") == 4


def test_scalar_equivalent_matches_v_times_J(device):
    ns, _ = run_cells("weighted_backward", device, until="scalar_equivalent")
    assert torch.allclose(ns["x"].grad.cpu(), ns["v"].cpu() @ J)


@pytest.fixture(scope="module")
def graph(device):
    ns, _ = run_cells("weighted_backward", device)
    return ns["x"], ns["y"]


weights = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, width=32)


@settings(max_examples=200, deadline=None)
@given(v1=weights, v2=weights)
def test_backward_with_v_equals_v_times_J(graph, v1, v2):
    x, y = graph
    v = torch.tensor([[v1, v2]], device=y.device)
    x.grad = None
    y.backward(v, retain_graph=True)
    assert torch.allclose(x.grad.cpu(), v.cpu() @ J, rtol=1e-6, atol=1e-3)


def test_complex_grad_is_conjugated(device):
    ns, out = run_cells("weighted_backward", device)
    # v·conj(dw/dz) with w = z², z = 1 + 2j, v = 1j: 1j·(2 − 4j) = 4 + 2j, by hand
    assert ns["z"].grad.item() == 4 + 2j
    # Independently, with real leaves: z = a + ib, w = (a² − b²) + i·2ab, and
    # z.grad = ∂L/∂a + i·∂L/∂b for the real L = Re(conj(v)·w) = Im(w) when v = 1j
    a = torch.tensor(1.0, requires_grad=True)
    b = torch.tensor(2.0, requires_grad=True)
    (2 * a * b).backward()
    assert ns["z"].grad.item() == complex(a.grad.item(), b.grad.item())
    assert ns["z"].grad.item() != 1j * 2 * (1 + 2j)  # not v·dw/dz
    assert without_device(out["complex_grad"]) == (
        "z.grad = tensor(4.+2.j)\n"
        "v * conj(2z) = tensor(4.+2.j)\n"
        "v * 2z = tensor(-4.+2.j)\n"
    )


def test_explorer_grid_holds_the_hand_derived_jacobian_at_every_point(device):
    ns, out = run_cells("weighted_backward", device, until="explorer_grid")
    explorer = ns["explorer"]
    grid = explorer["grid"]
    assert grid == [k / 2 for k in range(-6, 7)]  # -3, -2.5, ..., 3
    assert len(explorer["J"]) == 13 and all(len(row) == 13 for row in explorer["J"])
    for i, x1 in enumerate(grid):
        for j, x2 in enumerate(grid):
            assert explorer["J"][i][j] == hand_jacobian(x1, x2).tolist(), (x1, x2)
    assert explorer["device"] == torch.device(device).type
    assert all(type(value) is float for row in explorer["J"][0][0] for value in row)
    assert out["explorer_grid"] == (
        "grid: -3.0 to 3.0 in steps of 0.5\n"
        "points: 13 x 13\n"
        "J at x = (2, 3): [[4.0, 3.0], [2.0, 6.0]]\n"
    )
