"""Each pitfall cell raises what it claims, with torch's live message, and its fix works."""

import contextlib
import io
import re

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.func import grad, vmap

from conftest import CUDA, SNIPPETS_DIR, cpu, hand_jacobian, run_cells, without_device

IN_PLACE = "one of the variables needed for gradient computation has been modified by an inplace operation"
ERRORS = {  # cell -> (exception, start of torch's message)
    "non_scalar": (RuntimeError, "grad can be implicitly created only for scalar outputs"),
    "vector_loss": (RuntimeError, "grad can be implicitly created only for scalar outputs"),
    "shape_mismatch": (RuntimeError, "Mismatch in shape: grad_output[0] has a shape of torch.Size([2])"),
    "second_backward": (RuntimeError, "Trying to backward through the graph a second time"),
    "moved_leaf_retain_grad": (ValueError, "can't optimize a non-leaf Tensor"),
    "in_place_leaf": (RuntimeError, "a leaf Variable that requires grad is being used in an in-place operation."),
    "in_place_leaf_index": (RuntimeError, "a view of a leaf Variable that requires grad is being used in an in-place"),
    "version_counter": (RuntimeError, IN_PLACE),
    "relu_inplace": (RuntimeError, IN_PLACE),
    "add_inplace": (RuntimeError, IN_PLACE),
    "anomaly": (RuntimeError, IN_PLACE),
    "no_grad_fn": (RuntimeError, "element 0 of tensors does not require grad and does not have a grad_fn"),
    "no_grad_fn_under_no_grad": (RuntimeError, "element 0 of tensors does not require grad"),
    "backward_in_vmap": (RuntimeError, "backward() called inside a functorch transform."),
    "article_leaf": (IndexError, "index 1 is out of bounds for dimension 1 with size 1"),
}


def test_every_error_cell_is_listed_here():
    source = (SNIPPETS_DIR / "pitfalls.py").read_text()
    assert dict(re.findall(r'^# %% (\w+) raises="(\w+)"', source, re.MULTILINE)) == {
        cell: error.__name__ for cell, (error, _) in ERRORS.items()
    }


@pytest.mark.parametrize("cell", ERRORS)
def test_error_cell_prints_the_live_error(device, cell):
    _, out = run_cells("pitfalls", device)
    error, message = ERRORS[cell]
    assert f"{error.__name__}: {message}" in out[cell]


def test_the_errors_are_raised(device):
    ns, _ = run_cells("pitfalls", device, until="setup")
    x, f, y = ns["x"], ns["f"], ns["y"]
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        y.backward()
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        y.backward(torch.ones(2), retain_graph=True)
    z = f(x)
    z.sum().backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        z.sum().backward()
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x -= 1.0
    with pytest.raises(RuntimeError, match="does not require grad and does not have a grad_fn"):
        f(x.detach()).sum().backward()
    with torch.no_grad():
        out = f(x)
    with pytest.raises(RuntimeError, match="does not require grad and does not have a grad_fn"):
        out.sum().backward()
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"backward\(\) called inside a functorch transform"):
        vmap(lambda row: (w * row).sum().backward())(torch.ones(2, 2))
    with pytest.raises(IndexError, match="index 1 is out of bounds"):
        torch.tensor([[2.3]])[0, 1]


def test_fixes(device):
    ns, out = run_cells("pitfalls", device)
    J = hand_jacobian(2.0, 3.0)
    assert "x.grad = tensor([[6., 9.]])" in without_device(out["non_scalar_fix"])  # [1, 1] @ J
    assert "x.grad = tensor([[6., 9.]])" in without_device(out["shape_mismatch_fix"])
    assert "x.grad = tensor([[12., 18.]])" in without_device(out["second_backward_fix"])
    assert "z.grad = tensor([[1., 1.]])" in without_device(out["non_leaf_grad_fix"])
    assert out["non_leaf_grad"].startswith("y.grad: None\nUserWarning: The .grad attribute of a Tensor that is not a leaf")
    assert "Triggered internally" not in out["non_leaf_grad"]  # no path of the machine that built torch
    assert torch.allclose(ns["x"].detach().cpu(), torch.tensor([[2.0, 3.0]]) - 0.1 * torch.ones(1, 2) @ J)
    assert ns["x"].is_leaf and "x.is_leaf: True" in out["in_place_leaf_fix"]
    x1, x2 = ns["x"].detach().cpu()[0]
    rows = hand_jacobian(float(x1), float(x2))
    assert torch.allclose(ns["g"].cpu(), rows.sum(0, keepdim=True))  # summed, silently
    assert torch.allclose(ns["row_0"].cpu(), rows[:1]) and torch.allclose(ns["row_1"].cpu(), rows[1:])
    assert torch.equal(ns["per_row"](ns["w"].detach(), torch.eye(2, device=device)).cpu(), torch.eye(2))


