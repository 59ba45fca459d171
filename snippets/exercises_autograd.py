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


# %% complex_autograd_1
import torch

z = torch.tensor(1 + 2j, requires_grad=True)
y = z.conj()  # dy/dz = 0, dy/dconj(z) = 1: not holomorphic
v = torch.tensor(1j)
y.backward(v)
print("z.grad =", z.grad)
conj_real = lambda r: torch.view_as_real(torch.view_as_complex(r).conj().resolve_conj())
J_real = torch.func.jacrev(conj_real)(torch.view_as_real(z.detach()))  # (a, b) -> (a, -b)
J_real = J_real + 0.0  # -0. + 0. = 0.
print("J_real =", J_real)
print("v_real @ J_real =", torch.view_as_real(v) @ J_real)

# %% complex_autograd_2
import torch

c = torch.tensor(3 + 4j)
loss = lambda z: ((z**2 - c) * (z**2 - c).conj()).real  # |z^2 - c|^2
z = torch.tensor(1 + 1j, requires_grad=True)
print("start:   z =", z.detach(), "| L =", loss(z).item())
optimizer = torch.optim.SGD([z], lr=0.01)
for step in range(50):
    optimizer.zero_grad()
    loss(z).backward()
    optimizer.step()
print("50 SGD steps:   z =", z.detach(), "| z**2 =", (z**2).detach())
print("                L =", round(loss(z).item(), 6))
z_conj = torch.tensor(1 + 1j, requires_grad=True)
for step in range(10):
    z_conj.grad = None
    loss(z_conj).backward()
    with torch.no_grad():
        z_conj -= 0.01 * z_conj.grad.conj()  # along conj(z.grad)
print("10 conj steps:  L =", round(loss(z_conj).item(), 1))
