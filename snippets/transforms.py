# %% setup
import warnings

import torch
from torch.func import grad, grad_and_value, jacrev, jvp, linearize


def f2(x1, x2):  # the running f, one argument per input: J = [[2 x1, 3], [2, 2 x2]]
    return torch.stack([x1**2 + 3 * x2, x2**2 + 2 * x1])


x1, x2 = torch.tensor(2.0), torch.tensor(3.0)
v = torch.tensor([0.5, -2.0])  # lesson 2's v

# %% argnums
print("jacrev(f2)(x1, x2) =", jacrev(f2)(x1, x2))  # argnums=0: dy/dx1, column 1 of J
print("argnums=1:     ", jacrev(f2, argnums=1)(x1, x2))  # dy/dx2, column 2
print("argnums=(0, 1):", jacrev(f2, argnums=(0, 1))(x1, x2))  # a tuple: both columns


def weighted(x1, x2):  # the scalar v^T y
    return v @ f2(x1, x2)


print("grad(weighted, argnums=(0, 1)) =", grad(weighted, argnums=(0, 1))(x1, x2))  # v^T J

# %% not_scalar raises="RuntimeError"
try:
    grad(f2)(x1, x2)  # y has two entries: grad has no v to weight them
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")

# %% has_aux
count = 0  # evaluations of f


def f(x):  # the running f on a flat x, counting its evaluations
    global count
    count += 1
    return f2(x[0], x[1])


def loss_and_prediction(x, target):
    y = f(x)
    loss = 0.5 * ((y - target) ** 2).sum()  # d loss / dy = y - target
    return loss, y  # what to differentiate, and an extra


x = torch.tensor([2.0, 3.0])
target = torch.tensor([12.5, 15.0])  # f(x) = (13, 13), so y - target = v
g, y = grad(loss_and_prediction, has_aux=True)(x, target)
print("g =", g, "| y =", y, "| y.requires_grad:", y.requires_grad)
print("v @ jacrev(f)(x) =", v @ jacrev(f)(x))

# %% without_has_aux raises="RuntimeError"
try:
    grad(loss_and_prediction)(x, target)  # returns a tuple, without has_aux
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")

# %% grad_and_value
count = 0
g, (loss, y) = grad_and_value(loss_and_prediction, has_aux=True)(x, target)
print("g =", g, "| loss =", loss, "| y =", y)
print("grad_and_value: evaluations of f =", count)
count = 0
g, _ = grad(loss_and_prediction, has_aux=True)(x, target)
loss, y = loss_and_prediction(x, target)  # the value, by a second call
print("grad, then f again: evaluations of f =", count)
(g_x, g_target), _ = grad_and_value(loss_and_prediction, argnums=(0, 1), has_aux=True)(x, target)
print("g_x =", g_x, "| g_target =", g_target)  # d loss / d target = -(y - target)

# %% repeated_jvp
U = torch.eye(2)  # directions u, one after another
count = 0
for u in U:
    _, Ju = jvp(f, (x,), (u,))  # f runs again at every call
    print("jvp: J u =", Ju)
print("jvp, 2 directions: evaluations of f =", count)

# %% linearize
count = 0
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always", UserWarning)
    y, jvp_fn = linearize(f, x)  # the linear map u -> J u at this x
print("linearize: evaluations of f =", count)
for u in U:
    print("jvp_fn(u) =", jvp_fn(u))
print("after 2 calls of jvp_fn: evaluations of f =", count)
for shown in dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught):
    print(shown)

# %% power_iteration
u = torch.tensor([1.0, 0.0])
for _ in range(30):  # each direction depends on the last result: no batch
    Ju = jvp_fn(u)
    u = Ju / Ju.norm()
eigenvalue = u @ jvp_fn(u)  # u^T J u, with |u| = 1
print(f"power iteration: {eigenvalue.item():.4f} | by hand, 5 + 7 ** 0.5 = {5 + 7**0.5:.4f}")
print("31 calls of jvp_fn later: evaluations of f =", count)
