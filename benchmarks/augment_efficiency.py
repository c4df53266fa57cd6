"""EDA augmentation, measured: logistic regression on MiniLM embeddings (the selection benchmark's classifier) trained
on 50/100/200/500 labelled items, without augmentation vs with EDA edits (label check "label", label check "flip",
and unchecked), 3 seeds,
accuracy on the test split of SST-2 and TREC. Writes results/augment_efficiency.json and a plot.

Each seed draws a base subset (nested: the 50 are the first 50 of the 100, ...) from the same 2,000-item train
pool select_efficiency.py uses (so its embeddings are cached); the arms of a seed share that base subset, so
differences are paired over seeds (core.statistics.paired_difference). The edits are seeded per parent
(augmentation seed 0 for every benchmark seed), so a parent's edits are the same in every arm and subset they
appear in; the seeds vary the base subset. The label check votes among the base subset's own items (k = 5);
the "dropped" counts are summed over seeds and sizes (a parent in the 50 is in the 100 too: counted again).

    python benchmarks/augment_efficiency.py
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

RESULTS = Path(__file__).parent / "results"
ARMS = ["none", "eda_checked", "eda_flip", "eda_unchecked"]
_WRAPPED = re.compile(r"^([^\n]*?: )(.*)(\n[^\n]*:)$", re.S)  # "Review: TEXT\nSentiment:" -> prefix, text, suffix


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = result["tasks"]
    fig, axes = plt.subplots(1, len(tasks), figsize=(5 * len(tasks), 4), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        for arm in result["arms"]:
            rows = sorted((r for r in result["summary"] if r["task"] == task and r["arm"] == arm),
                          key=lambda r: r["size"])
            x = [r["size"] for r in rows]
            ax.plot(x, [r["accuracy"]["mean"] for r in rows], marker="o", label=arm,
                    **(dict(color="black", linewidth=2.5) if arm == "none" else {}))
            if arm == "none" and all(r["accuracy"]["ci95"] for r in rows):
                ax.fill_between(x, [r["accuracy"]["ci95"][0] for r in rows], [r["accuracy"]["ci95"][1] for r in rows],
                                color="grey", alpha=0.25)
        ax.axhline(result["baselines"][task]["majority"], color="red", linestyle=":", label="majority class")
        ax.set_xscale("log")
        ax.set_xticks(result["sizes"], [str(s) for s in result["sizes"]])
        ax.minorticks_off()
        ax.set_title(f"{task} (test n={result['baselines'][task]['n_test']})")
        ax.set_xlabel("labelled items (before augmentation)")
        ax.set_ylabel("accuracy (logreg on embeddings)")
        ax.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=8)
    fig.suptitle("EDA augmentation vs none (grey band: no augmentation's 95% interval over seeds)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", nargs="+", default=["sst2", "trec"])
    ap.add_argument("--sizes", nargs="+", type=int, default=[50, 100, 200, 500])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--pool-size", type=int, default=2000)
    ap.add_argument("--per-item", type=int, default=1, help="edits per item and operation")
    ap.add_argument("--alpha", type=float, default=0.1)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--out", default=str(RESULTS / "augment_efficiency.json"))
    args = ap.parse_args()

    import numpy as np

    from selection.augment import AugmentParams, augment, knn_labels
    from selection.augment.wordnet import load_wordnet
    from core.embed import Embedder
    from evals.data_efficiency import combine, fit_and_score, task_pool, versus
    from core.statistics import majority_baseline
    from evals.eval_sets import load_task

    embedder = Embedder(show_progress=False)
    synonyms = load_wordnet()
    params = AugmentParams(per_item=args.per_item, alpha=args.alpha, k=args.k, seed=0)  # both rules are run below
    cells, baselines, drops, timings = [], {}, {}, {}
    for name in args.tasks:
        t0 = time.perf_counter()
        task = load_task(name)
        pool, _, labels = task_pool(task, args.pool_size, 0)  # the select benchmark's pool (seed 0)
        parts = [_WRAPPED.match(p).groups() for p in pool.prompts]
        wrap = {i: (a, c) for i, (a, _, c) in enumerate(parts)}
        raw = [b for _, b, _ in parts]
        x_pool = embedder.embed(pool.prompts)
        x_test = embedder.embed([e.input for e in task.test])
        y_test = np.array([e.gold for e in task.test])
        baselines[name] = {"majority": majority_baseline(y_test.tolist())["accuracy"],
                           "chance": 1 / len(task.labels), "n_test": int(len(y_test)), "classes": task.labels}
        drops[name] = {}
        for seed in args.seeds:
            order = np.random.default_rng(seed).permutation(len(raw))
            for size in args.sizes:
                base = order[:size]
                # the classifier sees the same template as in select_efficiency: edit the text, re-wrap it
                parent_of = {pool.ids[i]: i for i in base}
                row_of = {pool.ids[i]: r for r, i in enumerate(base)}

                def embed_wrapped(texts: list[str], ids: list[str]) -> np.ndarray:
                    return embedder.embed([wrap[parent_of[p]][0] + t + wrap[parent_of[p]][1]
                                           for t, p in zip(texts, ids)])

                ids = [pool.ids[i] for i in base]
                unchecked = params.model_copy(update={"check": False})  # checked below, on the embeddings made once
                result = augment([raw[i] for i in base], labels[base].tolist(), ids, unchecked, synonyms=synonyms)
                aug_emb = embed_wrapped([a.text for a in result.items], [a.parent_id for a in result.items])
                votes = knn_labels(aug_emb, x_pool[base], [str(v) for v in labels[base]], args.k,
                                   [row_of[a.parent_id] for a in result.items])
                changed = np.array([a.reason != "unchanged" for a in result.items])
                agrees = np.array([v == a.label for v, a in zip(votes, result.items)])
                own = knn_labels(x_pool[base], x_pool[base], [str(v) for v in labels[base]], args.k, list(range(size)))
                parent_right = np.array([own[row_of[a.parent_id]] == a.label for a in result.items])
                aug_y = np.array([labels[parent_of[a.parent_id]] for a in result.items])
                for op in params.ops:
                    mask = np.array([a.operation == op for a in result.items])
                    d = drops[name].setdefault(op, {"made": 0, "unchanged": 0, "dropped_label_check": 0,
                                                    "dropped_flip_check": 0})
                    d["made"] += int(mask.sum())
                    d["unchanged"] += int((mask & ~changed).sum())
                    d["dropped_label_check"] += int((mask & changed & ~agrees).sum())
                    d["dropped_flip_check"] += int((mask & changed & ~agrees & parent_right).sum())
                arms = {"none": np.zeros(len(result.items), bool), "eda_checked": changed & agrees,
                        "eda_flip": changed & (agrees | ~parent_right), "eda_unchecked": changed}
                for arm, keep in arms.items():
                    x = np.concatenate([x_pool[base], aug_emb[keep]])
                    y = np.concatenate([labels[base], aug_y[keep]])
                    cells.append({"task": name, "arm": arm, "size": size, "seed": seed, "train_items": int(len(y)),
                                  "augmented": int(keep.sum()), "accuracy": fit_and_score(x, y, x_test, y_test)})
        timings[name] = round(time.perf_counter() - t0, 1)
        print(f"{name}: {timings[name]} s", flush=True)
    summary = []
    for name in args.tasks:
        for arm in ARMS:
            for size in args.sizes:
                rows = [c for c in cells if (c["task"], c["arm"], c["size"]) == (name, arm, size)]
                summary.append({"task": name, "arm": arm, "size": size,
                                "train_items_mean": float(np.mean([c["train_items"] for c in rows])),
                                "accuracy": combine([c["accuracy"] for c in rows], baselines[name]["n_test"],
                                                    [c["seed"] for c in rows])})
    for s in summary:
        base = next(r for r in summary if (r["task"], r["size"], r["arm"]) == (s["task"], s["size"], "none"))
        s["vs_none"] = versus(s["accuracy"], base["accuracy"])
    print(f"{'task':6s} {'size':>5s} {'arm':14s} {'acc':>6s}  {'delta vs none [95% CI]':28s} verdict   "
          "(majority / chance)")
    for s in summary:
        v, b = s["vs_none"], baselines[s["task"]]
        ci = f"[{v['ci95'][0]:+.3f}, {v['ci95'][1]:+.3f}]" if v["ci95"] else "-"
        print(f"{s['task']:6s} {s['size']:5d} {s['arm']:14s} {s['accuracy']['mean']:.3f}  {v['delta']:+.3f} {ci:20s} "
              f"{v['verdict']:12s} ({b['majority']:.3f} / {b['chance']:.3f})")
    result = {"benchmark": "augment_efficiency", "classifier": "sklearn LogisticRegression(C=1) on all-MiniLM-L6-v2",
              "augmentation": params.model_dump() | {"source": "EDA (Wei & Zou 2019), WordNet 3.1 synonyms"},
              "arms": ARMS, "tasks": args.tasks, "sizes": args.sizes, "seeds": args.seeds,
              "pool_size": args.pool_size, "baselines": baselines, "dropped_per_operation": drops,
              "interval": "mean over seeds, Student-t interval (n_seeds - 1 df), core.statistics.mean_ci",
              "verdict": "paired t interval of (arm - none) over the shared seeds (same base subset); better/worse "
                         "only when it excludes 0, else within noise (evals.data_efficiency.versus)",
              "task_seconds": timings, "timing_note": "2 shared CPU cores under other agents' load: noisy",
              "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
              "command": "python benchmarks/augment_efficiency.py " + " ".join(sys.argv[1:]),
              "summary": summary, "cells": cells}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    plot(result, out.with_suffix(".png"))
    print(f"wrote {out} and {out.with_suffix('.png')}")


if __name__ == "__main__":
    main()
