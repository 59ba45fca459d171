# %% setup
import torch
from torch.autograd.functional import jacobian


def f(x):  # R^(1x2) -> R^(1x2)
    x1, x2 = x[:, 0], x[:, 1]
    return torch.stack([x1**2 + 3 * x2, x2**2 + 2 * x1], dim=1)


x = torch.tensor([[2.0, 3.0]])  # no requires_grad: jacobian() handles it

# %% default
J = jacobian(f, x)  # a Python loop of m backward passes
print("J.shape:", tuple(J.shape))  # y.shape + x.shape
print("J.reshape(2, 2) =", J.reshape(2, 2))

# %% vectorize
J_vectorized = jacobian(f, x, vectorize=True)  # one batched backward pass (vmap)
print("torch.equal(J, J_vectorized):", torch.equal(J, J_vectorized))

# %% forward_mode
# one batched JVP pass:
J_forward = jacobian(f, x, vectorize=True, strategy="forward-mode")
print("torch.equal(J, J_forward):", torch.equal(J, J_forward))

# %% forward_mode_needs_vectorize raises="NotImplementedError"
try:
    jacobian(f, x, strategy="forward-mode")
except NotImplementedError as error:
    print(f"{type(error).__name__}: {error}")

# %% forward_mode_no_fallback raises="RuntimeError"
def pool(x):  # R^(1x4) -> R^(1x2): the larger of each pair
    return torch.nn.functional.max_pool1d(x, 2)


x4 = torch.tensor([[1.0, 4.0, 3.0, 2.0]])
J_pool = jacobian(pool, x4, vectorize=True)
print("J_pool.reshape(2, 4) =", J_pool.reshape(2, 4))
try:
    jacobian(pool, x4, vectorize=True, strategy="forward-mode")
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")

# %% several_inputs
a, b = torch.tensor([2.0]), torch.tensor([3.0])
J_a, J_b = jacobian(lambda a, b: torch.cat([a**2 + 3 * b, b**2 + 2 * a]), (a, b))
print("J_a =", J_a.flatten(), "| J_b =", J_b.flatten())  # the columns of J
