"""Subset selection, measured: logistic regression on MiniLM embeddings of 50/100/200/500 items chosen by each
strategy vs random (5 seeds), accuracy on the test split of SST-2, AG News and TREC. Writes
results/select_efficiency.json and a plot of accuracy vs budget.

The pool is 2,000 train items per task (IFD runs SmolLM2 over every pool item: 2k keeps it to minutes on
a CPU); kNN and DSIR select toward 100 further unlabeled train items (the "target task examples").

    python benchmarks/select_efficiency.py
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

RESULTS = Path(__file__).parent / "results"
STRATEGIES = ["random", "knn", "kcenter", "deita", "semdedup", "ifd", "quality", "dsir"]
# add e.g. knn+balanced to cap every label at budget / classes


def quality_model() -> str:
    """The foundation's fastText quality classifier, trained once into the cache (deterministic)."""
    from curation.classifiers.quality_model import QualityTrainingConfig, train_quality_model
    from core.models import cache_dir
    from core.shared_data import shared_data_dir

    out = cache_dir() / "quality-model"
    if not (out / "model.bin").is_file():
        d = shared_data_dir()
        train_quality_model(QualityTrainingConfig(
            positive=[str(d / "lm/wikitext-2_valid.txt"), str(d / "lm/llamafactory_wiki_demo.txt")],
            negative=[str(d / "web/dolma_CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz")]), out)
    return str(out / "model.bin")


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = sorted({r["task"] for r in result["summary"]})
    fig, axes = plt.subplots(1, len(tasks), figsize=(5 * len(tasks), 4), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        for strategy in result["strategies"]:
            rows = sorted((r for r in result["summary"] if r["task"] == task and r["strategy"] == strategy),
                          key=lambda r: r["budget"])
            if not rows:
                continue
            x = [r["budget"] for r in rows]
            y = [r["accuracy"]["mean"] for r in rows]
            lo = [r["accuracy"]["ci95"][0] for r in rows]
            hi = [r["accuracy"]["ci95"][1] for r in rows]
            style = dict(color="black", linewidth=2.5) if strategy == "random" else {}
            ax.plot(x, y, marker="o", label=strategy, **style)
            if strategy == "random":
                ax.fill_between(x, lo, hi, color="grey", alpha=0.25)
        ax.set_xscale("log")
        ax.set_title(f"{task} (test n={result['test_sizes'][task]})")
        ax.set_xlabel("selected training items")
        ax.set_ylabel("accuracy (logreg on embeddings)")
        ax.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=8)
    fig.suptitle("Subset selection vs random (grey band: random's 95% interval)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", nargs="+", default=["sst2", "agnews", "trec"])
    ap.add_argument("--budgets", nargs="+", type=int, default=[50, 100, 200, 500])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    ap.add_argument("--strategies", nargs="+", default=STRATEGIES)
    ap.add_argument("--pool-size", type=int, default=2000)
    ap.add_argument("--out", default=str(RESULTS / "select_efficiency.json"))
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = ap.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)

    import numpy as np

    from core.embed import Embedder
    from selection import SelectParams
    from evals.data_efficiency import combine, score_selection, task_pool, versus
    from evals.eval_sets import load_task

    embedder = Embedder(show_progress=False)
    needs_quality = any(s.split("+")[0] == "quality" for s in args.strategies)
    params = SelectParams(quality_model=quality_model() if needs_quality else None)
    cells, timings, test_sizes = [], {}, {}
    for name in args.tasks:
        task = load_task(name)
        pool, target, labels = task_pool(task, args.pool_size, 100)
        pool_emb = embedder.embed(pool.texts)
        # the classifier sees the input only: the label text is what it predicts
        x_pool = embedder.embed(pool.prompts)
        x_test = embedder.embed([e.input for e in task.test])
        y_test = np.array([e.gold for e in task.test])
        test_sizes[name] = len(y_test)
        cache = {"embeddings": pool_emb}
        for strategy in args.strategies:
            t0 = time.perf_counter()
            base, _, balanced = strategy.partition("+")
            # "+balanced": the same strategy under a per-label cap of budget / classes (the balancing caps)
            cell_params = replace(params, balance_by="label", max_per_group=1 / len(task.labels)) if balanced else params
            for budget in args.budgets:
                for seed in args.seeds:
                    cell = score_selection(task, pool, target, labels, x_pool, x_test, y_test, base, budget, seed,
                                           cache, cell_params)
                    cells.append(cell | {"strategy": strategy})
            timings[f"{name}/{strategy}"] = round(time.perf_counter() - t0, 2)
            accs = {b: np.mean([c["accuracy"] for c in cells if c["task"] == name and c["strategy"] == strategy
                                and c["budget"] == b]) for b in args.budgets}
            print(f"{name:7s} {strategy:9s} " + "  ".join(f"{b}:{a:.3f}" for b, a in accs.items())
                  + f"  ({timings[f'{name}/{strategy}']:.0f} s)", flush=True)
    summary = []
    for name in args.tasks:
        for strategy in args.strategies:
            for budget in args.budgets:
                rows = [c for c in cells if (c["task"], c["strategy"], c["budget"]) == (name, strategy, budget)]
                acc = combine([c["accuracy"] for c in rows], test_sizes[name], [c["seed"] for c in rows])
                summary.append({"task": name, "strategy": strategy, "budget": budget, "accuracy": acc})
    for s in summary:
        base = next(r for r in summary if (r["task"], r["budget"], r["strategy"]) == (s["task"], s["budget"], "random"))
        s["vs_random"] = versus(s["accuracy"], base["accuracy"])  # paired over the shared seeds
    result = {"benchmark": "select_efficiency", "classifier": "sklearn LogisticRegression(C=1) on all-MiniLM-L6-v2",
              "pool_size": args.pool_size, "target_size": 100, "strategies": args.strategies,
              "budgets": args.budgets, "seeds": args.seeds, "test_sizes": test_sizes,
              "interval": "mean over seeds, Student-t interval (n_seeds - 1 df), core.statistics.mean_ci",
              "verdict": "paired t interval of (strategy - random) over the shared seeds; better/worse only when it "
                         "excludes 0, else within noise (evals.data_efficiency.versus)",
              "strategy_seconds": timings, "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
              "command": "python benchmarks/select_efficiency.py " + " ".join(sys.argv[1:]),
              "summary": summary, "cells": cells}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    plot(result, out.with_suffix(".png"))
    print(f"wrote {out} and {out.with_suffix('.png')}")


if __name__ == "__main__":
    main()
