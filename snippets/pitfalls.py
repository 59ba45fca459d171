# %% setup
import warnings

import torch
from torch.func import vmap


def f(x):  # R^(1x2) -> R^(1x2)
    x1, x2 = x[:, 0], x[:, 1]
    return torch.stack([x1**2 + 3 * x2, x2**2 + 2 * x1], dim=1)


x = torch.tensor([[2.0, 3.0]], requires_grad=True)
y = f(x)

# %% non_scalar raises="RuntimeError"
try:
    y.backward()
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")

# %% non_scalar_fix
y.backward(torch.ones_like(y), retain_graph=True)  # v = [1, 1]
print("x.grad =", x.grad)

# %% shape_mismatch raises="RuntimeError"
try:
    y.backward(torch.ones(2), retain_graph=True)
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")

# %% shape_mismatch_fix
x.grad = None
y.backward(torch.ones(2).reshape(y.shape), retain_graph=True)
print("x.grad =", x.grad)

# %% second_backward raises="RuntimeError"
z = f(x)
z.sum().backward()
try:
    z.sum().backward()
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")

# %% second_backward_fix
x.grad = None
z = f(x)
z.sum().backward(retain_graph=True)
z.sum().backward()
print("x.grad =", x.grad)

# %% non_leaf_grad
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    print("y.grad:", y.grad)
print(f"{caught[0].category.__name__}: {caught[0].message}")

# %% non_leaf_grad_fix
z = f(x)
z.retain_grad()
z.sum().backward()
print("z.grad =", z.grad)

# %% in_place_leaf raises="RuntimeError"
x.grad = None
f(x).sum().backward()  # x.grad = [[6., 9.]]
try:
    x -= 0.1 * x.grad
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")

# %% in_place_leaf_fix
with torch.no_grad():
    x -= 0.1 * x.grad
print("x =", x)

# %% no_grad_fn raises="RuntimeError"
try:
    f(x.detach()).sum().backward()
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")

# %% no_grad_fn_under_no_grad raises="RuntimeError"
with torch.no_grad():
    out = f(x)
print("out.requires_grad:", out.requires_grad, "| out.grad_fn:", out.grad_fn)
try:
    out.sum().backward()
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")

# %% summed_outputs
y = f(x)  # x changed in place above: a fresh graph
y1, y2 = y[0, 0], y[0, 1]
(g,) = torch.autograd.grad([y1, y2], x, retain_graph=True)
print("autograd.grad([y1, y2], x) =", g)  # not two rows: row 0 + row 1
(row_0,) = torch.autograd.grad(y1, x, retain_graph=True)
(row_1,) = torch.autograd.grad(y2, x, retain_graph=True)
print("row_0 =", row_0, "| row_1 =", row_1)

# %% backward_in_vmap raises="RuntimeError"
w = torch.tensor([1.0, 2.0], requires_grad=True)
rows = torch.tensor([[2.0, 3.0], [1.0, 1.0]])
try:
    vmap(lambda x_row: (w * x_row).sum().backward())(rows)  # d(w . x_row)/dw?
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")

# %% backward_in_vmap_fix
grad_w = torch.func.grad(lambda w, x_row: (w * x_row).sum())  # d/dw
per_row = vmap(grad_w, in_dims=(None, 0))  # w shared, x_row batched
print(per_row(w.detach(), rows))

# %% article_leaf raises="IndexError"
broken = torch.tensor([[2.3]], requires_grad=True)  # shape (1, 1)
try:
    broken[0, 1]
except IndexError as error:
    print(f"{type(error).__name__}: {error}")
