"""Lesson 19: per-sample gradients of a model's parameters, against hand-derived values,
torch.func.jacrev of the loss vector, and loops of per-sample backward."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.func import functional_call, grad, jacrev, vmap

from conftest import cpu, run_cells, without_device

XS = torch.tensor([[2.0, 3.0], [1.0, -1.0], [0.0, 2.0], [-1.0, 1.0]])
TS = torch.tensor([1.0, 0.0, -1.0, 2.0])


@pytest.fixture(scope="module")
def lesson(device):
    return run_cells("per_sample_grads", device)


def hand_per_sample(model):
    """For y = w . x + b and loss (y - t)^2: grad_w = 2 r x, grad_b = 2 r, r = w . x + b - t."""
    w, b = model.weight.detach().cpu()[0], model.bias.detach().cpu()[0]
    r = XS @ w + b - TS
    return {"weight": (2 * r[:, None] * XS)[:, None], "bias": (2 * r)[:, None]}


def loss_vector(model, params):
    """The B per-sample losses as one function of the parameters (the whole batch at once)."""
    device = params["weight"].device
    return (functional_call(model, params, (XS.to(device),))[:, 0] - TS.to(device)) ** 2


def test_batch_backward_gives_the_mean_of_the_per_sample_gradients(lesson):
    ns, out = lesson
    hand = hand_per_sample(ns["model"])
    for name in hand:
        assert torch.allclose(ns["batch_grads"][name].cpu(), hand[name].mean(dim=0), atol=1e-6)
    assert ns["model"].weight.grad is None  # zeroed after the demonstration


def test_backward_with_v_one_over_b_is_v_times_the_loss_jacobian(lesson):
    ns, out = lesson
    params = {name: p.detach() for name, p in ns["model"].named_parameters()}
    J = jacrev(lambda p: loss_vector(ns["model"], p))(params)  # rows: per-sample gradients
    v = torch.full((4,), 0.25, device=params["weight"].device)
    vJ = torch.einsum("b,bij->ij", v, J["weight"])
    text = without_device(out["batch_backward"])
    first, _, third = text.splitlines()
    assert first.removeprefix("weight.grad =") == third.removeprefix("with v = 1/B: weight.grad =")
    assert torch.allclose(ns["batch_grads"]["weight"], vJ, atol=1e-6)


def test_loop_gives_the_hand_derived_per_sample_gradients(lesson):
    ns, out = lesson
    hand = hand_per_sample(ns["model"])
    for name in hand:
        assert ns["loop_grads"][name].shape == (4, *getattr(ns["model"], name).shape)
        assert torch.allclose(ns["loop_grads"][name].cpu(), hand[name], atol=1e-5)
    assert "mean == batch gradient: True" in out["loop"]


def test_functional_call_runs_the_module_with_the_given_tensors(lesson, device):
    ns, out = lesson
    model, params = ns["model"], ns["params"]
    assert all(not p.requires_grad for p in params.values())
    other = {name: torch.zeros_like(p) for name, p in params.items()}
    assert torch.equal(functional_call(model, other, (ns["xs"],)), torch.zeros(4, 1, device=device))
    assert torch.equal(model.weight.detach(), params["weight"])  # the module is unchanged
    assert "equal to the module's own loss: True" in out["functional_call"]
    g0 = grad(ns["loss_one"])(params, ns["xs"][0], ns["ts"][0])
    hand = hand_per_sample(model)
    assert all(torch.allclose(g0[name].cpu(), hand[name][0], atol=1e-6) for name in hand)


def test_vmap_grad_equals_the_loop_and_the_rows_of_the_loss_jacobian(lesson):
    ns, out = lesson
    per_sample = ns["per_sample"]
    J = jacrev(lambda p: loss_vector(ns["model"], p))(ns["params"])
    for name in per_sample:
        assert torch.allclose(per_sample[name], ns["loop_grads"][name], atol=1e-6)
        assert torch.allclose(per_sample[name], J[name], atol=1e-6)
    assert "per_sample['weight'].shape: (4, 1, 2)\nper_sample['bias'].shape: (4, 1)\n" in out["vmap_grad"]
    assert "equal to the loop: True" in out["vmap_grad"]


def test_dropout_under_vmap_raises_with_the_default_randomness(lesson):
    ns, out = lesson
    assert ns["model_drop"].training
    with pytest.raises(RuntimeError, match="called random operation while in randomness error mode"):
        vmap(grad(ns["loss_drop"]), in_dims=(None, 0, 0))(ns["params_drop"], ns["xs"], ns["ts"])
    assert out["dropout_error"].startswith("RuntimeError: vmap: called random operation")


def test_randomness_different_draws_one_mask_per_sample_and_same_one_for_all(lesson):
    ns, _ = lesson
    different, same, batch = cpu(ns, "masks_different", "masks_same", "masks_batch")
    for masks in (different, same, batch):
        assert set(masks.unique().tolist()) <= {0.0, 2.0}  # dropped, or kept and scaled by 1/(1-p)
    assert torch.equal(same, same[:1].expand(4, 4))
    assert not torch.equal(different, different[:1].expand(4, 4))
    assert not torch.equal(batch, batch[:1].expand(4, 4))  # a plain batch: one mask per row too


def masked_per_sample_grads(model, masks):
    """The per-sample gradients of model_drop with given dropout factors (0, or 1/(1-p) = 2 for
    a kept unit; 1 in eval mode), by a loop of backward."""
    lin1, lin2 = model[0], model[2]
    rows = []
    for x, t, m in zip(XS.to(masks.device), TS.to(masks.device), masks):
        model.zero_grad()
        loss = (lin2(lin1(x) * m)[0] - t) ** 2
        loss.backward()
        rows.append({name: p.grad.clone() for name, p in model.named_parameters()})
    model.zero_grad()
    return {name: torch.stack([row[name] for row in rows]) for name in rows[0]}


@pytest.mark.parametrize("randomness", ["different", "same"])
def test_randomness_grads_are_those_of_the_masks_they_show(lesson, randomness):
    ns, out = lesson
    g = ns[f"g_{randomness}"]
    masks = 2 * (g["2.weight"][:, 0] != 0).float()  # a dropped unit gives its outgoing weight no gradient
    expected = masked_per_sample_grads(ns["model_drop"], masks)
    for name in expected:
        assert torch.allclose(g[name], expected[name], atol=1e-5)
    if randomness == "same":
        assert torch.equal(masks, masks[:1].expand(4, 4))
    else:
        assert not torch.equal(masks, masks[:1].expand(4, 4))
    shown = without_device(out["randomness_grads"])
    assert f"randomness='{randomness}': 2.weight gets a gradient:" in shown


def test_eval_mode_needs_no_randomness_flag_and_drops_nothing(lesson):
    ns, out = lesson
    assert ns["model_drop"].training  # the cell switched it back
    expected = masked_per_sample_grads(ns["model_drop"], torch.ones(4, 4, device=ns["xs"].device))
    for name in expected:
        assert torch.allclose(ns["g_eval"][name], expected[name], atol=1e-5)
    assert without_device(out["dropout_eval"]).endswith(
        "tensor([[1, 1, 1, 1],\n        [1, 1, 1, 1],\n        [1, 1, 1, 1],\n        [1, 1, 1, 1]], dtype=torch.int32)\n"
    )


def test_chunk_size_gives_the_same_gradients_in_fewer_samples_per_call(lesson):
    ns, out = lesson
    lines = out["chunk_size"].splitlines()
    for chunk_size, line in zip([None, 3, 1], lines):
        calls = 1 if chunk_size is None else math.ceil(4 / chunk_size)
        assert line == f"chunk_size={chunk_size}: calls = {calls} | allclose to per_sample: True"


problems = st.fixed_dictionaries(
    {
        "batch": st.integers(1, 6),
        "n_in": st.integers(1, 4),
        "hidden": st.integers(1, 5),
        "n_out": st.integers(1, 3),
        "chunk": st.one_of(st.none(), st.integers(1, 6)),
        "seed": st.integers(0, 2**16),
    }
)


@settings(max_examples=60, deadline=None)
@given(problem=problems)
def test_vmap_grad_equals_a_loop_of_backward_for_any_sizes(device, problem):
    torch.manual_seed(problem["seed"])
    B, n_out = problem["batch"], problem["n_out"]
    with torch.device(device):
        model = nn.Sequential(
            nn.Linear(problem["n_in"], problem["hidden"]), nn.Tanh(), nn.Linear(problem["hidden"], n_out)
        ).double()
        xs = torch.randn(B, problem["n_in"], dtype=torch.float64)
        ts = torch.randn(B, n_out, dtype=torch.float64)
    params = {name: p.detach() for name, p in model.named_parameters()}

    def loss_one(params, x, t):
        return ((functional_call(model, params, (x[None],))[0] - t) ** 2).sum()

    got = vmap(grad(loss_one), in_dims=(None, 0, 0), chunk_size=problem["chunk"])(params, xs, ts)
    for b in range(B):
        model.zero_grad()
        ((model(xs[b : b + 1])[0] - ts[b]) ** 2).sum().backward()
        for name, p in model.named_parameters():
            assert torch.allclose(got[name][b], p.grad, rtol=1e-10, atol=1e-12)
    model.zero_grad()
    ((model(xs) - ts) ** 2).sum(dim=1).mean().backward()
    for name, p in model.named_parameters():
        assert torch.allclose(got[name].mean(dim=0), p.grad, rtol=1e-10, atol=1e-12)
