"""Side-by-side of two eval reports: delta per metric (B - A) with an interval, the test behind it, a verdict.

The interval comes from ``core.statistics``, chosen by what the two metrics carry:
- per-seed values with shared seeds: paired t on the per-seed differences;
- per-seed or per-burst values, no shared seeds: Welch's t;
- per-request latencies (a percentile): two-sample bootstrap over requests;
- only (mean, stderr, n) summaries: Welch's t from the summaries;
- only intervals (reports written before values were kept): none, those intervals were too narrow to reuse;
- one measurement each (peak RSS, GPU averages): no interval.
Verdicts: better / worse only when the interval excludes 0 in the metric's good / bad direction, else within
noise. The intervals are simultaneous: each is widened to confidence 1 - 0.05 / m (Bonferroni over the m metrics
that have one), so a report compared with a rerun of itself is "within noise" on every metric at once with
probability >= 95%, not just on each metric separately.
"""

from __future__ import annotations

import json
from pathlib import Path

from evals.report import EvalReport, Metric, fmt
from core.statistics import (CONFIDENCE, paired_difference, percentile_difference, verdict, welch_difference,
                              welch_from_summaries)


def difference(a: Metric, b: Metric, confidence: float = CONFIDENCE) -> dict:
    """b - a with an interval at ``confidence``, centred on the reported means: {"delta", "ci", "method"}."""
    delta = b.mean - a.mean
    if a.values and b.values and a.statistic == b.statistic:
        if a.statistic == "mean":
            shared = set(a.keys or []) & set(b.keys or [])
            if a.keys and b.keys and len(shared) >= 2:
                d = paired_difference(dict(zip(a.keys, a.values)), dict(zip(b.keys, b.values)), confidence)
            else:
                d = welch_difference(a.values, b.values, confidence)
        elif a.statistic.startswith("p"):
            d = percentile_difference(a.values, b.values, float(a.statistic[1:]), confidence=confidence)
        else:
            d = {"ci": None, "delta": None, "method": "none (one measurement)"}
    elif a.stderr is not None and b.stderr is not None and a.n and b.n:
        d = welch_from_summaries(a.mean, a.stderr, a.n, b.mean, b.stderr, b.n, confidence)
    elif a.ci95 or b.ci95 or a.values or b.values:
        # a report written before values were kept: its intervals used z = 1.96 and bootstrapped inter-token gaps
        # as if independent, too narrow to difference
        d = {"delta": None, "ci": None, "method": "none (no values kept)"}
    else:
        d = {"delta": None, "ci": None, "method": "none (one measurement)"}
    ci = d["ci"]
    if ci is not None:  # centre the test's interval on the reported delta (they differ only for throughputs)
        shift = delta - d["delta"]
        ci = [ci[0] + shift, ci[1] + shift]
    return {"delta": delta, "ci": ci, "method": d["method"]}


def compare(a: EvalReport, b: EvalReport, family_wise: bool = True) -> list[dict]:
    """One row per metric of either report: a, b, delta, ci95 (marginal), ci (simultaneous), test, verdict."""
    keys = sorted(set(a.metrics) | set(b.metrics))
    present = [k for k in keys if k in a.metrics and k in b.metrics
               and a.metrics[k].mean is not None and b.metrics[k].mean is not None]
    marginal = {k: difference(a.metrics[k], b.metrics[k]) for k in present}
    m = sum(d["ci"] is not None for d in marginal.values())
    level = 1 - (1 - CONFIDENCE) / m if family_wise and m > 1 else CONFIDENCE
    rows = []
    for key in keys:
        ma, mb = a.metrics.get(key), b.metrics.get(key)
        if key not in marginal:
            rows.append({"metric": key, "a": fmt(ma) if ma else "-", "b": fmt(mb) if mb else "-", "delta": None,
                         "ci95": None, "ci": None, "confidence": level, "test": None, "verdict": "missing"})
            continue
        d = marginal[key]
        simultaneous = difference(ma, mb, level)["ci"] if d["ci"] is not None and level != CONFIDENCE else d["ci"]
        rows.append({"metric": key, "a": fmt(ma), "b": fmt(mb), "delta": d["delta"], "ci95": d["ci"],
                     "ci": simultaneous, "confidence": level, "test": d["method"],
                     "verdict": verdict(simultaneous, mb.higher_is_better)})
    return rows


def render(a: EvalReport, b: EvalReport, rows: list[dict]) -> str:
    level = rows[0]["confidence"] if rows else CONFIDENCE
    m = sum(r["ci"] is not None for r in rows)
    lines = [f"# {b.name} vs {a.name}", "",
             f"Intervals are simultaneous 95% intervals of {b.name} - {a.name} (each at {100 * level:.2f}%, "
             f"Bonferroni over the {m} metrics that have one); a verdict other than *within noise* needs the "
             "interval to exclude 0.", "",
             f"| metric | {a.name} | {b.name} | delta [interval] | test | verdict |",
             "| --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        d = "" if r["delta"] is None else f"{r['delta']:+.4g}"
        if r["ci"]:
            d += f" [{r['ci'][0]:+.4g}, {r['ci'][1]:+.4g}]"
        lines.append(f"| {r['metric']} | {r['a']} | {r['b']} | {d} | {r['test'] or '-'} | {r['verdict']} |")
    return "\n".join(lines) + "\n"


def compare_files(a: str | Path, b: str | Path, out: str | Path | None = None) -> tuple[list[dict], str]:
    """Loads two reports (directories or eval_report.json), compares them, and writes OUT.md + OUT.json if asked."""
    ra, rb = EvalReport.load(a), EvalReport.load(b)
    rows = compare(ra, rb)
    text = render(ra, rb, rows)
    if out:
        Path(out).write_text(text)
        Path(out).with_suffix(".json").write_text(json.dumps(rows, indent=2) + "\n")
    return rows, text
