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

# %% gradcheck_1
import torch


def cube(t):  # d/dt t^3 = 3 t^2 = 12 at t = 2
    return t * t * t


errors = {torch.float32: {}, torch.float64: {}}
for k in range(1, 9):
    eps = 10.0**-k
    for dtype in errors:
        t = torch.tensor(2.0, dtype=dtype)
        slope = (cube(t + eps) - cube(t - eps)) / (2 * eps)
        errors[dtype][eps] = (slope - 12).abs().item()
    print(f"eps={eps:.0e}  float32 error={errors[torch.float32][eps]:.1e}"
          f"  float64 error={errors[torch.float64][eps]:.1e}")
best = {dtype: min(e, key=e.get) for dtype, e in errors.items()}
print("best eps: float32", best[torch.float32], "| float64", best[torch.float64])

# %% gradcheck_2 raises="GradcheckError"
import torch
from torch.autograd import gradcheck

x = torch.tensor([0.0, 1.0], dtype=torch.float64, requires_grad=True)
try:
    gradcheck(torch.relu, (x,))
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")
h = 1e-6
zero = torch.tensor(0.0, dtype=torch.float64)
print("slope from the right:", ((torch.relu(zero + h) - torch.relu(zero)) / h).item())
print("slope from the left: ", ((torch.relu(zero) - torch.relu(zero - h)) / h).item())
x_away = torch.tensor([0.5, 1.0], dtype=torch.float64, requires_grad=True)
print("gradcheck(torch.relu, (x_away,)):", gradcheck(torch.relu, (x_away,)))

# %% custom_function_1
import torch
from torch.func import jacfwd, jacrev


class Cube(torch.autograd.Function):  # y = x^3 elementwise, J = diag(3 x^2)
    generate_vmap_rule = True

    @staticmethod
    def forward(x):
        return x**3

    @staticmethod
    def setup_context(ctx, inputs, output):
        (x,) = inputs
        ctx.save_for_backward(x)
        ctx.save_for_forward(x)

    @staticmethod
    def backward(ctx, v):  # v^T diag(3 x^2) = v * 3 x^2
        (x,) = ctx.saved_tensors
        return v * 3 * x**2

    @staticmethod
    def jvp(ctx, u):  # diag(3 x^2) u = 3 x^2 * u
        (x,) = ctx.saved_tensors
        return 3 * x**2 * u


x = torch.tensor([1.0, -2.0, 0.5])
print("jacrev(Cube.apply)(x) =", jacrev(Cube.apply)(x))
print("jacfwd equal:", torch.equal(jacfwd(Cube.apply)(x), jacrev(Cube.apply)(x)))
x64 = x.double().requires_grad_(True)
print("gradcheck:", torch.autograd.gradcheck(Cube.apply, (x64,), check_forward_ad=True))

# %% custom_function_2
import torch


class MatVec(torch.autograd.Function):  # y = W x, W: (m, n), x: (n,)
    @staticmethod
    def forward(W, x):
        return W @ x

    @staticmethod
    def setup_context(ctx, inputs, output):
        W, x = inputs
        ctx.save_for_backward(W, x)

    @staticmethod
    def backward(ctx, v):  # one v^T J per input: (v x^T, W^T v)
        W, x = ctx.saved_tensors
        return torch.outer(v, x), W.T @ v


W = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
x = torch.tensor([1.0, 2.0, -1.0], requires_grad=True)
v = torch.tensor([1.0, -2.0])
MatVec.apply(W, x).backward(v)
print("W.grad =", W.grad)
print("x.grad =", x.grad)
expected = torch.autograd.grad(W @ x, [W, x], grad_outputs=v)
print("equal to autograd:", torch.equal(W.grad, expected[0]) and torch.equal(x.grad, expected[1]))
W64, x64 = W.detach().double().requires_grad_(True), x.detach().double().requires_grad_(True)
print("gradcheck:", torch.autograd.gradcheck(MatVec.apply, (W64, x64)))

# %% per_sample_grads_1
import torch
from torch import nn
from torch.func import functional_call, grad, vmap

torch.manual_seed(0)
model = nn.Linear(2, 1)
xs = torch.tensor([[2.0, 3.0], [1.0, -1.0], [0.0, 2.0], [-1.0, 1.0]])
ts = torch.tensor([1.0, 0.0, -1.0, 2.0])
params = {name: p.detach() for name, p in model.named_parameters()}


def loss_one(params, x, t):
    return (functional_call(model, params, (x[None],))[0, 0] - t) ** 2


g = vmap(grad(loss_one), in_dims=(None, 0, 0))(params, xs, ts)
G = torch.cat([g["weight"].flatten(1), g["bias"]], dim=1)  # (B, 3): row b = (dw1, dw2, db)
norms = G.norm(dim=1)
print("norms =", norms)
C = 1.0
clipped = G * (C / norms).clamp(max=1.0)[:, None]  # row b scaled to norm min(||g_b||, C)
print("clipped rows' norms =", clipped.norm(dim=1))
print("mean of clipped rows =", clipped.mean(dim=0))
mean = G.mean(dim=0)  # what loss.mean().backward() gives
print("clipped mean         =", mean * (C / mean.norm()).clamp(max=1.0))

# %% per_sample_grads_2
import torch
from torch import nn
from torch.func import functional_call, grad, vmap

torch.manual_seed(0)
model = nn.Linear(2, 1)
xs = torch.tensor([[2.0, 3.0], [1.0, -1.0], [0.0, 2.0], [-1.0, 1.0]])
ts = torch.tensor([1.0, 0.0, -1.0, 2.0])


def loss_w(weight, x, t):  # only the weight is passed; the bias is the module's own
    return (functional_call(model, {"weight": weight}, (x[None],))[0, 0] - t) ** 2


