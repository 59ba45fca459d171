# %% setup
import torch
from torch.func import grad, hessian, jvp, vmap


def f(x):  # R^2 -> R^2, J = [[2 x1, 3], [2, 2 x2]]
    x1, x2 = x[0], x[1]
    return torch.stack([x1**2 + 3 * x2, x2**2 + 2 * x1])


def loss(x):  # R^2 -> R: H = J^T J + diag(2 y1, 2 y2)
    return 0.5 * (f(x) ** 2).sum()


x = torch.tensor([2.0, 3.0])
H = hessian(loss)(x)
print("H =", H)
print("H.diagonal() =", H.diagonal())

# %% one_product
u = torch.tensor([1.0, 1.0])
H_other = torch.diag(H @ u)  # another symmetric matrix with the same product
print("H @ u =", H @ u, "| H_other @ u =", H_other @ u)
print("H.diagonal() =", H.diagonal(), "| H_other.diagonal() =", H_other.diagonal())

# %% exact
def hvp(u):  # H u: one JVP of the gradient, forward over reverse (lesson 9)
    return jvp(grad(loss), (x,), (u,))[1]


def exact_diagonal(hvp, n):  # n one-hot HVPs in one vmap
    E = torch.eye(n)
    return (E * vmap(hvp)(E)).sum(0)  # sum_i e_i ⊙ H e_i = diag(H)


print("vmap(hvp)(torch.eye(2)) =", vmap(hvp)(torch.eye(2)))  # row i: H e_i
print("exact_diagonal(hvp, 2) =", exact_diagonal(hvp, 2))

# %% expectation
def hutchinson(hvp, U):  # U: (k, n), k probes u with E[u u^T] = I
    return (U * vmap(hvp)(U)).mean(0)  # the mean of u ⊙ H u


signs = torch.tensor([-1.0, 1.0])
U_all = torch.cartesian_prod(signs, signs)  # the 4 equally likely Rademacher u
print("U_all =", U_all)
print("U_all * vmap(hvp)(U_all) =", U_all * vmap(hvp)(U_all))  # row: u ⊙ H u
print("hutchinson(hvp, U_all) =", hutchinson(hvp, U_all))

# %% problem
n, m = 100, 200
generator = torch.Generator().manual_seed(0)  # on the CPU: the same numbers on every device
A = torch.randn(m, n, generator=generator, device="cpu").to(x) / n**0.5
x_big = torch.randn(n, generator=generator, device="cpu").to(x)


def loss_big(x):  # sum_k softplus(a_k . x): H = A^T diag(s (1 - s)) A, s = sigmoid(A x)
    return torch.nn.functional.softplus(A @ x).sum()


def hvp_big(u):
    return jvp(grad(loss_big), (x_big,), (u,))[1]


diagonal = exact_diagonal(hvp_big, n)
H_big = hessian(loss_big)(x_big)
print("diagonal[:4] =", diagonal[:4])
print("torch.allclose(diagonal, H_big.diagonal()):", torch.allclose(diagonal, H_big.diagonal()))

# %% samples
U = torch.randint(0, 2, (1_000, n), generator=generator, device="cpu").to(x) * 2 - 1
print("U[:2, :6] =", U[:2, :6])  # Rademacher: each entry -1 or +1
off_diagonal = (H_big**2).sum() - (diagonal**2).sum()  # sum over i != j of H_ij^2
print("     k  error  predicted")
for k in (1, 10, 100, 1_000):
    error = (hutchinson(hvp_big, U[:k]) - diagonal).norm() / diagonal.norm()
    predicted = (off_diagonal / k).sqrt() / diagonal.norm()  # root-mean-square error
    print(f"{k:>6} {error:6.1%} {predicted:10.1%}")
