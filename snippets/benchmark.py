# %% setup
import torch
from torch.autograd.functional import jacobian
from torch.func import jacfwd, jacrev
from torch.utils import benchmark

SIZES = [(2, 2), (64, 64), (256, 256), (16, 1024), (1024, 16)]  # (n, m)
MIN_RUN_TIME = 0.05  # seconds of timing per method and size


def time_quartiles(stmt, names, min_run_time):  # (q1, median, q3) in seconds
    measurement = benchmark.Timer(stmt, globals=names).blocked_autorange(min_run_time=min_run_time)
    times = torch.tensor(measurement.times, dtype=torch.float64, device="cpu")
    q1, q3 = times.quantile(torch.tensor([0.25, 0.75]).to(times)).tolist()
    return q1, measurement.median, q3


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
NOISE = 0.10  # medians within 10 % of the fastest: a tie
MOST = 1.2  # overlapping quartiles make a tie only up to 1.2x the fastest


def verdict(quartiles, baseline="row loop"):  # {method: (q1, median, q3)} -> (fastest, tied, speedup)
    def median(name):
        return quartiles[name][1]

    fastest = min(quartiles, key=median)
    low, best, high = quartiles[fastest]

    def tied(name):
        q1, m, q3 = quartiles[name]
        overlap = q1 <= high and low <= q3
        return m <= best * (1 + NOISE) or (overlap and m <= best * MOST)

    ties = sorted((n for n in quartiles if n != fastest and tied(n)), key=median)
    return fastest, ties, median(baseline) / best


# %% measure timed=true
def measure(device):  # {"n→m": {method: (q1, median, q3) in seconds}}
    results = {}
    for n, m in SIZES:
        f, x = make_problem(n, m, device)
        J = jacrev(f)(x)
        results[f"{n}→{m}"] = quartiles = {}
        for name, method in METHODS.items():
            assert torch.allclose(method(f, x), J, atol=1e-5), name  # the same J
            names = dict(method=method, f=f, x=x)
            quartiles[name] = time_quartiles("method(f, x)", names, MIN_RUN_TIME)
    return results


gpu = {torch.cuda.get_device_name(): "cuda"} if torch.cuda.is_available() else {}
devices = {"CPU": "cpu", **gpu}  # a GPU is measured wherever there is one
results = {label: measure(device) for label, device in devices.items()}

# %% table export="summary"
summary = {"torch": torch.__version__, "methods": list(METHODS), "devices": {}}
for label, by_size in results.items():
    print(label, "| median ms")
    columns = "".join(f" {i:>8}" for i in range(len(METHODS)))
    print(f"{'n→m':>9}{columns}  verdict")
    rows = summary["devices"][label] = []
    for size, quartiles in by_size.items():
        fastest, ties, speedup = verdict(quartiles)
        q1, median, q3 = ([quartiles[name][i] * 1e3 for name in METHODS] for i in range(3))
        cells = "".join(f" {t:8.3f}" for t in median)  # a space even past 1 s
        tied = f" (tied: {', '.join(ties)})" if ties else ""
        print(f"{size:>9}{cells}  {fastest}{tied}, {speedup:.1f}x")
        rows.append(dict(size=size, ms=median, q1=q1, q3=q3,
                         fastest=fastest, tied=ties, speedup=speedup))
print(dict(enumerate(METHODS)))

# %% linearize export="linearize_summary"
import math
import warnings

from torch.func import jvp, linearize

LINEARIZE_SIZES = [(16, 16), (512, 512)]  # (n, m)
LINEARIZE_RUN_TIME = {"jvp": 0.03, "jvp_fn": 0.03, "linearize": 0.05}  # seconds


def break_even(seconds, fastest, ties):  # fewest k with linearize + k jvp_fn <= k jvp
    saved = seconds["jvp"] - seconds["jvp_fn"]
    if fastest != "jvp_fn" or ties:
        return None  # jvp_fn is not clearly faster per call: linearize never pays off
    return math.ceil(seconds["linearize"] / saved)


linearize_results = {}
with warnings.catch_warnings():  # linearize's own, harmless warning: see lesson 20
    warnings.filterwarnings("ignore", message="Attempted to insert a get_attr Node")
    for label, device in devices.items():
        linearize_results[label] = by_size = {}
        for n, m in LINEARIZE_SIZES:
            f, x = make_problem(n, m, device)
            u = torch.ones_like(x)
            _, jvp_fn = linearize(f, x)
            assert torch.allclose(jvp_fn(u), jvp(f, (x,), (u,))[1], atol=1e-5)  # the same J u
            names = dict(f=f, x=x, u=u, jvp=jvp, jvp_fn=jvp_fn, linearize=linearize)
            statements = {"jvp": "jvp(f, (x,), (u,))", "jvp_fn": "jvp_fn(u)",
                          "linearize": "linearize(f, x)"}
            by_size[f"{n}→{m}"] = {
                name: time_quartiles(stmt, names, LINEARIZE_RUN_TIME[name])
                for name, stmt in statements.items()
            }

