"""Connected components over candidate edges (scipy csgraph: arrays, no Python dict per document)."""

from __future__ import annotations

import numpy as np


def connected_components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Component label per node; the label is the smallest member index, so it is stable across runs."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components as cc

    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if len(a) == 0:
        return np.arange(n, dtype=np.int64)
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n))
    _, labels = cc(graph, directed=False)
    smallest = np.full(labels.max() + 1, n, dtype=np.int64)
    np.minimum.at(smallest, labels, np.arange(n, dtype=np.int64))
    return smallest[labels]


def keepers(labels: np.ndarray, lengths: np.ndarray | None = None) -> np.ndarray:
    """Index of the document kept for each document's cluster: the first, or the longest (earliest on ties)."""
    if lengths is None or len(labels) == 0:
        return labels.copy()
    order = np.lexsort((np.arange(len(labels)), -lengths, labels))
    first = np.ones(len(order), dtype=bool)
    first[1:] = labels[order][1:] != labels[order][:-1]
    best = np.empty(labels.max() + 1, dtype=np.int64)
    best[labels[order][first]] = order[first]
    return best[labels]


def candidate_pairs(bands: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All pairs (a < b) sharing a bucket in any band, in memory (benchmarks and small inputs)."""
    import polars as pl

    n, b = bands.shape
    frame = pl.DataFrame({"band": np.tile(np.arange(b), n), "bucket": bands.ravel(), "doc": np.repeat(np.arange(n), b)})
    groups = frame.group_by("band", "bucket").agg(pl.col("doc")).filter(pl.col("doc").list.len() > 1)["doc"].to_list()
    pairs = {(x, y) for g in groups for i, x in enumerate(sorted(g)) for y in sorted(g)[i + 1 :]}
    if not pairs:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    arr = np.array(sorted(pairs), dtype=np.int64)
    return arr[:, 0], arr[:, 1]


def pair_scores(true_labels: np.ndarray, predicted_labels: np.ndarray) -> dict:
    """Pairwise precision/recall of a clustering, by counting (no pair enumeration: works at 1M documents)."""
    import polars as pl

    frame = pl.DataFrame({"t": true_labels, "p": predicted_labels})

    def pairs(col: list[str]) -> int:
        sizes = frame.group_by(col).len()["len"].to_numpy().astype(np.int64)
        return int((sizes * (sizes - 1) // 2).sum())

    tp, true, pred = pairs(["t", "p"]), pairs(["t"]), pairs(["p"])
    precision = tp / pred if pred else 1.0
    recall = tp / true if true else 1.0
    return {"true_pairs": true, "predicted_pairs": pred, "true_positives": tp, "precision": round(precision, 4),
            "recall": round(recall, 4)}
