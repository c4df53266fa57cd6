"""Selection strategies. Each yields pool indices in the order it would take them, with a score and a reason;
the budget controller in ``selection`` stops them. Being lazy generators is what lets one strategy
serve count, fraction and token budgets: greedy ones (k-center, DEITA) only do the work the budget needs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Annotated, Literal

import numpy as np
from pydantic import ConfigDict, Field, field_validator
from pydantic.dataclasses import dataclass as pydantic_dataclass

from core.config_types import Fraction, PositiveInt, named_in_errors
from core.pool import Pool

Pick = tuple[int, float, str]


@named_in_errors
@pydantic_dataclass(config=ConfigDict(extra="forbid"))
class SelectParams:
    """Strategy settings, validated on construction (CLI, Python and the Prefect UI form share the ranges)."""

    # DEITA: keep only if cosine to every kept item <= this
    deita_threshold: Annotated[float, Field(ge=-1, le=1, allow_inf_nan=False)] = 0.9
    deita_score: Literal["ifd", "quality", "length"] = "ifd"  # what DEITA ranks by first
    semdedup_eps: Fraction = 0.07     # SemDeDup: duplicates have cosine > 1 - eps within a k-means cluster
    semdedup_clusters: PositiveInt | None = None
    quality_model: str | None = None  # fastText model from `winnow train-quality` (quality, deita_score=quality)
    dsir_buckets: PositiveInt = 10_000
    balance_by: str | None = None     # metadata field (or url_domain) to cap per group
    # cap: a count (>= 1) or a fraction of the budget (< 1)
    max_per_group: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None

    @field_validator("max_per_group")
    @classmethod
    def _whole_count(cls, value: float | None) -> float | None:
        if value is not None and value > 1 and value != int(value):
            raise ValueError(f"a cap of {value:g}: a count must be a whole number (or a fraction of the budget < 1)")
        return value


@dataclass
class Context:
    pool: Pool
    seed: int
    params: SelectParams
    target: Pool | None = None
    embed: Callable[[list[str]], np.ndarray] | None = None
    cache: dict = field(default_factory=dict)  # precomputed arrays: embeddings, target_embeddings, ifd, quality

    def _get(self, key: str, make: Callable[[], np.ndarray]) -> np.ndarray:
        if key not in self.cache:
            self.cache[key] = make()
        return self.cache[key]

    def embeddings(self) -> np.ndarray:
        return self._get("embeddings", lambda: self._embedder()(self.pool.texts))

    def target_embeddings(self) -> np.ndarray:
        return self._get("target_embeddings", lambda: self._embedder()(self._need_target().texts))

    def ifd(self) -> np.ndarray:
        from selection.scores import ifd_scores

        return self._get("ifd", lambda: ifd_scores(self.pool.prompts, self.pool.responses, progress=True))

    def quality(self) -> np.ndarray:
        from selection.scores import quality_scores

        if not self.params.quality_model:
            raise ValueError("the quality score needs quality_model (a model.bin from `winnow train-quality`)")
        return self._get("quality", lambda: quality_scores(self.params.quality_model, self.pool.texts))

    def _embedder(self):
        if self.embed is None:
            from core.embed import Embedder

            self.embed = Embedder().embed
        return self.embed

    def _need_target(self) -> Pool:
        if self.target is None or not len(self.target):
            raise ValueError("this strategy needs a target set (--target TASK.jsonl) of examples to select toward")
        return self.target


def random(ctx: Context) -> Iterator[Pick]:
    rng = np.random.default_rng(ctx.seed)
    for rank, i in enumerate(rng.permutation(len(ctx.pool))):
        yield int(i), float(rank), "random order"


def knn(ctx: Context) -> Iterator[Pick]:
    """Relevance to the target: highest cosine to any target example first (KATE / embedding kNN)."""
    pool, target = ctx.embeddings(), ctx.target_embeddings()
    best = np.empty(len(pool))
    nearest = np.empty(len(pool), dtype=np.int64)
    for start in range(0, len(pool), 4096):
        sims = pool[start: start + 4096] @ target.T
        best[start: start + 4096] = sims.max(1)
        nearest[start: start + 4096] = sims.argmax(1)
    for i in np.lexsort((np.arange(len(pool)), -best)):
        yield int(i), float(best[i]), f"cosine {best[i]:.3f} to target {ctx.target.ids[nearest[i]]}"


def kcenter(ctx: Context) -> Iterator[Pick]:
    """Greedy k-center (Sener & Savarese): each pick is the item farthest from everything picked so far."""
    emb = ctx.embeddings()
    if not len(emb):
        return
    first = int(np.random.default_rng(ctx.seed).integers(len(emb)))
    dist = np.full(len(emb), np.inf)
    pick, gap = first, float("inf")
    for _ in range(len(emb)):
        yield pick, gap, "seeded start" if gap == float("inf") else f"cosine distance {gap:.3f} to nearest picked"
        dist = np.minimum(dist, 1.0 - emb @ emb[pick])
        dist[pick] = -np.inf
        pick = int(np.argmax(dist))
        gap = float(dist[pick])
        if gap == -np.inf:
            return


def _score(ctx: Context, name: str) -> np.ndarray:
    if name == "ifd":
        ifd = ctx.ifd()
        # rank informative pairs first; IFD >= 1 (instruction does not help) or undefined goes last
        return np.where(np.isfinite(ifd) & (ifd < 1), ifd, -np.inf)
    if name == "quality":
        return ctx.quality()
    if name == "length":
        return np.array([len(r) for r in ctx.pool.responses], dtype=np.float64)
    raise ValueError(f"unknown score {name!r}: ifd, quality or length")


def deita(ctx: Context) -> Iterator[Pick]:
    """Score first, then diversity: take items best-first, skipping any within the cosine threshold of a kept one."""
    scores = _score(ctx, ctx.params.deita_score)
    emb = ctx.embeddings()
    order = np.lexsort((np.arange(len(scores)), -scores))
    kept = np.empty_like(emb)  # rows [:n_kept] hold the kept items
    n_kept = 0
    skipped = []
    for i in order:
        closest = float((kept[:n_kept] @ emb[i]).max()) if n_kept else 0.0
        if closest <= ctx.params.deita_threshold:
            kept[n_kept] = emb[i]
            n_kept += 1
            yield int(i), float(scores[i]), f"{ctx.params.deita_score} {scores[i]:.4g}; max cosine to kept {closest:.3f}"
        else:
            skipped.append((int(i), closest))
    for i, closest in skipped:
        yield i, float(scores[i]), f"filled after the diversity pass (cosine {closest:.3f} > {ctx.params.deita_threshold})"


def semdedup(ctx: Context) -> Iterator[Pick]:
    """SemDeDup: k-means, then within each cluster drop items within 1 - eps cosine of a kept one; sample the rest."""
    from sklearn.cluster import KMeans

    emb = ctx.embeddings()
    n = len(emb)
    if not n:
        return
    k = ctx.params.semdedup_clusters or max(1, min(n, int(round(np.sqrt(n / 2)))))
    km = KMeans(n_clusters=k, n_init=1, random_state=ctx.seed).fit(emb)
    centroids = km.cluster_centers_ / np.linalg.norm(km.cluster_centers_, axis=1, keepdims=True)
    keep, dups = [], []
    for c in range(k):
        members = np.flatnonzero(km.labels_ == c)
        # SemDeDup keeps the member least similar to its centroid: prototypical items are the redundant ones
        members = members[np.lexsort((members, emb[members] @ centroids[c]))]
        kept_rows: list[int] = []
        for i in members:
            sims = emb[kept_rows] @ emb[i] if kept_rows else np.zeros(0)
            if len(sims) and sims.max() > 1 - ctx.params.semdedup_eps:
                dups.append((int(i), kept_rows[int(sims.argmax())], float(sims.max()), c))
            else:
                kept_rows.append(int(i))
        keep.extend((i, c) for i in kept_rows)
    rng = np.random.default_rng(ctx.seed)
    for j in rng.permutation(len(keep)):
        i, c = keep[j]
        yield i, 0.0, f"cluster {c}: not a semantic duplicate"
    for j in rng.permutation(len(dups)):
        i, of, sim, c = dups[j]
        yield i, sim, f"filled: cluster {c} near-duplicate of {ctx.pool.ids[of]} (cosine {sim:.3f})"


def ifd(ctx: Context) -> Iterator[Pick]:
    raw = ctx.ifd()
    scores = _score(ctx, "ifd")
    for i in np.lexsort((np.arange(len(scores)), -scores)):
        note = f"IFD {raw[i]:.4f}" if np.isfinite(scores[i]) else (
            f"filled: IFD {raw[i]:.4f} >= 1, the instruction does not help" if np.isfinite(raw[i])
            else "filled: no IFD (empty instruction or response)")
        yield int(i), float(raw[i]) if np.isfinite(raw[i]) else float("nan"), note


def quality(ctx: Context) -> Iterator[Pick]:
    scores = ctx.quality()
    for i in np.lexsort((np.arange(len(scores)), -scores)):
        yield int(i), float(scores[i]), f"P(high quality) {scores[i]:.4f}"


def dsir(ctx: Context) -> Iterator[Pick]:
    """Importance resampling without replacement: Gumbel top-k on the log weights."""
    from selection.scores import dsir_log_weights

    target = ctx._need_target()
    logw = ctx._get("dsir", lambda: dsir_log_weights(ctx.pool.texts, target.texts, ctx.params.dsir_buckets))
    keys = logw + np.random.default_rng(ctx.seed).gumbel(size=len(logw))
    for i in np.lexsort((np.arange(len(keys)), -keys)):
        yield int(i), float(logw[i]), f"log importance weight {logw[i]:.2f}"


STRATEGIES: dict[str, Callable[[Context], Iterator[Pick]]] = {
    "random": random, "knn": knn, "kcenter": kcenter, "deita": deita, "semdedup": semdedup,
    "ifd": ifd, "quality": quality, "dsir": dsir,
}
NEEDS_TARGET = {"knn", "dsir"}
