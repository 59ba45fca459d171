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
