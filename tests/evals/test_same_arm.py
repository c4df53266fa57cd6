"""`winnow compare` of two runs of the same arm says "within noise" on every metric: the rerun of a training
arm on the same seeds, and two serving runs of one backend (same latency distribution, different draws)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from evals.ablation import arm_report
from evals.backends import Generation
from evals.compare import compare, compare_files
from evals.report import EvalReport, Metric
from evals.serving_bench import report_metrics, measure_serving
from evals.train import TrainConfig


class JitteredBackend:
    """A backend whose latencies are random draws from one distribution (seeded); a burst takes as long as its
    slowest request, slept for real so that throughputs are measured by the wall clock as in a real run."""

    name = "jittered"

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)

    def generate(self, prompts, max_tokens=32, ignore_eos=True):
        gens = []
        for i, _ in enumerate(prompts):
            ttft = 0.004 + 0.002 * i + float(self.rng.gamma(4.0, 0.001))
            gaps = (0.0008 + self.rng.gamma(4.0, 0.0001, max_tokens - 1)).tolist()
            gens.append(Generation("x" * max_tokens, 20 + i, max_tokens, ttft, ttft + sum(gaps), gaps))
        time.sleep(max(g.e2e_s for g in gens))
        return gens


def _runs(arm_offset: float, jitter_seed: int) -> list[dict]:
    """Three seeds of one arm; a rerun differs by float-level nondeterminism (1e-4 nats) and timing."""
    rng = np.random.default_rng(jitter_seed)
    runs = []
    for seed, seed_effect in zip((0, 1, 2), (0.00, 0.05, -0.04)):
        final = {h: 5.0 + arm_offset + seed_effect + 1e-4 * rng.standard_normal() for h in ("wikitext", "raw_heldout")}
        runs.append({"config": {"seed": seed}, "final": final, "evals": [{"tokens": 1024, **final}],
                     "tokens_per_s": 900.0 * (1 + 0.03 * rng.standard_normal()), "peak_rss_mb": 800.0,
                     "wall_s": 1.0, "checkpoint": "-", "epochs": 1.0})
    return runs


def _data() -> dict:
    rng = np.random.default_rng(0)
    blocks = lambda n: rng.integers(0, 64, size=(n, 17))  # noqa: E731
    return {"arms": {"raw": blocks(40), "curated": blocks(20)}, "held_out": {"wikitext": blocks(5),
                                                                             "raw_heldout": blocks(5)},
            "hashes": {}, "documents": {}, "vocab_size": 64}


def _serving(seed: int) -> dict:
    cell = measure_serving(JitteredBackend(seed), [f"p{i}" for i in range(24)], max_tokens=8, concurrency=4, warmups=1)
    return {"metrics": report_metrics(cell), "backend": "jittered"}


def test_same_arm_rerun_is_within_noise_on_every_metric(tmp_path):
    data, cfg = _data(), TrainConfig()
    first = arm_report("curated", _runs(-0.2, 1), cfg, data, _serving(1), reference_loss={"wikitext": 5.0})
    again = arm_report("curated", _runs(-0.2, 2), cfg, data, _serving(2), reference_loss={"wikitext": 5.0})
    first.save(tmp_path / "a")
    again.save(tmp_path / "b")
    rows, text = compare_files(tmp_path / "a", tmp_path / "b")  # what `winnow compare A B` prints
    assert len(rows) == 23 and {r["verdict"] for r in rows} == {"within noise"}, text
    tests = {r["metric"]: r["test"] for r in rows}
    assert tests["heldout_loss/wikitext"] == "paired t (3 shared seeds)"
    assert tests["serving/ttft_p50_s"] == tests["serving/itl_p50_s"] == "bootstrap (requests)"
    assert tests["serving/e2e_p99_s"] == "none (under 5 requests beyond p99)"  # 24 requests: p99 is the max
    assert tests["serving/output_token_throughput"] == "Welch t"
    # the held-out loss is printed with its unigram baseline; the arm's data MCR has its performance term
    assert "(unigram " in (tmp_path / "a" / "eval_report.md").read_text()
    m = first.metrics
    assert m["data/mcr/wikitext"].mean == pytest.approx(40 / 20 * 5.0 / m["heldout_loss/wikitext"].mean)


def test_a_real_difference_is_still_found():
    data, cfg = _data(), TrainConfig()
    raw = arm_report("raw", _runs(0.0, 1), cfg, data, None)
    curated = arm_report("curated", _runs(-0.2, 2), cfg, data, None)
    rows = {r["metric"]: r for r in compare(raw, curated)}
    assert rows["heldout_loss/wikitext"]["verdict"] == "better"  # 0.2 nats on every seed, paired
    assert rows["train/tokens_per_s"]["verdict"] == "within noise"
    assert raw.metrics["data/mcr/wikitext"].mean == 1.0  # the raw arm is the reference


def test_serving_percentiles_of_clearly_different_backends_differ():
    slow = EvalReport(name="slow", metrics={k: Metric(**v) for k, v in _serving(1)["metrics"].items()})
    fast_cell = measure_serving(JitteredBackend(2), [f"p{i}" for i in range(24)], max_tokens=8, concurrency=4, warmups=0)
    for g_key in ("ttft_s",):
        assert fast_cell[g_key]["p50"] > 0
    fast = {k: Metric(**v) for k, v in report_metrics(fast_cell).items()}
    fast["ttft_p50_s"].values = [v / 3 for v in fast["ttft_p50_s"].values]
    fast["ttft_p50_s"].mean /= 3
    row = next(r for r in compare(slow, EvalReport(name="fast", metrics=fast)) if r["metric"] == "ttft_p50_s")
    assert row["verdict"] == "better"
