# %% setup
import torch
import torch.autograd.forward_ad as fwAD
from torch.autograd.gradcheck import GradcheckError
from torch.func import jacfwd, jacrev, vmap


def f(x):  # R^2 -> R^2, J = [[2 x1, 3], [2, 2 x2]]
    x1, x2 = x[0], x[1]
    return torch.stack([x1**2 + 3 * x2, x2**2 + 2 * x1])


x = torch.tensor([2.0, 3.0], requires_grad=True)
v = torch.tensor([0.5, -2.0])  # lesson 2's v
J = jacrev(f)(x.detach())  # the plain function's J
print("J =", J)


# %% function
class SeedFunction(torch.autograd.Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(x):  # x: (2,) -> y: (2,)
        x1, x2 = x[0], x[1]
        return torch.stack([x1**2 + 3 * x2, x2**2 + 2 * x1])

    @staticmethod
    def setup_context(ctx, inputs, output):
        (x,) = inputs
        ctx.save_for_backward(x)
        ctx.save_for_forward(x)

    @staticmethod
    def backward(ctx, v):  # v: shaped like y -> v^T J: shaped like x
        (x,) = ctx.saved_tensors
        x1, x2 = x[0], x[1]
        return torch.stack([2 * x1 * v[0] + 2 * v[1], 3 * v[0] + 2 * x2 * v[1]])

    @staticmethod
    def jvp(ctx, u):  # u: shaped like x -> J u: shaped like y
        (x,) = ctx.saved_tensors
        x1, x2 = x[0], x[1]
        return torch.stack([2 * x1 * u[0] + 3 * u[1], 2 * u[0] + 2 * x2 * u[1]])


y = SeedFunction.apply(x)
print("y =", y)
print("f(x).grad_fn.name():", f(x).grad_fn.name())


# %% watch
class Watched(SeedFunction):
    @staticmethod
    def backward(ctx, v):
        print("backward received v =", v)
        return SeedFunction.backward(ctx, v)

    @staticmethod
    def jvp(ctx, u):
        print("jvp received u =", u)
        return SeedFunction.jvp(ctx, u)


y = Watched.apply(x)
y.backward(v)
print("x.grad =", x.grad)
print("v @ J  =", v @ J)

# %% upstream
x.grad = None
loss = (Watched.apply(x) ** 2).sum()  # d loss / d y = 2 y
loss.backward()
print("x.grad =", x.grad)
print("2 * f(x) @ J =", 2 * f(x.detach()) @ J)


# %% old_style raises="RuntimeError"
class OldStyle(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return f(x)

    @staticmethod
    def backward(ctx, v):
        return SeedFunction.backward(ctx, v)


x_old = torch.tensor([2.0, 3.0], requires_grad=True)
OldStyle.apply(x_old).backward(v)
print("x_old.grad =", x_old.grad)
try:
    jacrev(OldStyle.apply)(x.detach())
except RuntimeError as error:
    print(f"{type(error).__name__}: {error}")

# %% jvp
u = torch.tensor([1.0, 0.0])  # e_1: J u is column 1 of J
with fwAD.dual_level():
    y_dual = Watched.apply(fwAD.make_dual(x.detach(), u))
    print("tangent of y =", fwAD.unpack_dual(y_dual).tangent)
_, Ju = torch.func.jvp(SeedFunction.apply, (x.detach(),), (u,))
print("torch.func.jvp:", Ju)
print("J @ u =", J @ u)


# %% no_jvp raises="NotImplementedError"
class NoJvp(SeedFunction):
    jvp = torch.autograd.Function.jvp


try:
    torch.func.jvp(NoJvp.apply, (x.detach(),), (u,))
except NotImplementedError as error:
    print(f"{type(error).__name__}: {error}")


# %% no_vmap raises="RuntimeError"
class NoVmap(SeedFunction):
    generate_vmap_rule = False


X = torch.tensor([[2.0, 3.0], [1.0, -1.0], [0.0, 0.5]])  # 3 points, shape (3, 2)
print("jacrev(NoVmap.apply)(x) =", jacrev(NoVmap.apply)(x.detach()))
try:
    jacfwd(NoVmap.apply)(x.detach())
except RuntimeError as error:
    print("jacfwd:", f"{type(error).__name__}: {error}")
try:
    vmap(NoVmap.apply)(X)
except RuntimeError as error:
    print("vmap:  ", f"{type(error).__name__}: {error}")

# %% jacobians
J_rev = jacrev(Watched.apply)(x.detach())
print("J_rev =", J_rev)
print("jacfwd equal:", torch.equal(jacfwd(SeedFunction.apply)(x.detach()), J))
print("vmap(SeedFunction.apply)(X) =", vmap(SeedFunction.apply)(X))
per_point = vmap(jacrev(SeedFunction.apply))(X)  # (3, 2, 2): one J per point
print("per_point =", per_point)
print("equal to vmap(jacrev(f))(X):", torch.equal(per_point, vmap(jacrev(f))(X)))


# %% vmap_rule
class ByRule(SeedFunction):
    generate_vmap_rule = False

    @staticmethod
    def vmap(info, in_dims, x):  # x: the whole batch, batch dim at in_dims[0]
        print("vmap rule: in_dims =", in_dims, "| batch_size =", info.batch_size)
        x_last = x.movedim(in_dims[0], -1)  # (2, batch): x[0], x[1] are (batch,)
        return ByRule.apply(x_last), -1  # the output and its batch dim


print("vmap equal:", torch.equal(vmap(ByRule.apply)(X), vmap(f)(X)))
print("vmap(jacrev) equal:", torch.equal(vmap(jacrev(ByRule.apply))(X), per_point))
print("jacfwd equal:", torch.equal(jacfwd(ByRule.apply)(x.detach()), J))

# %% gradcheck
x64 = torch.tensor([2.0, 3.0], dtype=torch.float64, requires_grad=True)
for fn in (SeedFunction, ByRule):
    ok = torch.autograd.gradcheck(
        fn.apply,
        (x64,),
        check_forward_ad=True,
        check_batched_grad=True,
        check_batched_forward_grad=True,
    )
    print(f"gradcheck({fn.__name__}.apply):", ok)


# %% wrong_jvp raises="GradcheckError"
class WrongJvp(SeedFunction):
    @staticmethod
    def jvp(ctx, u):  # (u^T J)^T instead of J u
        (x,) = ctx.saved_tensors
        x1, x2 = x[0], x[1]
        return torch.stack([2 * x1 * u[0] + 2 * u[1], 3 * u[0] + 2 * x2 * u[1]])


print("gradcheck(WrongJvp.apply):", torch.autograd.gradcheck(WrongJvp.apply, (x64,)))
try:
    torch.autograd.gradcheck(WrongJvp.apply, (x64,), check_forward_ad=True)
except GradcheckError as error:
    print(f"{type(error).__name__}: {error}")


# %% transposed raises="GradcheckError"
class Transposed(SeedFunction):
    @staticmethod
    def backward(ctx, v):  # J v instead of v^T J
        (x,) = ctx.saved_tensors
        x1, x2 = x[0], x[1]
        return torch.stack([2 * x1 * v[0] + 3 * v[1], 2 * v[0] + 2 * x2 * v[1]])


x.grad = None
Transposed.apply(x).backward(v)
print("x.grad =", x.grad, "| v @ J =", v @ J)
try:
    torch.autograd.gradcheck(Transposed.apply, (x64,))
except GradcheckError as error:
    print(f"{type(error).__name__}: {error}")
