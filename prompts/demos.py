"""Few-shot demonstration selection: random, kNN (KATE), MMR and label-balanced, on normalized embeddings.

Demonstrations are returned least similar first, so the most similar one sits right before the query: the
position small models attend to most (Liu et al., KATE; Zhao et al., recency bias).

A query is never its own demonstration: when the pool holds the query (same id, or the same text under another
id, as when a test set is also in the training pool; lm-eval#4145), its gold answer would sit in its own prompt.
``SelfMatches`` finds those pool rows and ``pick_demos(..., exclude=...)`` leaves them out in every strategy.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

DEMO_STRATEGIES = ("random", "knn", "mmr", "balanced")


@dataclass(frozen=True)
class DemoPick:
    index: int
    similarity: float


def normalize_text(text: str) -> str:
    """The key under which two texts are the same: NFKC (full-width ``１５`` is ``15``), case-folded, with every
    whitespace, punctuation and invisible character (Unicode categories Z*, P*, Cc, Cf: a BOM, a zero-width space)
    removed, so copies that differ only in width, case, spacing (``week ?`` / ``week?``) or punctuation share one
    key. An exact key, not a similarity: letters, digits and symbols (``+ = < $ ×``) all count, so ``2+2`` and
    ``2×2`` stay apart; punctuation (``. , - * ? !``) does not, so ``3.5`` and ``35``, ``2*2`` and ``22`` share a key
    (at worst a pool item that is not the query is left out)."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return "".join(c for c in folded if not (c.isspace() or unicodedata.category(c)[0] in "PZ"
                                             or unicodedata.category(c) in ("Cc", "Cf")))


class SelfMatches:
    """Pool rows that are a given query itself: the same id, or the same normalized text (``normalize_text``:
    width, case, whitespace and punctuation aside) under another id. Built once per pool; ``matches(query_id, query_text)`` is then a dictionary look-up."""

    def __init__(self, pool_ids: Sequence[str], pool_texts: Sequence[str]):
        self._by_id: dict[str, list[int]] = defaultdict(list)
        self._by_text: dict[str, list[int]] = defaultdict(list)
        for i, (doc_id, text) in enumerate(zip(pool_ids, pool_texts, strict=True)):
            self._by_id[str(doc_id)].append(i)
            if key := normalize_text(text):
                self._by_text[key].append(i)

    def matches(self, query_id: str | None, query_text: str | None) -> list[int]:
        """Sorted pool rows to exclude for this query (empty text matches nothing)."""
        rows = set(self._by_id.get(str(query_id), ())) if query_id is not None else set()
        if query_text and (key := normalize_text(query_text)):
            rows.update(self._by_text.get(key, ()))
        return sorted(rows)


def pick_demos(query: np.ndarray, pool: np.ndarray, k: int, strategy: str = "knn", seed: int = 0,
               lam: float = 0.5, labels: list | None = None,
               exclude: int | Iterable[int] | None = None) -> list[DemoPick]:
    """``k`` demos for one query embedding (fewer when the pool, less ``exclude``, is smaller).

    ``exclude``: pool rows never picked, in every strategy: pass ``SelfMatches(...).matches(query_id, query_text)``
    so the query is never its own demonstration (``prompts.demo_selection.demos_for_queries`` always does)."""
    if strategy not in DEMO_STRATEGIES:
        raise ValueError(f"unknown demo strategy {strategy!r}: one of {', '.join(DEMO_STRATEGIES)}")
    n = len(pool)
    excluded = sorted({int(exclude)} if isinstance(exclude, (int, np.integer)) else set(map(int, exclude or ())))
    if any(not 0 <= i < n for i in excluded):
        raise ValueError(f"exclude holds rows outside the pool of {n}: {[i for i in excluded if not 0 <= i < n]}")
    k = min(k, n - len(excluded))
    if k <= 0:
        return []
    sims = pool @ query
    if excluded:
        sims = sims.copy()
        sims[excluded] = -np.inf
    if strategy == "random":
        candidates = np.setdiff1d(np.arange(n), excluded) if excluded else np.arange(n)
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
