"""The benchmark: verdicts follow from the numbers and report ties; the measurement runs on each device."""

import json

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import run_cells


@pytest.fixture(scope="module")
def lesson():
    ns, _ = run_cells("benchmark", until="verdict")
    return ns


def quartiles(lesson, **given):  # method -> (q1, median, q3); unnamed methods far slower
    slow = {name: (10.0, 11.0, 12.0) for name in lesson["METHODS"]}
    return slow | given


def test_a_clear_winner_has_no_ties(lesson):
    fastest, tied, speedup = lesson["verdict"](
        quartiles(lesson, jacrev=(0.09, 0.10, 0.11), jacfwd=(0.14, 0.15, 0.16))
    )
    assert (fastest, tied) == ("jacrev", [])
    assert speedup == pytest.approx(11.0 / 0.10)


def test_medians_within_ten_percent_tie_even_with_tight_quartiles(lesson):
    fastest, tied, _ = lesson["verdict"](
        quartiles(lesson, jacrev=(0.0999, 0.100, 0.1001), jacfwd=(0.1079, 0.108, 0.1081))
    )
    assert (fastest, tied) == ("jacrev", ["jacfwd"])


def test_a_noisy_near_tie_is_a_tie(lesson):
    # 1024→16 flipped between two builds: medians 15 % apart, quartiles overlapping
    fastest, tied, _ = lesson["verdict"](
        quartiles(lesson, is_grads_batched=(0.22, 0.258, 0.35), jacrev=(0.25, 0.300, 0.40))
    )
    assert (fastest, tied) == ("is_grads_batched", ["jacrev"])


def test_overlapping_quartiles_never_tie_beyond_most(lesson):
    fastest, tied, _ = lesson["verdict"](
        quartiles(lesson, jacrev=(0.05, 0.10, 0.30), jacfwd=(0.08, 0.13, 0.30))
    )
    assert lesson["MOST"] == 1.2 and (fastest, tied) == ("jacrev", [])


def test_ties_are_listed_fastest_first(lesson):
    _, tied, _ = lesson["verdict"](
        quartiles(lesson, jacrev=(1, 1.00, 1), jacfwd=(1, 1.08, 1), **{"row loop": (1, 1.05, 1)})
    )
    assert tied == ["row loop", "jacfwd"]


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_a_verdict_never_contradicts_its_numbers(lesson, data):
    seconds = st.floats(min_value=1e-6, max_value=1e3, allow_nan=False, allow_infinity=False)
    stats = {
        name: tuple(sorted(data.draw(st.tuples(seconds, seconds, seconds), label=name)))
        for name in lesson["METHODS"]
    }
    fastest, tied, speedup = lesson["verdict"](stats)
    low, best, high = stats[fastest]
    assert all(best <= median for _, median, _ in stats.values())
    assert speedup == stats["row loop"][1] / best >= 1.0
    for name, (q1, median, q3) in stats.items():
        if name == fastest:
            continue
        within_noise = median <= 1.1 * best or (q1 <= high and low <= q3 and median <= 1.2 * best)
        assert (name in tied) == within_noise, name
        assert name not in tied or median <= 1.2 * best  # never a tie beyond MOST


def test_measurement_and_table_on_a_small_grid(device):
    ns, _ = run_cells("benchmark", device, until="verdict")
    ns["SIZES"], ns["MIN_RUN_TIME"] = [(2, 2), (3, 5)], 0.001
    _, out = run_cells("benchmark", device, namespace=ns, only={"measure", "table"})
    summary = ns["summary"]
    gpu = [torch.cuda.get_device_name()] if torch.cuda.is_available() else []
    assert list(summary["devices"]) == ["CPU", *gpu]  # a GPU is measured wherever there is one
    for rows in summary["devices"].values():
        assert [row["size"] for row in rows] == ["2→2", "3→5"]
        for row in rows:
            fastest = summary["methods"][row["ms"].index(min(row["ms"]))]
            assert row["fastest"] == fastest
            assert row["speedup"] == pytest.approx(row["ms"][0] / min(row["ms"]))
            assert all(q1 <= ms <= q3 for q1, ms, q3 in zip(row["q1"], row["ms"], row["q3"]))
            assert fastest not in row["tied"]
    assert out["table"].startswith("CPU | median ms\n")


# --- linearize against repeated jvp (lesson 20) ------------------------------------------


@pytest.fixture(scope="module")
def linearized():
    """The linearize cell as the build runs it (about a second of measuring per device)."""
    ns, _ = run_cells("benchmark", until="verdict")
    gpu = {torch.cuda.get_device_name(): "cuda"} if torch.cuda.is_available() else {}
    ns["devices"] = {"CPU": "cpu", **gpu}  # as the measure cell sets it
    _, out = run_cells("benchmark", namespace=ns, only={"linearize"})
    return ns, out["linearize"]


