# %% setup
import inspect
import warnings

import torch
from torch.autograd import gradcheck, gradgradcheck


def f(x):  # R^2 -> R^2, J = [[2 x1, 3], [2, 2 x2]]
    x1, x2 = x[0], x[1]
    return torch.stack([x1**2 + 3 * x2, x2**2 + 2 * x1])


x = torch.tensor([2.0, 3.0], dtype=torch.float64, requires_grad=True)
print("gradcheck(f, (x,)):", gradcheck(f, (x,)))
print("gradgradcheck(f, (x,)):", gradgradcheck(f, (x,)))


# %% central_difference
def central_difference(f, x, eps):  # column j: (f(x + eps e_j) - f(x - eps e_j)) / (2 eps)
    x = x.detach()
    E = torch.eye(x.numel(), dtype=x.dtype, device=x.device).reshape(-1, *x.shape)
    columns = [(f(x + eps * e) - f(x - eps * e)).reshape(-1) / (2 * eps) for e in E]
    return torch.stack(columns, dim=1)  # (outputs, inputs), like J


J_num = central_difference(f, x, eps=1e-6)
J = torch.func.jacrev(f)(x.detach())
print("J_num =", J_num)
print("J     =", J)
print("J_num - J =", J_num - J)

# %% tolerance
parameters = inspect.signature(gradcheck).parameters
defaults = {name: parameters[name].default for name in ("eps", "atol", "rtol")}
print("gradcheck's defaults:", defaults)
atol, rtol = defaults["atol"], defaults["rtol"]
bound = atol + rtol * J_num.abs()  # entry by entry: |J - J_num| <= bound
print("bound =", bound)
print("(J - J_num).abs() <= bound:", bool(((J - J_num).abs() <= bound).all()))

# %% zero_tolerance raises="GradcheckError"
try:
    gradcheck(f, (x,), atol=0.0, rtol=0.0)
except RuntimeError as error:  # GradcheckError is a RuntimeError
    print(f"{type(error).__name__}: {error}")

# %% float32_by_hand
x32 = x.detach().float()
J_num32 = central_difference(f, x32, eps=1e-6)
print("J_num (float32) =", J_num32)
print("J_num (float32) / J =", J_num32 / J.float())
print("spacing at x:", torch.nextafter(x32, x32 + 1) - x32)  # neighbouring float32 numbers
step = (x32 + 1e-6) - x32  # the step that float32 really takes at (2, 3)
print("step =", step)
print("step / 1e-6 =", step / 1e-6)
y1 = f(x32)[0]  # 13: neighbouring float32 numbers are this far apart
print("spacing at y1 = 13:", (torch.nextafter(y1, y1 + 1) - y1).item())
print("float32 eps:", torch.finfo(torch.float32).eps)
print("float64 eps:", torch.finfo(torch.float64).eps)

# %% float32_gradcheck raises="GradcheckError"
x32.requires_grad_(True)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    try:
        gradcheck(f, (x32,))
    except RuntimeError as error:
        print(f"{type(error).__name__}: {error}")
for w in caught:
    print(f"{w.category.__name__}: {w.message}")

# %% float32_eps
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    print("gradcheck(f, (x32,), eps=1e-2):", gradcheck(f, (x32,), eps=1e-2))
print("warnings caught:", len(caught))


# %% wrong_backward raises="GradcheckError"
class SquareWrong(torch.autograd.Function):  # t -> t^2, with a planted bug
    @staticmethod
    def forward(ctx, t):
        ctx.save_for_backward(t)
        return t * t

    @staticmethod
    def backward(ctx, grad_output):  # receives v, returns v * d(t^2)/dt
        (t,) = ctx.saved_tensors
        return grad_output * t  # wrong: the factor 2 is missing


def f_wrong(x):  # f, with x1^2 computed by SquareWrong
    x1, x2 = x[0], x[1]
    return torch.stack([SquareWrong.apply(x1) + 3 * x2, x2**2 + 2 * x1])


print("f_wrong(x) =", f_wrong(x).detach())
print("f(x)       =", f(x).detach())
v = torch.tensor([0.5, -2.0], dtype=torch.float64)  # lesson 2's v
(vJ_wrong,) = torch.autograd.grad(f_wrong(x), x, v)  # no error: just a wrong v^T J
print("vJ_wrong =", vJ_wrong)
print("v @ J    =", v @ J)
try:
    gradcheck(f_wrong, (x,))
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")

# %% fast_mode
print("gradcheck(f, (x,), fast_mode=True):", gradcheck(f, (x,), fast_mode=True))
u = torch.tensor([0.6, 0.8], dtype=torch.float64)  # gradcheck draws u and v at random
eps = 1e-6
x0 = x.detach()
Ju_num = (f(x0 + eps * u) - f(x0 - eps * u)) / (2 * eps)  # one difference: J u
(vJ,) = torch.autograd.grad(f(x), x, v)  # one backward: v^T J
print("v @ Ju_num =", (v @ Ju_num).item())
print("vJ @ u     =", (vJ @ u).item())

# %% fast_mode_wrong raises="GradcheckError"
try:
    gradcheck(f_wrong, (x,), fast_mode=True)
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")


# %% gradgradcheck_wrong raises="GradcheckError"
class SquareDetached(torch.autograd.Function):  # t -> t^2, right values, no second derivative
    @staticmethod
    def forward(ctx, t):
        ctx.save_for_backward(t)
        return t * t

    @staticmethod
    def backward(ctx, grad_output):
        (t,) = ctx.saved_tensors
        return grad_output * 2 * t.detach()  # right value, but cut off from t


def f_detached(x):
    x1, x2 = x[0], x[1]
    return torch.stack([SquareDetached.apply(x1) + 3 * x2, x2**2 + 2 * x1])


print("gradcheck(f_detached, (x,)):", gradcheck(f_detached, (x,)))
v_checked = v.clone().requires_grad_(True)  # fixed, not gradgradcheck's random v
print("gradgradcheck(f, (x,), v):", gradgradcheck(f, (x,), grad_outputs=(v_checked,)))
try:
    gradgradcheck(f_detached, (x,), grad_outputs=(v_checked,))
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")
