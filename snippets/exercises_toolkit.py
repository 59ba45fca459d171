# %% torch_func_1
import torch
from torch.func import jvp, vjp, vmap


def f(x):  # R^3 -> R^2: J = [[x2, x1, 0], [0, 1, 2 x3]]
    return torch.stack([x[0] * x[1], x[1] + x[2] ** 2])


x = torch.tensor([1.0, 2.0, 3.0])
y, vjp_fn = vjp(f, x)
(J_rows,) = vmap(vjp_fn)(torch.eye(2))  # m = 2 VJPs: rows e_i^T J
J_columns = vmap(lambda u: jvp(f, (x,), (u,))[1])(torch.eye(3))  # n = 3 JVPs: J e_j
print("J_rows =", J_rows)
print("J_columns.T =", J_columns.T)
print("VJPs:", J_rows.shape[0], "| JVPs:", J_columns.shape[0])

# %% torch_func_2
import torch
from torch.func import jacrev

w = torch.tensor([1.0, 2.0, 3.0])


def g(X):  # R^(2x3) -> R^2: y_i = sum_j X_ij w_j
    return X @ w


X = torch.tensor([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]])
J = jacrev(g)(X)  # y.shape + X.shape; J[i, k, j] = dy_i/dX_kj
print("J.shape:", tuple(J.shape))
print("J[0] =", J[0])
print("J.reshape(2, 6) =", J.reshape(2, 6))

# %% forward_mode_1
import torch
import torch.autograd.forward_ad as fwAD


def f(x):  # R^2 -> R^2
    x1, x2 = x[0], x[1]
    return torch.stack([x1**2 + 3 * x2, x2**2 + 2 * x1])


x, u = torch.tensor([2.0, 3.0]), torch.tensor([1.0, 1.0])
with fwAD.dual_level():
    y, Ju = fwAD.unpack_dual(f(fwAD.make_dual(x, u)))  # f(x) + (J u)·ε
print("y =", y, "| J u =", Ju)

# %% forward_mode_2
import torch
import torch.autograd.forward_ad as fwAD


def curve(t):  # R -> R^4: J is 4x1
    return torch.stack([t, t**2, t**3, t**4])


t = torch.tensor(2.0)
with fwAD.dual_level():
    dual_t = fwAD.make_dual(t, torch.tensor(1.0))  # t + ε
    position, velocity = fwAD.unpack_dual(curve(dual_t))
print("position =", position)
print("velocity =", velocity)

# %% hessian_1
import torch
from torch.func import grad, hessian


def L(x):  # R^2 -> R
    x1, x2 = x[0], x[1]
    return x1**3 + 2 * x1 * x2 + x2**2


x = torch.tensor([1.0, 2.0])
g = grad(L)(x)  # (3 x1² + 2 x2, 2 x1 + 2 x2)
H = hessian(L)(x)  # [[6 x1, 2], [2, 2]]
print("grad(L)(x) =", g)
print("hessian(L)(x) =", H)

# %% hessian_2
import torch
from torch.func import grad, jvp

A = torch.tensor([[1.0, 2.0], [0.0, 3.0]])


def q(x):  # x^T A x: grad = (A + A^T) x, H = A + A^T
    return x @ A @ x


v = torch.tensor([1.0, 2.0])
for x in (torch.tensor([1.0, -1.0]), torch.tensor([5.0, -2.0])):
    _, Hv = jvp(grad(q), (x,), (v,))  # one JVP of the gradient
    print("x =", x, "-> Hv =", Hv)
print("(A + A.T) @ v =", (A + A.T) @ v, "| A @ v =", A @ v)

# %% per_sample_1
import torch
from torch.func import grad, vmap


def loss(w, x, t):  # one sample: (w . x - t)^2, gradient 2 (w . x - t) x
    return (w @ x - t) ** 2


w = torch.tensor([1.0, -1.0])
xs = torch.tensor([[1.0, 2.0], [3.0, 1.0], [2.0, 1.0]])  # B = 3 samples
ts = torch.tensor([0.0, 1.0, 3.0])
grads = vmap(grad(loss), in_dims=(None, 0, 0))(w, xs, ts)  # (3, 2)
total = grad(lambda w: ((xs @ w - ts) ** 2).sum())(w)  # (2,)
print("grads =", grads)
print("grads.sum(0) =", grads.sum(0), "| total =", total)

# %% per_sample_2
import torch
from torch.func import jacrev


def center(xs):  # y_b = x_b - mean_c x_c
    return xs - xs.mean(dim=0)


