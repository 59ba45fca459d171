"""The benchmark: verdicts follow from the numbers, always; the measurement runs on each device."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import run_cells


@pytest.fixture(scope="module")
def lesson():
    ns, _ = run_cells("benchmark", until="verdict")
    return ns


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_a_verdict_never_contradicts_its_numbers(lesson, data):
    seconds = st.floats(min_value=1e-9, max_value=1e3, allow_nan=False, allow_infinity=False)
    times = {name: data.draw(seconds, label=name) for name in lesson["METHODS"]}
    fastest, speedup = lesson["verdict"](times)
    assert all(times[fastest] <= t for t in times.values())
    assert speedup == times["row loop"] / times[fastest] >= 1.0
    assert (speedup == 1.0) == (times["row loop"] == times[fastest])


def test_measurement_and_table_on_a_small_grid(device):
    ns, _ = run_cells("benchmark", device, until="verdict")
    ns["SIZES"], ns["MIN_RUN_TIME"] = [(2, 2), (3, 5)], 0.001
    _, out = run_cells("benchmark", device, namespace=ns, only={"measure", "table"})
    summary = ns["summary"]
    labels = ["CPU"] + ([torch.cuda.get_device_name()] if device == "cuda" else [])
    assert list(summary["devices"]) == labels
    for rows in summary["devices"].values():
        assert [row["size"] for row in rows] == ["2→2", "3→5"]
        for row in rows:
            fastest = summary["methods"][row["ms"].index(min(row["ms"]))]
            assert row["fastest"] == fastest
            assert row["speedup"] == pytest.approx(row["ms"][0] / min(row["ms"]))
    assert out["table"].startswith("CPU | ms\n")
