"""Data efficiency of subset selection: a light classifier trained on each strategy's subset vs random.

Logistic regression on MiniLM embeddings, trained on the selected pool items only, scored on the task's test
split. A strategy earns its keep only if it beats random at the same budget, so random is always run.
"""

from __future__ import annotations

import time

import numpy as np

from selection import Pool, SelectParams, select
from core.statistics import majority_baseline, mean_ci, paired_difference, verdict
from evals.eval_sets import Task


def task_pool(task: Task, size: int, target_size: int, seed: int = 0) -> tuple[Pool, Pool, np.ndarray]:
    """Pool (``size`` train items, labels in metadata) and an unlabeled target set drawn from the rest."""
    order = np.random.default_rng(seed).permutation(len(task.pool))
    chosen, target_rows = order[:size], order[size: size + target_size]
    pool = Pool(ids=[task.pool[i].id for i in chosen], prompts=[task.pool[i].input for i in chosen],
                responses=[task.pool[i].output for i in chosen],
                metadata=[{"label": task.pool[i].gold} for i in chosen], sources=[task.pool[i].id for i in chosen])
    target = Pool.from_texts([task.pool[i].input for i in target_rows], ids=[task.pool[i].id for i in target_rows])
    labels = np.array([task.pool[i].gold for i in chosen])
    return pool, target, labels


def fit_and_score(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray) -> float:
    from sklearn.linear_model import LogisticRegression

    classes = np.unique(y_train)
    if len(classes) == 1:  # a subset with one class can only predict it
        return float((y_test == classes[0]).mean())
    clf = LogisticRegression(max_iter=2000, C=1.0).fit(x_train, y_train)
    return float((clf.predict(x_test) == y_test).mean())


def score_selection(task: Task, pool: Pool, target: Pool, labels: np.ndarray, pool_emb: np.ndarray,
                    test_emb: np.ndarray, y_test: np.ndarray, strategy: str, budget: int, seed: int, cache: dict,
                    params: SelectParams) -> dict:
    """One cell of the selection benchmark: select ``budget`` items by ``strategy`` (seeded), fit the classifier on
    their embeddings and labels, and return its test accuracy with the majority baseline and the time taken."""
    start = time.perf_counter()
    sel = select(pool, budget, strategy, target=target, seed=seed, params=params, cache=cache)
    idx = np.array(sel.indices)
    acc = fit_and_score(pool_emb[idx], labels[idx], test_emb, y_test)
    return {"task": task.name, "strategy": strategy, "budget": budget, "seed": seed, "selected": len(idx),
            "classes_in_subset": int(len(np.unique(labels[idx]))), "accuracy": acc,
            "majority_baseline": majority_baseline(y_test.tolist())["accuracy"],
            "seconds": round(time.perf_counter() - start, 3)}


def combine(accuracies: list[float], n_test: int, seeds: list[int] | None = None) -> dict:
    """Mean accuracy over seeds with a Student-t interval over the seeds (``statistics.mean_ci``).

    The test set is the same for every strategy and seed, so its sampling noise is shared by the arms compared;
    comparisons against random use ``statistics.paired_difference`` on ``per_seed`` (same seeds), not these
    intervals. ``n_test`` is recorded so a reader can judge the test set's own noise."""
    s = mean_ci(accuracies)
    return {"mean": s["mean"], "ci95": s["ci95"], "seeds": s["n"], "n_test": n_test,
            "per_seed": [float(x) for x in accuracies], **({"seed_ids": list(seeds)} if seeds is not None else {})}


def versus(strategy: dict, baseline: dict, higher_is_better: bool = True) -> dict:
    """A strategy's per-seed accuracies against the baseline's at the same seeds: paired t interval and verdict."""
    keys_s = strategy.get("seed_ids") or list(range(len(strategy["per_seed"])))
    keys_b = baseline.get("seed_ids") or list(range(len(baseline["per_seed"])))
    d = paired_difference(dict(zip(keys_b, baseline["per_seed"])), dict(zip(keys_s, strategy["per_seed"])))
    return {"delta": d["delta"], "ci95": d["ci"], "n": d["n"], "method": d["method"],
            "verdict": verdict(d["ci"], higher_is_better)}
