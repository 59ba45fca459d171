# %% leaf_setup_1
import torch

a = torch.tensor([1.0, 2.0], requires_grad=True)
b = a * 2
c = b.detach()
d = torch.tensor([3.0, 4.0])  # requires_grad=False
e = (b * d).sum()
for name, t in [("a", a), ("b", b), ("c", c), ("d", d), ("e", e)]:
    node = t.grad_fn.name() if t.grad_fn is not None else None
    print(f"{name}: is_leaf={t.is_leaf}, requires_grad={t.requires_grad},",
          f"grad_fn={node}")

# %% leaf_setup_2
import torch

x = torch.tensor([[1.0, 2.0, 3.0]], requires_grad=True)  # shape (1, 3)
x1, x2, x3 = x[:, 0], x[:, 1], x[:, 2]
y = torch.stack([x1 * x2, x2 + x3**2], dim=1)  # shape (1, 2)
print("y =", y.detach())
print("y.shape:", tuple(y.shape), "| m =", y.numel(), "| n =", x.numel())
# J = [[x2, x1, 0], [0, 1, 2 x3]], shape (m, n)
J = torch.tensor([[2.0, 1.0, 0.0], [0.0, 1.0, 6.0]])
print("J =", J)

# %% leaf_setup_3
import torch

X = torch.tensor([[1.0, 2.0], [0.5, -1.0], [-1.0, 1.0], [2.0, 0.0], [0.0, 1.0]])  # 5 samples
targets = torch.tensor([1.0, 0.0, 2.0, -1.0, 0.5])
w = torch.tensor([0.5, -0.5], requires_grad=True)
per_sample = torch.nn.MSELoss(reduction="none")(X @ w, targets)  # shape (5,)
for sizes in [(2, 2), (3, 2)]:  # samples per GPU
    losses = per_sample[: sum(sizes)]
    gathered = torch.stack([chunk.mean() for chunk in losses.split(sizes)])  # one mean per GPU
    weighted = (gathered * torch.tensor(sizes)).sum() / sum(sizes)
    print(f"chunks {sizes}: gathered.shape = {tuple(gathered.shape)}")
    print(f"  gathered.mean() = {gathered.mean():.4f}, losses.mean() = {losses.mean():.4f},",
          f"weighted = {weighted:.4f}")

# %% weighted_backward_1
import torch

x = torch.tensor([[2.0, 3.0]], requires_grad=True)
x1, x2 = x[:, 0], x[:, 1]
y = torch.stack([x1**2 + 3 * x2, x2**2 + 2 * x1], dim=1)  # J = [[4, 3], [2, 6]]
y.backward(torch.tensor([[2.0, -1.0]]))  # 2 * [4, 3] - [2, 6]
print("x.grad =", x.grad)

# %% weighted_backward_2
import torch

x = torch.tensor([[2.0, 3.0]], requires_grad=True)
x1, x2 = x[:, 0], x[:, 1]
y = torch.stack([x1**2 + 3 * x2, x2**2 + 2 * x1], dim=1)
J = torch.tensor([[4.0, 3.0], [2.0, 6.0]])
target = torch.tensor([1.0, 0.0])
v = torch.linalg.solve(J.T, target).reshape(1, 2)  # J^T v = target
print("v =", v)
y.backward(v)
print("x.grad =", x.grad)
print("torch.allclose(x.grad[0], target):", torch.allclose(x.grad[0], target))

# %% grad_zeroing_1
import torch

x = torch.tensor([[2.0, 3.0]], requires_grad=True)
x1, x2 = x[:, 0], x[:, 1]
y = torch.stack([x1**2 + 3 * x2, x2**2 + 2 * x1], dim=1)
y.backward(torch.tensor([[1.0, 0.0]]), retain_graph=True)  # + [4, 3]
y.backward(torch.tensor([[0.0, 1.0]]), retain_graph=True)  # + [2, 6]
y.backward(torch.tensor([[1.0, 1.0]]))  # + [6, 9]
print("x.grad =", x.grad)

# %% grad_zeroing_2 raises="RuntimeError"
import torch

x = torch.tensor([[2.0, 3.0]], requires_grad=True)
x1, x2 = x[:, 0], x[:, 1]
y = torch.stack([x1**2 + 3 * x2, x2**2 + 2 * x1], dim=1)
v = torch.tensor([[0.0, 1.0]])  # v @ J = [2, 6]
y.backward(v, retain_graph=True)
y.backward(v)  # frees the saved tensors
try:
    y.backward(v, retain_graph=True)
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")
print("x.grad =", x.grad)

