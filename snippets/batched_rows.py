# %% setup
import re
import warnings

import torch


def f(x):  # R^(1x2) -> R^(1x2)
    x1, x2 = x[:, 0], x[:, 1]
    return torch.stack([x1**2 + 3 * x2, x2**2 + 2 * x1], dim=1)


x = torch.tensor([[2.0, 3.0]], requires_grad=True)
y = f(x)
m, n = y.numel(), x.numel()

# %% one_hot_batch
V = torch.eye(m).reshape(m, *y.shape)  # m one-hot v's shaped like y: (m, 1, 2)
print("V.shape:", tuple(V.shape))
print("V =", V)

# %% batched
(rows,) = torch.autograd.grad(y, x, V, retain_graph=True, is_grads_batched=True)
print("rows.shape:", tuple(rows.shape))  # (m, *x.shape)
J = rows.reshape(m, n)
print("J =", J)
print("x.grad:", x.grad)

# %% loop
J_loop = torch.stack(
    [torch.autograd.grad(y, x, v, retain_graph=True)[0].reshape(n) for v in V]
)
print("torch.equal(J, J_loop):", torch.equal(J, J_loop))

# %% fallback
t = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
s = torch.tanh(t)  # its backward runs aten::tanh_backward
torch._C._debug_only_display_vmap_fallback_warnings(True)
try:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        (J_tanh,) = torch.autograd.grad(s, t, torch.eye(3), is_grads_batched=True)
finally:
    torch._C._debug_only_display_vmap_fallback_warnings(False)
for w in caught:
    op = re.search(r"batching rule for (\S+)\. ", str(w.message)).group(1)
    print(w.category.__name__, "| no batching rule for", op)
expected = torch.diag(1 - s.detach() ** 2)  # tanh' = 1 - tanh^2
print("torch.allclose(J_tanh, expected):", torch.allclose(J_tanh, expected))

# %% any_weights
W = torch.tensor([[[1.0, 1.0]], [[0.5, -2.0]]])  # two v's, shape (2, 1, 2)
(WJ,) = torch.autograd.grad(y, x, W, retain_graph=True, is_grads_batched=True)
print("WJ =", WJ)


# %% function
def jacobian_batched_rows(f, x):
    """J of f at x, shape (y.numel(), x.numel()), from one batched backward pass."""
    x = x.detach().requires_grad_(True)
    y = f(x)
    V = torch.eye(y.numel(), dtype=y.dtype, device=y.device).reshape(-1, *y.shape)
    (rows,) = torch.autograd.grad(y, x, V, is_grads_batched=True)
    return rows.reshape(y.numel(), x.numel())


print("jacobian_batched_rows(f, x) =", jacobian_batched_rows(f, x))