def test_break_even_is_the_fewest_calls_where_linearize_pays_off(linearized):
    break_even = linearized[0]["break_even"]
    seconds = {"jvp": 3e-3, "jvp_fn": 1e-3, "linearize": 0.101}  # saves 2 ms a call
    k = break_even(seconds, "jvp_fn", [])
    assert k == 51  # 51 * 2 ms >= 101 ms > 50 * 2 ms
    assert seconds["linearize"] + k * seconds["jvp_fn"] <= k * seconds["jvp"]
    assert break_even(seconds, "jvp_fn", ["jvp"]) is None  # a tie never pays off
    assert break_even(seconds, "jvp", []) is None


def test_verdict_takes_another_baseline(lesson):
    fastest, tied, speedup = lesson["verdict"](
        {"jvp": (2.9, 3.0, 3.1), "jvp_fn": (0.9, 1.0, 1.1)}, baseline="jvp"
    )
    assert (fastest, tied, speedup) == ("jvp_fn", [], 3.0)


def test_linearize_cell_exports_its_numbers_and_verdicts(linearized):
    ns, out = linearized
    export = ns["linearize_summary"]
    assert export["methods"] == ["jvp", "jvp_fn", "linearize"]
    assert list(export["devices"]) == list(ns["devices"])  # a GPU is measured wherever there is one
    for rows in export["devices"].values():
        assert [row["size"] for row in rows] == [f"{n}→{m}" for n, m in ns["LINEARIZE_SIZES"]]
        for row in rows:
            jvp_ms, fn_ms, linearize_ms = row["ms"]
            assert all(q1 <= ms <= q3 for q1, ms, q3 in zip(row["q1"], row["ms"], row["q3"]))
            assert row["fastest"] == ("jvp_fn" if fn_ms <= jvp_ms else "jvp")
            assert row["fastest"] not in row["tied"] and set(row["tied"]) <= {"jvp", "jvp_fn"}
            assert row["speedup"] == pytest.approx(jvp_ms / min(jvp_ms, fn_ms))
            if row["fastest"] == "jvp_fn" and not row["tied"]:
                k = row["break_even"]
                assert linearize_ms + k * fn_ms <= k * jvp_ms * (1 + 1e-9)
                assert linearize_ms + (k - 1) * fn_ms > (k - 1) * jvp_ms
            else:
                assert row["break_even"] is None
    assert out.startswith("CPU | median ms, one JVP at a time at one x\n")
    assert out.count("(linearize pays off: ") == len(ns["LINEARIZE_SIZES"]) * len(ns["devices"])
# --- The Hessian's diagonal (lesson 23): its own cell, table and export ------------------


def diagonal_cell(device, min_run_time):
    ns, _ = run_cells("benchmark", device, until="verdict")
    gpu = {torch.cuda.get_device_name(): "cuda"} if torch.cuda.is_available() else {}
    ns["devices"], ns["MIN_RUN_TIME"] = {"CPU": "cpu", **gpu}, min_run_time  # as the measure cell
    _, out = run_cells("benchmark", device, namespace=ns, only={"hessian_diagonal"})
    return ns, out["hessian_diagonal"]


def test_diagonal_cell_exports_its_times_and_the_verdict_they_give(device):
    ns, out = diagonal_cell(device, 0.001)
    summary = json.loads(json.dumps(ns["hessian_diagonal"]))  # what the build exports
    assert summary["n"] == 100 and summary["m"] == 200
    assert summary["methods"] == [
        "hessian().diagonal()", "one-hot HVPs", "Hutchinson, k = 10", "Hutchinson, k = 100"
    ]
    gpu = [torch.cuda.get_device_name()] if torch.cuda.is_available() else []
    assert list(summary["devices"]) == ["CPU", *gpu]
    for row in summary["devices"].values():
        ms, q1, q3 = row["ms"], row["q1"], row["q3"]
        assert len(ms) == len(q1) == len(q3) == 4
        assert all(low <= median <= high for low, median, high in zip(q1, ms, q3))
        best = min(ms)
        assert row["fastest"] == summary["methods"][ms.index(best)]
        assert row["speedup"] == pytest.approx(ms[0] / best)
        for name, low, median, high in zip(summary["methods"], q1, ms, q3):
            if name != row["fastest"]:
                fast = summary["methods"].index(row["fastest"])
                overlap = low <= q3[fast] and q1[fast] <= high
                tie = median <= best * 1.1 or (overlap and median <= best * 1.2)
                assert (name in row["tied"]) == tie, name
    lines = out.splitlines()
    assert lines[0] == "CPU | n = 100 | median ms"
    assert [line.split("  ")[1] for line in lines[1:5]] == summary["methods"]
    assert lines[5].startswith("verdict:  ") and lines[5].endswith("x")
