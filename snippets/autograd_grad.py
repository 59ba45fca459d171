# %% setup
import torch


def f(x):  # R^2 -> R^2, J = [[2 x1, 3], [2, 2 x2]]
    x1, x2 = x[0], x[1]
    return torch.stack([x1**2 + 3 * x2, x2**2 + 2 * x1])


x = torch.tensor([2.0, 3.0], requires_grad=True)
y = f(x)
v = torch.tensor([0.5, -2.0])  # lesson 2's v, shaped like y

# %% grad_outputs
result = torch.autograd.grad(y, x, grad_outputs=v, retain_graph=True)
print("result =", result)  # a tuple: one gradient per input
(vJ,) = result
print("x.grad:", x.grad)
(vJ_again,) = torch.autograd.grad(y, x, grad_outputs=v, retain_graph=True)
print("vJ_again =", vJ_again, "| x.grad:", x.grad)

# %% naming
J = torch.func.jacrev(f)(x.detach())
print("J =", J)
print("v @ J   =", v @ J)  # v^T J, what grad_outputs=v gives
print("J.T @ v =", J.T @ v)  # the same numbers: (J^T v)^T = v^T J
print("J @ v   =", J @ v)  # a true Jacobian-vector product (lesson 6)
for api, words in [
    (torch.autograd.grad, "vector-Jacobian"),
    (torch.autograd.backward, "Jacobian-vector"),
]:
    print(f'"{words} product" in {api.__name__}.__doc__:', f"{words} product" in api.__doc__)

# %% several
x1 = torch.tensor(2.0, requires_grad=True)
x2 = torch.tensor(3.0, requires_grad=True)
y1 = x1**2 + 3 * x2  # the same f, one tensor per input and per output
y2 = x2**2 + 2 * x1
g1, g2 = torch.autograd.grad([y1, y2], [x1, x2], grad_outputs=[v[0], v[1]], retain_graph=True)
print("g1 =", g1, "| g2 =", g2)  # g_j = v1 dy1/dx_j + v2 dy2/dx_j
print("torch.equal(torch.stack([g1, g2]), vJ):", torch.equal(torch.stack([g1, g2]), vJ))

# %% backward_inputs
torch.autograd.backward([y1, y2], grad_tensors=[v[0], v[1]], inputs=[x1], retain_graph=True)
print("x1.grad =", x1.grad, "| x2.grad:", x2.grad)
torch.autograd.backward([y1, y2], grad_tensors=[v[0], v[1]], inputs=[x1], retain_graph=True)
print("x1.grad =", x1.grad, "| x2.grad:", x2.grad)  # accumulated: 2 g1
x1.grad = None

# %% create_graph
g1_plain, g2_plain = torch.autograd.grad([y1, y2], [x1, x2], [v[0], v[1]], retain_graph=True)
print("without create_graph: g1.requires_grad =", g1_plain.requires_grad)
g1, g2 = torch.autograd.grad([y1, y2], [x1, x2], [v[0], v[1]], create_graph=True)
print("with create_graph:    g1.requires_grad =", g1.requires_grad, "|", g1.grad_fn.name())
(h11,) = torch.autograd.grad(g1, x1, retain_graph=True)  # d/dx1 (2 v1 x1 + 2 v2) = 2 v1
print("d g1 / d x1 =", h11)

# %% unused raises="RuntimeError"
try:
    torch.autograd.grad(g2, [x1, x2], retain_graph=True)  # g2 = 3 v1 + 2 v2 x2: no x1
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")

# %% allow_unused
row_unused = torch.autograd.grad(g2, [x1, x2], retain_graph=True, allow_unused=True)
print("allow_unused=True:      ", row_unused)
row_zero = torch.autograd.grad(g2, [x1, x2], retain_graph=True, materialize_grads=True)
print("materialize_grads=True: ", row_zero)
H = torch.stack(  # row j: d g_j / d(x1, x2)
    [torch.stack(torch.autograd.grad(g, [x1, x2], retain_graph=True, materialize_grads=True))
     for g in (g1, g2)]
)
print("H =", H)  # the Hessian of v1 y1 + v2 y2

# %% basis_split
def h(x):  # R^2 -> R^3, J = [[x2, x1], [1, -1], [0, 3 x2^2]]
    return torch.stack([x[0] * x[1], x[0] - x[1], x[1] ** 3])


z = h(x)  # a second output of the same x; y's graph already exists
a, b = y.numel(), z.numel()
E = torch.eye(a + b)  # the one-hot basis of (y, z), stacked
V_y, V_z = E[:, :a], E[:, a:]  # pair k = (V_y[k], V_z[k]) = row k of E, split
print("V_y =", V_y)
print("V_z =", V_z)
(rows,) = torch.autograd.grad(
    [y, z], x, grad_outputs=[V_y, V_z], retain_graph=True, is_grads_batched=True
)  # row k = e_k^T [J_y; J_z]
print("rows =", rows)
J_y, J_z = torch.func.jacrev(lambda x: (f(x), h(x)))(x.detach())
print("torch.equal(rows, torch.cat([J_y, J_z])):", torch.equal(rows, torch.cat([J_y, J_z])))


# %% function
def jacobian_rows(outputs, x):
    """The Jacobian of existing outputs w.r.t. x, shape (sum of numels, x.numel())."""
    sizes = [y.numel() for y in outputs]
    E = torch.eye(sum(sizes), dtype=x.dtype, device=x.device)
    V = [block.reshape(-1, *y.shape) for block, y in zip(E.split(sizes, dim=1), outputs)]
    (rows,) = torch.autograd.grad(outputs, x, V, retain_graph=True, is_grads_batched=True)
    return rows.reshape(sum(sizes), x.numel())


print("jacobian_rows([y, z], x) =", jacobian_rows([y, z], x))
