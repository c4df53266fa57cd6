"""Prompt compression, measured: both compressors against trivial baselines at the same token budgets, and the
classifier's speed against the self-information compressor's on the same prompts, in one run.

Quality (``cells``, two ``--modes``): GSM8K with an 8-shot chain-of-thought context (metric: log-likelihood per token
of the gold solution), ARC-Easy and BoolQ with a 5-shot cloze context (accuracy and gold log-likelihood).

- ``shared`` (the cache-aware case): one fixed context (OLMES 8-shot for GSM8K, the seed-0 demos otherwise) for
  every query, cut once per rate (question-agnostic) with the query appended untouched. Each cell compares two
  compressed strings, so one bad cut decides it.
- ``per_query``: query i gets its own draw of demos from the task's pool (``default_rng(1000 + i)``, the same draw
  for every method; demos the classifier was trained on are excluded via its ``meta["trained_items"]``), each
  context compressed on its own (still question-agnostic, same budget for every method), so each cell holds n
  independent compressions, paired per query.

Methods at each budget (``round(rate x context tokens)`` SmolLM2 tokens):

- ``self_information``: today's compressor (coarse step + SmolLM2 iterative self-information);
- ``classifier``: the same coarse step + the keep/drop word classifier distilled from it (LLMLingua-2 style);
- ``truncate_head`` / ``truncate_tail``: the first / last N tokens of the context;
- ``whole_demos``: the leading demonstrations, dropping whole ones from the end until the context fits;
- ``no_demos``: no context at all (zero-shot; one cell per task).

Every comparison is paired per query (``core.statistics.paired_difference`` on per-query gold log-probability
and on 0/1 correctness), with ``verdict`` saying better / worse only when the 95% interval excludes 0.
Agreement: the share of free words (not protected) on which classifier and self-information make the same
keep/drop decision at the same budget.

Speed (``speed``): ``--speed-prompts`` per-query 5-shot ARC-Easy prompts (the 5 demos + the question, so the
coarse step is question-aware), each compressed by both methods at each of ``--speed-rates`` in alternating
order; wall and CPU seconds per prompt (CPU: this process, all threads), medians with bootstrap intervals
(``percentile_ci``) and the per-prompt speed-up (self-information / classifier). The machine is shared: wall times
are noisy, CPU seconds less so. Each compressed prompt is also scored on its own query (gold log-probability).

    python benchmarks/compress_quality.py --queries 40 --threads 1
    # or side by side on a loaded machine, then merged:
    python benchmarks/compress_quality.py --tasks arc_easy --out a.json & \
    python benchmarks/compress_quality.py --tasks gsm8k boolq --speed-prompts 0 --out b.json; wait
    python benchmarks/compress_quality.py --merge a.json b.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

COMPRESSORS = ("self_information", "classifier")
BASELINES = ("truncate_head", "truncate_tail", "whole_demos", "no_demos")


def _common(seqs: list[list[int]]) -> int:
    n = min(len(x) for x in seqs)
    for j in range(n):
        if any(x[j] != seqs[0][j] for x in seqs):
            return j
    return n


def per_query(prompts: list[str], queries, model, tok) -> dict:
    """Per-query gold log-prob per token and 0/1 correctness: ``evals.prompt_sets.quality``'s scoring (cloze,
    length-normalized; lm-eval's context/continuation split), unsummarized. The token prefix all prompts share
    (the few-shot context) is run once and its KV cache reused, then each query's own part once per query."""
    import copy

    import numpy as np
    import torch

    from core.lm_scoring import score_continuations, split_continuation

    multi = all(len(q.choices) > 1 for q in queries)
    seqs = []  # per query: (context ids, continuation ids) per scored choice
    for prompt, q in zip(prompts, queries):
        ids = tok(prompt, add_special_tokens=False)["input_ids"]
        choices = q.choices if multi else q.choices[q.gold:q.gold + 1]
        seqs.append([split_continuation(tok, prompt, c, ids) for c in choices])
    shared = min(_common([c for s in seqs for c, _ in s]), min(len(c) for s in seqs for c, _ in s) - 1)
    gold, correct = [], []
    with torch.inference_mode():
        if shared >= 16:
            out = model(input_ids=torch.tensor([seqs[0][0][0][:shared]]), use_cache=True)
            base_cache, base_last = out.past_key_values, out.logits[0, -1].float()
        for prompt, q, pairs in zip(prompts, queries, seqs):
            if shared < 16:  # nothing worth sharing (no context): the library scorer, one query at a time
                means = [s.mean for s in score_continuations(model, tok, prompt, q.choices if multi else
                                                            q.choices[q.gold:q.gold + 1])]
            else:
                own = shared + _common([c for c, _ in pairs])  # this query's own shared part
                own = min(own, min(len(c) for c, _ in pairs) - 1)
                cache, last = base_cache, base_last
                if own > shared:
                    step = model(input_ids=torch.tensor([pairs[0][0][shared:own]]),
                                 past_key_values=copy.deepcopy(base_cache), use_cache=True)
                    cache, last = step.past_key_values, step.logits[0, -1].float()
                means = []
                for ctx, cont in pairs:
                    tail = (ctx + cont)[own:]
                    logits = last.unsqueeze(0)
                    if len(tail) > 1:
                        step = model(input_ids=torch.tensor([tail[:-1]]), past_key_values=copy.deepcopy(cache),
                                     use_cache=True)
                        logits = torch.cat([logits, step.logits[0].float()], dim=0)
                    logp = torch.log_softmax(logits, dim=-1).gather(-1, torch.tensor(tail).unsqueeze(-1)).squeeze(-1)
                    means.append(float(logp[len(tail) - len(cont):].sum()) / max(1, len(cont)))
            gold.append(float(means[q.gold] if multi else means[0]))
            correct.append(int(int(np.argmax(means)) == q.gold) if multi else None)
    return {"gold": gold, "correct": correct if multi else None}


