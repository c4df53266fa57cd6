"""Serving benchmark: a fixed prompt set at fixed concurrency, warm-ups first, output lengths verified.

Metrics follow ``vllm bench serve``: TTFT (queueing included), TPOT, ITL, E2E latency at p50/p90/p99 and
mean, request and output-token throughput; each with a 95% interval from ``core.statistics`` (bootstrap over
requests for percentiles, t over requests for means, t over bursts for throughputs) and the per-request values
behind it, so ``compare`` can difference two cells. Memory of the serving process tree, and on a GPU
EfficientLLM's AMU, PCU and AEC (``evals.resource_monitor``). Where TTFT starts and what a failed request is are
defined once, in ``evals.backends.protocol``: as in vLLM's benchmark, failed requests are counted (``completed``,
``failed``, their errors) and kept as rows, and the latencies and throughputs are over the completed ones. Prefix
caching is off in the vLLM backends unless asked; with it on, the cell reports the prefix-cache tokens queried
and hit while it ran. The warm-ups share no text with the prompts.
"""

from __future__ import annotations

import time

import numpy as np

from collections import Counter

from core.statistics import mean_ci, percentile_ci
from evals.backends.protocol import hit_rate
from evals.resource_monitor import ResourceMonitor

LATENCIES = ("ttft_s", "tpot_s", "itl_s", "e2e_s")
PERCENTILES = (50, 90, 99)


def per_request_means(values: list) -> list[float]:
    """One number per request: inter-token gaps averaged within their request (the unit that is independent)."""
    return [float(np.mean(v)) if isinstance(v, list) else v for v in values if not isinstance(v, list) or v]


def latency_summary(values: list) -> dict:
    """p50/p90/p99 with seeded bootstrap intervals over requests, and the mean with a t interval.

    values: one float per request, or (inter-token latencies) one list of gaps per request, resampled together.
    A tail percentile gets no interval when fewer than 5 observations lie beyond it (``statistics.TAIL_MIN``)."""
    out = {}
    for q in PERCENTILES:
        p = percentile_ci(values, q)
        out[f"p{q}"], out[f"p{q}_ci95"], out["n"] = p["value"], p["ci95"], p["n"]
    mean = mean_ci(per_request_means(values))
    return out | {"mean": mean["mean"], "mean_ci95": mean["ci95"], "requests": mean["n"]}


def goodput(gens, wall_s: float, slo: dict[str, float]) -> dict:
    """vLLM's goodput: requests per second that met every service-level objective (e.g. ttft_s <= 1.0)."""
    ok = sum(all(getattr(g, k) is not None and getattr(g, k) <= limit for k, limit in slo.items()) for g in gens)
    return {"slo": slo, "requests_within_slo": int(ok), "goodput": ok / wall_s}


