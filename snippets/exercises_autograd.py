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

# %% hessian_diagonal_1
import torch
from torch.func import grad, jvp


def loss(x):  # lesson 9's sum of x_i^4: H = diag(12 x^2)
    return (x**4).sum()


x = torch.tensor([-1.0, 0.5, 2.0])
generator = torch.Generator().manual_seed(0)
u = torch.randint(0, 2, (3,), generator=generator, device="cpu").to(x) * 2 - 1
_, Hu = jvp(grad(loss), (x,), (u,))  # one HVP
print("u =", u)
print("u * Hu    =", u * Hu)
print("12 * x**2 =", 12 * x**2)

# %% hessian_diagonal_2
import torch
from torch.func import grad, hessian, jvp, vmap


def f(x):  # R^2 -> R^2, J = [[2 x1, 3], [2, 2 x2]]
    x1, x2 = x[0], x[1]
    return torch.stack([x1**2 + 3 * x2, x2**2 + 2 * x1])


def loss(x):  # H = [[46, 24], [24, 71]] at x = (2, 3)
    return 0.5 * (f(x) ** 2).sum()


def hvp(u):
    return jvp(grad(loss), (x,), (u,))[1]


x = torch.tensor([2.0, 3.0])
H = hessian(loss)(x)
off = (H**2).sum(1) - H.diagonal() ** 2  # sum over j != i of H_ij^2
print("predicted variances: rademacher", off, "| gaussian", 2 * H.diagonal() ** 2 + off)
generator = torch.Generator().manual_seed(0)
k = 10_000
rademacher = torch.randint(0, 2, (k, 2), generator=generator, device="cpu").to(x) * 2 - 1
gaussian = torch.randn(k, 2, generator=generator, device="cpu").to(x)
for name, U in [("rademacher", rademacher), ("gaussian", gaussian)]:
    samples = U * vmap(hvp)(U)  # one row per probe: u ⊙ H u
    (m1, m2), (v1, v2) = samples.mean(0), samples.var(0)
    print(f"{name}: mean = ({m1:.1f}, {m2:.1f}), variance = ({v1:.0f}, {v2:.0f})")
