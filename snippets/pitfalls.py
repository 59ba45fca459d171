# %% setup
import warnings

import torch
from torch.func import vmap


def f(x):  # R^(1x2) -> R^(1x2)
    x1, x2 = x[:, 0], x[:, 1]
    return torch.stack([x1**2 + 3 * x2, x2**2 + 2 * x1], dim=1)


x = torch.tensor([[2.0, 3.0]], requires_grad=True)
y = f(x)

# %% non_scalar raises="RuntimeError"
try:
    y.backward()
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")

# %% non_scalar_fix
y.backward(torch.ones_like(y), retain_graph=True)  # v = [1, 1]
print("x.grad =", x.grad)

# %% vector_loss raises="RuntimeError"
X = torch.tensor([[1.0, 2.0], [0.5, -1.0], [-1.0, 1.0], [2.0, 0.0]])  # B = 4 samples
targets = torch.tensor([1.0, 0.0, 2.0, -1.0])
w = torch.tensor([0.5, -0.5], requires_grad=True)  # the model: X @ w
mse_per_sample = torch.nn.MSELoss(reduction="none")
loss = mse_per_sample(X @ w, targets)  # shape (4,)
try:
    loss.backward()
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")

# %% loss_reduction
B = len(targets)
loss.backward(torch.ones_like(loss), retain_graph=True)  # v = (1, ..., 1)
grad_sum = w.grad
w.grad = None
loss.mean().backward()  # v = (1/B, ..., 1/B)
grad_mean = w.grad
print("ones_like: w.grad =", grad_sum)
print("mean():    w.grad =", grad_mean)
print("ratio =", grad_sum / grad_mean, "| B =", B)

# %% shape_mismatch raises="RuntimeError"
try:
    y.backward(torch.ones(2), retain_graph=True)
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")

# %% shape_mismatch_fix
x.grad = None
y.backward(torch.ones(2).reshape(y.shape), retain_graph=True)
print("x.grad =", x.grad)

# %% second_backward raises="RuntimeError"
z = f(x)
z.sum().backward()
try:
    z.sum().backward()
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")

# %% second_backward_fix
x.grad = None
z = f(x)
z.sum().backward(retain_graph=True)
z.sum().backward()
print("x.grad =", x.grad)

# %% non_leaf_grad
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    print("y.grad:", y.grad)
message = str(caught[0].message).split(" (Triggered internally")[0]  # drop torch's build path
print(f"{caught[0].category.__name__}: {message}")

# %% non_leaf_grad_fix
z = f(x)
z.retain_grad()
z.sum().backward()
print("z.grad =", z.grad)

# %% moved_leaf
w64 = torch.tensor([1.0, -2.0], requires_grad=True).double()  # a float64 copy
u64 = torch.tensor([1.0, -2.0], requires_grad=True).to(torch.float64)
same = torch.tensor([1.0, -2.0], requires_grad=True).to(torch.float32)  # already float32
for name, moved in [("w64", w64), ("u64", u64), ("same", same)]:
    node = moved.grad_fn.name() if moved.grad_fn is not None else None
    print(f"{name}.is_leaf: {moved.is_leaf} | {name}.grad_fn: {node}")
(w64 * w64).sum().backward()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    print("w64.grad:", w64.grad)
first_sentence = str(caught[0].message).split(". ")[0]
print(f"{caught[0].category.__name__}: {first_sentence}.")

# %% moved_leaf_fix
w64 = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)  # device= too
u64 = torch.tensor([1.0, -2.0]).to(torch.float64).requires_grad_()  # move first, then record
for name, fixed in [("w64", w64), ("u64", u64)]:
    (fixed * fixed).sum().backward()  # d/dw sum(w^2) = 2 w
    print(f"{name}.is_leaf: {fixed.is_leaf} | {name}.grad: {fixed.grad}")
layer = torch.nn.Linear(2, 1)
weight = layer.weight
layer.double()  # a module converts its own parameters: same Parameter, new dtype
print(f"layer.weight.is_leaf: {layer.weight.is_leaf} | dtype: {layer.weight.dtype}"
      f" | the same Parameter: {layer.weight is weight}")

# %% moved_leaf_retain_grad raises="ValueError"
w = torch.tensor([1.0, -2.0], requires_grad=True)  # the leaf
w64 = w.double()  # the copy that the model computes with
try:
    torch.optim.SGD([w64], lr=0.1)
except ValueError as error:
    print(f"{type(error).__name__}: {error}")
w64.retain_grad()
optimizer = torch.optim.SGD([w64], lr=0.1)  # accepted now
for _ in range(3):
    optimizer.zero_grad()
    (w64 * w64).sum().backward()  # w64 <- w64 - 0.1 * 2 w64 = 0.8 w64
    optimizer.step()
    print(f"w64 = {w64.detach()} | w.grad = {w.grad}")
print("w =", w.detach())

# %% in_place_leaf raises="RuntimeError"
x.grad = None
f(x).sum().backward()  # x.grad = [[6., 9.]]
try:
    x -= 0.1 * x.grad
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")

# %% in_place_leaf_fix
with torch.no_grad():
    x -= 0.1 * x.grad
