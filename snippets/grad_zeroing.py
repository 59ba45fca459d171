# %% setup
import warnings

import torch

x = torch.tensor([[2.0, 3.0]], requires_grad=True)  # shape (1, 2)
x1, x2 = x[:, 0], x[:, 1]
y = torch.stack([x1**2 + 3 * x2, x2**2 + 2 * x1], dim=1)  # shape (1, 2)
v = torch.tensor([[1.0, 0.0]])
print("x.grad =", x.grad)

# %% accumulate graph="y"
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

# %% none_vs_zero
a = torch.tensor(1.0, requires_grad=True)
b = torch.tensor(1.0, requires_grad=True)
sgd = torch.optim.SGD([a, b], lr=0.1, momentum=0.9)
(a + b).backward()  # a.grad = b.grad = 1
sgd.step()  # both move by 0.1 and keep a momentum of 1
print("after step 1: a =", a.detach(), "| b =", b.detach())
a.grad = None
b.grad = torch.zeros_like(b)
sgd.step()  # a is skipped; b moves by 0.1 * (0.9 * 1 + 0)
print("after step 2: a =", a.detach(), "| b =", b.detach())

# %% zeros_like
y.backward(v, retain_graph=True)
x.grad = torch.zeros_like(x.grad)
print("x.grad =", x.grad)

# %% last_backward graph="y"
y.backward(v)  # retain_graph=False: the saved tensors are freed
print("x.grad =", x.grad)

# %% second_backward raises="RuntimeError"
try:
    y.backward(v)
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")

# %% nothing_saved
w = torch.tensor([2.0, 3.0], requires_grad=True)
for out in (w + 1, w.sum()):  # their backward needs no saved tensor
    out.backward(torch.ones_like(out))
    out.backward(torch.ones_like(out))  # no retain_graph: no error
    print(out.grad_fn.name(), "twice -> w.grad =", w.grad)
    w.grad = None

# %% saved_factor raises="RuntimeError"
out = 3 * w  # d(3w)/dw = 3: the factor is saved
print("saved:", out.grad_fn._saved_other)
out.backward(torch.ones_like(out))
try:
    out.backward(torch.ones_like(out))
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")

# %% create_graph
w.grad = None
out = w * w  # saves w
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    out.backward(torch.ones_like(out), create_graph=True)  # retain_graph defaults to True
for warning in caught:  # torch gives this warning once per process
    print(f"{warning.category.__name__}: {str(warning.message).split('. ')[0]}.")
out.backward(torch.ones_like(out))  # the graph was kept
print("w.grad =", w.grad.detach())  # 2w + 2w
w.grad = None  # breaks the cycle the warning is about
