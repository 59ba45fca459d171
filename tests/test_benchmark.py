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


# --- The Hessian's diagonal (lesson 23): its own cell, table and export ------------------


def diagonal_cell(device, min_run_time):
    ns, _ = run_cells("benchmark", device, until="verdict")
    gpu = {torch.cuda.get_device_name(): "cuda"} if torch.cuda.is_available() else {}
    ns["devices"], ns["MIN_RUN_TIME"] = {"CPU": "cpu", **gpu}, min_run_time  # as the measure cell
    _, out = run_cells("benchmark", device, namespace=ns, only={"hessian_diagonal"})
    return ns, out["hessian_diagonal"]


def test_diagonal_verdict_is_verdicts_rule_with_hessian_diagonal_as_baseline():
    ns, _ = diagonal_cell("cpu", 0.001)
    judge, baseline = ns["diagonal_verdict"], "hessian().diagonal()"
    slow = {name: (10.0, 11.0, 12.0) for name in ns["hessian_diagonal"]["methods"]}
    fastest, tied, speedup = judge(slow | {"one-hot HVPs": (1.0, 1.1, 1.2)})
    assert (fastest, tied, speedup) == ("one-hot HVPs", [], pytest.approx(11.0 / 1.1))
    fastest, tied, speedup = judge(slow | {baseline: (0.9, 1.0, 1.1), "Hutchinson, k = 10": (1.0, 1.05, 1.1)})
    assert (fastest, tied, speedup) == (baseline, ["Hutchinson, k = 10"], 1.0)
    _, tied, _ = judge(slow | {"Hutchinson, k = 10": (0.9, 1.0, 1.1), baseline: (1.0, 1.05, 1.1)})
    assert tied == [baseline]  # the baseline keeps its name among the ties


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