xs = torch.arange(8.0).reshape(4, 2)  # B = 4 samples in R^2
J_whole = jacrev(center)(xs)  # (4, 2, 4, 2)
blocks = J_whole.diagonal(dim1=0, dim2=2).permute(2, 0, 1)  # J_whole[b, :, b, :]
J_sum = jacrev(lambda xs: center(xs).sum(dim=0))(xs).permute(1, 0, 2)
print("blocks[0] =", blocks[0])  # (1 - 1/B) I
print("J_whole[0, :, 1, :] =", J_whole[0, :, 1, :])  # -1/B I
print("J_sum[0] =", J_sum[0])  # sum_b (delta_bc - 1/B) I

# %% pitfalls_1 raises="RuntimeError"
import torch
from torch.func import grad, jacrev


def f(x):  # R^2 -> R^2
    x1, x2 = x[0], x[1]
    return torch.stack([x1**2 + 3 * x2, x2**2 + 2 * x1])


x, v = torch.tensor([2.0, 3.0]), torch.tensor([1.0, 1.0])
try:
    grad(f)(x)
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")
J = jacrev(f)(x)
vJ = grad(lambda x: v @ f(x))(x)  # v^T J
print("jacrev(f)(x) =", J)
print("grad(v . f)(x) =", vJ)

# %% pitfalls_2 raises="RuntimeError"
import torch


def loss(x):  # R^2 -> R: H = [[2 x2, 2 x1], [2 x1, 0]]
    return x[0] ** 2 * x[1]


x = torch.tensor([2.0, 3.0], requires_grad=True)
v = torch.tensor([1.0, -1.0])
(g,) = torch.autograd.grad(loss(x), x)
print("g.requires_grad:", g.requires_grad)
try:
    torch.autograd.grad(g, x, v)
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")
(g,) = torch.autograd.grad(loss(x), x, create_graph=True)  # g has a grad_fn
(Hv,) = torch.autograd.grad(g, x, v)
print("g.requires_grad:", g.requires_grad, "| Hv =", Hv)

# %% pitfalls_3
import torch

candidates = {
    "a": torch.ones(2, requires_grad=True).double(),
    "b": torch.ones(2, dtype=torch.float64, requires_grad=True),
    "c": torch.ones(2).double().requires_grad_(),
    "d": torch.ones(2, requires_grad=True).float(),  # already float32
    "e": torch.ones(2, requires_grad=True).double().detach().requires_grad_(),
}
for name, t in candidates.items():
    node = t.grad_fn.name() if t.grad_fn is not None else None
    print(f"{name}: is_leaf={t.is_leaf}, grad_fn={node}, dtype={t.dtype}")

# %% pitfalls_4
import torch

B = 8
X = torch.linspace(-1.0, 1.0, 2 * B).reshape(B, 2)  # shape (B, 2)
targets = torch.arange(B) / 4
w = torch.tensor([0.5, -0.5], requires_grad=True)
loss = torch.nn.MSELoss(reduction="none")(X @ w, targets)  # shape (B,)
loss.backward(torch.full_like(loss, 1 / B), retain_graph=True)  # v = (1/B, ..., 1/B)
grad_v = w.grad
w.grad = None
loss.mean().backward()
print("backward(full_like(loss, 1 / B)): w.grad =", grad_v)
print("mean().backward():                w.grad =", w.grad)

# %% benchmark_1
import torch
from torch.func import jacrev


def jacobian_in_chunks(f, x, k):  # J of f: R^n -> R^m, k rows per batched pass
    x = x.detach().requires_grad_(True)
    y = f(x)
    rows = []
    for V in torch.eye(y.numel(), device=x.device).split(k):  # (<= k, m) each
        rows += torch.autograd.grad(
            y, x, V, retain_graph=True, is_grads_batched=True
        )  # one (<= k, n) block
    return torch.cat(rows)


def f(x):  # R^2 -> R^6
    return torch.sin(W @ x)


W = torch.arange(12.0).reshape(6, 2) / 10
x = torch.tensor([0.5, -1.0])
J = jacobian_in_chunks(f, x, k=4)  # two batched passes: rows 0-3, then 4-5
print("J.shape:", tuple(J.shape))
print("torch.allclose(J, jacrev(f)(x)):", torch.allclose(J, jacrev(f)(x)))

# %% benchmark_2
times = {  # example medians in ms: (n, m) -> {method: ms}
    (2, 2): {"jacrev": 1.5, "jacfwd": 1.6},
    (256, 256): {"jacrev": 0.9, "jacfwd": 1.3},
    (16, 1024): {"jacrev": 3.3, "jacfwd": 0.85},
    (1024, 16): {"jacrev": 0.5, "jacfwd": 2.1},
}
for (n, m), t in times.items():
    ratio = max(t.values()) / min(t.values())
    verdict = "tie" if ratio <= 1.10 else min(t, key=t.get)  # NOISE: no quartiles here
    passes = {"jacrev": m, "jacfwd": n}  # VJPs for jacrev, JVPs for jacfwd
    print(f"n = {n:4d}, m = {m:4d}: verdict = {verdict},", f"passes = {passes},",
          f"slowest / fastest = {ratio:.2f}")
