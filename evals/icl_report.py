"""ICL results at the strength the data supports: paired comparisons over queries, no-LM baselines beside each
cell, copy rates, and the spread over demo orders and templates.

Input: the per-query records of ``evals.icl.run_query`` (every variant of one query in one record). Per (task,
strategy) cell:

- **spread**: accuracy of each variant (template x order, the same variants for every strategy), with mean, min,
  max and the Student-t interval over variants (``core.statistics.mean_ci``: df = variants - 1);
- **query interval**: each query's accuracy averaged over the variants, t interval over queries;
- **baselines** (the scores a demo-copying or constant model gets with no LM): majority class of the evaluated
  queries and of the demo pool, zero-shot (per template), the label of the query's nearest pool item (1-NN), and the
  majority label of the cell's own demos;
- **copying**: how often the prediction equals the label of the most similar demo in the prompt, of the demo next
  to the query, and of the most similar demo when that label is wrong; with the agreement expected if prediction
  and demo label were independent (same marginals), and the share of the most frequent prediction.

Comparisons pair each query's variant-averaged correctness between two arms (strategy vs strategy, strategy vs
zero-shot, strategy vs a no-LM baseline): ``core.statistics.paired_bootstrap`` gives the difference, a
Bonferroni-widened bootstrap interval (confidence 1 - 0.05/m over the m comparisons of its family) and a sign-flip
permutation p, Holm-adjusted over the same m. Two families: strategy vs strategy (the question the benchmark asks,
one comparison per task), and strategy vs a baseline. Verdict "better"/"worse" only when the Holm p < 0.05 AND the widened
interval excludes 0; "within noise" otherwise. Per variant, an exact McNemar test on the discordant queries.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np

from core.statistics import (
    CONFIDENCE, detectable_difference, holm, majority_baseline, mcnemar_exact, mean_ci, paired_bootstrap,
)

ALPHA = 1 - CONFIDENCE


def demo_majority_label(labels: Sequence[int | None]) -> int | None:
    """Most frequent label among demos listed least similar first; a tie goes to the label of the most similar
    demo among the tied ones (the k-NN vote with a similarity tie-break). None when labels are unknown."""
    if not labels or any(lab is None for lab in labels):
        return None
    counts = Counter(labels)
    top = max(counts.values())
    return next(lab for lab in reversed(labels) if counts[lab] == top)


def spread(values: Mapping[str, float]) -> dict:
    """Mean, min, max and t interval (df = n - 1) of one accuracy per variant."""
    xs = list(values.values())
    ci = mean_ci(xs)
    return {"mean": ci["mean"], "min": float(min(xs)), "max": float(max(xs)), "ci95": ci["ci95"],
            "variants": len(xs), "by_variant": dict(values)}


def _rate(hits: list[bool]) -> float | None:
    return float(np.mean(hits)) if hits else None


def copy_rates(preds: np.ndarray, nearest: Sequence[int | None], adjacent: np.ndarray | None, gold: Sequence[int]) -> dict:
    """Copying of demo labels. preds: int[queries, variants]; nearest: the most similar demo's label per query;
    adjacent: int[queries, variants], the label of the demo right before the query in each variant's prompt.

    ``nearest``: P(pred = nearest demo's label); ``expected_if_independent``: the same agreement if predictions and
    nearest labels were independent with these marginals; ``follows_wrong_nearest``: P(pred = nearest label | that
    label is wrong), with the number of such (query, variant) pairs."""
    if any(lab is None for lab in nearest):
        return {"nearest": None, "adjacent": None, "follows_wrong_nearest": None, "expected_if_independent": None}
    near = np.asarray(nearest)[:, None].repeat(preds.shape[1], axis=1)
    wrong = (np.asarray(nearest) != np.asarray(gold))[:, None].repeat(preds.shape[1], axis=1)
    p_pred, p_near = Counter(preds.ravel().tolist()), Counter(near.ravel().tolist())
    total = preds.size
    expected = sum(p_pred[lab] * p_near[lab] for lab in p_pred) / total ** 2
    return {"nearest": float((preds == near).mean()),
            "adjacent": float((preds == adjacent).mean()) if adjacent is not None else None,
            "follows_wrong_nearest": _rate(list((preds == near)[wrong])), "wrong_nearest_pairs": int(wrong.sum()),
            "expected_if_independent": float(expected)}


def _variant_keys(records: list[dict], strategy: str) -> list[str]:
    keys = sorted(records[0]["strategies"][strategy]["variants"])
    for r in records:
        if sorted(r["strategies"][strategy]["variants"]) != keys:
            raise ValueError(f"{r['task']} query {r['query']}: variants differ from the first record's {keys}")
    return keys


def cell_summary(records: list[dict], strategy: str) -> tuple[dict, np.ndarray]:
    """One (task, strategy) cell and its correctness matrix bool[queries, variants] (variants sorted by key)."""
    keys = _variant_keys(records, strategy)
    gold = [r["gold"] for r in records]
    cells = [r["strategies"][strategy] for r in records]
    preds = np.asarray([[c["variants"][v]["pred"] for v in keys] for c in cells])
    correct = preds == np.asarray(gold)[:, None]
    by_variant = {v: float(correct[:, j].mean()) for j, v in enumerate(keys)}
    templates = sorted({v.split("/")[0] for v in keys})
    orders = sorted({v.split("/")[1] for v in keys})
    nearest = [c["demo_labels"][-1] if c["demo_labels"] else None for c in cells]
    adjacent = None
    if all(lab is not None for c in cells for lab in c["demo_labels"]):
        adjacent = np.asarray([[c["demo_labels"][c["orders"][v.split("/")[1]][-1]] for v in keys] for c in cells])
    vote = [demo_majority_label(c["demo_labels"]) for c in cells]
    shares = Counter(preds.ravel().tolist())
    top_pred, top_count = shares.most_common(1)[0]
    out = {
        "n": len(records), "variants": keys,
        "accuracy_spread": spread(by_variant),
        "accuracy_by_template": {t: float(np.mean([by_variant[v] for v in keys if v.startswith(t + "/")]))
                                 for t in templates},
        "accuracy_by_order": {o: float(np.mean([by_variant[v] for v in keys if v.endswith("/" + o)])) for o in orders},
        "accuracy_over_queries": mean_ci(correct.mean(axis=1)),
        "gold_logprob_per_token": mean_ci([np.mean([c["variants"][v]["gold_lp"] for v in keys]) for c in cells]),
        "demo_vote_baseline": (float(np.mean([v == g for v, g in zip(vote, gold)]))
                               if all(v is not None for v in vote) else None),
        "copying": copy_rates(preds, nearest, adjacent, gold),
        "most_predicted": {"choice": int(top_pred), "share": top_count / preds.size},
    }
    return out, correct


def _task_baselines(records: list[dict], pool_majority: int | None) -> tuple[dict, dict[str, np.ndarray]]:
    """Baselines of one task and each one's per-query correctness (for paired comparisons)."""
    gold = np.asarray([r["gold"] for r in records])
    templates = sorted(records[0]["zero_shot"])
    zs = np.asarray([[r["zero_shot"][t]["pred"] for t in templates] for r in records]) == gold[:, None]
    per_query = {"zero_shot": zs.mean(axis=1)}
    major = majority_baseline(gold.tolist())
    out = {"majority_eval": major,
           "zero_shot": {"mean": float(zs.mean()), "by_template": {t: float(zs[:, j].mean()) for j, t in
                                                                   enumerate(templates)}},
           "zero_shot_most_predicted_share": Counter(
               [r["zero_shot"][t]["pred"] for r in records for t in templates]).most_common(1)[0][1] / zs.size}
    if pool_majority is not None:
        out["majority_pool"] = {"label": pool_majority, "accuracy": float((gold == pool_majority).mean())}
    if all(r["nearest_label"] is not None for r in records):
        nn = np.asarray([r["nearest_label"] for r in records]) == gold
        out["nearest_demo_label"] = float(nn.mean())
        per_query["nearest_demo_label"] = nn.astype(float)
    return out, per_query


def _decide(comparisons: list[dict], resamples: int) -> None:
    """Holm over the family, Bonferroni-widened intervals, verdicts: in place."""
    m = len(comparisons)
    adjusted = holm([c["p"] for c in comparisons])
    for c, p_holm in zip(comparisons, adjusted):
        wide = paired_bootstrap(c.pop("_a"), c.pop("_b"), resamples=resamples, confidence=1 - ALPHA / m)
        c["ci_bonferroni"], c["p_holm"], c["family"] = wide["ci"], p_holm, m
        c["detectable"] = detectable_difference(c["sd"], c["n"], alpha=ALPHA / m)
        up = wide["ci"] is not None and p_holm is not None and p_holm < ALPHA and not (wide["ci"][0] <= 0 <= wide["ci"][1])
        c["verdict"] = ("better" if c["delta"] > 0 else "worse") if up else "within noise"


def _compare(task: str, name_a: str, a: np.ndarray, name_b: str, b: np.ndarray, resamples: int, **extra) -> dict:
    r = paired_bootstrap(a, b, resamples=resamples)
    return {"task": task, "a": name_a, "b": name_b, "delta": r["delta"], "ci95": r["ci"], "p": r["p"], "n": r["n"],
            "sd": r["sd"], "_a": a, "_b": b, **extra}


def summarize_variants(records: list[dict], pool_majority: Mapping[str, int] | None = None,
                       resamples: int = 10_000) -> dict:
    """The report of ``benchmarks/demo_icl.py``: ``tasks[task] = {n, baselines, cells[strategy]}`` and
    ``comparisons`` (b - a in accuracy points as fractions; one family for Holm/Bonferroni)."""
    by_task: dict[str, list[dict]] = {}
    for r in records:
        by_task.setdefault(r["task"], []).append(r)
    tasks, comparisons = {}, []
    for task, recs in by_task.items():
        recs = sorted(recs, key=lambda r: r.get("draw", r["query"]))
        baselines, base_q = _task_baselines(recs, (pool_majority or {}).get(task))
        cells, per_q, matrices = {}, {}, {}
        for strategy in recs[0]["strategies"]:
            cells[strategy], matrices[strategy] = cell_summary(recs, strategy)
            per_q[strategy] = matrices[strategy].mean(axis=1)
        tasks[task] = {"n": len(recs), "k": recs[0]["k"], "baselines": baselines, "cells": cells}
        names = list(cells)
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                keys = cells[a]["variants"]
                per_variant = [{"variant": v, **mcnemar_exact(matrices[a][:, j], matrices[b][:, j])}
                               for j, v in enumerate(keys)]
                comparisons.append(_compare(task, a, per_q[a], b, per_q[b], resamples, family_name="strategies",
                                            mcnemar_by_variant=per_variant))
        for s in names:
            for base, values in base_q.items():
                comparisons.append(_compare(task, base, values, s, per_q[s], resamples, family_name="baselines"))
    for family in ("strategies", "baselines"):  # Holm and Bonferroni within each family
        _decide([c for c in comparisons if c["family_name"] == family], resamples)
    return {"queries_per_task": {t: v["n"] for t, v in tasks.items()}, "tasks": tasks, "comparisons": comparisons,
            "verdict_rule": "better/worse only when Holm-adjusted sign-flip p < 0.05 and the Bonferroni-widened "
                            "paired bootstrap interval excludes 0; two families: strategy vs strategy (one per task "
                            "and pair), and strategy vs a baseline (zero-shot, 1-NN label)"}


def reanalyze_sweep(rows: list[dict], pool_labels: Mapping[str, Mapping[str, int] | None],
                    resamples: int = 10_000) -> dict:
    """Paired kNN-vs-random tests on the older k-sweep (one template, one order; random with 1-3 seeds).

    rows: ``demo_icl.partial.jsonl`` conditions (task, k, strategy, seed, records[{id, demos, pred, gold, correct,
    gold_logprob_per_token}]); pool_labels[task]: pool id -> label index (None for open-choice tasks). Per (task,
    k >= 1): accuracy and gold log-prob per token, kNN minus random (random averaged over its seeds per query),
    Holm over the cells of each metric; McNemar against random seed 0; and the kNN cell's copy rate and
    nearest-demo-label baseline (the kNN prompt's last demo is the query's nearest pool item)."""
    conds: dict[tuple, list[dict]] = {}
    for r in rows:
        conds.setdefault((r["task"], r["k"], r["strategy"]), []).append(r)
    cells = []
    for (task, k, strategy), knn_rows in sorted(conds.items()):
        if strategy != "knn" or (task, k, "random") not in conds:
            continue
        knn = {rec["id"]: rec for rec in knn_rows[0]["records"]}
        rand_rows = sorted(conds[(task, k, "random")], key=lambda r: r["seed"])
        ids = [i for i in knn if all(i in {x["id"] for x in r["records"]} for r in rand_rows)]
        rand = [{x["id"]: x for x in r["records"]} for r in rand_rows]
        gold = [knn[i]["gold"] for i in ids]
        cell = {"task": task, "k": k, "n": len(ids), "random_seeds": len(rand_rows),
                "accuracy": {"knn": float(np.mean([knn[i]["correct"] for i in ids])),
                             "random": float(np.mean([[r[i]["correct"] for r in rand] for i in ids]))},
                "majority_eval": majority_baseline(gold)["accuracy"]}
        if (task, 0, "none") in conds:  # zero-shot on the same queries
            zero = {x["id"]: x for x in conds[(task, 0, "none")][0]["records"]}
            cell["zero_shot"] = float(np.mean([zero[i]["correct"] for i in ids if i in zero]))
        metrics = {"accuracy": ([float(np.mean([r[i]["correct"] for r in rand])) for i in ids],
                                [float(knn[i]["correct"]) for i in ids]),
                   "gold_logprob": ([float(np.mean([r[i]["gold_logprob_per_token"] for r in rand])) for i in ids],
                                    [knn[i]["gold_logprob_per_token"] for i in ids])}
        for name, (a, b) in metrics.items():
            cell[name + "_knn_minus_random"] = {**paired_bootstrap(a, b, resamples=resamples), "_a": a, "_b": b}
        cell["mcnemar_vs_random_seed0"] = mcnemar_exact([rand[0][i]["correct"] for i in ids],
                                                        [knn[i]["correct"] for i in ids])
        labels = pool_labels.get(task)
        if labels:
            nearest = [labels[knn[i]["demos"][-1]] for i in ids]
            preds = np.asarray([[knn[i]["pred"]] for i in ids])
            cell["nearest_demo_label"] = float(np.mean([n == g for n, g in zip(nearest, gold)]))
            cell["copying_knn"] = copy_rates(preds, nearest, None, gold)
            cell["demo_vote_baseline"] = float(np.mean([demo_majority_label([labels[d] for d in knn[i]["demos"]]) == g
                                                        for i, g in zip(ids, gold)]))
        preds_all = Counter(knn[i]["pred"] for i in ids)
        cell["knn_most_predicted"] = {"choice": preds_all.most_common(1)[0][0],
                                      "share": preds_all.most_common(1)[0][1] / len(ids)}
        cells.append(cell)
    for metric in ("accuracy", "gold_logprob"):
        family = [c[metric + "_knn_minus_random"] for c in cells]
        for comp, c in zip(family, cells):
            comp.update(task=c["task"], a="random", b="knn")
        _decide(family, resamples)
        for comp in family:
            for key in ("task", "a", "b"):
                comp.pop(key)
    count = {m: sum(c[m + "_knn_minus_random"]["verdict"] == "better" for c in cells) for m in ("accuracy", "gold_logprob")}
    return {"cells": cells, "knn_better_cells": count, "family": len(cells),
            "verdict_rule": "better/worse only when the Holm-adjusted sign-flip p < 0.05 and the Bonferroni-widened "
                            "paired bootstrap interval excludes 0 (family = the cells of one metric)"}
