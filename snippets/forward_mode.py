# %% setup
import torch
import torch.autograd.forward_ad as fwAD


def f(x):  # R^2 -> R^2, on a flat x
    x1, x2 = x[0], x[1]
    return torch.stack([x1**2 + 3 * x2, x2**2 + 2 * x1])


x = torch.tensor([2.0, 3.0])
m, n = 2, 2

# %% dual
u = torch.tensor([1.0, 0.0])  # the tangent: a direction in input space
with fwAD.dual_level():
    dual_x = fwAD.make_dual(x, u)  # x + u·ε, with ε² = 0
    dual_y = f(dual_x)  # f(x) + (J u)·ε
    y, Ju = fwAD.unpack_dual(dual_y)
print("y =", y, "| J u =", Ju)

# %% columns
J = torch.zeros(m, n)
for j in range(n):
    u = torch.zeros(n)
    u[j] = 1.0  # one-hot: picks input j
    with fwAD.dual_level():
        Ju = fwAD.unpack_dual(f(fwAD.make_dual(x, u))).tangent  # column j of J
    J[:, j] = Ju
    print(f"j = {j}: u = {u.tolist()} -> J u = {Ju.tolist()}")
print("J =", J)

# %% check
x_leaf = x.clone().requires_grad_(True)  # reverse mode, as in lesson 5: m rows at once
(J_rows,) = torch.autograd.grad(f(x_leaf), x_leaf, torch.eye(m), is_grads_batched=True)
print("J_rows =", J_rows)
print("torch.equal(J, J_rows):", torch.equal(J, J_rows))


# %% function
def jacobian_forward_columns(f, x):
    """J of f at x, shape (y.numel(), x.numel()): one forward pass per input."""
    columns = []
    for u in torch.eye(x.numel(), dtype=x.dtype, device=x.device):
        with fwAD.dual_level():
            dual_y = f(fwAD.make_dual(x, u.reshape(x.shape)))
            tangent = fwAD.unpack_dual(dual_y).tangent
        columns.append(tangent.reshape(-1))
    return torch.stack(columns, dim=1)


print("jacobian_forward_columns(f, x) =", jacobian_forward_columns(f, x))
