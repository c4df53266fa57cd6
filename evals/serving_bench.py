"""Serving benchmark: a fixed prompt set at fixed concurrency, warm-ups first, output lengths verified.

Metrics follow ``vllm bench serve``: TTFT (queueing included), TPOT, ITL, E2E latency at p50/p90/p99 and
mean, request and output-token throughput; every one with a 95% interval (bootstrap over requests for
percentiles, over bursts for throughputs). Memory of the serving process tree, and on a GPU NVML's memory,
SM utilization and energy (``evals.resource_monitor``). Prefix caching is off in the vLLM backends and the
warm-ups share no text with the prompts, so no cell is served from an earlier one's cache.
"""

from __future__ import annotations

import time

import numpy as np

from evals.metrics import mean_ci, percentile_ci
from evals.resource_monitor import ResourceMonitor

LATENCIES = ("ttft_s", "tpot_s", "itl_s", "e2e_s")


def latency_summary(values: list[float]) -> dict:
    """Percentiles; a bootstrap interval for the median only (tails of a few dozen requests have no useful one)."""
    x = [v for v in values if v is not None and np.isfinite(v)]
    p50, mean = percentile_ci(x, 50), mean_ci(x)
    tails = {f"p{q}": float(np.percentile(x, q)) if x else None for q in (90, 99)}
    return {"p50": p50["value"], **tails, "p50_ci95": p50["ci95"], "mean": mean["mean"], "mean_ci95": mean["ci95"],
            "n": len(x)}


def goodput(gens, wall_s: float, slo: dict[str, float]) -> dict:
    """vLLM's goodput: requests per second that met every service-level objective (e.g. ttft_s <= 1.0)."""
    ok = sum(all(getattr(g, k) is not None and getattr(g, k) <= limit for k, limit in slo.items()) for g in gens)
    return {"slo": slo, "requests_within_slo": int(ok), "goodput": ok / wall_s}


def run_cell(backend, prompts: list[str], max_tokens: int = 32, concurrency: int = 1, warmups: int = 1,
             slo: dict[str, float] | None = None) -> dict:
    """Prompts go out in bursts of ``concurrency``; returns the metric summary (raw rows under ``requests_rows``).

    slo: limits on ttft_s / tpot_s / e2e_s in seconds; with it, the cell also reports goodput."""
    if warmups:
        backend.generate([f"Warm-up request {i}: count slowly from one to ten." for i in range(warmups)], max_tokens=4)
    gens, bursts = [], []
    with ResourceMonitor() as monitor:
        start = time.perf_counter()
        for i in range(0, len(prompts), concurrency):
            t0 = time.perf_counter()
            batch = backend.generate(prompts[i: i + concurrency], max_tokens=max_tokens, ignore_eos=True)
            bursts.append((len(batch), sum(g.output_tokens for g in batch), time.perf_counter() - t0))
            gens.extend(batch)
        wall = time.perf_counter() - start
    wrong = [g.output_tokens for g in gens if g.output_tokens != max_tokens]
    if wrong:
        raise RuntimeError(f"{len(wrong)} requests returned other than {max_tokens} tokens: {wrong[:5]}")
    per_request = {"ttft_s": [g.ttft_s for g in gens], "tpot_s": [g.tpot_s for g in gens],
                   "itl_s": [x for g in gens for x in g.itl_s], "e2e_s": [g.e2e_s for g in gens]}
    return {
        "backend": getattr(backend, "name", type(backend).__name__), "requests": len(gens),
        "concurrency": concurrency, "max_tokens": max_tokens, "wall_s": wall,
        "mean_prompt_tokens": float(np.mean([g.prompt_tokens for g in gens])),
        **{k: latency_summary(v) for k, v in per_request.items()},
        "request_throughput": len(gens) / wall, "output_token_throughput": sum(g.output_tokens for g in gens) / wall,
        "request_throughput_bursts": mean_ci([n / s for n, _, s in bursts]),
        "output_token_throughput_bursts": mean_ci([t / s for _, t, s in bursts]),
        **(goodput(gens, wall, slo) if slo else {}),
        "resources": monitor.summary(len(gens)),
        "requests_rows": [{"prompt_tokens": g.prompt_tokens, "ttft_s": g.ttft_s, "e2e_s": g.e2e_s} for g in gens],
    }


def report_metrics(cell: dict) -> dict[str, dict]:
    """A cell as eval-report metrics (``evals.report.Metric`` fields), each with its interval where one exists."""
    out = {}
    seconds = {"higher_is_better": False, "unit": "s"}
    for key in LATENCIES:
        s = cell[key]
        base = key.removesuffix("_s")
        out[f"{base}_p50_s"] = {"mean": s["p50"], "ci95": s["p50_ci95"], "n": s["n"], **seconds}
        out[f"{base}_mean_s"] = {"mean": s["mean"], "ci95": s["mean_ci95"], "n": s["n"], **seconds}
    out["e2e_p99_s"] = {"mean": cell["e2e_s"]["p99"], "n": cell["e2e_s"]["n"], **seconds}
    for key, unit in (("request_throughput", "requests/s"), ("output_token_throughput", "tokens/s")):
        b = cell[f"{key}_bursts"]
        out[key] = {"mean": cell[key], "ci95": b["ci95"], "n": b["n"], "higher_is_better": True, "unit": unit}
    if "goodput" in cell:
        out["goodput"] = {"mean": cell["goodput"], "higher_is_better": True, "unit": "requests/s within SLO"}
    res = cell["resources"]
    out["peak_rss_mb"] = {"mean": res["peak_rss_mb"], "higher_is_better": False, "unit": "MB"}
    for key, unit in (("amu", "fraction"), ("pcu", "fraction"), ("aec_j_per_request", "J")):
        if res.get("gpu") and res["gpu"].get(key) is not None:
            out[key] = {"mean": res["gpu"][key], "higher_is_better": False, "unit": unit}
    return out
