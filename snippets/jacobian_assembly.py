# %% setup
import torch


def f(x):  # R^(1x2) -> R^(1x2)
    x1, x2 = x[:, 0], x[:, 1]
    return torch.stack([x1**2 + 3 * x2, x2**2 + 2 * x1], dim=1)


x = torch.tensor([[2.0, 3.0]], requires_grad=True)
y = f(x)
m, n = y.numel(), x.numel()
print("y =", y.detach())
print("m =", m, "| n =", n)

# %% rows
J = torch.zeros(m, n)
for i in range(m):
    v = torch.zeros(1, m)
    v[0, i] = 1.0  # one-hot: picks output i
    x.grad = None
    y.backward(v, retain_graph=True)  # x.grad = v @ J = row i of J
    J[i] = x.grad.reshape(n)
    print(f"i = {i}: v = {v.tolist()} -> x.grad = {x.grad.tolist()}")
print("J =", J)

# %% check
x0 = x.detach()
J_functional = torch.autograd.functional.jacobian(f, x0).reshape(m, n)
J_jacrev = torch.func.jacrev(f)(x0).reshape(m, n)
print("J_functional =", J_functional)
print("J_jacrev =", J_jacrev)
print("torch.equal(J, J_functional):", torch.equal(J, J_functional))
print("torch.equal(J, J_jacrev):", torch.equal(J, J_jacrev))
