# %% autograd_grad_1
import torch

W = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
b = torch.tensor([0.0, 1.0], requires_grad=True)
x = torch.tensor([1.0, 2.0, -1.0])
y = W @ x + b  # R^2
v = torch.tensor([1.0, -2.0])
grad_W, grad_b = torch.autograd.grad(y, [W, b], grad_outputs=v)
print("grad_W =", grad_W)
print("torch.outer(v, x) =", torch.outer(v, x))
print("grad_b =", grad_b, "| W.grad:", W.grad)

# %% autograd_grad_2
import torch


def f(x):  # R^2 -> R^2, J = [[2 x1, 3], [2, 2 x2]]
    x1, x2 = x[0], x[1]
    return torch.stack([x1**2 + 3 * x2, x2**2 + 2 * x1])


x = torch.tensor([2.0, 3.0], requires_grad=True)
v = torch.tensor([1.0, 1.0])
(g,) = torch.autograd.grad(f(x), x, grad_outputs=v, create_graph=True)  # g = J^T v, with a graph
P = (g**2).sum()
(grad_P,) = torch.autograd.grad(P, x)
print("g =", g.detach(), "| P =", P.item())
print("grad_P =", grad_P)


# %% hooks_1
import torch

x = torch.tensor([[2.0, 3.0]], requires_grad=True)
x1, x2 = x[:, 0], x[:, 1]
y = torch.stack([x1**2 + 3 * x2, x2**2 + 2 * x1], dim=1)
x.register_hook(lambda grad: grad.clamp(-1, 1))  # receives v @ J = (-2, -10.5)
y.backward(torch.tensor([[0.5, -2.0]]))
print("x.grad =", x.grad)

# %% hooks_2
import torch

x = torch.tensor([[2.0, 3.0]], requires_grad=True)
x1, x2 = x[:, 0], x[:, 1]
y = torch.stack([x1**2 + 3 * x2, x2**2 + 2 * x1], dim=1)
v = torch.tensor([[0.5, -2.0]])
y.retain_grad()
y.backward(v, retain_graph=True)
y.backward(v)
print("y.grad =", y.grad)
print("x.grad =", x.grad)

# %% tracking_off_1
import torch
from torch.func import jacrev


def f_x2_stopped(x):  # x2 is detached in both outputs
    x1, x2 = x[0], x[1].detach()
    return torch.stack([x1**2 + 3 * x2, x2**2 + 2 * x1])


x = torch.tensor([2.0, 3.0])
J = jacrev(f_x2_stopped)(x)
print("J =", J)
print("by hand:", torch.tensor([[2 * x[0], 0.0], [2.0, 0.0]]))

# %% tracking_off_2
import torch

lin = torch.nn.Linear(2, 2)
with torch.no_grad():
    lin.weight.copy_(torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
    lin.bias.copy_(torch.tensor([0.5, -1.0]))
lin.bias.requires_grad_(False)  # freeze b this time
x = torch.tensor([2.0, 3.0], requires_grad=True)
v = torch.tensor([1.0, -2.0])
lin(x).backward(v)
print("lin.weight.grad =", lin.weight.grad)
print("torch.outer(v, x) =", torch.outer(v, x.detach()))
print("lin.bias.grad:", lin.bias.grad, "| x.grad =", x.grad)

# %% tracking_off_3
import torch


def g(x):  # R^2 -> R^2, two formulas
    x1, x2 = x[0], x[1]
    if x.sum() > 0:
        return torch.stack([x1**2 + 3 * x2, x2**2 + 2 * x1])
    return torch.stack([x1 * x2, x1 - x2])


x = torch.tensor([1.0, -1.0])  # x.sum() == 0: not > 0
print("x.sum() > 0:", bool(x.sum() > 0))
print("jacrev(g)(x) =", torch.func.jacrev(g)(x))


def first(x):  # the first formula, at any x
    return torch.stack([x[0] ** 2 + 3 * x[1], x[1] ** 2 + 2 * x[0]])


print("first formula's J:", torch.func.jacrev(first)(x))

# %% transforms_1
import torch
from torch.func import grad_and_value

W = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
b = torch.tensor([0.0, 1.0])
x = torch.tensor([1.0, 2.0, -1.0])
target = torch.tensor([1.0, 11.0])


def loss_and_y(W, b):
    y = W @ x + b  # (2, 9)
    return 0.5 * ((y - target) ** 2).sum(), y


(grad_W, grad_b), (loss, y) = grad_and_value(loss_and_y, argnums=(0, 1), has_aux=True)(W, b)
print("grad_W =", grad_W)
print("grad_b =", grad_b, "| loss =", loss, "| y =", y)

# %% transforms_2
import warnings

import torch
from torch.func import linearize


def f(x):  # R^2 -> R^2, J = [[2 x1, 3], [2, 2 x2]]
    return torch.stack([x[0] ** 2 + 3 * x[1], x[1] ** 2 + 2 * x[0]])


x = torch.tensor([2.0, 3.0], dtype=torch.float64)
u = torch.tensor([1.0, -1.0], dtype=torch.float64)
with warnings.catch_warnings():  # linearize's harmless UserWarning, shown in the lesson
    warnings.filterwarnings("ignore", message="Attempted to insert a get_attr Node")
    y, jvp_fn = linearize(f, x)
for eps in [0.1, 0.01]:
    error = f(x + eps * u) - (y + eps * jvp_fn(u))  # f minus its linearization at x
    ratio = error / eps**2
    print(f"eps = {eps}: error = ({error[0]:.2e}, {error[1]:.2e}),",
          f"error / eps**2 = ({ratio[0]:.6f}, {ratio[1]:.6f})")