def baseline_context(method: str, context: list[str], target: int, tok) -> str:
    """The trivial baselines: N = target tokens of the joined context, whole demos, or nothing."""
    joined = "\n\n".join(context)
    ids = tok(joined, add_special_tokens=False)["input_ids"]
    if method == "truncate_head":
        return tok.decode(ids[:target])
    if method == "truncate_tail":
        return tok.decode(ids[len(ids) - target:]) if target else ""
    if method == "whole_demos":
        kept = list(context)
        while kept and len(tok("\n\n".join(kept), add_special_tokens=False)["input_ids"]) > target:
            kept.pop()
        return "\n\n".join(kept)
    if method == "no_demos":
        return ""
    raise ValueError(method)


def free_agreement(context: list[str], a, b) -> dict | None:
    """Same keep/drop decision on the free words of the items both compressors kept (None: coarse steps differ)."""
    from prompts.compress.protect import split_protected
    from prompts.compress.token_level import units_of

    if a.dropped_items != b.dropped_items or len(a.kept_mask) != len(b.kept_mask):
        return None
    units = [u for i, c in enumerate(context) if i not in a.dropped_items for u in units_of(split_protected(c))]
    free = [j for j, u in enumerate(units) if not u.protected]
    same = sum(a.kept_mask[j] == b.kept_mask[j] for j in free)
    return {"agreement": same / len(free) if free else None, "free_words": len(free),
            "kept_share": {"self_information": sum(a.kept_mask[j] for j in free) / max(1, len(free)),
                           "classifier": sum(b.kept_mask[j] for j in free) / max(1, len(free))}}


def paired(a: dict, b: dict) -> dict:
    """b minus a, paired per query, on gold log-prob and (if any) correctness; verdicts at the 95% level."""
    from core.statistics import paired_difference, verdict

    out = {}
    for metric in ("gold", "correct"):
        if a[metric] is None:
            continue
        d = paired_difference(dict(enumerate(a[metric])), dict(enumerate(b[metric])))
        out[metric] = d | {"verdict": verdict(d["ci"], higher_is_better=True, delta=d["delta"])}
    return out


def summary(scores: dict, queries) -> dict:
    from core.statistics import majority_baseline, mean_ci, proportion_ci

    out = {"gold_logprob_per_token": mean_ci(scores["gold"])}
    if scores["correct"] is not None:
        out["accuracy"] = proportion_ci(sum(scores["correct"]), len(scores["correct"])) | {
            "majority_baseline": majority_baseline([q.gold for q in queries])["accuracy"]}
    return out