def test_writing_into_a_leaf(device):
    ns, out = run_cells("pitfalls", device, until="in_place_buffer")
    assert without_device(out["in_place_buffer"]).splitlines() == [
        "c.is_leaf: True | c.requires_grad: False",
        "c.is_leaf: False | c.requires_grad: True",
        "c.grad_fn: CopySlices",
        "autograd.grad(c.sum(), x) = tensor([[2., 0.]])",
    ]
    leaf = torch.zeros(2, device=device, requires_grad=True)
    for write in (lambda: leaf.__setitem__(0, 1.0), lambda: leaf[:].add_(1)):
        with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
            write()
    x = torch.tensor([2.0, 3.0], device=device, requires_grad=True)
    c = torch.zeros(2, device=device)
    c[1] = x[0] * x[1]  # not refused: c joins the graph
    assert not c.is_leaf and c.requires_grad and type(c.grad_fn).__name__ == "CopySlices"
    (grad_x,) = torch.autograd.grad(c.sum(), x)
    assert torch.equal(grad_x.cpu(), torch.tensor([3.0, 2.0]))


def test_version_counter_error_gives_both_versions(device):
    _, out = run_cells("pitfalls", device, until="version_counter")
    assert out["version_counter"].startswith("b._version: 0\nb._version: 1\n")
    assert "is at version 1; expected version 0 instead" in out["version_counter"]


def changing_raises(op, changed, device):
    """Our own check: does changing op's input or output in place break backward?"""
    a = torch.tensor([0.5, 2.0], device=device, requires_grad=True)
    h = a.clone()
    result = op(h)
    with torch.no_grad():
        (h if changed == "h" else result).mul_(3)
    try:
        torch.autograd.grad(result.sum(), a)
    except RuntimeError as error:
        assert IN_PLACE in str(error)
        return "RuntimeError"
    return "ok"


def test_saved_tensor_table(device):
    _, out = run_cells("pitfalls", device, until="saved_tensors")
    table = {}
    for line in out["saved_tensors"].splitlines():
        name, node, saved_h, saved_out, h_changed, out_changed = re.fullmatch(
            r"(.+): (\w+) saved h: (\w+), out: (\w+) \| h changed: (\w+), out changed: (\w+)", line
        ).groups()
        table[name] = (node, saved_h, saved_out, h_changed, out_changed)
    assert table == {
        "exp(h)": ("ExpBackward0", "False", "True", "ok", "RuntimeError"),
        "h ** 2": ("PowBackward0", "True", "False", "RuntimeError", "ok"),
        "10 * h": ("MulBackward0", "False", "False", "ok", "ok"),
    }
    ops = {"exp(h)": torch.exp, "h ** 2": torch.square, "10 * h": lambda h: h.mul(10)}
    for name, op in ops.items():
        assert table[name][3:] == (changing_raises(op, "h", device), changing_raises(op, "out", device))


def test_the_culprits_raise(device):
    a = torch.tensor([-1.0, 3.0], device=device, requires_grad=True)
    with pytest.raises(RuntimeError, match=IN_PLACE):
        torch.nn.ReLU(inplace=True)(torch.sigmoid(a)).sum().backward()
    h = a * 2
    out = h * torch.ones(2, device=device, requires_grad=True)
    h += 1
    with pytest.raises(RuntimeError, match=IN_PLACE):
        out.sum().backward()
    torch.nn.ReLU(inplace=True)(a * 2).sum().backward()  # a * 2 saves neither: no error
    assert torch.equal(a.grad.cpu(), torch.tensor([0.0, 2.0]))


