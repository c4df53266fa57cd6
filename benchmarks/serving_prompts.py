"""Serving cost of raw vs demo-selected vs compressed few-shot prompts, through each backend, with quality kept.

SmolLM2-135M-Instruct (the converted GGUF) serves GSM8K 8-shot and ARC-Easy 5-shot prompt sets
(``evals.prompt_sets``) at fixed concurrency, warm-ups first, ignore-EOS with verified output lengths, prefix
caching off. Per cell: TTFT/TPOT/ITL/E2E percentiles with bootstrap intervals, throughputs with per-burst
intervals, process-tree memory, NVML memory/SM/energy on a GPU. Per set: quality on the answer texts (scored
once with transformers; the vLLM backends agree to 1e-3, see tests/evals/test_vllm_backends.py) and
EfficientLLM's MCR for prompts = (raw tokens / set tokens) x quality kept.

    python benchmarks/serving_prompts.py --queries 32 --backends transformers vllm vllm-server
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

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
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "serving_prompts.json"))
    args = ap.parse_args()
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
