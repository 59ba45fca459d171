# %% leaf
import torch

x = torch.tensor([[2.0, 3.0]], requires_grad=True)  # shape (1, 2)
print("x =", x)
print("x.is_leaf:", x.is_leaf)
print("x.requires_grad:", x.requires_grad)
print("x.grad_fn:", x.grad_fn)
print("x.grad:", x.grad)

# %% output graph="y"
x1, x2 = x[:, 0], x[:, 1]  # shape (1,) each
y = torch.stack([x1**2 + 3 * x2, x2**2 + 2 * x1], dim=1)  # shape (1, 2)
print("y =", y)
print("y.is_leaf:", y.is_leaf)
print("y.requires_grad:", y.requires_grad)
print("y.grad_fn:", y.grad_fn.name())

# %% shapes
print("x.shape:", tuple(x.shape))
print("y.shape:", tuple(y.shape))
print("y.numel():", y.numel())

# %% vector_loss
X = torch.tensor([[1.0, 2.0], [0.5, -1.0], [-1.0, 1.0], [2.0, 0.0]])  # B = 4 samples
targets = torch.tensor([1.0, 0.0, 2.0, -1.0])  # shape (4,)
w = torch.tensor([0.5, -0.5], requires_grad=True)  # the model: X @ w
mse = torch.nn.MSELoss()  # reduction="mean", the default
mse_per_sample = torch.nn.MSELoss(reduction="none")
loss_mean = mse(X @ w, targets)  # mean over the batch
loss = mse_per_sample(X @ w, targets)  # one loss per sample
print("loss_mean =", loss_mean, "| shape:", tuple(loss_mean.shape))
print("loss =", loss, "| shape:", tuple(loss.shape))

# %% data_parallel_loss
per_replica = [mse(X[:2] @ w, targets[:2]), mse(X[2:] @ w, targets[2:])]  # 2 samples per GPU
gathered = torch.stack(per_replica)  # one scalar per GPU, stacked: shape (2,)
print("gathered =", gathered, "| shape:", tuple(gathered.shape))

# %% article_leaf raises="IndexError"
broken = torch.tensor([[2.3]], requires_grad=True)  # shape (1, 1), not (1, 2)
try:
    broken[0, 1]
except IndexError as error:
    print(f"{type(error).__name__}: {error}")
