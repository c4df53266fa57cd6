"""Few-shot demonstration selection: random, kNN (KATE), MMR and label-balanced, on normalized embeddings.

Demonstrations are returned least similar first, so the most similar one sits right before the query: the
position small models attend to most (Liu et al., KATE; Zhao et al., recency bias).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEMO_STRATEGIES = ("random", "knn", "mmr", "balanced")


@dataclass(frozen=True)
class DemoPick:
    index: int
    similarity: float


def select_demos(query: np.ndarray, pool: np.ndarray, k: int, strategy: str = "knn", seed: int = 0,
                 lam: float = 0.5, labels: list | None = None, exclude: int | None = None) -> list[DemoPick]:
    """``k`` demos for one query embedding; ``exclude`` drops a pool row (the query itself, when it is in the pool)."""
    if strategy not in DEMO_STRATEGIES:
        raise ValueError(f"unknown demo strategy {strategy!r}: one of {', '.join(DEMO_STRATEGIES)}")
    n = len(pool)
    k = min(k, n - (exclude is not None))
    if k <= 0:
        return []
    sims = pool @ query
    if exclude is not None:
        sims = sims.copy()
        sims[exclude] = -np.inf
    if strategy == "random":
        candidates = np.array([i for i in range(n) if i != exclude]) if exclude is not None else np.arange(n)
        chosen = np.random.default_rng(seed).choice(candidates, size=k, replace=False)
    elif strategy == "knn":
        chosen = np.lexsort((np.arange(n), -sims))[:k]
    elif strategy == "mmr":
        chosen = _mmr(sims, pool, k, lam)
    else:
        chosen = _balanced(sims, k, labels)
    picks = [DemoPick(int(i), float(sims[i])) for i in chosen]
    return sorted(picks, key=lambda p: (p.similarity, -p.index))


def _mmr(sims: np.ndarray, pool: np.ndarray, k: int, lam: float, shortlist: int = 100) -> list[int]:
    """Maximal marginal relevance: lam * sim(query, d) - (1 - lam) * max sim(d, chosen)."""
    cand = np.lexsort((np.arange(len(sims)), -sims))[: max(shortlist, k)]
    cand = cand[np.isfinite(sims[cand])]
    chosen: list[int] = []
    redundancy = np.full(len(cand), -np.inf)
    for _ in range(min(k, len(cand))):
        gain = lam * sims[cand] - (1 - lam) * np.where(np.isfinite(redundancy), redundancy, 0.0)
        gain[[j for j, c in enumerate(cand) if c in chosen]] = -np.inf
        j = int(np.argmax(gain))
        chosen.append(int(cand[j]))
        redundancy = np.maximum(redundancy, pool[cand] @ pool[cand[j]])
    return chosen


def _balanced(sims: np.ndarray, k: int, labels: list | None) -> list[int]:
    """Round-robin over labels, most similar of each label first: every class shows up when k allows."""
    if labels is None:
        raise ValueError("the balanced strategy needs labels for the pool")
    by_label: dict = {}
    for i in np.lexsort((np.arange(len(sims)), -sims)):
        if np.isfinite(sims[i]):
            by_label.setdefault(labels[i], []).append(int(i))
    queues = [by_label[lab] for lab in sorted(by_label, key=lambda lab: -sims[by_label[lab][0]])]
    chosen: list[int] = []
    while len(chosen) < k and any(queues):
        for q in queues:
            if q and len(chosen) < k:
                chosen.append(q.pop(0))
    return chosen
