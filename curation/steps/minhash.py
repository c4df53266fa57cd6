"""MinHash-LSH near-dedup with datasketch: signatures, band buckets, connected components, one keeper per cluster.

Two passes over the stage: the first computes signatures and fills the LSH index, the second splits the
documents. Clusters are connected components of "shares a band bucket" (scipy's csgraph, no Python dict per
document), so a chain A~B~C forms one cluster even when A and C never collide directly. This is the
correctness path; the sharded, vectorised path for large corpora lives in ``curation.dedup``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import numpy as np
import polars as pl
from pydantic import model_validator

from curation.documents import mark_removed
from curation.steps.base import BatchSource, Step, StepConfig
from curation.text import shingles


class MinHashConfig(StepConfig):
    step: Literal["minhash"] = "minhash"
    ngram: int = 5
    num_perm: int = 112
    bands: int = 14
    rows: int = 8
    seed: int = 1
    keep: Literal["first", "longest"] = "first"

    @model_validator(mode="after")
    def _bands_fit(self) -> MinHashConfig:
        if self.bands * self.rows > self.num_perm:
            raise ValueError(f"bands x rows = {self.bands * self.rows} exceeds num_perm = {self.num_perm}")
        return self

    @property
    def threshold(self) -> float:
        """Jaccard at which a pair becomes a candidate with probability ~0.5: (1/b)^(1/r)."""
        return (1 / self.bands) ** (1 / self.rows)


def connected_components(n: int, pairs: list[tuple[int, int]]) -> np.ndarray:
    """Component label per node; the label is the smallest member index, so it is stable across runs."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components as cc

    if not pairs:
        return np.arange(n)
    a, b = np.array(pairs, dtype=np.int64).T
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n))
    _, labels = cc(graph, directed=False)
    smallest = np.full(labels.max() + 1, n, dtype=np.int64)
    np.minimum.at(smallest, labels, np.arange(n))
    return smallest[labels]


class MinHashDedup(Step):
    name = "minhash"
    config: MinHashConfig

    def _signatures(self, batches: BatchSource) -> tuple[list[str], np.ndarray, list[list[int]]]:
        from datasketch import MinHash, MinHashLSH

        c = self.config
        template = MinHash(num_perm=c.num_perm, seed=c.seed)
        lsh = MinHashLSH(num_perm=c.num_perm, params=(c.bands, c.rows))
        ids: list[str] = []
        lengths: list[int] = []
        for batch in batches():
            for doc_id, text in zip(batch["id"], batch["text"]):
                key = len(ids)
                ids.append(doc_id)
                lengths.append(len(text))
                grams = shingles(text, c.ngram)
                if not grams:
                    continue  # nothing to compare: never clustered
                m = MinHash(num_perm=c.num_perm, seed=c.seed, permutations=template.permutations, scheme=template.scheme)
                m.update_batch([g.encode("utf-8") for g in grams])
                lsh.insert(key, m, check_duplication=False)
        buckets = [
            sorted(members) for table in lsh.hashtables for band in table.keys() if len(members := table.get(band)) > 1
        ]
        return ids, np.array(lengths, dtype=np.int64), buckets

    def clusters(self, batches: BatchSource) -> tuple[list[str], np.ndarray, np.ndarray]:
        """(ids, cluster label per doc, keeper index per doc)."""
        ids, lengths, buckets = self._signatures(batches)
        pairs = [(members[0], other) for members in buckets for other in members[1:]]
        labels = connected_components(len(ids), pairs)
        keeper = labels.copy()
        if self.config.keep == "longest":
            # order by (label, -length, index): the first row per label is its longest (earliest on ties)
            order = np.lexsort((np.arange(len(ids)), -lengths, labels))
            first = np.ones(len(order), dtype=bool)
            first[1:] = labels[order][1:] != labels[order][:-1]
            best = np.empty(labels.max() + 1 if len(labels) else 0, dtype=np.int64)
            best[labels[order][first]] = order[first]
            keeper = best[labels]
        return ids, labels, keeper

    def process(self, batches: BatchSource) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
        ids, labels, keeper = self.clusters(batches)
        offset = 0
        for batch in batches():
            idx = np.arange(offset, offset + batch.height)
            offset += batch.height
            drop = keeper[idx] != idx
            mask = pl.Series(drop)
            removed = batch.filter(mask)
            dup_of = [ids[k] for k in keeper[idx][drop]]
            yield batch.filter(~mask), mark_removed(
                removed, self.name, "near_duplicate", dup_of, labels[idx][drop].tolist()
            )
