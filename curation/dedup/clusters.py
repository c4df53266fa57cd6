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
