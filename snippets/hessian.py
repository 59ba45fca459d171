# %% setup
import torch
from torch.func import grad, hessian, jacfwd, jacrev, jvp


def loss(x):  # R^2 -> R: H = [[2 x2, 2 x1], [2 x1, -sin x2]]
    x1, x2 = x[0], x[1]
    return x1**2 * x2 + torch.sin(x2)


x = torch.tensor([2.0, 3.0])
print("loss(x) =", loss(x), "| grad(loss)(x) =", grad(loss)(x))

# %% hessian
H = hessian(loss)(x)
print("H =", H)

# %% forward_over_reverse
H_fr = jacfwd(jacrev(loss))(x)  # the Jacobian of the gradient
print("torch.allclose(H, H_fr):", torch.allclose(H, H_fr))

# %% hvp
v = torch.tensor([1.0, -1.0])
_, Hv = jvp(grad(loss), (x,), (v,))  # H v = one JVP of the gradient; no H
print("Hv =", Hv, "| H @ v =", H @ v)

# %% hvp_with_backward
x_ = x.clone().requires_grad_(True)
(g,) = torch.autograd.grad(loss(x_), x_, create_graph=True)  # g has a graph
(Hv_backward,) = torch.autograd.grad(g, x_, v)  # d(g . v)/dx = H v
print("Hv_backward =", Hv_backward)

# %% memory
n = 20_000
x_big, v_big = torch.linspace(-1, 1, n), torch.ones(n)
_, Hv_big = jvp(grad(lambda x: (x**4).sum()), (x_big,), (v_big,))  # H = diag(12x²)
print(f"H: {n * n * 4 / 2**30:.1f} GiB; H v: {n * 4 / 2**10:.0f} KiB")
Hv_by_hand = 12 * x_big**2 * v_big
print("torch.allclose(Hv_big, Hv_by_hand):", torch.allclose(Hv_big, Hv_by_hand))
