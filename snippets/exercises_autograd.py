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
