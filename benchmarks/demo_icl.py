"""Demonstration selection, measured: SmolLM2-135M in-context accuracy with random vs kNN vs MMR demos.

Cloze scoring (length-normalized log-likelihood of each answer text), k = 0/1/4/8, >= 3 seeds for random,
one shared query sample per task. Conditions are appended to a JSONL as they finish, so an interrupted run
resumes; the summary JSON is rebuilt from it at the end (or with --summarize).

    python benchmarks/demo_icl.py            # ~1 h on 2 CPU cores
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

RESULTS = Path(__file__).parent / "results"


def conditions(ks, seeds, seed_limits, only=None):
    only = only or {}
    for k in ks:
        if k == 0:
            yield 0, "none", 0
            continue
        allowed = only.get(k, {"random", "knn", "mmr"})
        if "random" in allowed:
            for s in seeds[: seed_limits.get(k, len(seeds))]:
                yield k, "random", s
        for strategy in ("knn", "mmr"):
            if strategy in allowed:
                yield k, strategy, 0


def summarize(partial: Path, out: Path, args) -> dict:
    from evals.metrics import mean_ci

    rows = [json.loads(line) for line in partial.read_text().splitlines() if line.strip()]
    table = []
    for r in rows:
        table.append({k: r[k] for k in ("task", "k", "strategy", "seed", "n", "accuracy", "gold_logprob_per_token",
                                         "mean_prompt_tokens", "seconds")})
    # random over seeds: mean of the per-seed accuracies, interval over seeds and queries pooled
    pooled = {}
    for r in rows:
        key = (r["task"], r["k"], r["strategy"])
        pooled.setdefault(key, []).append(r)
    combined = []
    for (task, k, strategy), rs in sorted(pooled.items()):
        correct = [rec["correct"] for r in rs for rec in r["records"]]
        gold = [rec["gold_logprob_per_token"] for r in rs for rec in r["records"]]
        combined.append({"task": task, "k": k, "strategy": strategy, "seeds": len(rs),
                         "accuracy": mean_ci([float(c) for c in correct]),
                         "accuracy_per_seed": [r["accuracy"]["mean"] for r in rs],
                         "gold_logprob_per_token": mean_ci(gold)})
    result = {"benchmark": "demo_icl", "model": "SmolLM2-135M-Instruct (Q4_1 GGUF, de-quantized, fp32, CPU)",
              "scoring": "cloze: length-normalized log-likelihood of each answer text; accuracy = argmax",
              "queries_per_task": args.queries, "boolq_passage_chars": args.boolq_passage_chars, "pool": "task train split (AG News: 4/5 of test.csv)",
              "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
              "command": "python benchmarks/demo_icl.py " + " ".join(sys.argv[1:]),
              "combined": combined, "conditions": table}
    out.write_text(json.dumps(result, indent=2) + "\n")
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", nargs="+", default=["arc_easy", "boolq", "piqa", "sst2", "agnews"])
    ap.add_argument("--ks", nargs="+", type=int, default=[0, 1, 4, 8])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--queries", type=int, default=40)
    ap.add_argument("--boolq-passage-chars", type=int, default=400, help="truncate BoolQ passages (prompt length)")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--random-seeds-at", nargs="*", default=[], metavar="K=N",
                    help="fewer random seeds at a costly k, e.g. 8=1 (CPU time)")
    ap.add_argument("--strategies-at", nargs="*", default=[], metavar="K=S,S",
                    help="only these strategies at a costly k, e.g. 8=random,knn (CPU time)")
    ap.add_argument("--out", default=str(RESULTS / "demo_icl.json"))
    ap.add_argument("--summarize", action="store_true", help="only rebuild the summary from the partial file")
    args = ap.parse_args()
    out = Path(args.out)
    partial = out.with_suffix(".partial.jsonl")
    if args.summarize:
        summarize(partial, out, args)
        return
    from core.embed import Embedder
    from core.models import load_smollm2
    from evals.icl import query_sample, run_condition, task_embeddings
    from evals.tasks import load_task

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    done = set()
    if partial.exists():
        for line in partial.read_text().splitlines():
            r = json.loads(line)
            done.add((r["task"], r["k"], r["strategy"], r["seed"]))
    model, tokenizer = load_smollm2("cpu")
    embedder = Embedder(show_progress=False)
    tasks = {name: load_task(name, max_passage_chars=args.boolq_passage_chars) for name in args.tasks}
    embeddings = {name: task_embeddings(t, embedder.embed, query_sample(t, args.queries)) for name, t in tasks.items()}
    # k outermost: a partial run still has every task at the smaller k
    limits = {int(k): int(n) for k, n in (item.split("=") for item in args.random_seeds_at)}
    only = {int(k): set(v.split(",")) for k, v in (item.split("=") for item in args.strategies_at)}
    for k, strategy, seed in conditions(args.ks, args.seeds, limits, only):
        for name, task in tasks.items():
            if (name, k, strategy, seed) in done:
                continue
            queries = query_sample(task, args.queries)
            pool_emb, test_emb = embeddings[name]
            r = run_condition(task, queries, k, "knn" if strategy == "none" else strategy, seed, model, tokenizer,
                              pool_emb, test_emb)
            r["strategy"] = strategy
            with open(partial, "a") as f:
                f.write(json.dumps(r) + "\n")
            print(f"{name:9s} k={k} {strategy:6s} seed={seed}: acc {r['accuracy']['mean']:.3f} "
                  f"gold lp/tok {r['gold_logprob_per_token']['mean']:.3f} ({r['seconds']:.0f} s)", flush=True)
    summarize(partial, out, args)


if __name__ == "__main__":
    main()
