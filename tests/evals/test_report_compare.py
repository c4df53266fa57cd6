"""Eval reports round-trip, render, and compare with verdicts that follow each metric's direction."""

from __future__ import annotations

from evals.compare import compare, render
from evals.report import EvalReport, Metric


def _report(name, loss, loss_se, tps):
    return EvalReport(name=name, metrics={
        "heldout_loss": Metric(mean=loss, stderr=loss_se, ci95=[loss - 2 * loss_se, loss + 2 * loss_se],
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
    assert rows["accuracy"]["verdict"] == "within noise"
    assert rows["tokens_per_s"]["verdict"] == "no interval"
    assert {r["verdict"] for r in compare(curated, raw) if r["metric"] == "heldout_loss"} == {"worse"}
    assert "| heldout_loss |" in render(raw, curated, list(rows.values()))


def test_bootstrap_interval_without_stderr_gets_a_verdict():
    def served(name, p50, lo, hi):
        return EvalReport(name=name, metrics={"serving/ttft_p50_s": Metric(mean=p50, ci95=[lo, hi],
                                                                            higher_is_better=False)})

    slow, fast = served("raw", 0.50, 0.45, 0.56), served("compressed", 0.20, 0.18, 0.23)
    row = compare(slow, fast)[0]
    assert row["verdict"] == "better" and row["ci95"][1] < 0
    close = served("again", 0.49, 0.44, 0.55)
    assert compare(slow, close)[0]["verdict"] == "within noise"
