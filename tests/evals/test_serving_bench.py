"""The serving benchmark's arithmetic on a backend with known timings, and the resource monitor on this machine."""

import time

import pytest

from evals.backends import Generation, failed
from core.statistics import percentile_ci
from evals.resource_monitor import ResourceMonitor
from evals.serving_bench import report_metrics, measure_serving


class ScriptedBackend:
    """Request i of a burst waits i x 10 ms (served in order), then emits tokens 1 ms apart."""

    name = "scripted"

    def __init__(self, short_by: int = 0):
        self.short_by = short_by
        self.calls = []

    def generate(self, prompts, max_tokens=32, ignore_eos=True):
        self.calls.append(len(prompts))
        time.sleep(0.002)
        n = max_tokens - self.short_by
        return [Generation("x" * n, 10 + i, n, 0.01 * (i + 1), 0.01 * (i + 1) + 0.001 * (n - 1), [0.001] * (n - 1))
                for i in range(len(prompts))]


def test_measure_serving_bursts_percentiles_and_intervals():
    backend = ScriptedBackend()
    cell = measure_serving(backend, [f"p{i}" for i in range(12)], max_tokens=5, concurrency=4, warmups=2,
                    slo={"ttft_s": 0.025, "tpot_s": 0.002})
    assert backend.calls == [2, 4, 4, 4]  # warm-ups, then three bursts of four
    assert cell["requests"] == 12 and cell["mean_prompt_tokens"] == pytest.approx(11.5)
    assert cell["ttft_s"]["p50"] == pytest.approx(0.025) and cell["ttft_s"]["mean"] == pytest.approx(0.025)
    lo, hi = cell["ttft_s"]["p50_ci95"]
    assert 0.01 <= lo <= 0.025 <= hi <= 0.04
    assert cell["tpot_s"]["p50"] == pytest.approx(0.001) and cell["itl_s"]["n"] == 12 * 4
    assert cell["e2e_s"]["p99"] == pytest.approx(0.044, abs=1e-3)
    assert cell["request_throughput_bursts"]["n"] == 3
    assert cell["requests_within_slo"] == 6  # the first two of each burst of four start within 25 ms
    assert cell["goodput"] == pytest.approx(6 / cell["wall_s"])
    m = report_metrics(cell)
    assert m["ttft_p50_s"]["ci95"] == [lo, hi] and not m["ttft_p50_s"]["higher_is_better"]
    assert m["output_token_throughput"]["higher_is_better"] and m["output_token_throughput"]["unit"] == "tokens/s"
    assert m["peak_rss_mb"]["mean"] > 10 and "amu" not in m  # no GPU here: no NVML metrics invented


class FlakyBackend(ScriptedBackend):
    """The scripted backend, but every third prompt comes back as a failed row (as a 503 would)."""

    name = "flaky"

    def generate(self, prompts, max_tokens=32, ignore_eos=True):
        rows = super().generate(prompts, max_tokens, ignore_eos)
        return [failed("HTTP 503: overloaded", 10) if p.endswith(("2", "5", "8")) else r for p, r in zip(prompts, rows)]


def test_failed_requests_are_rows_and_metrics_use_the_completed_ones():
    cell = measure_serving(FlakyBackend(), [f"p{i}" for i in range(9)], max_tokens=5, concurrency=3, warmups=0)
    assert cell["completed"] == 6 and cell["failed"] == 3 and cell["requests"] == 6
    assert cell["errors"] == {"HTTP 503: overloaded": 3}
    assert [r["prompt_index"] for r in cell["failed_rows"]] == [2, 5, 8]
    assert len(cell["requests_rows"]) == 6 and cell["ttft_s"]["n"] == 6
    # the two completed requests of each burst of three wait 10 and 20 ms (the failed third never counted)
    assert cell["ttft_s"]["p50"] == pytest.approx(0.015)
    assert cell["prefix_cache"] is None and not cell["prefix_caching"]  # the scripted backend has no cache
    everything_fails = measure_serving(FlakyBackend(), ["p2", "p5"], max_tokens=5, warmups=0)
    assert everything_fails["completed"] == 0 and everything_fails["ttft_s"]["p50"] is None


