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
J_functional = torch.autograd.functional.jacobian(f, x0)
J_jacrev = torch.func.jacrev(f)(x0)
print("J_functional.shape:", tuple(J_functional.shape))  # y.shape + x.shape
print("J_jacrev.shape:", tuple(J_jacrev.shape))
J_functional, J_jacrev = J_functional.reshape(m, n), J_jacrev.reshape(m, n)
print("J_functional =", J_functional)
print("J_jacrev =", J_jacrev)
print("torch.equal(J, J_functional):", torch.equal(J, J_functional))
print("torch.equal(J, J_jacrev):", torch.equal(J, J_jacrev))

# %% complex_jacrev raises="RuntimeError"
try:
    torch.func.jacrev(lambda z: z**2)(torch.tensor(1 + 2j))
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")

# %% article_code graph="y"
x = torch.tensor([[2., 3.]], requires_grad=True)  # the article has [[2.3]]
J = torch.zeros(2, 2)
y = torch.zeros(1, 2)
y[0, 0] = x[0, 0] ** 2 + 3 * x[0, 1]
y[0, 1] = x[0, 1] ** 2 + 2 * x[0, 0]
y.backward(torch.Tensor([[1, 0]]).to(x.device), retain_graph=True)
J[0] = x.grad
x.grad = torch.zeros_like(x.grad)
y.backward(torch.Tensor([[0, 1]]).to(x.device))
J[1] = x.grad
print(J)
print("y.grad_fn:", type(y.grad_fn).__name__)

# %% article_jv
e1 = torch.tensor([1.0, 0.0])  # the article's first v, as a vector
print("J.T @ e1 =", J.T @ e1)  # v^T J: row 0, what y.backward(v) gave
print("J @ e1 =", J @ e1)  # J v: column 0

# %% legacy_constructor raises="RuntimeError"
with torch.device("meta"):  # a device without data, standing in for a GPU
    print("torch.tensor(...).device:", torch.tensor([[1.0, 0.0]]).device)
    print("torch.Tensor(...).device:", torch.Tensor([[1, 0]]).device)
    try:
        (2 * torch.ones(1, 2, requires_grad=True)).backward(torch.Tensor([[1, 0]]))
    except RuntimeError as error:
        print(f"{type(error).__name__}: {error}")
