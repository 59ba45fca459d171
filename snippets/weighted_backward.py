# %% setup
import torch

x = torch.tensor([[2.0, 3.0]], requires_grad=True)  # shape (1, 2)
x1, x2 = x[:, 0], x[:, 1]
y = torch.stack([x1**2 + 3 * x2, x2**2 + 2 * x1], dim=1)  # shape (1, 2)
print("y =", y.detach())
print("y.shape:", tuple(y.shape))
print("y.grad_fn:", y.grad_fn.name())

# %% non_scalar_backward raises="RuntimeError"
try:
    y.backward()
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")

# %% weighted
for v in ([[1.0, 0.0]], [[0.0, 1.0]], [[1.0, 1.0]], [[0.5, -2.0]]):
    x.grad = None
    y.backward(torch.tensor(v), retain_graph=True)  # x.grad = v @ J
    print("v =", v, "-> x.grad =", x.grad)

# %% scalar_equivalent
v = torch.tensor([[0.5, -2.0]])
x.grad = None
(v * y).sum().backward(retain_graph=True)  # d(v . y)/dx = v @ J
print("x.grad =", x.grad)

# %% shape_mismatch raises="RuntimeError"
try:
    v_flat = torch.tensor([1.0, 0.0])  # shape (2,), but y has shape (1, 2)
    y.backward(v_flat, retain_graph=True)
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")

# %% explorer_grid export="explorer"
def f(x):  # this lesson's y, for a leaf x of shape (1, 2)
    x1, x2 = x[:, 0], x[:, 1]
    return torch.stack([x1**2 + 3 * x2, x2**2 + 2 * x1], dim=1)


grid = [k / 2 for k in range(-6, 7)]  # -3, -2.5, ..., 3
J_grid = []  # J_grid[i][j] = [row 1, row 2] of J at x = (grid[i], grid[j])
for a in grid:
    J_grid.append([])
    for b in grid:
        point = torch.tensor([[a, b]], requires_grad=True)
        out = f(point)
        rows = []
        for e in ([[1.0, 0.0]], [[0.0, 1.0]]):
            point.grad = None
            out.backward(torch.tensor(e), retain_graph=True)  # point.grad = e @ J
            rows.append(point.grad[0].tolist())
        J_grid[-1].append(rows)
explorer = {"grid": grid, "J": J_grid, "device": point.device.type}
print("grid:", grid[0], "to", grid[-1], "in steps of", grid[1] - grid[0])
print("points:", len(J_grid), "x", len(J_grid[0]))
print("J at x = (2, 3):", J_grid[grid.index(2.0)][grid.index(3.0)])

# %% complex_grad
z = torch.tensor(1 + 2j, requires_grad=True)
w = z**2  # dw/dz = 2z = 2 + 4j
v = torch.tensor(1j)
w.backward(v)
print("z.grad =", z.grad)
print("v * conj(2z) =", v * (2 * z.detach()).conj())  # 1j * (2 - 4j)
print("v * 2z =", v * 2 * z.detach())  # without the conjugate
