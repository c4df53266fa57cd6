"""Serving benchmark: a fixed prompt set at fixed concurrency, warm-ups first, output lengths verified.

Metrics follow vLLM's benchmark: TTFT (queueing included), TPOT, ITL, E2E latency at p50/p90/p99, request and
output-token throughput; plus peak process memory. Each cell's prompts are distinct, so no cell is served from
another's prefix cache.
"""

from __future__ import annotations

import resource
import time

import numpy as np


def _percentiles(values: list[float]) -> dict:
    x = np.asarray([v for v in values if v is not None and np.isfinite(v)])
    if not len(x):
        return {"p50": None, "p90": None, "p99": None, "mean": None}
    return {"p50": float(np.percentile(x, 50)), "p90": float(np.percentile(x, 90)),
            "p99": float(np.percentile(x, 99)), "mean": float(x.mean())}


def run_cell(backend, prompts: list[str], max_tokens: int = 32, concurrency: int = 1, warmups: int = 1) -> dict:
    """Prompts go out in bursts of ``concurrency``; returns the metric summary and the raw per-request rows."""
    if warmups:
        backend.generate([f"Warm-up request {i}." for i in range(warmups)], max_tokens=4)
    gens = []
    start = time.perf_counter()
    for i in range(0, len(prompts), concurrency):
        gens.extend(backend.generate(prompts[i: i + concurrency], max_tokens=max_tokens, ignore_eos=True))
    wall = time.perf_counter() - start
    wrong = [g.output_tokens for g in gens if g.output_tokens != max_tokens]
    if wrong:
        raise RuntimeError(f"{len(wrong)} requests returned other than {max_tokens} tokens: {wrong[:5]}")
    out_tokens = sum(g.output_tokens for g in gens)
    return {
        "requests": len(gens), "concurrency": concurrency, "max_tokens": max_tokens, "wall_s": wall,
        "mean_prompt_tokens": float(np.mean([g.prompt_tokens for g in gens])),
        "ttft_s": _percentiles([g.ttft_s for g in gens]), "tpot_s": _percentiles([g.tpot_s for g in gens]),
        "itl_s": _percentiles([x for g in gens for x in g.itl_s]), "e2e_s": _percentiles([g.e2e_s for g in gens]),
        "request_throughput": len(gens) / wall, "output_token_throughput": out_tokens / wall,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
