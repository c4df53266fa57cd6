"""Serving cost of raw vs demo-selected vs compressed few-shot prompts, through each backend, with quality kept.

SmolLM2-135M-Instruct (the converted GGUF) serves GSM8K 8-shot and ARC-Easy 5-shot prompt sets
(``evals.prompt_sets``) at fixed concurrency, warm-ups first, ignore-EOS with verified output lengths, prefix
caching off. Per cell: TTFT/TPOT/ITL/E2E percentiles with bootstrap intervals, throughputs with per-burst
intervals, process-tree memory, NVML memory/SM/energy on a GPU. Per set: quality on the answer texts (scored
once with transformers; the vLLM backends agree to 1e-3, see tests/evals/test_vllm_backends.py) and
EfficientLLM's MCR for prompts = (raw tokens / set tokens) x quality kept.

    python benchmarks/serving_prompts.py --queries 32 --backends transformers vllm vllm-server

``--prefix-cache`` measures instead what vLLM's automatic prefix caching (its default) changes, through
``vllm serve`` with the cache off and then on (``prefix_cache_experiment``) -> results/serving_prefix_cache.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def kept(raw: dict, other: dict) -> dict:
    """What a set keeps of the raw set's quality (1.0 = all). Gold log-probs are negative: raw / other."""
    out = {"gold_logprob_ratio": raw["gold_logprob_per_token"]["mean"] / other["gold_logprob_per_token"]["mean"]}
    if "accuracy" in raw and raw["accuracy"]["mean"]:
        out["accuracy_ratio"] = other["accuracy"]["mean"] / raw["accuracy"]["mean"]
    return out


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cells = result["cells"]
    backends = list(dict.fromkeys(c["backend"] for c in cells))
    tasks = list(dict.fromkeys(c["task"] for c in cells))
    fig, axes = plt.subplots(1, len(tasks), figsize=(6 * len(tasks), 4), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        for b_i, backend in enumerate(backends):
            rows = [c for c in cells if c["task"] == task and c["backend"] == backend]
            xs = [s_i + 0.25 * b_i for s_i in range(len(rows))]
            ys = [c["ttft_s"]["p50"] for c in rows]
            err = [[y - c["ttft_s"]["p50_ci95"][0] for y, c in zip(ys, rows)],
                   [c["ttft_s"]["p50_ci95"][1] - y for y, c in zip(ys, rows)]]
            ax.bar(xs, ys, width=0.25, yerr=err, capsize=3, label=backend)
        ax.set_xticks([i + 0.25 for i in range(3)], [f"{s}\n{result['sets'][task][s]['mean_prompt_tokens']:.0f} tok"
                                                     for s in ("raw", "selected", "compressed")])
        ax.set_ylabel("TTFT p50 (s), 95% bootstrap interval")
        ax.set_title(f"{task}: concurrency {result['concurrency']}")
        ax.grid(alpha=0.3, axis="y")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


CACHE_ARMS = ("raw", "selected", "compressed", "compressed_per_query")  # the first and third share a prefix


def cache_arm_prompts(task: str, n: int, model, tok, embed, rate: float) -> tuple[dict, dict]:
    """The four arms on the same ``n`` queries: raw (fixed demos, a stable prefix), kNN demos per query, the demos
    compressed once (a stable, cache-aware prefix) and each whole prompt compressed on its own to the same tokens."""
    from core.models import cache_dir
    from evals.prompt_sets import SHOTS, build, cloze_items, compress_per_query

    t0 = time.perf_counter()
    sets = build(task, n, model, tok, embed, rate)
    built_s = time.perf_counter() - t0
    context, _, _ = cloze_items(task, n, SHOTS[task])  # the same fixed demos build() drew (seed 0)
    budget = [len(tok(p, add_special_tokens=False)["input_ids"]) for p in sets["compressed"].prompts]
    t0 = time.perf_counter()
    sets["compressed_per_query"] = compress_per_query(
        sets["raw"], context, budget, model, tok, embed,
        cache_dir() / "serving_prefix_cache" / f"{task}_per_query.json")  # keyed by budget and text
    costs = {"build_raw_selected_compressed_s": built_s,
             "compressed_shared_once_s": sets["compressed"].notes["compressor_s"],
             "per_query_wall_s_this_run": time.perf_counter() - t0}
    return sets, costs


def pooled(cells: list[dict]) -> dict:
    """Per-request TTFT / E2E pooled over repetitions: p50 with a bootstrap interval over requests, mean with t."""
    from core.statistics import mean_ci, percentile_ci

    out = {}
    for key in ("ttft_s", "e2e_s"):
        values = [r[key] for c in cells for r in c["requests_rows"]]
        p50, mean = percentile_ci(values, 50), mean_ci(values)
        out[key] = {"p50": p50["value"], "p50_ci95": p50["ci95"], "mean": mean["mean"], "mean_ci95": mean["ci95"],
                    "n": p50["n"], "per_rep_p50": [c[key]["p50"] for c in cells], "values": values}
    hits = [c["prefix_cache"] for c in cells if c.get("prefix_cache")]
    queries = sum(h["queries"] for h in hits)
    out["prefix_cache"] = {"queries": queries, "hits": sum(h["hits"] for h in hits),
                           "hit_rate": sum(h["hits"] for h in hits) / queries if queries else None} if hits else None
    out["completed"], out["failed"] = sum(c["completed"] for c in cells), sum(c["failed"] for c in cells)
    out["mean_prompt_tokens"] = float(np.mean([c["mean_prompt_tokens"] for c in cells]))
    return out


def prefix_cache_experiment(args, model, tok, embed) -> dict:
    """Every arm served by ``vllm serve`` with prefix caching off, then on; ``--reps`` repetitions on disjoint
    query draws (a per-query prompt is never seen twice, so no arm is helped by a repeat). Before each cell the
    cache is reset and one unmeasured request of the same arm is served (the steady state of a deployment whose
    earlier traffic cached the shared prefix); arm order rotates between repetitions."""
    from core.models import smollm2_dir
    from core.statistics import percentile_difference
    from evals.backends.openai_server import VLLMServerBackend
    from evals.prompt_sets import quality
    from evals.serving_bench import measure_serving

    task, per_rep = args.tasks[0], args.requests_per_rep
    n = args.reps * (per_rep + 1)
    sets, costs = cache_arm_prompts(task, n, model, tok, embed, args.rate)
    arm_names = [a for a in CACHE_ARMS if a in args.arms]
    draws = [list(range(r, n, args.reps)) for r in range(args.reps)]  # disjoint; the first of each is the warm-up
    arms = {}
    for name in arm_names:
        ps = sets[name]
        measured = [i for d in draws for i in d[1:]]
        arms[name] = {"notes": {k: v for k, v in ps.notes.items() if k != "compressor_s"},
                      "mean_prompt_tokens": float(np.mean([len(tok(ps.prompts[i], add_special_tokens=False)
                                                                   ["input_ids"]) for i in measured])),
                      "quality": None if args.skip_quality else quality([ps.prompts[i] for i in measured],
                                                                        [ps.queries[i] for i in measured], model, tok)}
    per_query_s = sets["compressed_per_query"].notes["compressor_s"]
    from core.statistics import percentile_ci

    costs["per_query_compressor_s"] = percentile_ci(per_query_s, 50) | {"values": per_query_s}
    print(f"{task}: arms built ({costs})", flush=True)
    extra = ("--block-size", str(args.block_size)) if args.block_size else ()
    cells = []
    for caching in (False, True):
        t0 = time.perf_counter()
        with VLLMServerBackend(str(smollm2_dir()), prefix_caching=caching, extra_args=extra) as engine:
            started = time.perf_counter() - t0
            for rep, draw in enumerate(draws):
                order = arm_names[rep % len(arm_names):] + arm_names[:rep % len(arm_names)]
                for name in order:
                    prompts = sets[name].prompts
                    engine.reset_prefix_cache()
                    cell = measure_serving(engine, [prompts[i] for i in draw[1:]], max_tokens=args.max_tokens,
                                           concurrency=args.concurrency, warmups=2, warmup_prompts=[prompts[draw[0]]])
                    cells.append({"prefix_caching": caching, "arm": name, "rep": rep, "engine_start_s": started,
                                  **{k: v for k, v in cell.items() if k != "resources"},
                                  "peak_rss_mb": cell["resources"]["peak_rss_mb"]})
                    with open(Path(args.out).with_suffix(".partial.jsonl"), "a") as f:  # kept if the run is cut
                        f.write(json.dumps(cells[-1]) + "\n")
                    hit = (cell["prefix_cache"] or {}).get("hit_rate")
                    print(f"cache {'on ' if caching else 'off'} rep {rep} {name:21s} "
                          f"{cell['mean_prompt_tokens']:5.0f} tok  TTFT p50 {cell['ttft_s']['p50']:.3f} s  "
                          f"hit rate {hit if hit is None else round(hit, 3)}  failed {cell['failed']}", flush=True)
    summary = {f"cache_{'on' if c else 'off'}": {a: pooled([x for x in cells if x["prefix_caching"] == c
                                                           and x["arm"] == a]) for a in arm_names}
               for c in (False, True)}
    ttft = lambda c, a: summary[c][a]["ttft_s"]["values"]  # noqa: E731
    comparisons = {
        "on_minus_off": {a: percentile_difference(ttft("cache_off", a), ttft("cache_on", a), 50) for a in arm_names},
        "vs_raw_cache_on": {a: percentile_difference(ttft("cache_on", "raw"), ttft("cache_on", a), 50)
                            for a in arm_names[1:]},
        "vs_raw_cache_off": {a: percentile_difference(ttft("cache_off", "raw"), ttft("cache_off", a), 50)
                             for a in arm_names[1:]},
    }
    on = summary["cache_on"]
    saved_on = on["raw"]["ttft_s"]["p50"] - on["compressed_per_query"]["ttft_s"]["p50"]
    verdict = {
        "per_query_compression_pays_with_cache_on": costs["per_query_compressor_s"]["value"] < saved_on,
        "ttft_p50_saved_by_per_query_compression_cache_on_s": saved_on,
        "per_query_compressor_p50_s": costs["per_query_compressor_s"]["value"],
        "rule": "per-query compression pays only if compressor seconds per prompt < TTFT it saves against the "
                "cached raw prompt (requests served by a prefix cache pay only for their uncached suffix)",
    }
    return {"task": task, "requests_per_arm_per_rep": per_rep, "reps": args.reps, "arms": arms,
            "compression_costs": costs, "cells": cells, "summary": summary, "comparisons": comparisons,
            "verdict": verdict, "block_size": args.block_size or "vLLM CPU default (128)"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", nargs="+", default=["gsm8k", "arc_easy"])
    ap.add_argument("--queries", type=int, default=32)
    ap.add_argument("--backends", nargs="+", default=["transformers", "vllm", "vllm-server"])
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--rate", type=float, default=0.33, help="compression rate for the compressed set")
    ap.add_argument("--threads", type=int, default=0, help="torch threads for scoring (0: torch's default)")
    ap.add_argument("--skip-quality", action="store_true",
                    help="serve only, no quality scoring or MCR (benchmarks/gpu_suite.sh --dry-run: plumbing checks)")
    ap.add_argument("--device", default="cpu", help="device for building, compressing and scoring the prompt sets "
                    "(cpu, cuda, auto); the transformers backend serves on the GPU whenever there is one")
    ap.add_argument("--out", default=None, help="results JSON (default: results/serving_prompts.json, or "
                    "results/serving_prefix_cache.json with --prefix-cache)")
    ap.add_argument("--prefix-cache", action="store_true", help="vLLM server with prefix caching off vs on, "
                    "cache-aware vs per-query arms (first --tasks entry; arc_easy is the one sized for a CPU)")
    ap.add_argument("--reps", type=int, default=3, help="--prefix-cache: repetitions on disjoint query draws")
    ap.add_argument("--requests-per-rep", type=int, default=16, help="--prefix-cache: measured requests per arm")
    ap.add_argument("--arms", nargs="+", default=list(CACHE_ARMS), choices=CACHE_ARMS,
                    help="--prefix-cache: arms to serve (raw must be one: the others are compared with it)")
    ap.add_argument("--block-size", type=int, default=0, help="--prefix-cache: vLLM KV block size (0: its default; "
                    "a prefix is cached in whole blocks)")
    args = ap.parse_args()
    results = Path(__file__).parent / "results"
    args.out = args.out or str(results / ("serving_prefix_cache.json" if args.prefix_cache else "serving_prompts.json"))
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from core.embed import Embedder
    from core.models import load_smollm2, smollm2_dir
    from evals.backends import load_backend
    from evals.prompt_sets import SETS, build, quality
    from evals.report import environment
    from evals.serving_bench import measure_serving

    model, tok = load_smollm2(args.device)
    embed = Embedder(show_progress=False).embed
    if args.prefix_cache:
        result = prefix_cache_experiment(args, model, tok, embed)
        versions, hardware = environment()
        result = {"benchmark": "serving_prefix_cache", "model": "SmolLM2-135M-Instruct (Q4_1 GGUF converted to fp32)",
                  "backend": "vllm-server", "concurrency": args.concurrency, "max_tokens": args.max_tokens,
                  "compression_rate": args.rate, "definitions": {
                      "ttft_s": "burst submitted -> first streamed token, on the client (evals.backends.protocol)",
                      "hit_rate": "vllm:prefix_cache_hits / vllm:prefix_cache_queries (tokens) over a cell's "
                                  "measured requests, from /metrics"},
                  "versions": versions, "hardware": hardware, "torch_threads": torch.get_num_threads(),
                  "command": "python benchmarks/serving_prompts.py " + " ".join(sys.argv[1:]), **result}
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.out}")
        return
    prompt_sets, sets = {}, {}
    for task in args.tasks:
        t0 = time.perf_counter()
        prompt_sets[task] = build(task, args.queries, model, tok, embed, args.rate)
        sets[task] = {}
        for name, ps in prompt_sets[task].items():
            tokens = [len(tok(p, add_special_tokens=False)["input_ids"]) for p in ps.prompts]
            sets[task][name] = {"mean_prompt_tokens": sum(tokens) / len(tokens), "notes": ps.notes,
                                "quality": None if args.skip_quality else quality(ps.prompts, ps.queries, model, tok),
                                "example": ps.prompts[0][-700:]}
        raw = sets[task]["raw"]
        for name, s in sets[task].items():
            s["token_ratio_vs_raw"] = raw["mean_prompt_tokens"] / s["mean_prompt_tokens"]
            if args.skip_quality:
                s["quality_kept"] = s["mcr"] = None
                continue
            s["quality_kept"] = kept(raw["quality"], s["quality"])
            s["mcr"] = s["token_ratio_vs_raw"] * s["quality_kept"].get("accuracy_ratio",
                                                                      s["quality_kept"]["gold_logprob_ratio"])
        print(f"{task}: sets built and scored in {time.perf_counter() - t0:.0f} s: " + ", ".join(
            f"{n} {s['mean_prompt_tokens']:.0f} tok, MCR {s['mcr'] or float('nan'):.2f}"
            for n, s in sets[task].items()), flush=True)
    del model
    cells = []
    for backend in args.backends:
        t0 = time.perf_counter()
        with load_backend(backend, str(smollm2_dir())) as engine:
            started = time.perf_counter() - t0
            for task in args.tasks:
                for name in SETS:
                    cell = measure_serving(engine, prompt_sets[task][name].prompts, max_tokens=args.max_tokens,
                                           concurrency=args.concurrency, warmups=2)
                    cells.append({"backend": backend, "task": task, "set": name, "engine_start_s": started, **cell})
                    print(f"{backend:12s} {task:8s} {name:10s} prompt {cell['mean_prompt_tokens']:6.0f} tok  "
                          f"TTFT p50 {cell['ttft_s']['p50']:.3f} s  E2E p50 {cell['e2e_s']['p50']:.3f} s  "
                          f"{cell['output_token_throughput']:.1f} out tok/s  peak {cell['resources']['peak_rss_mb']:.0f} MB",
                          flush=True)
    versions, hardware = environment()
    result = {"benchmark": "serving_prompts", "model": "SmolLM2-135M-Instruct (Q4_1 GGUF converted to fp32)",
              "queries": args.queries, "concurrency": args.concurrency, "max_tokens": args.max_tokens,
              "compression_rate": args.rate, "prefix_caching": "off (vLLM backends); transformers has none",
              "definitions": {
                  "ttft_s": "request sent -> first token, queueing included (transformers serves a burst in order)",
                  "mcr": "EfficientLLM model compression rate for prompts: (raw tokens / set tokens) x quality kept "
                         "(accuracy ratio where there is accuracy, else gold log-prob ratio)"},
              "versions": versions, "hardware": hardware, "torch_threads": torch.get_num_threads(),
              "platform": platform.platform(),
              "command": "python benchmarks/serving_prompts.py " + " ".join(sys.argv[1:]), "sets": sets, "cells": cells}
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    plot(result, Path(args.out).with_suffix(".png"))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
