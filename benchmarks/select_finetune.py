"""Subset selection proved on an LLM: LoRA fine-tunes of SmolLM2-135M-Instruct on the subsets each strategy picks,
scored by held-out gold-answer log-likelihood. Writes results/select_finetune.json and .md.

Pool: Alpaca (the demo sample) and GSM8K train pairs that fit ``--max-tokens`` rendered (so every token counted
is a token trained on). Held out from the pool: GSM8K test items and Alpaca items (a seeded split of the file),
the two evaluation sets; kNN and DSIR select toward a further ``--target-size`` items drawn half from each
source (the "examples of the task"). Every strategy picks ``--budget`` items, and, separately, as many items
as fit ``--token-budget`` tokens (equal examples and equal tokens); random and longest-k (most response tokens
first, Zhao et al. 2024 "Long Is More for Alignment") are the baselines. Every arm trains with the same seeds
(the seed fixes the adapters' initialisation and the data order), so arm-vs-random differences are paired.

Score: mean over items of the gold response's mean log-probability per token (nats/token; higher is better),
per evaluation set, for each fine-tune and for the model before fine-tuning. Each finished run is appended to
``<out>.<settings hash>.partial.jsonl`` and skipped on a rerun with the same settings, so an interrupted run
resumes.

    python benchmarks/select_finetune.py --threads 2
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

RESULTS = Path(__file__).parent / "results"
STRATEGIES = ["random", "longest", "kcenter", "deita", "ifd", "semdedup", "dsir", "knn"]
EVAL_SETS = ("gsm8k_test", "alpaca_heldout")


def _alpaca_prompt(record: dict) -> str:
    return "\n\n".join(p for p in (record.get("instruction", ""), record.get("input", "")) if p)


def build_data(tokenizer, max_tokens: int, gsm8k_pool: int, alpaca_eval: int, gsm8k_eval: int, target_size: int):
    """(pool, target, eval_sets) from ../shared/data; eval_sets maps a name to (prompts, responses)."""
    from core.pool import Pool
    from core.shared_data import shared_data_dir
    from evals.finetune import fits

    d = shared_data_dir()
    alpaca = json.loads((d / "instruct/alpaca_en_demo.json").read_text())
    gsm_train = [json.loads(line) for line in (d / "math/gsm8k_train.jsonl").open()]
    gsm_test = [json.loads(line) for line in (d / "math/gsm8k_test.jsonl").open()]

    def fitting(prompts, responses):
        return np.flatnonzero(fits(tokenizer, prompts, responses, max_tokens))

    a_prompts, a_responses = [_alpaca_prompt(r) for r in alpaca], [r["output"] for r in alpaca]
    order = np.random.default_rng(0).permutation(len(alpaca))
    ok = set(fitting(a_prompts, a_responses).tolist())
    a_fit = [int(i) for i in order if i in ok]  # seeded split of the Alpaca items that fit
    a_eval, a_target, a_pool = (a_fit[:alpaca_eval], a_fit[alpaca_eval: alpaca_eval + target_size // 2],
                                a_fit[alpaca_eval + target_size // 2:])
    # GSM8K train in file order (the first items that fit): pool, then target
    head = gsm_train[: 2 * (gsm8k_pool + target_size)]
    g_fit = fitting([r["question"] for r in head], [r["answer"] for r in head]).tolist()
    g_pool, g_target = g_fit[:gsm8k_pool], g_fit[gsm8k_pool: gsm8k_pool + target_size - target_size // 2]
    t_head = gsm_test[: 2 * gsm8k_eval]
    t_fit = fitting([r["question"] for r in t_head], [r["answer"] for r in t_head]).tolist()[:gsm8k_eval]

    pool = Pool(ids=[f"alpaca:{i}" for i in a_pool] + [f"gsm8k_train:{i}" for i in g_pool],
                prompts=[a_prompts[i] for i in a_pool] + [gsm_train[i]["question"] for i in g_pool],
                responses=[a_responses[i] for i in a_pool] + [gsm_train[i]["answer"] for i in g_pool],
                metadata=[{"source": "alpaca"}] * len(a_pool) + [{"source": "gsm8k"}] * len(g_pool))
    pool.sources = list(pool.ids)
    target = Pool.from_texts([f"{a_prompts[i]}\n\n{a_responses[i]}" for i in a_target]
                             + [f"{gsm_train[i]['question']}\n\n{gsm_train[i]['answer']}" for i in g_target],
                             ids=[f"alpaca:{i}" for i in a_target] + [f"gsm8k_train:{i}" for i in g_target])
    evals = {"gsm8k_test": ([gsm_test[i]["question"] for i in t_fit], [gsm_test[i]["answer"] for i in t_fit]),
             "alpaca_heldout": ([a_prompts[i] for i in a_eval], [a_responses[i] for i in a_eval])}
    return pool, target, evals


def longest_k(response_tokens: np.ndarray, pair_tokens: np.ndarray, budget) -> list[int]:
    """Most response tokens first (ties: pool order), under the same budget rule as ``selection.select``:
    a count takes the first k; tokens skip an item too long for what is left and stop when nothing fits."""
    order = np.lexsort((np.arange(len(response_tokens)), -response_tokens))
    if budget.kind == "count":
        return [int(i) for i in order[: int(budget.value)]]
    picked, spent, smallest = [], 0, int(pair_tokens.min())
    for i in order:
        if spent + pair_tokens[i] <= budget.value:
            picked.append(int(i))
            spent += int(pair_tokens[i])
        elif budget.value - spent < smallest:
            break
    return picked


def subsets(pool, target, strategies, budgets, seeds, cache, pair_tokens, response_tokens) -> dict:
    """{(strategy, budget name, seed): pool indices}. Token budgets count rendered pair tokens (what trains)."""
    from selection import Budget, select
    from selection.strategies import STRATEGIES as REGISTRY

    out = {}
    for strategy in strategies:
        for name, budget in budgets.items():
            for seed in seeds:
                if strategy == "longest":
                    out[strategy, name, seed] = longest_k(response_tokens, pair_tokens, budget)
                    continue
                if strategy not in REGISTRY:
                    raise SystemExit(f"unknown strategy {strategy!r}")
                if budget.kind == "tokens":
                    # select() counts tokens of prompt + response text; this fill counts rendered pairs (what trains)
                    out[strategy, name, seed] = _fill_tokens(select(pool, len(pool), strategy, target=target,
                                                                    seed=seed, cache=cache).indices,
                                                             pair_tokens, budget.value)
                else:
                    out[strategy, name, seed] = select(pool, Budget.parse(int(budget.value)), strategy, target=target,
                                                       seed=seed, cache=cache).indices
    return out


def _fill_tokens(ranked: list[int], pair_tokens: np.ndarray, budget: float) -> list[int]:
    picked, spent, smallest = [], 0, int(pair_tokens.min())
    for i in ranked:
        if spent + pair_tokens[i] <= budget:
            picked.append(i)
            spent += int(pair_tokens[i])
        elif budget - spent < smallest:
            break
    return picked


def summarize(runs: list[dict], base: dict, strategies: list[str], budgets: list[str]) -> list[dict]:
    """Per (budget, strategy): mean over seeds with a t interval, and the paired t interval against random."""
    from core.statistics import mean_ci, paired_difference, verdict

    rows = []
    for budget in budgets:
        by = {s: {r["seed"]: r for r in runs if r["strategy"] == s and r["budget"] == budget} for s in strategies}
        for s in strategies:
            if not by[s]:
                continue
            row = {"budget": budget, "strategy": s, "seeds": sorted(by[s]),
                   "items": mean_ci([r["items"] for r in by[s].values()])["mean"],
                   "trained_tokens": mean_ci([r["trained_tokens"] for r in by[s].values()])["mean"],
                   "gsm8k_share": mean_ci([r["gsm8k_share"] for r in by[s].values()])["mean"]}
            for metric in (*EVAL_SETS, "all"):
                per_seed = {k: r["scores"][metric] for k, r in by[s].items()}
                row[metric] = mean_ci(list(per_seed.values())) | {"per_seed": per_seed,
                                                                  "gain_over_base": mean_ci(list(per_seed.values()))["mean"] - base[metric]}
                if s != "random" and by["random"]:
                    d = paired_difference({k: r["scores"][metric] for k, r in by["random"].items()}, per_seed)
                    row[metric]["vs_random"] = d | {"verdict": verdict(d["ci"], higher_is_better=True)}
                    items = _item_difference(by["random"], by[s], metric)
                    if items is not None:
                        row[metric]["vs_random_items"] = items | {
                            "verdict": verdict(items["ci"], higher_is_better=True)}
            rows.append(row)
    return rows


def _item_difference(random_runs: dict, runs: dict, metric: str) -> dict | None:
    """Paired t over test items of (arm - random), each item's difference averaged over the shared seeds.

    The seed interval covers training randomness with the test items fixed; this one covers the sampling of the
    test items with the seeds averaged. None when the runs stored no per-item scores (older partial files)."""
    from core.statistics import paired_difference

    seeds = [k for k in runs if k in random_runs]
    sets = EVAL_SETS if metric == "all" else (metric,)
    if not seeds or any("per_item" not in r["scores"] for r in (*runs.values(), *random_runs.values())):
        return None
    a, b = {}, {}
    for name in sets:
        for j in range(len(runs[seeds[0]]["scores"]["per_item"][name])):
            xa = [random_runs[k]["scores"]["per_item"][name][j] for k in seeds]
            xb = [runs[k]["scores"]["per_item"][name][j] for k in seeds]
            if None not in xa and None not in xb:
                a[name, j], b[name, j] = float(np.mean(xa)), float(np.mean(xb))
    d = paired_difference(a, b)
    return d | {"method": f"paired t over {d['n']} test items (each averaged over {len(seeds)} shared seeds)"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--strategies", nargs="+", default=STRATEGIES)
    ap.add_argument("--budget", type=int, default=64, help="examples per subset (equal-examples arm)")
    ap.add_argument("--token-budget", type=int, default=0,
                    help="rendered tokens per subset (equal-tokens arm; 0: budget x the pool's median pair length)")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--gsm8k-pool", type=int, default=200)
    ap.add_argument("--alpaca-eval", type=int, default=60)
    ap.add_argument("--gsm8k-eval", type=int, default=60)
    ap.add_argument("--target-size", type=int, default=100)
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--rank", type=int, default=8)
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--budgets", nargs="+", default=["examples", "tokens"], choices=["examples", "tokens"])
    ap.add_argument("--report-only", action="store_true",
                    help="no training: summarize the runs already in the partial file of these settings")
    ap.add_argument("--out", default=str(RESULTS / "select_finetune.json"))
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    from core.embed import Embedder
    from core.models import SMOLLM2_ID, load_smollm2
    from evals.finetune import LoraSpec, answer_logprobs, lora_finetune, pair_tokens
    from selection import Budget

    start = time.perf_counter()
    model, tokenizer = load_smollm2("cpu")
    pool, target, evals = build_data(tokenizer, args.max_tokens, args.gsm8k_pool, args.alpaca_eval, args.gsm8k_eval,
                                     args.target_size)
    pair_len = pair_tokens(tokenizer, pool.prompts, pool.responses)
    response_len = pair_len - pair_tokens(tokenizer, pool.prompts, [""] * len(pool))
    token_budget = args.token_budget or int(args.budget * np.median(pair_len))
    budgets = {"examples": Budget("count", args.budget), "tokens": Budget("tokens", token_budget)}
    budgets = {k: budgets[k] for k in args.budgets}
    print(f"pool {len(pool)} ({sum(m['source'] == 'gsm8k' for m in pool.metadata)} GSM8K), target {len(target)}, "
          f"eval {', '.join(f'{k} {len(v[0])}' for k, v in evals.items())}; budgets {args.budget} items / "
          f"{token_budget} tokens", flush=True)
    t0 = time.perf_counter()
    cache = {"embeddings": Embedder(show_progress=False).embed(pool.texts)}
    chosen = subsets(pool, target, args.strategies, budgets, args.seeds, cache, pair_len, response_len)
    select_seconds = round(time.perf_counter() - t0, 1)
    print(f"selected {len(chosen)} subsets in {select_seconds} s", flush=True)

    def score(m) -> dict:
        per_set = {name: answer_logprobs(m, tokenizer, p, r, args.max_tokens) for name, (p, r) in evals.items()}
        out = {name: float(np.nanmean(v)) for name, v in per_set.items()}
        out["all"] = float(np.nanmean(np.concatenate(list(per_set.values()))))
        # per item too (nan -> None), for the interval over test items
        out["per_item"] = {name: [None if np.isnan(x) else round(float(x), 5) for x in v] for name, v in per_set.items()}
        return out

    out = Path(args.out)
    # one partial file per data and training setting: a rerun with other settings never reuses these runs
    setting = json.dumps([args.max_tokens, args.gsm8k_pool, args.alpaca_eval, args.gsm8k_eval, args.target_size,
                          args.lr, args.rank, args.batch_size])
    partial = out.with_name(f"{out.stem}.{hashlib.sha1(setting.encode()).hexdigest()[:8]}.partial.jsonl")
    done = {}
    if partial.is_file():
        for line in partial.read_text().splitlines():
            r = json.loads(line)
            done[r["key"]] = r
    if "base" not in done:
        t0 = time.perf_counter()
        done["base"] = {"key": "base", "scores": score(model), "seconds": round(time.perf_counter() - t0, 1)}
        with partial.open("a") as f:
            f.write(json.dumps(done["base"]) + "\n")
    base = done["base"]["scores"]
    print(f"no fine-tuning: {base} ({done['base']['seconds']} s)", flush=True)
    spec = LoraSpec(rank=args.rank, alpha=2 * args.rank, lr=args.lr, batch_size=args.batch_size,
                    max_tokens=args.max_tokens)
    runs = []
    # budget-major, then seed: an interrupted run has every strategy at the first seeds of the first budget
    for budget in budgets:
        for seed in args.seeds:
            for strategy in args.strategies:
                idx = chosen[strategy, budget, seed]
                key = f"{strategy}/{budget}/{seed}/" + str(hash(tuple(idx)) & 0xFFFFFFFF)
                if key not in done and args.report_only:
                    continue
                if key not in done:
                    t0 = time.perf_counter()
                    tuned, stats = lora_finetune(model, tokenizer, [pool.prompts[i] for i in idx],
                                                 [pool.responses[i] for i in idx], replace(spec, seed=seed))
                    scores = score(tuned)
                    del tuned
                    done[key] = {"key": key, "strategy": strategy, "budget": budget, "seed": seed, "items": len(idx),
                                 "pair_tokens": int(pair_len[idx].sum()), "trained_tokens": stats["trained_tokens"],
                                 "gsm8k_share": float(np.mean([pool.metadata[i]["source"] == "gsm8k" for i in idx])),
                                 "steps": stats["steps"], "first_loss": stats["losses"][0], "last_loss": stats["losses"][-1],
                                 "train_seconds": stats["seconds"], "seconds": round(time.perf_counter() - t0, 1),
                                 "scores": scores, "ids": [pool.ids[i] for i in idx]}
                    with partial.open("a") as f:
                        f.write(json.dumps(done[key]) + "\n")
                r = done[key]
                runs.append(r)
                print(f"seed {seed} {budget:8s} {strategy:9s} {r['items']:3d} items {r['trained_tokens']:6d} tok "
                      f"gsm8k {r['scores']['gsm8k_test']:.4f} alpaca {r['scores']['alpaca_heldout']:.4f} "
                      f"({r['seconds']} s)", flush=True)
    summary = summarize(runs, base, args.strategies, list(budgets))
    result = {"benchmark": "select_finetune", "model": SMOLLM2_ID, "spec": spec.__dict__ | {"seeds": args.seeds},
              "pool": {"size": len(pool), "gsm8k": sum(m["source"] == "gsm8k" for m in pool.metadata),
                       "median_pair_tokens": float(np.median(pair_len))},
              "target_size": len(target), "eval_sizes": {k: len(v[0]) for k, v in evals.items()},
              "budgets": {k: {"kind": b.kind, "value": b.value} for k, b in budgets.items()},
              "strategies": args.strategies, "seeds": args.seeds, "base": base,
              "score": "mean over items of the gold response's mean log-probability per token (nats), chat template, "
                       "response tokens and end-of-turn scored; 'all' pools both sets' items",
              "interval": "Student-t over seeds (core.statistics.mean_ci); vs_random: paired t over the shared seeds "
                          "(core.statistics.paired_difference), better/worse only when the interval excludes 0; "
                          "vs_random_items: paired t over the test items, each averaged over the shared seeds (covers "
                          "the sampling of test items, not training randomness)",
              "select_seconds": select_seconds, "seconds": round(time.perf_counter() - start, 1),
              "threads": args.threads, "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
              "command": "python benchmarks/select_finetune.py " + " ".join(sys.argv[1:]),
              "summary": summary, "runs": runs}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    from benchmarks.readme_select_finetune import markdown

    out.with_suffix(".md").write_text(markdown(result))
    print(f"wrote {out} and {out.with_suffix('.md')}")


if __name__ == "__main__":
    main()