def test_anomaly_detection_names_the_operation_and_is_off_again(device):
    _, out = run_cells("pitfalls", device, until="anomaly")
    assert not torch.is_anomaly_enabled()
    lines = out["anomaly"].splitlines()
    assert lines[0].startswith(f"RuntimeError: {IN_PLACE}")
    assert lines[1:] == [
        "anomaly detection on: False",
        "UserWarning: Anomaly Detection has been enabled. "
        "This mode will increase the runtime and should only be enabled for debugging.",
        "UserWarning: Error detected in SigmoidBackward0. Traceback of forward call that caused the error:",
    ]


def test_version_counter_fixes_give_the_out_of_place_gradients(device):
    ns, _ = run_cells("pitfalls", device, until="version_counter_fix")
    a, weight = ns["a"].detach(), ns["weight"].detach()
    s = torch.sigmoid(a)
    assert torch.allclose(ns["grad_relu"], s * (1 - s))  # by hand: relu' = 1 on s > 0
    assert torch.allclose(ns["grad_relu"], grad(lambda a: torch.relu(torch.sigmoid(a)).sum())(a))
    residual = grad(lambda a, w: ((a * 2) * w).sum() + (a * 2 + 1).sum(), argnums=(0, 1))(a, weight)
    for fixed, expected, by_hand in zip(ns["grad_residual"], residual, (2 * weight + 2, 2 * a)):
        assert torch.allclose(fixed, expected) and torch.allclose(fixed, by_hand)
    assert torch.allclose(ns["grad_clone"], torch.exp(a))
    assert torch.allclose(ns["grad_clone"], grad(lambda a: (torch.exp(a) + 1).sum())(a))


# --- A loss per sample, and leaves that stop being leaves -----------------------------


def mse_gradient_by_hand(X, targets, w):
    """d/dw of sum_i (x_i . w - t_i)^2 = sum_i 2 (x_i . w - t_i) x_i."""
    return 2 * (X @ w - targets) @ X


def test_vector_loss_is_one_loss_per_sample_and_backward_refuses_it(device):
    ns, out = run_cells("pitfalls", device, until="vector_loss")
    loss, w = ns["loss"], ns["w"]
    assert loss.shape == (4,) and w.grad is None  # the refused backward wrote nothing
    with pytest.raises(RuntimeError, match="only for scalar outputs"):
        loss.backward()
    assert out["vector_loss"] == "RuntimeError: grad can be implicitly created only for scalar outputs\n"


def test_ones_like_gives_the_sum_which_is_B_times_the_mean(device):
    ns, out = run_cells("pitfalls", device, until="loss_reduction")
    X, targets, w, grad_sum, grad_mean = cpu(ns, "X", "targets", "w", "grad_sum", "grad_mean")
    by_hand = mse_gradient_by_hand(X, targets, w)
    assert torch.equal(by_hand, torch.tensor([11.75, -13.5]))
    assert torch.allclose(grad_sum, by_hand) and torch.allclose(grad_mean, by_hand / 4)
    lines = without_device(out["loss_reduction"]).splitlines()
    assert lines[-1] == "ratio = tensor([4., 4.]) | B = 4"


@settings(max_examples=50, deadline=None)
@given(B=st.integers(1, 32), seed=st.integers(0, 2**16))
def test_the_ratio_is_the_batch_size_for_any_batch(device, B, seed):
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(B, 2, generator=generator).to(device)
    targets = torch.randn(B, generator=generator).to(device)
    w = torch.randn(2, generator=generator).to(device).requires_grad_()
    mse_per_sample = torch.nn.MSELoss(reduction="none")
    namespace = {"torch": torch, "targets": targets, "w": w, "loss": mse_per_sample(X @ w, targets)}
    with contextlib.redirect_stdout(io.StringIO()):
        run_cells("pitfalls", device, namespace=namespace, only={"loss_reduction"})
    grad_sum, grad_mean = namespace["grad_sum"].cpu(), namespace["grad_mean"].cpu()
    by_hand = mse_gradient_by_hand(X.cpu(), targets.cpu(), w.detach().cpu())
    assert namespace["B"] == B
    assert torch.allclose(grad_sum, by_hand, rtol=1e-4, atol=1e-4)
    assert torch.allclose(grad_sum, B * grad_mean, rtol=1e-5, atol=1e-5)


