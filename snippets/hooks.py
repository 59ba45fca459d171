# %% setup
import warnings

import torch

x = torch.tensor([[2.0, 3.0]], requires_grad=True)  # shape (1, 2)
x1, x2 = x[:, 0], x[:, 1]  # non-leaf views, shape (1,)
y = torch.stack([x1**2 + 3 * x2, x2**2 + 2 * x1], dim=1)  # shape (1, 2)
v = torch.tensor([[0.5, -2.0]])
J = torch.tensor([[4.0, 3.0], [2.0, 6.0]])  # by hand: [[2 x1, 3], [2, 2 x2]]
print("y =", y.detach())
print("y.is_leaf:", y.is_leaf, "| x1.is_leaf:", x1.is_leaf, "| x.is_leaf:", x.is_leaf)


# %% watch
def show(name):
    return lambda grad: print(f"at {name}:", grad)  # returns None: grad unchanged


handles = [t.register_hook(show(name)) for name, t in [("y", y), ("x1", x1), ("x2", x2), ("x", x)]]
y.backward(v, retain_graph=True)
print("x.grad =", x.grad)

# %% remove
for handle in handles:
    handle.remove()
x.grad = None
y.backward(v, retain_graph=True)  # no hook fires now
print("x.grad =", x.grad)

# %% non_leaf_grad
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    print("y.grad:", y.grad)
for w in caught:
    print(f"{w.category.__name__}: {str(w.message).split(' (Triggered')[0]}")

# %% retain_grad
y.retain_grad()
x1.retain_grad()
x.grad = None
y.backward(v, retain_graph=True)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    print("y.grad =", y.grad)
    print("x1.grad =", x1.grad)
print("warnings:", len(caught))
print("x.grad =", x.grad)

# %% clip
clip = y.register_hook(lambda grad: grad.clamp(-1, 1))  # v = (0.5, -2) -> (0.5, -1)
x.grad = y.grad = x1.grad = None
y.backward(v, retain_graph=True)
print("y.grad =", y.grad)
print("x.grad =", x.grad)
print("by hand, (0.5, -1) @ J =", torch.tensor([[0.5, -1.0]]) @ J)

# %% clip_remove
clip.remove()
x.grad = y.grad = x1.grad = None
y.backward(v, retain_graph=True)
print("y.grad =", y.grad)
print("x.grad =", x.grad)
