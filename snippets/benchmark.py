# %% setup
import torch
from torch.autograd.functional import jacobian
from torch.func import jacfwd, jacrev
from torch.utils import benchmark

SIZES = [(2, 2), (64, 64), (256, 256), (16, 1024), (1024, 16)]  # (n, m)
MIN_RUN_TIME = 0.05  # seconds of timing per method and size


def make_problem(n, m, device):  # f: R^n -> R^m, and a point x
    generator = torch.Generator().manual_seed(0)
    W = torch.randn(m, n, generator=generator, device="cpu").to(device)
    x = torch.randn(n, generator=generator, device="cpu").to(device)
    return (lambda x: torch.tanh(W @ x) ** 2), x


def row_loop(f, x):  # lesson 4: m backward passes from Python
    x = x.detach().requires_grad_(True)
    y = f(x)
    J = torch.zeros(y.numel(), x.numel(), device=x.device)
    for i in range(y.numel()):
        v = torch.zeros_like(y)
        v[i] = 1.0
        (J[i],) = torch.autograd.grad(y, x, v, retain_graph=True)
    return J


def batched_rows(f, x):  # lesson 5: the m rows in one batched call
    x = x.detach().requires_grad_(True)
    y = f(x)
    V = torch.eye(y.numel(), device=x.device)
    return torch.autograd.grad(y, x, V, is_grads_batched=True)[0]


METHODS = {
    "row loop": row_loop,
    "is_grads_batched": batched_rows,
    "functional.jacobian": lambda f, x: jacobian(f, x),
    "functional.jacobian(vectorize=True)": lambda f, x: jacobian(
        f, x, vectorize=True
    ),
    "jacrev": lambda f, x: jacrev(f)(x),
    "jacfwd": lambda f, x: jacfwd(f)(x),
}


# %% verdict
def verdict(times):  # {method: s} -> (fastest method, row loop time / its time)
    fastest = min(times, key=times.get)
    return fastest, times["row loop"] / times[fastest]


# %% measure
def measure(device):  # {"n→m": {method: median seconds}}
    results = {}
    for n, m in SIZES:
        f, x = make_problem(n, m, device)
        J = jacrev(f)(x)
        results[f"{n}→{m}"] = times = {}
        for name, method in METHODS.items():
            assert torch.allclose(method(f, x), J, atol=1e-5), name  # the same J
            names = dict(method=method, f=f, x=x)
            timer = benchmark.Timer("method(f, x)", globals=names)
            measurement = timer.blocked_autorange(min_run_time=MIN_RUN_TIME)
            times[name] = measurement.median
    return results


gpu_build = torch.get_default_device().type == "cuda"  # then measure the GPU too
gpu = {torch.cuda.get_device_name(): "cuda"} if gpu_build else {}
devices = {"CPU": "cpu", **gpu}
results = {label: measure(device) for label, device in devices.items()}

# %% table export="summary"
summary = {"torch": torch.__version__, "methods": list(METHODS), "devices": {}}
for label, by_size in results.items():
    print(label, "| ms")
    columns = "".join(f"{i:>8}" for i in range(len(METHODS)))
    print(f"{'n→m':>9}{columns}  verdict")
    rows = summary["devices"][label] = []
    for size, times in by_size.items():
        fastest, speedup = verdict(times)
        ms = [times[name] * 1e3 for name in METHODS]
        cells = "".join(f"{t:8.3f}" for t in ms)
        print(f"{size:>9}{cells}  {fastest}, {speedup:.1f}x")
        rows.append(dict(size=size, ms=ms, fastest=fastest, speedup=speedup))
print(dict(enumerate(METHODS)))
