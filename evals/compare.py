"""Side-by-side of two eval reports: delta per metric with an interval, and a verdict.

better / worse when the 95% interval of the difference (normal approximation from both stderrs) excludes
zero in the metric's good / bad direction; within noise otherwise; "no interval" when either side lacks one.
A metric with an interval but no stderr (bootstrap percentiles) counts its interval's width as 2 x 1.96 stderr.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from evals.report import EvalReport, fmt


def _stderr(m) -> float | None:
    if m.stderr is not None:
        return m.stderr
    return (m.ci95[1] - m.ci95[0]) / (2 * 1.96) if m.ci95 else None


def compare(a: EvalReport, b: EvalReport) -> list[dict]:
    rows = []
    for key in sorted(set(a.metrics) | set(b.metrics)):
        ma, mb = a.metrics.get(key), b.metrics.get(key)
        if ma is None or mb is None or ma.mean is None or mb.mean is None:
            rows.append({"metric": key, "a": fmt(ma) if ma else "-", "b": fmt(mb) if mb else "-", "delta": None,
                         "ci95": None, "verdict": "missing"})
            continue
        delta = mb.mean - ma.mean
        se_a, se_b = _stderr(ma), _stderr(mb)
        if se_a is None or se_b is None:
            ci, verdict = None, "no interval"
        else:
            half = 1.96 * math.sqrt(se_a ** 2 + se_b ** 2)
            ci = [delta - half, delta + half]
            good = delta > 0 if mb.higher_is_better else delta < 0
            verdict = "within noise" if ci[0] <= 0 <= ci[1] else ("better" if good else "worse")
        rows.append({"metric": key, "a": fmt(ma), "b": fmt(mb), "delta": delta, "ci95": ci, "verdict": verdict})
    return rows


def render(a: EvalReport, b: EvalReport, rows: list[dict]) -> str:
    lines = [f"# {b.name} vs {a.name}", "", f"| metric | {a.name} | {b.name} | delta [95% interval] | verdict |",
             "| --- | --- | --- | --- | --- |"]
    for r in rows:
        d = "" if r["delta"] is None else f"{r['delta']:+.4g}"
        if r["ci95"]:
            d += f" [{r['ci95'][0]:+.4g}, {r['ci95'][1]:+.4g}]"
        lines.append(f"| {r['metric']} | {r['a']} | {r['b']} | {d} | {r['verdict']} |")
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
