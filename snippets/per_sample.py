# %% setup
import torch
from torch.func import jacrev, vmap

torch.manual_seed(0)
W = torch.randn(3, 4)


def f(x):  # one sample: R^4 -> R^3
    return torch.tanh(W @ x)


xs = torch.randn(5, 4)  # a batch of 5 samples
print("xs.shape:", tuple(xs.shape), "| f(xs[0]).shape:", tuple(f(xs[0]).shape))

# %% vmap_jacrev
J = vmap(jacrev(f))(xs)  # one 3x4 Jacobian per sample
print("J.shape:", tuple(J.shape))
print("J[0] =", J[0])

# %% whole_batch
def f_batch(xs):  # the batched model: row b depends on sample b only
    return torch.tanh(xs @ W.T)


J_whole = jacrev(f_batch)(xs)  # every output against every input, zeros included
print("J_whole.shape:", tuple(J_whole.shape))
blocks = J_whole.diagonal(dim1=0, dim2=2).permute(2, 0, 1)  # J_whole[b, :, b, :]
print("torch.allclose(blocks, J):", torch.allclose(blocks, J))
off_blocks = int((J_whole != 0).sum() - (blocks != 0).sum())
print("nonzero entries off the blocks:", off_blocks)

# %% sum_trick
J_sum = jacrev(lambda xs: f_batch(xs).sum(dim=0))(xs)  # shape (3, 5, 4)
print("J_sum.shape:", tuple(J_sum.shape))
J_per_sample = J_sum.permute(1, 0, 2)  # (5, 3, 4)
print("torch.allclose(J_per_sample, J):", torch.allclose(J_per_sample, J))