# %% jacobian_assembly_1
import torch


def g(x):  # R^(1x2) -> R^(1x3)
    x1, x2 = x[:, 0], x[:, 1]
    return torch.stack([x1 * x2, x1 + x2**2, 3 * x1], dim=1)


x = torch.tensor([[2.0, 3.0]], requires_grad=True)
y = g(x)
m, n = y.numel(), x.numel()
J = torch.zeros(m, n)
for i in range(m):
    v = torch.zeros(1, m)
    v[0, i] = 1.0
    x.grad = None
    y.backward(v, retain_graph=True)
    J[i] = x.grad.reshape(n)
print("J =", J)  # [[x2, x1], [1, 2 x2], [3, 0]]

# %% jacobian_assembly_2
import torch

x = torch.tensor([[2.0, 3.0]], requires_grad=True)
x1, x2 = x[:, 0], x[:, 1]
y = torch.stack([x1**2 + 3 * x2, x2**2 + 2 * x1], dim=1)
J_wrong = torch.zeros(2, 2)
for i in range(2):
    v = torch.zeros(1, 2)
    v[0, i] = 1.0
    y.backward(v, retain_graph=True)  # no x.grad = None
    J_wrong[i] = x.grad.reshape(2)
print("J_wrong =", J_wrong)  # row i = row 0 + ... + row i of J

# %% jacobian_assembly_3
import torch

x = torch.tensor([[2.0, 3.0]], requires_grad=True)
x1, x2 = x[:, 0], x[:, 1]
y = torch.stack([x1**2 + 3 * x2, x2**2 + 2 * x1], dim=1)
v = torch.tensor([1.0, 1.0])
y.backward(v.reshape(1, 2))
J = torch.tensor([[4.0, 3.0], [2.0, 6.0]])
print("x.grad =", x.grad)  # v^T J = row 0 + row 1
print("J @ v =", J @ v)  # J v = column 0 + column 1
print("J - J.T =", J - J.T)  # v^T J - (J v)^T = v^T (J - J^T)

# %% batched_rows_1
import torch


def tall(x):  # R^2 -> R^4
    return torch.stack([x[0] ** 2, x[0] * x[1], x[1] ** 3, x[0] + x[1]])


x = torch.tensor([2.0, 3.0], requires_grad=True)
y = tall(x)
V = torch.eye(4)  # 4 one-hot v's, each shaped like y: (4,)
(rows,) = torch.autograd.grad(y, x, V, is_grads_batched=True)
J_jacrev = torch.func.jacrev(tall)(x.detach())
print("rows.shape:", tuple(rows.shape))
print("rows =", rows)
print("torch.equal(rows, J_jacrev):", torch.equal(rows, J_jacrev))

# %% batched_rows_2
import torch

X = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
y = (X**2).sum(dim=0)  # shape (3,)
V = torch.eye(3)  # shape (3, *y.shape)
(rows,) = torch.autograd.grad(y, X, V, is_grads_batched=True)
print("rows.shape:", tuple(rows.shape))  # (3, *X.shape)
print("rows[0] =", rows[0])  # d y_0 / dX = 2 X in column 0, zeros elsewhere
print("J.shape:", tuple(rows.reshape(3, 6).shape))

# %% functional_jacobian_1
import torch
from torch.autograd.functional import jacobian

W = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])  # shape (2, 3)
u = torch.tensor([3.0, 1.0, 2.0])  # shape (3,)
J_W, J_u = jacobian(lambda W, u: W @ u, (W, u))
print("J_W.shape:", tuple(J_W.shape), "| J_u.shape:", tuple(J_u.shape))
print("J_W[0] =", J_W[0])  # d y_0 / dW: u in row 0
print("J_W[1] =", J_W[1])  # d y_1 / dW: u in row 1
print("torch.equal(J_u, W):", torch.equal(J_u, W))

# %% functional_jacobian_2
import torch
from torch.autograd.functional import jacobian

x = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
J = jacobian(lambda x: (x**2).sum(), x)  # scalar output: y.shape = ()
print("J.shape:", tuple(J.shape))
x_leaf = x.clone().requires_grad_(True)
(x_leaf**2).sum().backward()
print("torch.equal(J, x_leaf.grad):", torch.equal(J, x_leaf.grad))
print("J =", J)  # 2 x