linearize_summary = {"torch": torch.__version__, "methods": ["jvp", "jvp_fn", "linearize"],
                     "devices": {}}
for label, by_size in linearize_results.items():
    print(label, "| median ms, one JVP at a time at one x")
    print(f"{'n→m':>9} {'jvp':>8} {'jvp_fn':>8} {'linearize':>10}  per JVP (break-even), speed-up")
    rows = linearize_summary["devices"][label] = []
    for size, quartiles in by_size.items():
        per_call = {name: quartiles[name] for name in ("jvp", "jvp_fn")}
        fastest, ties, speedup = verdict(per_call, baseline="jvp")
        seconds = {name: q[1] for name, q in quartiles.items()}
        k = break_even(seconds, fastest, ties)
        methods = linearize_summary["methods"]
        q1, median, q3 = ([quartiles[name][i] * 1e3 for name in methods] for i in range(3))
        tied = f" (tied: {', '.join(ties)})" if ties else ""
        pays = f"from {k} JVPs on" if k else "never"
        print(f"{size:>9} {median[0]:8.3f} {median[1]:8.3f} {median[2]:10.3f}"
              f"  {fastest}{tied} (linearize pays off: {pays}), {speedup:.1f}x")
        rows.append(dict(size=size, ms=median, q1=q1, q3=q3, fastest=fastest, tied=ties,
                         speedup=speedup, break_even=k))

# %% hessian_diagonal export="hessian_diagonal"
from torch.func import grad, hessian, jvp, vmap

DIAGONAL = "hessian().diagonal()"  # the baseline of the speed-up
N, M = 100, 200  # n inputs, m softplus terms
K = (10, 100)  # Hutchinson's numbers of probes


def diagonal_problem(device):  # the Hessian-diagonal lesson's problem, and its probes
    generator = torch.Generator().manual_seed(0)
    A = torch.randn(M, N, generator=generator, device="cpu").to(device) / N**0.5
    x = torch.randn(N, generator=generator, device="cpu").to(device)
    U = torch.randint(0, 2, (max(K), N), generator=generator, device="cpu").to(x) * 2 - 1
    return (lambda x: torch.nn.functional.softplus(A @ x).sum()), x, U


def diagonal_methods(loss, x, U):  # {name: a function of nothing that returns diag(H)}
    def hvp(u):
        return jvp(grad(loss), (x,), (u,))[1]

    E = torch.eye(x.numel(), device=x.device)
    methods = {
        DIAGONAL: lambda: hessian(loss)(x).diagonal(),
        "one-hot HVPs": lambda: (E * vmap(hvp)(E)).sum(0),
    }
    for k in K:  # an estimate from the first k probes
        methods[f"Hutchinson, k = {k}"] = lambda U=U[:k]: (U * vmap(hvp)(U)).mean(0)
    return methods


def measure_diagonal(device):  # {method: (q1, median, q3) in seconds}
    methods = diagonal_methods(*diagonal_problem(device))
    assert torch.allclose(methods["one-hot HVPs"](), methods[DIAGONAL](), atol=1e-6)
    quartiles = {}
    for name, method in methods.items():
        quartiles[name] = time_quartiles("method()", dict(method=method), MIN_RUN_TIME)
    return quartiles


hessian_diagonal = {"torch": torch.__version__, "n": N, "m": M, "devices": {}}
for label, device in devices.items():
    quartiles = measure_diagonal(device)
    fastest, tied, speedup = verdict(quartiles, baseline=DIAGONAL)
    print(label, f"| n = {N} | median ms")
    for name, (_, median, _) in quartiles.items():
        print(f"  {name:<22}{median * 1e3:8.3f}")
    ties = f" (tied: {', '.join(tied)})" if tied else ""
    print(f"verdict:  {fastest}{ties}, {speedup:.1f}x")
    q1, median, q3 = ([q[i] * 1e3 for q in quartiles.values()] for i in range(3))
    hessian_diagonal["methods"] = list(quartiles)
    hessian_diagonal["devices"][label] = dict(
        ms=median, q1=q1, q3=q3, fastest=fastest, tied=tied, speedup=speedup
    )