def test_measure_serving_refuses_short_outputs():
    with pytest.raises(RuntimeError, match="other than 5 tokens"):
        measure_serving(ScriptedBackend(short_by=1), ["a", "b"], max_tokens=5, warmups=0)


def test_percentile_interval_brackets_the_value_and_is_seeded():
    values = [float(v) for v in range(1, 101)]
    a, b = percentile_ci(values, 50), percentile_ci(values, 50)
    assert a == b and a["value"] == pytest.approx(50.5) and a["ci95"][0] < 50.5 < a["ci95"][1]
    assert percentile_ci([None, float("nan")], 50) == {"value": None, "ci95": None, "n": 0}


def test_resource_monitor_sees_child_memory_and_says_why_no_gpu():
    import subprocess
    import sys

    with ResourceMonitor(interval_s=0.05) as mon:
        child = subprocess.Popen([sys.executable, "-c", "b = bytearray(200 * 2**20); import time; time.sleep(0.6)"])
        child.wait()
    s = mon.summary(requests=1)
    assert s["peak_rss_mb"] > s["mean_rss_mb"] > 0 and s["peak_rss_mb"] > 200  # the child's 200 MB counted
    if s["gpu"] is None:
        assert s["gpu_reason"]
    else:  # on a GPU box: utilizations are fractions
        assert 0 <= s["gpu"]["amu"] <= 1 and 0 <= s["gpu"]["pcu"] <= 1


class FakeNVML:
    """NVML answering like a GPU: 40 of 80 GB used, SMs busy 50% of the time, 100 W (300 W while 'evaluating')."""

    def __init__(self):
        self.t0, self.mj, self.watts, self.last = time.perf_counter(), 0.0, 100.0, time.perf_counter()

    def _tick(self):
        now = time.perf_counter()
        self.mj += self.watts * (now - self.last) * 1000
        self.last = now

    def nvmlDeviceGetMemoryInfo(self, h):
        return type("Mem", (), {"used": 40e9, "total": 80e9})()

    def nvmlDeviceGetUtilizationRates(self, h):
        return type("Util", (), {"gpu": 50, "memory": 20})()

    def nvmlDeviceGetPowerUsage(self, h):
        return int(self.watts * 1000)

    def nvmlDeviceGetTotalEnergyConsumption(self, h):
        self._tick()
        return self.mj

    def nvmlDeviceGetName(self, h):
        return "Fake GPU"


def test_efficientllm_metrics_are_time_averages_and_average_power():
    mon = ResourceMonitor(interval_s=0.01)
    mon.nvml, mon.handle = FakeNVML(), "gpu0"
    start = time.perf_counter()
    with mon:
        time.sleep(0.15)
        with mon.paused():  # an evaluation at 300 W: left out of time and energy
            mon.nvml._tick()
            mon.nvml.watts = 300.0
            time.sleep(0.1)
            mon.nvml._tick()
            mon.nvml.watts = 100.0
        time.sleep(0.15)
    elapsed = time.perf_counter() - start
    gpu = mon.summary(requests=10)["gpu"]
    assert gpu["amu"] == pytest.approx(0.5) and gpu["pcu"] == pytest.approx(0.5)  # time averages of the ratios
    # average power in watts; with the 300 W window counted it would be ~150 W (scheduling delays on a loaded
    # machine blur the window's edges, hence the tolerance)
    assert gpu["aec_w"] == pytest.approx(100.0, rel=0.2) and gpu["aec_source"] == "energy counter"
    assert gpu["energy_j_per_request"] == pytest.approx(gpu["energy_j"] / 10)
    assert mon.wall_s <= elapsed - 0.1  # the paused 0.1 s is not measured time


def test_time_average_is_the_trapezoid_integral_over_the_span():
    from evals.resource_monitor import time_average

    assert time_average([0.0, 1.0, 3.0], [0.0, 1.0, 1.0]) == pytest.approx((0.5 + 2.0) / 3)
    assert time_average([0.0], [0.7]) == 0.7 and time_average([], []) is None
