# %% setup
import torch


def f(x):  # R^2 -> R^2: J = [[2 x1, 3], [2, 2 x2]]
    x1, x2 = x[0], x[1]
    return torch.stack([x1**2 + 3 * x2, x2**2 + 2 * x1])


def jacobian_rows(y, x):  # lesson 4's loop: row i = e_i^T J, from the graph y recorded
    J = torch.zeros(y.numel(), x.numel())
    for i in range(y.numel()):
        v = torch.zeros(y.numel())
        v[i] = 1.0
        x.grad = None
        y.backward(v.reshape(y.shape), retain_graph=True)
        J[i] = x.grad.reshape(-1)
    x.grad = None
    return J


x = torch.tensor([2.0, 3.0], requires_grad=True)
y = f(x)
print("y =", y.detach(), "| y.requires_grad:", y.requires_grad)
print("J =", jacobian_rows(y, x))

# %% no_grad
with torch.no_grad():
    print("inside: torch.is_grad_enabled():", torch.is_grad_enabled())
    y_ng = f(x)
print("y_ng =", y_ng, "| requires_grad:", y_ng.requires_grad, "| grad_fn:", y_ng.grad_fn)
print("y_ng.is_inference():", y_ng.is_inference(), "| y_ng._version:", y_ng._version)
(y_ng * x).sum().backward()  # y_ng is a constant: d(y_ng . x)/dx = y_ng
print("y_ng constant: x.grad =", x.grad)
x.grad = None
(y * x).sum().backward(retain_graph=True)  # y tracked: d(y . x)/dx = y + J^T x
print("y tracked:     x.grad =", x.grad)
x.grad = None

# %% inference_mode
with torch.inference_mode():
    y_inf = f(x)
print("y_inf =", y_inf, "| requires_grad:", y_inf.requires_grad)
print("y_inf.is_inference():", y_inf.is_inference())
print("(y_inf + x).grad_fn:", (y_inf + x).grad_fn.name())  # + saves no tensor

# %% inference_saved raises="RuntimeError"
try:
    (y_inf * x).sum().backward()  # * saves y_inf for the gradient of x
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")

# %% inference_version raises="RuntimeError"
try:
    print("y_inf._version:", y_inf._version)
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")

# %% inference_clone
y_normal = y_inf.clone()  # cloned outside inference mode: a normal tensor
print("y_normal.is_inference():", y_normal.is_inference())
(y_normal * x).sum().backward()
print("x.grad =", x.grad)
x.grad = None

# %% freeze
lin = torch.nn.Linear(2, 2)  # out = W x + b
with torch.no_grad():
    lin.weight.copy_(torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
    lin.bias.copy_(torch.tensor([0.5, -1.0]))
lin.weight.requires_grad_(False)  # freeze W
print("trainable:", [name for name, p in lin.named_parameters() if p.requires_grad])
out = lin(x)
v = torch.tensor([1.0, -2.0])
out.backward(v)  # d(v . out)/db = v, d(v . out)/dx = v W
print("lin.weight.grad:", lin.weight.grad)
print("lin.bias.grad =", lin.bias.grad)
print("x.grad =", x.grad)
x.grad = None

# %% detach
def f_stopped(x):  # the term x1^2 of y1 is detached
    x1, x2 = x[0], x[1]
    return torch.stack([x1.detach() ** 2 + 3 * x2, x2**2 + 2 * x1])


y_stopped = f_stopped(x)
print("y_stopped =", y_stopped.detach(), "| y =", y.detach())
J = jacobian_rows(y, x)
J_stopped = jacobian_rows(y_stopped, x)
print("J_stopped =", J_stopped)
print("J - J_stopped =", J - J_stopped)  # the Jacobian of the detached term x1^2

# %% control_flow
def g(x):  # which formula runs depends on the value of x
    x1, x2 = x[0], x[1]
    if x.sum() > 0:
        return torch.stack([x1**2 + 3 * x2, x2**2 + 2 * x1])  # J = [[2 x1, 3], [2, 2 x2]]
    return torch.stack([x1 * x2, x1 - x2])  # J = [[x2, x1], [1, -1]]


def recorded(y):  # the names of the nodes in y's graph
    names, todo = set(), [y.grad_fn]
    while todo:
        node = todo.pop()
        names.add(node.name())
        todo += [next_node for next_node, _ in node.next_functions if next_node is not None]
    return sorted(names - {"torch::autograd::AccumulateGrad"})


for point in ([2.0, 3.0], [-1.0, -2.0]):
    x_p = torch.tensor(point, requires_grad=True)
    y_p = g(x_p)
    print("x =", point)
    print("recorded:", ", ".join(recorded(y_p)))
    print("J =", jacobian_rows(y_p, x_p))
