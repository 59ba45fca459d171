# %% setup
import torch
from torch import nn
from torch.func import functional_call, grad, vmap

torch.manual_seed(0)
model = nn.Linear(2, 1)  # y = w . x + b: weight (1, 2), bias (1,)
xs = torch.tensor([[2.0, 3.0], [1.0, -1.0], [0.0, 2.0], [-1.0, 1.0]])  # B = 4 samples
ts = torch.tensor([1.0, 0.0, -1.0, 2.0])  # one target per sample
for name, p in model.named_parameters():
    print(f"{name} =", p.detach())

# %% batch_backward
losses = (model(xs)[:, 0] - ts) ** 2  # one loss per sample, shape (B,)
losses.mean().backward()
print("weight.grad =", model.weight.grad)
print("bias.grad   =", model.bias.grad)
batch_grads = {name: p.grad.clone() for name, p in model.named_parameters()}
model.zero_grad()
losses = (model(xs)[:, 0] - ts) ** 2
losses.backward(gradient=torch.full((4,), 1 / 4))  # v = (1/B, ..., 1/B): the same v^T J
print("with v = 1/B: weight.grad =", model.weight.grad)
model.zero_grad()

# %% loop
loop_grads = {name: [] for name, _ in model.named_parameters()}
for x, t in zip(xs, ts):
    model.zero_grad()
    loss = (model(x[None])[0, 0] - t) ** 2  # one sample: a batch of one
    loss.backward()
    for name, p in model.named_parameters():
        loop_grads[name].append(p.grad.clone())
model.zero_grad()
loop_grads = {name: torch.stack(g) for name, g in loop_grads.items()}  # (B, *p.shape)
print("loop_grads['weight'] =", loop_grads["weight"])
print("loop_grads['bias']   =", loop_grads["bias"])
print("mean == batch gradient:", all(
    torch.allclose(loop_grads[name].mean(dim=0), batch_grads[name]) for name in batch_grads
))

# %% functional_call
params = {name: p.detach() for name, p in model.named_parameters()}  # plain tensors


def loss_one(params, x, t):  # the loss of one sample, as a function of the parameters
    out = functional_call(model, params, (x[None],))  # model(x[None]) with these params
    return (out[0, 0] - t) ** 2


loss_0 = loss_one(params, xs[0], ts[0])
print("loss_one(params, xs[0], ts[0]) =", loss_0)
print("equal to the module's own loss:", torch.equal(loss_0, (model(xs[:1])[0, 0] - ts[0]) ** 2))
print("grad(loss_one)(params, xs[0], ts[0]) =", grad(loss_one)(params, xs[0], ts[0]))

# %% vmap_grad
per_sample = vmap(grad(loss_one), in_dims=(None, 0, 0))(params, xs, ts)  # params shared
for name, g in per_sample.items():
    print(f"per_sample[{name!r}].shape:", tuple(g.shape))
print("per_sample['weight'] =", per_sample["weight"])
print("equal to the loop:", all(
    torch.allclose(per_sample[name], loop_grads[name]) for name in loop_grads
))

# %% dropout_setup
torch.manual_seed(0)
model_drop = nn.Sequential(nn.Linear(2, 4), nn.Dropout(p=0.5), nn.Linear(4, 1))
params_drop = {name: p.detach() for name, p in model_drop.named_parameters()}
print("model_drop.training:", model_drop.training, "| params:", list(params_drop))


def loss_drop(params, x, t):
    out = functional_call(model_drop, params, (x[None],))
    return (out[0, 0] - t) ** 2


# %% dropout_error raises="RuntimeError"
try:
    vmap(grad(loss_drop), in_dims=(None, 0, 0))(params_drop, xs, ts)
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")

# %% randomness_masks
dropout = model_drop[1]
torch.manual_seed(4)
masks_different = vmap(dropout, randomness="different")(torch.ones(4, 4))
print("randomness='different':")
print(masks_different)
torch.manual_seed(4)
masks_same = vmap(dropout, randomness="same")(torch.ones(4, 4))
print("randomness='same':")
print(masks_same)
torch.manual_seed(4)
masks_batch = dropout(torch.ones(4, 4))  # no vmap: an ordinary batch of 4 rows
print("no vmap, a batch of 4 rows:")
print(masks_batch)

# %% randomness_grads
torch.manual_seed(4)
g_different = vmap(grad(loss_drop), in_dims=(None, 0, 0), randomness="different")(
    params_drop, xs, ts
)
print("randomness='different': 2.weight gets a gradient:")
print((g_different["2.weight"][:, 0] != 0).int())
torch.manual_seed(4)
g_same = vmap(grad(loss_drop), in_dims=(None, 0, 0), randomness="same")(params_drop, xs, ts)
print("randomness='same': 2.weight gets a gradient:")
print((g_same["2.weight"][:, 0] != 0).int())

# %% dropout_eval
model_drop.eval()  # dropout is the identity now: nothing random is drawn
g_eval = vmap(grad(loss_drop), in_dims=(None, 0, 0))(params_drop, xs, ts)  # default randomness
print("eval mode: 2.weight gets a gradient:")
print((g_eval["2.weight"][:, 0] != 0).int())
model_drop.train()

# %% chunk_size
calls = 0


def loss_counted(params, x, t):
    global calls
    calls += 1  # Python runs once per call of the function, not once per sample
    return loss_one(params, x, t)


for chunk_size in [None, 3, 1]:
    calls = 0
    chunked = vmap(grad(loss_counted), in_dims=(None, 0, 0), chunk_size=chunk_size)(params, xs, ts)
    same = all(torch.allclose(chunked[name], per_sample[name]) for name in per_sample)
    print(f"chunk_size={chunk_size}: calls = {calls} | allclose to per_sample: {same}")
