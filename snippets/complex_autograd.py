# %% setup
import torch


def f(z):  # C^2 -> C^2, the running f; dy/dz = [[2 z1, 3], [2, 2 z2]]
    z1, z2 = z[0], z[1]
    return torch.stack([z1**2 + 3 * z2, z2**2 + 2 * z1])


z1, z2 = 1 + 2j, 1 - 1j
z = torch.tensor([z1, z2], requires_grad=True)
y = f(z)
J = torch.tensor([[2 * z1, 3], [2, 2 * z2]])  # dy/dz, by hand
print("y =", y.detach())
print("J =", J)

# %% scalar_loss
w = torch.tensor(1 + 2j, requires_grad=True)  # lesson 2's z; w = a + ib
L = (w * w.conj()).real  # |w|^2 = a^2 + b^2, a real loss
L.backward()
print("L =", L.item(), "| w.grad =", w.grad)
print("(dL/da, dL/db) = (2a, 2b) =", (2 * w.real.item(), 2 * w.imag.item()))
print("dL/dconj(w) = w =", w.detach())  # Wirtinger: L = w conj(w)
print("dL/dw = conj(w) =", w.detach().conj())

# %% seed_loss
L = (y * y.conj()).real.sum()  # ||f(z)||^2
L.backward(retain_graph=True)
print("L =", L.item())
print("z.grad             =", z.grad)
print("2 * J.conj().T @ y =", 2 * J.conj().T @ y.detach())  # 2 dL/dconj(z)
z_real = torch.view_as_real(z.detach()).clone().requires_grad_()  # (Re z_j, Im z_j)
y_real = f(torch.view_as_complex(z_real))
(y_real * y_real.conj()).real.sum().backward()
print("z_real.grad =", z_real.grad)  # rows (dL/da_j, dL/db_j)

# %% finite_differences
g = z.grad  # the gradient of L = ||f(z)||^2 from the cell above
loss = lambda z: (f(z) * f(z).conj()).real.sum()  # the same L, as a function
z64, h = z.detach().to(torch.complex128), 1e-6
slope = lambda d: (loss(z64 + h * d) - loss(z64 - h * d)) / (2 * h)  # along d
fd = torch.zeros(2, 2, dtype=torch.float64)  # row j: along Re z_j, along Im z_j
for j in range(2):
    e = torch.zeros(2, dtype=torch.complex128)
    e[j] = 1
    fd[j, 0], fd[j, 1] = slope(e), slope(1j * e)
print("finite differences =", fd.round(decimals=4) + 0.0)  # -0. + 0. = 0.
print("view_as_real(g)    =", torch.view_as_real(g))
norm = torch.linalg.vector_norm(g)
print("along g/|g|:", round(slope((g / norm).to(torch.complex128)).item(), 4))
print("|g| =", round(norm.item(), 4))

# %% descent_step
lr = 1e-3
with torch.no_grad():
    first_order = loss(z) - lr * (g * g.conj()).real.sum()  # L - lr |g|^2
    print("L(z)                =", round(loss(z).item(), 4))
    print("L(z - lr * g)       =", round(loss(z - lr * g).item(), 4))
    print("L - lr * |g|^2      =", round(first_order.item(), 4))
    print("L(z - lr * conj(g)) =", round(loss(z - lr * g.conj()).item(), 4))
z_sgd = z.detach().clone().requires_grad_()
optimizer = torch.optim.SGD([z_sgd], lr=lr)
loss(z_sgd).backward()
optimizer.step()
print("torch.allclose(z_sgd, z - lr * g):", torch.allclose(z_sgd, z - lr * g))

# %% complex_v
v = torch.tensor([1j, 1 + 0j])  # a complex weight vector, shaped like y
z.grad = None
y.backward(v, retain_graph=True)
print("z.grad         =", z.grad)
print("J.conj().T @ v =", J.conj().T @ v)  # J^H v: conj(z.grad) = v^H J
print("J.T @ v        =", J.T @ v)  # v^T J without conjugates: not it


# %% real_view
def real_jacobian(f, z):
    """The (2m, 2n) Jacobian of complex f on the real views, (Re, Im) interleaved."""
    f_real = lambda r: torch.view_as_real(f(torch.view_as_complex(r)).resolve_conj())
    J_real = torch.func.jacrev(f_real)(torch.view_as_real(z.detach()))
    return J_real.reshape(-1, 2 * z.numel())  # was (*y.shape, 2, *z.shape, 2)


J_real = real_jacobian(f, z)
print("J_real =", J_real)
v_real = torch.view_as_real(v).reshape(-1)  # (Re v1, Im v1, Re v2, Im v2)
vJ_real = v_real @ J_real  # lesson 2's v^T J, on the real views
print("v_real @ J_real =", vJ_real)
print("as complex:", torch.view_as_complex(vJ_real.reshape(-1, 2)))

# %% real_dot
z.grad = None
torch.vdot(v, y).real.backward(retain_graph=True)  # Re(v^H y) = v_real . y_real
print("z.grad after vdot(v, y).real.backward():", z.grad)
z.grad = None
y.backward(2 * y.detach(), retain_graph=True)  # the v that L = ||y||^2 sends into y
print("z.grad after y.backward(2 * y):", z.grad)

# %% complex_scalar raises="RuntimeError"
try:
    y.sum().backward()  # a complex scalar: no v given
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")