def test_a_moved_copy_is_a_non_leaf_without_grad(device):
    ns, out = run_cells("pitfalls", device, until="moved_leaf")
    for name in ("w64", "u64"):
        moved = ns[name]
        assert not moved.is_leaf and moved.dtype == torch.float64 and moved.device.type == device
        assert moved.grad_fn.name() == "ToCopyBackward0"
    with pytest.warns(UserWarning, match="that is not a leaf Tensor is being accessed"):
        assert ns["w64"].grad is None  # backward ran, and went past it
    assert ns["same"].is_leaf and ns["same"].grad_fn is None  # no change of dtype: no copy
    assert without_device(out["moved_leaf"]).splitlines() == [
        "w64.is_leaf: False | w64.grad_fn: ToCopyBackward0",
        "u64.is_leaf: False | u64.grad_fn: ToCopyBackward0",
        "same.is_leaf: True | same.grad_fn: None",
        "w64.grad: None",
        "UserWarning: The .grad attribute of a Tensor that is not a leaf Tensor is being accessed.",
    ]


def test_a_leaf_made_in_place_or_after_the_move_gets_the_gradient(device):
    ns, out = run_cells("pitfalls", device, until="moved_leaf_fix")
    for name in ("w64", "u64"):
        fixed = ns[name]
        assert fixed.is_leaf and fixed.dtype == torch.float64 and fixed.device.type == device
        assert torch.equal(fixed.grad.cpu(), 2 * fixed.detach().cpu())  # d/dw sum(w^2) = 2w
    assert "w64.is_leaf: True | w64.grad: tensor([ 2., -4.], dtype=torch.float64)" in without_device(
        out["moved_leaf_fix"]
    )
    layer, weight = ns["layer"], ns["weight"]
    assert layer.weight is weight and weight.is_leaf and weight.dtype == torch.float64
    assert out["moved_leaf_fix"].endswith(
        "layer.weight.is_leaf: True | dtype: torch.float64 | the same Parameter: True\n"
    )


def test_retain_grad_lets_sgd_step_the_copy_while_the_leaf_piles_up_gradients(device):
    ns, out = run_cells("pitfalls", device, until="moved_leaf_retain_grad")
    w, w64 = ns["w"], ns["w64"]
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        torch.optim.SGD([w.double()], lr=0.1)
    start = torch.tensor([1.0, -2.0], dtype=torch.float64)
    steps = [start * 0.8 ** (k + 1) for k in range(3)]  # w <- w - 0.1 * 2w, by hand
    assert torch.allclose(w64.detach().cpu(), steps[-1]) and not w64.is_leaf
    assert torch.equal(w.detach().cpu(), start.float())  # the leaf itself never moved
    # w.grad sums every step's gradient 2 * w64: 2 (1 + 0.8 + 0.64) w_0
    assert torch.allclose(w.grad.cpu(), 2 * (start + steps[0] + steps[1]).float())
    lines = without_device(out["moved_leaf_retain_grad"]).splitlines()
    assert lines[0] == "ValueError: can't optimize a non-leaf Tensor"
    assert lines[-2] == "w64 = tensor([ 0.5120, -1.0240], dtype=torch.float64) | w.grad = tensor([ 4.8800, -9.7600])"
    assert lines[-1] == "w = tensor([ 1., -2.])"


@pytest.mark.parametrize("device", [CUDA])
def test_cuda_after_requires_grad_is_a_non_leaf(device):
    moved = torch.ones(2, requires_grad=True).cuda()
    assert not moved.is_leaf and moved.grad_fn.name() == "ToCopyBackward0"
    on_device = torch.ones(2, device=device, requires_grad=True)
    assert on_device.is_leaf


@pytest.mark.parametrize("device", [CUDA])
def test_a_module_moved_to_cuda_keeps_its_parameters_leaves(device):
    layer = torch.nn.Linear(2, 1, device="cpu")
    weight = layer.weight
    layer.to(device)  # converts its own parameters, unlike a tensor's .cuda()
    assert layer.weight is weight and weight.is_leaf and weight.device.type == "cuda"
