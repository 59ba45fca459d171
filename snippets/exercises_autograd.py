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

# %% param_derivatives_1
import torch
from torch import nn
from torch.func import functional_call, grad, jacrev


def f(x):  # lesson 1's f: R^2 -> R^2, J = [[2 x1, 3], [2, 2 x2]]
    x1, x2 = x[0], x[1]
    return torch.stack([x1**2 + 3 * x2, x2**2 + 2 * x1])


model = nn.Linear(2, 2)  # y = W f(x) + b
with torch.no_grad():
    model.weight.copy_(torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
    model.bias.copy_(torch.tensor([0.5, -1.0]))
params = {name: p.detach() for name, p in model.named_parameters()}
x = torch.tensor([2.0, 3.0])


def penalty(params):  # ||dy/dx||^2 = ||W J||^2
    y_of_x = lambda x: functional_call(model, params, (f(x),))
    return (jacrev(y_of_x)(x) ** 2).sum()


grads = grad(penalty)(params)
W, J = params["weight"], jacrev(f)(x)
print('grads["weight"] =', grads["weight"])
print("2 * W @ J @ J.T =", 2 * W @ J @ J.T)
print('grads["bias"] =', grads["bias"])

# %% param_derivatives_2
import torch
from torch import nn
from torch.func import functional_call, grad, jvp

model = nn.Linear(2, 2)
with torch.no_grad():
    model.weight.copy_(torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
    model.bias.copy_(torch.tensor([0.5, -1.0]))
params = {name: p.detach() for name, p in model.named_parameters()}
x, target = torch.tensor([2.0, 3.0]), torch.tensor([1.0, 0.0])


def loss(params):  # L = 1/2 ||W x + b - target||^2
    return 0.5 * ((functional_call(model, params, (x,)) - target) ** 2).sum()


U, u_b = torch.tensor([[1.0, 0.0], [0.0, -1.0]]), torch.tensor([1.0, 1.0])
u = {"weight": U, "bias": u_b}  # a direction in parameter space
_, Hu = jvp(grad(loss), (params,), (u,))  # H u, a dict shaped like params; no H
print('Hu["weight"] =', Hu["weight"])
print('Hu["bias"] =', Hu["bias"])
r = u["weight"] @ x + u["bias"]  # J_theta u
print("J_theta u =", r, "| torch.outer(J_theta u, x) =", torch.outer(r, x))
