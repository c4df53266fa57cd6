"""Data efficiency of subset selection: a light classifier trained on each strategy's subset vs random.

Logistic regression on MiniLM embeddings, trained on the selected pool items only, scored on the task's test
split. A strategy earns its keep only if it beats random at the same budget, so random is always run.
"""

from __future__ import annotations

import math
import time

import numpy as np

from curation.select import Pool, SelectParams, select
from evals.tasks import Task


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


def run_cell(task: Task, pool: Pool, target: Pool, labels: np.ndarray, pool_emb: np.ndarray, test_emb: np.ndarray,
             y_test: np.ndarray, strategy: str, budget: int, seed: int, cache: dict, params: SelectParams) -> dict:
    start = time.perf_counter()
    sel = select(pool, budget, strategy, target=target, seed=seed, params=params, cache=cache)
    idx = np.array(sel.indices)
    acc = fit_and_score(pool_emb[idx], labels[idx], test_emb, y_test)
    return {"task": task.name, "strategy": strategy, "budget": budget, "seed": seed, "selected": len(idx),
            "classes_in_subset": int(len(np.unique(labels[idx]))), "accuracy": acc,
            "seconds": round(time.perf_counter() - start, 3)}


def combine(accuracies: list[float], n_test: int) -> dict:
    """Mean over seeds; the interval adds the spread over seeds to the test set's own binomial noise."""
    a = np.asarray(accuracies)
    m = float(a.mean())
    var = (a.var(ddof=1) / len(a) if len(a) > 1 else 0.0) + m * (1 - m) / n_test
    half = 1.96 * math.sqrt(var)
    return {"mean": m, "ci95": [m - half, m + half], "seeds": len(a), "per_seed": [float(x) for x in a]}