g_w = vmap(grad(loss_w), in_dims=(None, 0, 0))(model.weight.detach(), xs, ts)
print("g_w =", g_w)
r = model(xs)[:, 0].detach() - ts  # residuals r_b = w . x_b + b - t_b
print("2 r x =", (2 * r[:, None] * xs)[:, None])  # the hand formula, shape (B, 1, 2)

# %% transforms_1
import torch
from torch.func import grad_and_value

W = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
b = torch.tensor([0.0, 1.0])
x = torch.tensor([1.0, 2.0, -1.0])
target = torch.tensor([1.0, 11.0])


def loss_and_y(W, b):
    y = W @ x + b  # (2, 9)
    return 0.5 * ((y - target) ** 2).sum(), y


(grad_W, grad_b), (loss, y) = grad_and_value(loss_and_y, argnums=(0, 1), has_aux=True)(W, b)
print("grad_W =", grad_W)
print("grad_b =", grad_b, "| loss =", loss, "| y =", y)

# %% transforms_2
import warnings

import torch
from torch.func import linearize


def f(x):  # R^2 -> R^2, J = [[2 x1, 3], [2, 2 x2]]
    return torch.stack([x[0] ** 2 + 3 * x[1], x[1] ** 2 + 2 * x[0]])


x = torch.tensor([2.0, 3.0], dtype=torch.float64)
u = torch.tensor([1.0, -1.0], dtype=torch.float64)
with warnings.catch_warnings():  # linearize's harmless UserWarning, shown in the lesson
    warnings.filterwarnings("ignore", message="Attempted to insert a get_attr Node")
    y, jvp_fn = linearize(f, x)
for eps in [0.1, 0.01]:
    error = f(x + eps * u) - (y + eps * jvp_fn(u))  # f minus its linearization at x
    ratio = error / eps**2
    print(f"eps = {eps}: error = ({error[0]:.2e}, {error[1]:.2e}),",
          f"error / eps**2 = ({ratio[0]:.6f}, {ratio[1]:.6f})")

# %% complex_autograd_1
import torch

z = torch.tensor(1 + 2j, requires_grad=True)
y = z.conj()  # dy/dz = 0, dy/dconj(z) = 1: not holomorphic
v = torch.tensor(1j)
y.backward(v)
print("z.grad =", z.grad)
conj_real = lambda r: torch.view_as_real(torch.view_as_complex(r).conj().resolve_conj())
J_real = torch.func.jacrev(conj_real)(torch.view_as_real(z.detach()))  # (a, b) -> (a, -b)
J_real = J_real + 0.0  # -0. + 0. = 0.
print("J_real =", J_real)
print("v_real @ J_real =", torch.view_as_real(v) @ J_real)

# %% complex_autograd_2
import torch

c = torch.tensor(3 + 4j)
loss = lambda z: ((z**2 - c) * (z**2 - c).conj()).real  # |z^2 - c|^2
z = torch.tensor(1 + 1j, requires_grad=True)
print("start:   z =", z.detach(), "| L =", loss(z).item())
optimizer = torch.optim.SGD([z], lr=0.01)
for step in range(50):
    optimizer.zero_grad()
    loss(z).backward()
    optimizer.step()
print("50 SGD steps:   z =", z.detach(), "| z**2 =", (z**2).detach())
print("                L =", round(loss(z).item(), 6))
z_conj = torch.tensor(1 + 1j, requires_grad=True)
for step in range(10):
    z_conj.grad = None
    loss(z_conj).backward()
    with torch.no_grad():
        z_conj -= 0.01 * z_conj.grad.conj()  # along conj(z.grad)
print("10 conj steps:  L =", round(loss(z_conj).item(), 1))

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

# %% hessian_diagonal_1
import torch
from torch.func import grad, jvp


def loss(x):  # lesson 9's sum of x_i^4: H = diag(12 x^2)
    return (x**4).sum()


x = torch.tensor([-1.0, 0.5, 2.0])
generator = torch.Generator().manual_seed(0)
u = torch.randint(0, 2, (3,), generator=generator, device="cpu").to(x) * 2 - 1
_, Hu = jvp(grad(loss), (x,), (u,))  # one HVP
print("u =", u)
print("u * Hu    =", u * Hu)
print("12 * x**2 =", 12 * x**2)

# %% hessian_diagonal_2
import torch
from torch.func import grad, hessian, jvp, vmap


def f(x):  # R^2 -> R^2, J = [[2 x1, 3], [2, 2 x2]]
    x1, x2 = x[0], x[1]
    return torch.stack([x1**2 + 3 * x2, x2**2 + 2 * x1])


def loss(x):  # H = [[46, 24], [24, 71]] at x = (2, 3)
    return 0.5 * (f(x) ** 2).sum()


def hvp(u):
    return jvp(grad(loss), (x,), (u,))[1]


x = torch.tensor([2.0, 3.0])
H = hessian(loss)(x)
off = (H**2).sum(1) - H.diagonal() ** 2  # sum over j != i of H_ij^2
print("predicted variances: rademacher", off, "| gaussian", 2 * H.diagonal() ** 2 + off)
generator = torch.Generator().manual_seed(0)
k = 10_000
rademacher = torch.randint(0, 2, (k, 2), generator=generator, device="cpu").to(x) * 2 - 1
gaussian = torch.randn(k, 2, generator=generator, device="cpu").to(x)
for name, U in [("rademacher", rademacher), ("gaussian", gaussian)]:
    samples = U * vmap(hvp)(U)  # one row per probe: u ⊙ H u
    (m1, m2), (v1, v2) = samples.mean(0), samples.var(0)
    print(f"{name}: mean = ({m1:.1f}, {m2:.1f}), variance = ({v1:.0f}, {v2:.0f})")
