# %% setup
import torch
from torch.func import grad, hessian, jacrev, jvp


def loss(x):  # R^2 -> R: H = [[2 x2, 2 x1], [2 x1, -sin x2]]
    x1, x2 = x[0], x[1]
    return x1**2 * x2 + torch.sin(x2)


x = torch.tensor([2.0, 3.0])
print("loss(x) =", loss(x), "| grad(loss)(x) =", grad(loss)(x))

# %% hessian
H = hessian(loss)(x)  # jacfwd(jacrev(loss)): forward over reverse
print("H =", H)
x1, x2 = x
H_by_hand = torch.stack([2 * x2, 2 * x1, 2 * x1, -torch.sin(x2)]).reshape(2, 2)
print("torch.allclose(H, H_by_hand):", torch.allclose(H, H_by_hand))

# %% reverse_over_reverse
H_rr = jacrev(jacrev(loss))(x)  # the Jacobian of the gradient, by reverse mode again
print("H_rr =", H_rr)
print("torch.allclose(H, H_rr):", torch.allclose(H, H_rr))

# %% hvp
v = torch.tensor([1.0, -1.0])
_, Hv = jvp(grad(loss), (x,), (v,))  # H v = one JVP of the gradient; no H
print("Hv =", Hv, "| H @ v =", H @ v)

# %% hvp_with_backward
x_ = x.clone().requires_grad_(True)
(g,) = torch.autograd.grad(loss(x_), x_, create_graph=True)  # g has a graph
(Hv_backward,) = torch.autograd.grad(g, x_, v)  # d(g . v)/dx = H v
print("Hv_backward =", Hv_backward)
(g_plain,) = torch.autograd.grad(loss(x_), x_)  # without create_graph
print("g.requires_grad:", g.requires_grad, "| g_plain.requires_grad:", g_plain.requires_grad)

# %% memory
n = 20_000
x_big, v_big = torch.linspace(-1, 1, n), torch.ones(n)
_, Hv_big = jvp(grad(lambda x: (x**4).sum()), (x_big,), (v_big,))  # H = diag(12x²)
print(f"H: {n * n * 4 / 2**30:.1f} GiB; H v: {n * 4 / 2**10:.0f} KiB")
Hv_by_hand = 12 * x_big**2 * v_big
print("torch.allclose(Hv_big, Hv_by_hand):", torch.allclose(Hv_big, Hv_by_hand))
