"""Prompt compression, measured: tokens, achieved ratio, compressor latency, and what SmolLM2-135M keeps.

Tasks: GSM8K with the OLMES 8-shot chain-of-thought context (metric: log-likelihood per token of the gold
solution), ARC-Easy and BoolQ with a fixed 5-shot cloze context (accuracy and gold log-likelihood). The
few-shot context is shared by every query, so it is compressed once per rate (question-agnostic coarse step)
and the query is appended untouched. Latency: greedy generation of 16 tokens with transformers on the CPU,
original vs compressed prompt, next to the compressor's own time (per prompt and amortized over the queries).

    python benchmarks/compress_quality.py --queries 40
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


def evaluate(context_text: str, queries, model, tok) -> dict:
    from evals.prompt_sets import quality

    return quality([f"{context_text}\n\n{q.text}" if context_text else q.text for q in queries], queries, model, tok)


def generation_latency(context_text: str, queries, model, tok, n: int, new_tokens: int = 16) -> dict:
    import numpy as np
    import torch

    times, prompt_tokens = [], []
    for q in queries[:n]:
        ids = tok(f"{context_text}\n\n{q.text}", return_tensors="pt", add_special_tokens=False)
        t0 = time.perf_counter()
        with torch.inference_mode():
            out = model.generate(**ids, max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False,
                                 pad_token_id=tok.eos_token_id)
        times.append(time.perf_counter() - t0)
        assert out.shape[1] - ids["input_ids"].shape[1] == new_tokens  # output length verified
        prompt_tokens.append(ids["input_ids"].shape[1])
    return {"e2e_s_p50": float(np.median(times)), "e2e_s_mean": float(np.mean(times)), "requests": len(times),
            "new_tokens": new_tokens, "mean_prompt_tokens": float(np.mean(prompt_tokens))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", nargs="+", default=["gsm8k", "arc_easy", "boolq"])
    ap.add_argument("--rates", nargs="+", type=float, default=[1.0, 0.5, 0.33, 0.2])
    ap.add_argument("--queries", type=int, default=40)
    ap.add_argument("--latency-requests", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "compress_quality.json"))
    args = ap.parse_args()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from core.embed import Embedder
    from core.models import load_smollm2
    from evals.prompt_sets import cloze_items, gsm8k_items
    from prompts.compress import compress

    model, tok = load_smollm2("cpu")
    embed = Embedder(show_progress=False).embed
    compress("warm up the compressor. " * 20, rate=0.5, model=model, tokenizer=tok, embed=embed)
    cells = []
    for name in args.tasks:
        context, queries = gsm8k_items(args.queries) if name == "gsm8k" else cloze_items(name, args.queries)[:2]
        for rate in args.rates:
            t0 = time.perf_counter()
            c = compress({"context": context}, rate=rate, model=model, tokenizer=tok, embed=embed)
            compressor_s = time.perf_counter() - t0
            quality = evaluate(c.text, queries, model, tok)
            latency = generation_latency(c.text, queries, model, tok, args.latency_requests)
            cell = {"task": name, "rate": rate, "context_tokens": c.original_tokens,
                    "compressed_context_tokens": c.compressed_tokens, "achieved_ratio": c.ratio,
                    "dropped_items": c.dropped_items, "compressor_s": compressor_s,
                    "compressor_s_amortized": compressor_s / len(queries), "queries": len(queries), **quality,
                    "latency": latency, "example": c.text[:600]}
            cells.append(cell)
            acc = quality.get("accuracy", {}).get("mean")
            print(f"{name:8s} rate {rate:.2f}: {c.original_tokens} -> {c.compressed_tokens} tokens "
                  f"({c.ratio:.3f}), compressor {compressor_s:.2f} s, "
                  + (f"acc {acc:.3f}, " if acc is not None else "")
                  + f"gold lp/tok {quality['gold_logprob_per_token']['mean']:.3f}, e2e p50 {latency['e2e_s_p50']:.2f} s",
                  flush=True)
    for cell in cells:  # what each rate keeps of the uncompressed prompt, and what it saves
        base = next(b for b in cells if b["task"] == cell["task"] and b["rate"] == 1.0)
        kept = {"gold_logprob_ratio": base["gold_logprob_per_token"]["mean"] / cell["gold_logprob_per_token"]["mean"]}
        if "accuracy" in cell and base["accuracy"]["mean"]:
            kept["accuracy_ratio"] = cell["accuracy"]["mean"] / base["accuracy"]["mean"]
        saved = base["latency"]["e2e_s_mean"] - cell["latency"]["e2e_s_mean"]
        cell["kept_vs_uncompressed"] = kept
        cell["serving_s_saved_per_request"] = saved
        cell["overhead_vs_saved"] = {
            "per_prompt": cell["compressor_s"] / saved if saved > 0 else None,
            "amortized_shared_context": cell["compressor_s_amortized"] / saved if saved > 0 else None}
    result = {"benchmark": "compress_quality", "compressor": "SmolLM2-135M-Instruct (fp32, CPU)",
              "target_model": "SmolLM2-135M-Instruct (same tokenizer: ratios are target-model tokens)",
              "queries_per_task": args.queries, "rates": args.rates,
              "kept_definitions": {"accuracy_ratio": "compressed accuracy / uncompressed accuracy",
                                   "gold_logprob_ratio": "uncompressed / compressed gold log-prob per token "
                                                         "(both negative: 1.0 = nothing lost, < 1 = worse)"},
              "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "torch_threads": torch.get_num_threads()},
              "command": "python benchmarks/compress_quality.py " + " ".join(sys.argv[1:]), "cells": cells}
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