def measure_serving(backend, prompts: list[str], max_tokens: int = 32, concurrency: int = 1, warmups: int = 1,
                    slo: dict[str, float] | None = None, warmup_prompts: list[str] = ()) -> dict:
    """Prompts go out in bursts of ``concurrency``; returns the metric summary (raw rows under ``requests_rows``).

    slo: limits on ttft_s / tpot_s / e2e_s in seconds; with it, the cell also reports goodput.
    warmup_prompts: sent (one burst) after the generic warm-ups and before the clock: e.g. a request of the same
    kind that is not measured, so a prefix cache starts each cell in its steady state.
    Raises only when a completed request has other than ``max_tokens`` tokens (ignore-EOS not honoured: the
    latencies would not be comparable); a failed request is a row."""
    if warmups:
        backend.generate([f"Warm-up request {i}: count slowly from one to ten." for i in range(warmups)], max_tokens=4)
    if warmup_prompts:
        backend.generate(list(warmup_prompts), max_tokens=4)
    stats = getattr(backend, "cache_stats", lambda: None)
    cache_before = stats()
    rows, bursts = [], []
    with ResourceMonitor() as monitor:
        start = time.perf_counter()
        for i in range(0, len(prompts), concurrency):
            t0 = time.perf_counter()
            batch = backend.generate(prompts[i: i + concurrency], max_tokens=max_tokens, ignore_eos=True)
            ok = [g for g in batch if g.success]
            bursts.append((len(ok), sum(g.output_tokens for g in ok), time.perf_counter() - t0))
            rows.extend(batch)
        wall = time.perf_counter() - start
    cache = hit_rate(cache_before, stats())
    gens = [g for g in rows if g.success]
    wrong = [g.output_tokens for g in gens if g.output_tokens != max_tokens]
    if wrong:
        raise RuntimeError(f"{len(wrong)} requests returned other than {max_tokens} tokens: {wrong[:5]}")
    per_request = {"ttft_s": [g.ttft_s for g in gens], "tpot_s": [g.tpot_s for g in gens],
                   "itl_s": [list(g.itl_s) for g in gens], "e2e_s": [g.e2e_s for g in gens]}
    return {
        "backend": getattr(backend, "name", type(backend).__name__), "requests": len(gens),
        "completed": len(gens), "failed": len(rows) - len(gens),
        "errors": dict(Counter(g.error for g in rows if not g.success)),
        "prefix_caching": bool(getattr(backend, "prefix_caching", False)), "prefix_cache": cache,
        "concurrency": concurrency, "max_tokens": max_tokens, "wall_s": wall,
        "mean_prompt_tokens": float(np.mean([g.prompt_tokens for g in gens])) if gens else None,
        **{k: latency_summary(v) for k, v in per_request.items()},
        "request_throughput": len(gens) / wall, "output_token_throughput": sum(g.output_tokens for g in gens) / wall,
        **{f"{key}_bursts": mean_ci(v) | {"values": v} for key, v in (
            ("request_throughput", [n / s for n, _, s in bursts]),
            ("output_token_throughput", [t / s for _, t, s in bursts]))},
        **(goodput(gens, wall, slo) if slo else {}),
        "resources": monitor.summary(len(gens)),
        "requests_rows": [{"prompt_tokens": g.prompt_tokens, "ttft_s": g.ttft_s, "tpot_s": g.tpot_s, "e2e_s": g.e2e_s,
                           "itl_s": list(g.itl_s)} for g in gens],
        "failed_rows": [{"prompt_index": i, "prompt_tokens": g.prompt_tokens, "error": g.error}
                        for i, g in enumerate(rows) if not g.success],
    }


def report_metrics(cell: dict) -> dict[str, dict]:
    """A cell as eval-report metrics (``evals.report.Metric`` fields), each with its interval where one exists."""
    out = {}
    seconds = {"higher_is_better": False, "unit": "s"}
    rows = cell["requests_rows"]
    for key in LATENCIES:
        s = cell[key]
        base = key.removesuffix("_s")
        values = [r[key] for r in rows if r.get(key) is not None]
        for q in (50, 90, 99) if key in ("ttft_s", "e2e_s") else (50,):
            out[f"{base}_p{q}_s"] = {"mean": s[f"p{q}"], "ci95": s[f"p{q}_ci95"], "n": s["n"], "statistic": f"p{q}",
                                     "values": values, **seconds}
        out[f"{base}_mean_s"] = {"mean": s["mean"], "ci95": s["mean_ci95"], "n": s["n"],
                                 "values": per_request_means(values), **seconds}
    for key, unit in (("request_throughput", "requests/s"), ("output_token_throughput", "tokens/s")):
        b = cell[f"{key}_bursts"]
        out[key] = {"mean": cell[key], "ci95": b["ci95"], "n": b["n"], "values": b["values"], "higher_is_better": True,
                    "unit": unit}
    if "goodput" in cell:
        out["goodput"] = {"mean": cell["goodput"], "higher_is_better": True, "unit": "requests/s within SLO",
                          "statistic": "value"}
    res = cell["resources"]
    out["peak_rss_mb"] = {"mean": res["peak_rss_mb"], "higher_is_better": False, "unit": "MB", "statistic": "value"}
    for key, unit in (("amu", "fraction of GPU memory"), ("pcu", "fraction of SM time"), ("aec_w", "W")):
        if res.get("gpu") and res["gpu"].get(key) is not None:
            out[key] = {"mean": res["gpu"][key], "higher_is_better": False, "unit": unit, "statistic": "value"}
    return out