def quality_cells(tasks, rates, n_queries, model, tok, embed) -> list[dict]:
    from prompts.compress import CompressConfig, compress

    cells = []
    for name in tasks:
        from evals.prompt_sets import cloze_items, gsm8k_items

        context, queries = gsm8k_items(n_queries) if name == "gsm8k" else cloze_items(name, n_queries)[:2]
        memo: dict[str, dict] = {}  # context text -> per-query scores (equal texts are scored once)

        def scored(text: str) -> dict:
            if text not in memo:
                prompts = [f"{text}\n\n{q.text}" if text else q.text for q in queries]
                memo[text] = per_query(prompts, queries, model, tok)
            return memo[text]

        original = len(tok("\n\n".join(context), add_special_tokens=False)["input_ids"])
        raw = scored("\n\n".join(context))
        cells.append({"task": name, "mode": "shared", "rate": 1.0, "method": "uncompressed",
                      "context_tokens": original, "compressed_context_tokens": original, "queries": len(queries),
                      **summary(raw, queries)})
        for rate in rates:
            target = int(round(rate * original))
            per_method, compressed = {}, {}
            for method in COMPRESSORS + BASELINES:
                t0, c0 = time.perf_counter(), time.process_time()
                if method in COMPRESSORS:
                    c = compress({"context": context}, rate=rate, model=model, tokenizer=tok, embed=embed,
                                 config=CompressConfig(method=method))
                    compressed[method], text = c, c.text
                else:
                    text = baseline_context(method, context, target, tok)
                wall, cpu = time.perf_counter() - t0, time.process_time() - c0
                scores = per_method[method] = scored(text)
                n = len(tok(text, add_special_tokens=False)["input_ids"]) if text else 0
                cell = {"task": name, "mode": "shared", "rate": rate, "method": method, "context_tokens": original,
                        "target_tokens": target, "compressed_context_tokens": n, "achieved_ratio": n / original,
                        "compressor_s": wall, "compressor_cpu_s": cpu, "queries": len(queries),
                        **summary(scores, queries), "vs_uncompressed": paired(raw, scores), "example": text[:400]}
                if method in COMPRESSORS:
                    cell["dropped_items"] = compressed[method].dropped_items
                cells.append(cell)
            for method in COMPRESSORS:
                cell = next(c for c in cells if c["task"] == name and c["rate"] == rate and c["method"] == method)
                cell["vs_baselines"] = {b: paired(per_method[b], per_method[method]) for b in BASELINES}
            cls = next(c for c in cells if c["task"] == name and c["rate"] == rate and c["method"] == "classifier")
            cls["vs_self_information"] = paired(per_method["self_information"], per_method["classifier"])
            cls["label_agreement"] = free_agreement(context, compressed["self_information"], compressed["classifier"])
            acc = {m: (cc.get("accuracy") or cc["gold_logprob_per_token"])["mean"] for m in COMPRESSORS + BASELINES
                   for cc in cells if cc["task"] == name and cc["rate"] == rate and cc["method"] == m}
            print(f"{name:8s} rate {rate:.2f} (target {target}): " + ", ".join(f"{m} {v:.3f}" for m, v in acc.items()),
                  flush=True)
    return cells


def demo_pool(name: str, exclude: set[int]) -> list[str]:
    """The task's demonstration pool (cloze: ``input output`` of the train pool; GSM8K: train solutions in the
    OLMES format) less the texts the classifier was trained on (``exclude``: ``item_key`` values in its meta)."""
    from evals.prompt_sets import demo_text, gsm8k_train_demos

    if name == "gsm8k":
        texts = [text for _, text in gsm8k_train_demos()]
    else:
        from evals.eval_sets import load_task

        texts = [demo_text(d) for d in load_task(name, max_passage_chars=400).pool]
    from prompts.compress.classifier import item_key

    return [t for t in texts if item_key(t) not in exclude]