print("x =", x, "| x.is_leaf:", x.is_leaf)

# %% in_place_leaf_index raises="RuntimeError"
leaf = torch.zeros(2, requires_grad=True)
try:
    leaf[0] = 1.0
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")

# %% in_place_buffer
c = torch.zeros(2)  # a leaf that does not require grad
print("c.is_leaf:", c.is_leaf, "| c.requires_grad:", c.requires_grad)
c[0] = x[0, 0] * 2
print("c.is_leaf:", c.is_leaf, "| c.requires_grad:", c.requires_grad)
print("c.grad_fn:", type(c.grad_fn).__name__)
print("autograd.grad(c.sum(), x) =", torch.autograd.grad(c.sum(), x)[0])

# %% version_counter raises="RuntimeError"
a = torch.tensor([0.0, 1.0], requires_grad=True)
b = a.exp()  # d exp(a)/da = exp(a) = b
print("b._version:", b._version)
b += 1
print("b._version:", b._version)
try:
    b.sum().backward()
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")

# %% saved_tensors
def grad_after_changing(op, changed):
    h = a * 1
    out = op(h)
    (h if changed == "h" else out).add_(1)
    try:
        torch.autograd.grad(out.sum(), a)
        return "ok"
    except RuntimeError as error:
        return type(error).__name__


ops = {"exp(h)": torch.exp, "h ** 2": lambda h: h**2, "10 * h": lambda h: 10 * h}
for name, op in ops.items():
    node = op(a * 1).grad_fn
    saved_h = getattr(node, "_saved_self", None) is not None
    saved_out = getattr(node, "_saved_result", None) is not None
    h_changed = grad_after_changing(op, "h")
    out_changed = grad_after_changing(op, "out")
    print(f"{name}: {node.name()} saved h: {saved_h}, out: {saved_out}", end=" | ")
    print(f"h changed: {h_changed}, out changed: {out_changed}")

# %% relu_inplace raises="RuntimeError"
h = torch.sigmoid(a)  # sigmoid'(a) = h (1 - h)
out = torch.nn.ReLU(inplace=True)(h)
try:
    out.sum().backward()
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")

# %% add_inplace raises="RuntimeError"
weight = torch.tensor([0.5, -1.0], requires_grad=True)
h = a * 2
out = h * weight  # d out/d weight = h
h += 1
try:
    (out.sum() + h.sum()).backward()
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")

# %% anomaly raises="RuntimeError"
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    with torch.autograd.detect_anomaly():
        h = torch.sigmoid(a)
        out = torch.nn.ReLU(inplace=True)(h)
        try:
            out.sum().backward()
        except RuntimeError as error:
            print(f"{type(error).__name__}: {error}")
print("anomaly detection on:", torch.is_anomaly_enabled())
for warning in caught:
    print(f"{warning.category.__name__}: {str(warning.message).splitlines()[0]}")

# %% version_counter_fix
out = torch.nn.ReLU(inplace=False)(torch.sigmoid(a))
(grad_relu,) = torch.autograd.grad(out.sum(), a)
print("ReLU(inplace=False): grad a =", grad_relu)
h = a * 2
out = h * weight
h = h + 1
grad_residual = torch.autograd.grad(out.sum() + h.sum(), (a, weight))
print("h = h + 1: grad a, weight =", grad_residual)
b = a.exp()
b_copy = b.clone()
b_copy += 1
(grad_clone,) = torch.autograd.grad(b_copy.sum(), a)
print("clone, then +=: grad a =", grad_clone)

# %% no_grad_fn raises="RuntimeError"
try:
    f(x.detach()).sum().backward()
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")

# %% no_grad_fn_under_no_grad raises="RuntimeError"
with torch.no_grad():
    out = f(x)
print("out.requires_grad:", out.requires_grad, "| out.grad_fn:", out.grad_fn)
try:
    out.sum().backward()
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")

# %% summed_outputs
y = f(x)  # x changed in place above: a fresh graph
y1, y2 = y[0, 0], y[0, 1]
(g,) = torch.autograd.grad([y1, y2], x, retain_graph=True)
print("autograd.grad([y1, y2], x) =", g)  # not two rows: row 0 + row 1
(row_0,) = torch.autograd.grad(y1, x, retain_graph=True)
(row_1,) = torch.autograd.grad(y2, x, retain_graph=True)
print("row_0 =", row_0, "| row_1 =", row_1)

# %% backward_in_vmap raises="RuntimeError"
w = torch.tensor([1.0, 2.0], requires_grad=True)
rows = torch.tensor([[2.0, 3.0], [1.0, 1.0]])
try:
    vmap(lambda x_row: (w * x_row).sum().backward())(rows)  # d(w . x_row)/dw?
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")

# %% backward_in_vmap_fix
grad_w = torch.func.grad(lambda w, x_row: (w * x_row).sum())  # d/dw
per_row = vmap(grad_w, in_dims=(None, 0))  # w shared, x_row batched
print(per_row(w.detach(), rows))

# %% article_leaf raises="IndexError"
broken = torch.tensor([[2.3]], requires_grad=True)  # shape (1, 1)
try:
    broken[0, 1]
except IndexError as error:
    print(f"{type(error).__name__}: {error}")
