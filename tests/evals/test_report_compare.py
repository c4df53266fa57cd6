"""Eval reports round-trip, render, and compare with verdicts that follow each metric's direction."""

from __future__ import annotations

import numpy as np
import pytest

from evals.compare import compare, render
from evals.report import EvalReport, Metric


def _report(name, loss, loss_se, tps):
    return EvalReport(name=name, metrics={
        "heldout_loss": Metric(mean=loss, stderr=loss_se, ci95=[loss - 2 * loss_se, loss + 2 * loss_se], n=3,
                               higher_is_better=False, unit="nats/token"),
        "tokens_per_s": Metric(mean=tps, stderr=None), "accuracy": Metric(mean=0.5, stderr=0.05)},
        curves={"raw seed 0": [{"x": 1, "y": 5.0}, {"x": 2, "y": 4.0}]})


def test_round_trip_and_files(tmp_path):
    r = _report("raw", 4.0, 0.01, 100.0)
    paths = r.save(tmp_path)
    assert EvalReport.load(tmp_path) == r
    assert "| heldout_loss | 4 [3.98, 4.02] nats/token | lower |" in (tmp_path / "eval_report.md").read_text()
    assert paths["plot"].endswith("eval_report.png")


def test_verdicts_follow_direction_and_noise():
    raw, curated = _report("raw", 4.0, 0.01, 100.0), _report("curated", 3.9, 0.01, 120.0)
    rows = {r["metric"]: r for r in compare(raw, curated)}
    assert rows["heldout_loss"]["verdict"] == "better" and rows["heldout_loss"]["delta"] < 0
    assert rows["heldout_loss"]["test"] == "Welch t (summaries)"  # no per-seed values: Welch from (mean, se, n)
    assert rows["accuracy"]["verdict"] == "within noise"  # a stderr without n: no interval
    # one measurement each: no interval, so no evidence of a difference
    assert rows["tokens_per_s"]["verdict"] == "within noise" and rows["tokens_per_s"]["ci"] is None
    assert rows["tokens_per_s"]["test"] == "none (one measurement)"
    assert {r["verdict"] for r in compare(curated, raw) if r["metric"] == "heldout_loss"} == {"worse"}
    assert "| heldout_loss |" in render(raw, curated, list(rows.values()))


def test_latency_percentiles_are_compared_by_bootstrap_over_requests():
    def served(name, scale, seed):
        values = (scale * (1 + 0.1 * np.random.default_rng(seed).standard_normal(24))).tolist()
        return EvalReport(name=name, metrics={"serving/ttft_p50_s": Metric(
            mean=float(np.percentile(values, 50)), statistic="p50", values=values, higher_is_better=False)})

    slow, fast = served("raw", 0.50, 1), served("compressed", 0.20, 2)
    row = compare(slow, fast)[0]
    assert row["verdict"] == "better" and row["ci"][1] < 0 and row["test"] == "bootstrap (requests)"
    assert compare(slow, served("again", 0.50, 3))[0]["verdict"] == "within noise"
    # an old report's interval without the values behind it is not reused
    old = EvalReport(name="old", metrics={"serving/ttft_p50_s": Metric(mean=0.2, ci95=[0.19, 0.21],
                                                                        higher_is_better=False)})
    assert compare(slow, old)[0]["test"] == "none (no values kept)"


def _seed_report(name, losses, keys=("0", "1", "2")):
    return EvalReport(name=name, metrics={"heldout_loss": Metric(
        mean=sum(losses) / len(losses), values=list(losses), keys=list(keys), higher_is_better=False)})


def test_arms_that_share_seeds_are_compared_paired():
    raw = _seed_report("raw", [4.00, 4.30, 3.80])
    curated = _seed_report("curated", [3.90, 4.21, 3.69])  # 0.1 better on every seed, seed spread 0.5
    row = compare(raw, curated)[0]
    assert row["test"] == "paired t (3 shared seeds)" and row["verdict"] == "better"
    other_seeds = _seed_report("curated", [3.90, 4.21, 3.69], keys=("3", "4", "5"))
    row = compare(raw, other_seeds)[0]
    assert row["test"] == "Welch t" and row["verdict"] == "within noise"  # unpaired: the seed spread hides it


def test_simultaneous_intervals_widen_with_the_number_of_metrics():
    one = _seed_report("a", [4.00, 4.30, 3.80])
    two = _seed_report("b", [3.90, 4.21, 3.69])
    for r, bump in ((one, 0.0), (two, 0.0)):
        for i in range(9):  # nine more metrics compared at once
            r.metrics[f"m{i}"] = Metric(mean=1.0 + bump, values=[1.0, 1.1, 0.9], keys=["0", "1", "2"])
    rows = {r["metric"]: r for r in compare(one, two)}
    row = rows["heldout_loss"]
    assert row["confidence"] == pytest.approx(1 - 0.05 / 10)
    assert row["ci"][0] < row["ci95"][0] and row["ci"][1] > row["ci95"][1]
    assert rows["m0"]["verdict"] == "within noise" and rows["m0"]["delta"] == 0