def per_query_cells(tasks, rates, n_queries, model, tok, embed, exclude: set[int], seed: int = 1000) -> list[dict]:
    """Per-query contexts: query i gets its own draw of demos (``default_rng(seed + i)``, as many as the shared
    context has) from the task's pool, the same draw for every method, so each method's cell holds n independent
    compressions, paired per query. Each context is compressed without the question (as in the shared mode) to
    ``round(rate x its tokens)``; every method and baseline gets the same budget."""
    import numpy as np

    from core.statistics import mean_ci
    from evals.prompt_sets import cloze_items, gsm8k_items
    from prompts.compress import CompressConfig, compress

    cells = []
    for name in tasks:
        shared, queries = gsm8k_items(n_queries) if name == "gsm8k" else cloze_items(name, n_queries)[:2]
        pool = demo_pool(name, exclude)
        contexts = [[pool[j] for j in np.random.default_rng(seed + i).choice(len(pool), len(shared), replace=False)]
                    for i in range(len(queries))]
        sizes = [len(tok("\n\n".join(c), add_special_tokens=False)["input_ids"]) for c in contexts]
        memo: dict[tuple[int, str], tuple[float, int | None]] = {}

        def scored(i: int, text: str) -> tuple[float, int | None]:
            if (i, text) not in memo:
                q = queries[i]
                s = per_query([f"{text}\n\n{q.text}" if text else q.text], [q], model, tok)
                memo[(i, text)] = (s["gold"][0], s["correct"][0] if s["correct"] else None)
            return memo[(i, text)]

        def gathered(pairs) -> dict:
            gold = [g for g, _ in pairs]
            correct = [c for _, c in pairs]
            return {"gold": gold, "correct": None if correct[0] is None else correct}

        base = {"task": name, "mode": "per_query", "queries": len(queries), "demos_per_context": len(shared),
                "context_tokens": mean_ci(sizes), "pool": len(pool), "draw_seed": seed}
        raw = gathered([scored(i, "\n\n".join(c)) for i, c in enumerate(contexts)])
        cells.append(base | {"rate": 1.0, "method": "uncompressed", "compressed_context_tokens": float(np.mean(sizes)),
                             **summary(raw, queries)})
        for rate in rates:
            per_method, compressed, agree = {}, {}, []
            for method in COMPRESSORS + BASELINES:
                pairs, lengths, walls, results = [], [], [], []
                for i, context in enumerate(contexts):
                    target = int(round(rate * sizes[i]))
                    t0 = time.perf_counter()
                    if method in COMPRESSORS:
                        c = compress({"context": context}, rate=rate, model=model, tokenizer=tok, embed=embed,
                                     config=CompressConfig(method=method))
                        text = c.text
                        results.append(c)
                    else:
                        text = baseline_context(method, context, target, tok)
                    walls.append(time.perf_counter() - t0)
                    lengths.append(len(tok(text, add_special_tokens=False)["input_ids"]) if text else 0)
                    pairs.append(scored(i, text))
                per_method[method] = scores = gathered(pairs)
                if method in COMPRESSORS:
                    compressed[method] = results
                cells.append(base | {"rate": rate, "method": method,
                                     "compressed_context_tokens": float(np.mean(lengths)),
                                     "achieved_ratio": float(np.mean([n / s for n, s in zip(lengths, sizes)])),
                                     "compressor_s_median": float(np.median(walls)), **summary(scores, queries),
                                     "vs_uncompressed": paired(raw, scores), "example": text[:400]})
            mine = {c["method"]: c for c in cells if c["task"] == name and c["rate"] == rate
                    and c["mode"] == "per_query"}
            for method in COMPRESSORS:
                mine[method]["vs_baselines"] = {b: paired(per_method[b], per_method[method]) for b in BASELINES}
            cell = mine["classifier"]
            cell["vs_self_information"] = paired(per_method["self_information"], per_method["classifier"])
            for i, context in enumerate(contexts):
                a = free_agreement(context, compressed["self_information"][i], compressed["classifier"][i])
                if a and a["agreement"] is not None:
                    agree.append(a["agreement"])
            cell["label_agreement"] = {"mean": float(np.mean(agree)) if agree else None, "contexts": len(agree),
                                       "contexts_with_other_coarse_choice": len(contexts) - len(agree)}
            acc = {m: (mine[m].get("accuracy") or mine[m]["gold_logprob_per_token"])["mean"]
                   for m in COMPRESSORS + BASELINES}
            print(f"per-query {name:8s} rate {rate:.2f}: " + ", ".join(f"{m} {v:.3f}" for m, v in acc.items()),
                  flush=True)
    return cells


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", nargs="+", default=["gsm8k", "arc_easy", "boolq"])
    ap.add_argument("--rates", nargs="+", type=float, default=[0.5, 0.33, 0.2])
    ap.add_argument("--queries", type=int, default=40)
    ap.add_argument("--modes", nargs="+", choices=["shared", "per_query"], default=["shared", "per_query"],
                    help="shared: one context per task, cut once per rate (the cache-aware case); per_query: each "
                         "query its own seeded draw of demos, each compressed on its own")
    ap.add_argument("--speed-prompts", type=int, default=20)
    ap.add_argument("--speed-rates", nargs="+", type=float, default=[0.5, 0.33])
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "compress_quality.json"))
    ap.add_argument("--merge", nargs="+", metavar="PART.json",
                    help="combine runs of task subsets (run side by side on a loaded machine) into --out: cells "
                         "concatenated, the speed part from the run that has one")
    args = ap.parse_args()
    if args.merge:
        parts = [json.loads(Path(p).read_text()) for p in args.merge]
        merged = parts[0] | {"cells": [c for p in parts for c in p["cells"]],
                             "speed": next((p["speed"] for p in parts if p["speed"]), None),
                             "tasks": list(dict.fromkeys(c["task"] for p in parts for c in p["cells"])),
                             "parts": [{"command": p["command"], "run_s": p["run_s"], "machine": p["machine"]}
                                       for p in parts]}
        Path(args.out).write_text(json.dumps(merged, indent=2) + "\n")
        print(f"wrote {args.out}")
        return
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from core.embed import Embedder
    from core.models import load_smollm2
    from prompts.compress import CompressConfig, compress
    from prompts.compress.classifier import load_weights

    model, tok = load_smollm2("cpu")
    embed = Embedder(show_progress=False).embed
    embedders = {m: Embedder(show_progress=False, cache=tempfile.mkdtemp(prefix=f"embed-{m}-")).embed
                 for m in COMPRESSORS}
    for method in COMPRESSORS:  # warm up: model, tokenizer, embedders and classifier weights loaded before timing
        for e in (embed, embedders[method]):
            compress({"context": ["warm up the compressor. " * 20, "and the embedder."], "question": "why?"},
                     rate=0.5, model=model, tokenizer=tok, embed=e, config=CompressConfig(method=method))
    t0 = time.perf_counter()
    from benchmarks.compress_speed import speed

    speed_result = speed(args.speed_prompts, args.speed_rates, model, tok, embedders) if args.speed_prompts else None
    cells = quality_cells(args.tasks, args.rates, args.queries, model, tok, embed) if "shared" in args.modes else []
    if "per_query" in args.modes:
        exclude = set(load_weights()["meta"].get("trained_items", []))
        cells += per_query_cells(args.tasks, args.rates, args.queries, model, tok, embed, exclude)
    result = {"benchmark": "compress_quality", "target_model": "SmolLM2-135M-Instruct (fp32, CPU; same tokenizer: "
              "budgets are target-model tokens)", "methods": {"compressors": COMPRESSORS, "baselines": BASELINES},
              "classifier": {k: v for k, v in load_weights()["meta"].items() if k != "trained_items"},
              "modes": args.modes, "tasks": args.tasks, "queries_per_task": args.queries, "rates": args.rates,
              "paired": "b - a per query (paired t); gold = log-prob per token of the gold answer, correct = 0/1; "
                        "verdict better/worse only when the 95% interval excludes 0",
              "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                          "torch_threads": torch.get_num_threads(), "load_average_at_end": os.getloadavg(),
                          "note": "shared machine (other jobs running): wall times are noisy"},
              "run_s": time.perf_counter() - t0,
              "command": "python benchmarks/compress_quality.py " + " ".join(sys.argv[1:]),
              "speed": speed_result, "cells": cells}
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
