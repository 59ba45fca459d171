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

# %% batchnorm_setup
from torch import nn


def new_model():  # tanh(BatchNorm1d(Linear(x))), the same weights at every call
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.Tanh())
    return model.requires_grad_(False)  # derivatives with respect to the input only


def one_sample(model):  # the model on one sample x: a batch of one
    return lambda x: model(x[None])[0]


model = new_model()
print("model.training:", model.training, "| track_running_stats:", model[1].track_running_stats)

# %% batchnorm_vmap raises="RuntimeError"
try:
    vmap(jacrev(one_sample(model)))(xs)
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")

# %% batchnorm_batch_of_one raises="ValueError"
torch.func.replace_all_batch_norm_modules_(model)  # in place: no running statistics
print("track_running_stats:", model[1].track_running_stats, "| running_mean:", model[1].running_mean)
try:
    vmap(jacrev(one_sample(model)))(xs)
except ValueError as error:
    print(f"{type(error).__name__}: {error}")

# %% batchnorm_whole_batch
J_bn = jacrev(model)(xs)  # (5, 3, 5, 4); mean and variance of the batch depend on every x_c
print("J_bn.shape:", tuple(J_bn.shape))
blocks_bn = J_bn.diagonal(dim1=0, dim2=2).permute(2, 0, 1)  # dy_b/dx_b, coupling included
print("blocks_bn[0] =", blocks_bn[0])
off_blocks_bn = int((J_bn != 0).sum() - (blocks_bn != 0).sum())
print("nonzero entries off the blocks:", off_blocks_bn)
J_sum_bn = jacrev(lambda xs: model(xs).sum(dim=0))(xs).permute(1, 0, 2)  # the sum trick
print("J_sum_bn[0] =", J_sum_bn[0])
print("torch.allclose(J_sum_bn, blocks_bn):", torch.allclose(J_sum_bn, blocks_bn))

# %% batchnorm_eval
model_eval = new_model()
print("running_mean:", model_eval[1].running_mean)
model_eval(xs)  # a training-mode forward pass updates the running statistics in place
print("running_mean:", model_eval[1].running_mean)
model_eval.eval()  # from now on: running statistics, each sample on its own
J_eval = vmap(jacrev(one_sample(model_eval)))(xs)
print("J_eval.shape:", tuple(J_eval.shape))
J_loop = torch.stack([jacrev(one_sample(model_eval))(x) for x in xs])
print("torch.allclose(J_eval, J_loop):", torch.allclose(J_eval, J_loop))
J_sum_eval = jacrev(lambda xs: model_eval(xs).sum(dim=0))(xs).permute(1, 0, 2)
print("torch.allclose(J_eval, J_sum_eval):", torch.allclose(J_eval, J_sum_eval))
