# %% setup
import torch
from torch import nn
from torch.func import functional_call, grad, hessian, jacrev, vmap

model = nn.Linear(2, 2)  # y = W x + b
with torch.no_grad():  # fixed numbers instead of the random initialisation
    model.weight.copy_(torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
    model.bias.copy_(torch.tensor([0.5, -1.0]))
x = torch.tensor([2.0, 3.0])  # the x of lessons 1-5
print("model(x) =", model(x).detach())

# %% functional_call
params = {name: p.detach() for name, p in model.named_parameters()}
print({name: tuple(p.shape) for name, p in params.items()})
y = functional_call(model, params, (x,))  # model(x), run with these tensors
print("y =", y)
doubled = {name: 2 * p for name, p in params.items()}
print("with doubled parameters:", functional_call(model, doubled, (x,)))
print("model.weight is still", model.weight.detach())

# %% jacobian_blocks
def f(params, x):  # the model as a function of its parameters (and of x)
    return functional_call(model, params, (x,))


blocks = jacrev(f)(params, x)  # argnums=0: w.r.t. the dict, one block per entry
for name, block in blocks.items():
    print(f"{name}: {tuple(block.shape)} = {tuple(y.shape)} + {tuple(params[name].shape)}")
print('blocks["weight"] =', blocks["weight"])  # [i, j, k] = dy_i/dW_jk = δ_ij x_k
print('blocks["bias"] =', blocks["bias"])  # [i, j] = dy_i/db_j = δ_ij
I = torch.eye(2)
by_hand = torch.einsum("ij,k->ijk", I, x)  # δ_ij x_k
print("blocks['weight'] equals by_hand:", torch.equal(blocks["weight"], by_hand))

# %% flatten
J_theta = torch.cat([block.reshape(2, -1) for block in blocks.values()], 1)  # (2, 6)
print("J_theta =", J_theta)
print("torch.kron(I, x) =", torch.kron(I, x))  # dy/d vec(W), W flattened row by row
v = torch.tensor([0.5, -2.0])  # lesson 2's v
print("v @ J_theta =", v @ J_theta)
model(x).backward(v)  # writes v^T J_theta into the parameters' .grad
print("backward(v):", torch.cat([model.weight.grad.flatten(), model.bias.grad]))
model.zero_grad()

# %% hessian_blocks
target = torch.tensor([1.0, 0.0])


def loss(params):  # L = 1/2 ||W x + b - target||^2
    return 0.5 * ((f(params, x) - target) ** 2).sum()


H = hessian(loss)(params)  # a dict of dicts: H[a][b] = d^2 L / da db
for a in H:
    for b in H[a]:
        print(f'H["{a}"]["{b}"]: {tuple(H[a][b].shape)}')
print('H["weight"]["bias"] =', H["weight"]["bias"])  # [i, j, k] = δ_ik x_j
sizes = {name: p.numel() for name, p in params.items()}
H_flat = torch.cat(  # (6, 6)
    [torch.cat([H[a][b].reshape(sizes[a], -1) for b in params], 1) for a in params]
)
print("H_flat =", H_flat)
print("H_flat equals J_theta.T @ J_theta:", torch.equal(H_flat, J_theta.T @ J_theta))

# %% jacobian_penalty
live = dict(model.named_parameters())  # the module's own tensors, requires_grad=True
J_x = jacrev(f, argnums=1)(live, x)  # dy/dx = W, still attached to the parameters
print("J_x =", J_x.detach(), "| J_x.requires_grad:", J_x.requires_grad)
penalty = (J_x**2).sum()  # ||dy/dx||^2 = ||W||^2
penalty.backward()
print("model.weight.grad =", model.weight.grad)
print("2 * W =", 2 * model.weight.detach())
print("model.bias.grad:", model.bias.grad)
model.zero_grad()

# %% without_create_graph raises="RuntimeError"
J_plain = torch.autograd.functional.jacobian(model, x)  # create_graph=False
print("J_plain.requires_grad:", J_plain.requires_grad)
try:
    (J_plain**2).sum().backward()
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")

# %% create_graph
J_graph = torch.autograd.functional.jacobian(model, x, create_graph=True)
print("J_graph.requires_grad:", J_graph.requires_grad)
(J_graph**2).sum().backward()
print("after backward:", model.weight.grad, model.bias.grad, sep="\n")
model.zero_grad()


def penalty_of(params):  # a loss that contains a jacrev
    return (jacrev(f, argnums=1)(params, x) ** 2).sum()


grads = grad(penalty_of)(params)  # grad over jacrev: no flag needed
print("grad(penalty_of)(params):", grads["weight"], grads["bias"], sep="\n")

# %% training_step
def jacobian_penalty(model, X):
    """Sum of ||dy_b/dx_b||^2 over the batch, differentiable w.r.t. the parameters."""
    params = dict(model.named_parameters())
    y_of_x = lambda x: functional_call(model, params, (x,))
    return (vmap(jacrev(y_of_x))(X) ** 2).sum()  # one (m, n) Jacobian per sample


X = torch.tensor([[2.0, 3.0], [1.0, -1.0], [0.0, 1.0]])  # B = 3 samples
T = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])  # targets
lam = 0.1
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
optimizer.zero_grad()
task = ((model(X) - T) ** 2).mean()
penalty = jacobian_penalty(model, X)  # B ||W||^2
task_grad_W, task_grad_b = torch.autograd.grad(  # the task loss alone
    task, [model.weight, model.bias], retain_graph=True
)
(task + lam * penalty).backward()
W = model.weight.detach().clone()
B = len(X)
print("penalty =", penalty.item(), "| B ||W||^2 =", B * (W**2).sum().item())
print("model.weight.grad =", model.weight.grad)
print("task_grad_W + lam * 2 * B * W =", task_grad_W + lam * 2 * B * W)
print("torch.allclose(model.bias.grad, task_grad_b):", torch.allclose(model.bias.grad, task_grad_b))
optimizer.step()
print("after the step: model.weight =", model.weight.detach())
