# %% setup
import torch

x = torch.tensor([[2.0, 3.0]], requires_grad=True)  # shape (1, 2)
x1, x2 = x[:, 0], x[:, 1]
y = torch.stack([x1**2 + 3 * x2, x2**2 + 2 * x1], dim=1)  # shape (1, 2)
v = torch.tensor([[1.0, 0.0]])
print("x.grad =", x.grad)

# %% accumulate
y.backward(v, retain_graph=True)
print("x.grad =", x.grad)
y.backward(v, retain_graph=True)
print("x.grad =", x.grad)  # 2 * (v @ J)

# %% zero_in_place
x.grad.zero_()
print("x.grad =", x.grad)
y.backward(v, retain_graph=True)
print("x.grad =", x.grad)

# %% set_to_none
x.grad = None
print("x.grad =", x.grad)

# %% zero_none raises="AttributeError"
try:
    x.grad.zero_()
except AttributeError as error:
    print(f"{type(error).__name__}: {error}")

# %% zero_grad
optimizer = torch.optim.SGD([x], lr=0.1)
y.backward(v, retain_graph=True)
print("x.grad =", x.grad)
optimizer.zero_grad()  # set_to_none=True by default since torch 2.0
print("x.grad =", x.grad)

# %% zeros_like
y.backward(v, retain_graph=True)
x.grad = torch.zeros_like(x.grad)
print("x.grad =", x.grad)

# %% last_backward
y.backward(v)  # retain_graph=False: the saved tensors are freed
print("x.grad =", x.grad)

# %% second_backward raises="RuntimeError"
try:
    y.backward(v)
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")
