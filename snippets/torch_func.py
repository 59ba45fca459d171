# %% setup
import torch
from torch.func import jacfwd, jacrev, jvp, vjp, vmap


def f(x):  # R^2 -> R^2, on a flat x
    x1, x2 = x[0], x[1]
    return torch.stack([x1**2 + 3 * x2, x2**2 + 2 * x1])


x = torch.tensor([2.0, 3.0])
I = torch.eye(2)

# %% vjp
y, vjp_fn = vjp(f, x)
(row_0,) = vjp_fn(I[0])  # v = e_0: v^T J is row 0
print("y =", y, "| e_0^T J =", row_0)

# %% jvp
y, column_0 = jvp(f, (x,), (I[0],))  # u = e_0: J u is column 0
print("y =", y, "| J e_0 =", column_0)

# %% rows_and_columns
(J_rows,) = vmap(vjp_fn)(I)  # one VJP per output, batched: row i = e_i^T J
J_columns = vmap(lambda u: jvp(f, (x,), (u,))[1])(I)  # one JVP per input: J e_j
print("J_rows =", J_rows)
print("J_columns.T =", J_columns.T)

# %% jacrev_jacfwd
print("jacrev(f)(x) =", jacrev(f)(x))
print("jacfwd(f)(x) =", jacfwd(f)(x))
J_chunked = jacrev(f, chunk_size=1)(x)  # one row at a time
print("jacrev(f, chunk_size=1)(x) =", J_chunked)

# %% shapes
torch.manual_seed(0)
for n, m in [(64, 64), (4, 256), (256, 4)]:  # square, tall (m > n), wide (n > m)
    W, x_n = torch.randn(m, n), torch.randn(n)
    J_rev = jacrev(lambda x: torch.tanh(W @ x))(x_n)  # m VJPs
    J_fwd = jacfwd(lambda x: torch.tanh(W @ x))(x_n)  # n JVPs
    same = torch.allclose(J_rev, J_fwd, atol=1e-6)
    print(f"n = {n:3d}, m = {m:3d}: J.shape = {tuple(J_rev.shape)},",
          f"VJPs = {m:3d}, JVPs = {n:3d}, allclose: {same}")
