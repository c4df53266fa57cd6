"""Label-preserving augmentation of a small labelled pool: EDA edits (``selection.augment.eda``) and a kNN check.

``augment(texts, labels, ids, params, embed)`` makes ``per_item`` edits of each item for each operation, then
keeps an edit only when the k nearest *original* items of its embedding (cosine on MiniLM, the parent itself
left out) vote for the parent's label. nlpaug and EDA have no such check; an edit that deletes "not" from a
review, or swaps a question's wh-word away, moves the text toward the other class and is dropped here.
The default ``check_rule="flip"`` drops an edit only when its parent's own vote (parent left out) was right and
the edit's is not: the edit moved the text. The stricter ``"label"`` also drops every edit of a parent that sits
among another label's items already, whatever the operation: on SST-2/TREC it dropped swaps (which keep every
word) as often as synonym replacements, ~37% of all edits, and cost accuracy (benchmarks/augment_efficiency.py).

Every edit is a typed ``AugmentedItem`` with ``parent_id``, ``operation``, the edit parameters (alpha, n, seed,
k-th edit), the kNN vote and, when dropped, the reason; dropped edits are written too (nothing lost).
Determinism: each edit's random generator is seeded from (seed, parent id, operation, k) with xxh3, so an item's
edits do not depend on the order or the other items of the pool.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Literal
from dataclasses import asdict, dataclass, field

import numpy as np
import xxhash
from pydantic import BaseModel, ConfigDict, Field, field_validator

from selection.augment.eda import OPERATIONS, Synonyms, apply
from core.config_types import Fraction, PositiveInt, Seed

__all__ = ["AugmentParams", "AugmentedItem", "Augmentation", "OPERATIONS", "augment", "knn_labels"]

NEEDS_SYNONYMS = ("synonym", "insert")


class AugmentParams(BaseModel):
    """What to edit and how much; the same ranges for the CLI, a config file and the Prefect form."""

    model_config = ConfigDict(extra="forbid")

    ops: list[str] = Field(default_factory=lambda: list(OPERATIONS),
                           description="EDA operations: synonym, insert, swap, delete")
    per_item: PositiveInt = Field(1, description="edits per item and operation")
    alpha: Fraction = Field(0.1, description="share of words edited (EDA's alpha; deletion probability for delete)")
    seed: Seed = 0
    k: PositiveInt = Field(5, description="originals voting in the label-preservation check")
    check: bool = Field(True, description="drop edits whose kNN label differs from the parent's")
    check_rule: Literal["label", "flip"] = Field(
        "flip", description="label: the edit's kNN label must equal the parent's label; flip: drop only edits "
                             "of parents whose own kNN vote (itself left out) is right and whose edit's vote is not")

    @field_validator("ops")
    @classmethod
    def _known(cls, ops: list[str]) -> list[str]:
        unknown = [o for o in ops if o not in OPERATIONS]
        if unknown or not ops:
            raise ValueError(f"unknown operations {unknown}: choose from {', '.join(OPERATIONS)}")
        return list(dict.fromkeys(ops))


@dataclass
class AugmentedItem:
    id: str
    text: str
    label: str
    parent_id: str
    operation: str
    params: dict               # alpha, n (edits asked; words deleted for delete), seed, k-th edit of this item
    knn_label: str | None = None  # majority label of the k nearest originals (None: check off)
    kept: bool = True
    reason: str | None = None  # why dropped: "unchanged" or "knn label X != parent label Y"


@dataclass
class Augmentation:
    items: list[AugmentedItem]
    summary: dict = field(default_factory=dict)

    @property
    def kept(self) -> list[AugmentedItem]:
        return [a for a in self.items if a.kept]

    @property
    def dropped(self) -> list[AugmentedItem]:
        return [a for a in self.items if not a.kept]

    def rows(self, kept: bool = True) -> list[dict]:
        return [asdict(a) for a in self.items if a.kept == kept]


def edit_rng(seed: int, parent_id: str, operation: str, k: int) -> random.Random:
    return random.Random(xxhash.xxh3_64_intdigest(f"{seed}\x1f{parent_id}\x1f{operation}\x1f{k}".encode()))


def knn_labels(queries: np.ndarray, originals: np.ndarray, labels: Sequence[str], k: int,
               exclude: Sequence[int] | None = None) -> list[str]:
    """Majority label of the k most cosine-similar rows of ``originals`` (float[n, d], normalized) for each query
    (float[m, d]); ``exclude[i]`` is a row left out for query i (its parent). A tie goes to the label whose
    voters are more similar in sum."""
    sims = queries @ originals.T
    if exclude is not None:
        sims[np.arange(len(queries)), np.asarray(exclude)] = -np.inf
    k = min(k, originals.shape[0] - (1 if exclude is not None else 0))
    out = []
    for row in sims:
        top = np.argsort(-row, kind="stable")[:k]
        votes = Counter(labels[j] for j in top)
        weight = Counter()
        for j in top:
            weight[labels[j]] += float(row[j])
        out.append(max(votes, key=lambda lab: (votes[lab], weight[lab])))
    return out


def augment(texts: Sequence[str], labels: Sequence, ids: Sequence[str], params: AugmentParams,
            embed: Callable[[list[str]], np.ndarray] | None = None, synonyms: Synonyms | None = None) -> Augmentation:
    """EDA edits of every item, checked against the originals' kNN labels.

    texts/labels/ids: the labelled pool (labels compared as strings). embed: texts -> float32[n, d] normalized
    (``core.embed.Embedder().embed``); needed when ``params.check``. synonyms: word -> synonyms, default
    WordNet (``selection.augment.wordnet.load_wordnet``), loaded only when synonym/insert are asked for."""
    labels = [str(x) for x in labels]
    if not (len(texts) == len(labels) == len(ids)):
        raise ValueError(f"texts, labels and ids differ in length: {len(texts)}, {len(labels)}, {len(ids)}")
    if synonyms is None and any(op in NEEDS_SYNONYMS for op in params.ops):
        from selection.augment.wordnet import load_wordnet

        synonyms = load_wordnet()
    synonyms = synonyms or (lambda word: ())
    items: list[AugmentedItem] = []
    parents: list[int] = []
    for i, (text, label, pid) in enumerate(zip(texts, labels, ids)):
        for op in params.ops:
            for k in range(params.per_item):
                new, edit = apply(op, text, params.alpha, synonyms, edit_rng(params.seed, pid, op, k))
                item = AugmentedItem(f"{pid}#{op}-{k}", new, label, pid, op, edit | {"seed": params.seed, "k": k})
                if new == text:
                    item.kept, item.reason = False, "unchanged"
                items.append(item)
                parents.append(i)
    if params.check:
        if embed is None:
            raise ValueError("the label-preservation check needs an embed function (or check=False)")
        if len(set(labels)) > 1 and len(texts) > 1:
            rows = [j for j, a in enumerate(items) if a.kept]
            originals = np.asarray(embed(list(texts)))
            queries = np.asarray(embed([items[j].text for j in rows])) if rows else originals[:0]
            votes = knn_labels(queries, originals, labels, params.k, [parents[j] for j in rows])
            own = knn_labels(originals, originals, labels, params.k, list(range(len(texts))))
            for j, vote in zip(rows, votes):
                items[j].knn_label = vote
                if vote != items[j].label and (params.check_rule == "label" or own[parents[j]] == items[j].label):
                    items[j].kept, items[j].reason = False, f"knn label {vote} != parent label {items[j].label}"
    summary = summarize(items, len(texts), params)
    if params.check and (len(set(labels)) < 2 or len(texts) < 2):
        summary["note"] = "label check skipped: it needs at least two items and two labels"
    return Augmentation(items, summary)


def summarize(items: list[AugmentedItem], pool_size: int, params: AugmentParams) -> dict:
    """Counts per operation: made, kept, dropped by the check, unchanged (an edit that found nothing to do)."""
    per_op = {}
    for op in params.ops:
        mine = [a for a in items if a.operation == op]
        per_op[op] = {"made": len(mine), "kept": sum(a.kept for a in mine),
                      "dropped_label_check": sum(bool(a.reason and a.reason.startswith("knn")) for a in mine),
                      "unchanged": sum(a.reason == "unchanged" for a in mine)}
    return {"pool_size": pool_size, "params": params.model_dump(), "operations": per_op,
            "made": len(items), "kept": sum(a.kept for a in items), "dropped": sum(not a.kept for a in items)}


def augment_file(paths: Sequence[str], out: str, params: AugmentParams, text_field: str = "text",
                 label_field: str = "label", embed: Callable[[list[str]], np.ndarray] | None = None,
                 synonyms: Synonyms | None = None) -> dict:
    """Augments a labelled JSONL/JSON/Parquet pool; writes OUT (every original, then the kept edits, each record
    keeping its parent's fields plus ``parent_id``, ``operation``, ``params``, ``knn_label``), OUT.dropped.jsonl
    (dropped edits with ``reason``) and OUT.summary.json. Items without a label are not augmented (counted)."""
    from pathlib import Path

    import orjson

    from core.pool import load_pool
    from core.storage import atomic_write_json, atomic_write_text

    pool = load_pool(list(paths), text_field)
    labels = pool.group(label_field)
    labelled = [i for i, lab in enumerate(labels) if lab != "(none)"]
    if embed is None and params.check:
        from core.embed import Embedder

        embed = Embedder(show_progress=False).embed
    result = augment([pool.responses[i] for i in labelled], [labels[i] for i in labelled],
                     [pool.ids[i] for i in labelled], params, embed, synonyms)
    meta = {pool.ids[i]: pool.metadata[i] for i in labelled}

    def record(base: dict, **fields) -> str:
        return orjson.dumps({k: v for k, v in base.items() if k not in fields} | fields).decode() + "\n"

    lines = [record(m, id=pid, **{text_field: t}, parent_id=None, operation="original")
             for pid, t, m in zip(pool.ids, pool.responses, pool.metadata)]
    lines += [record(meta[a.parent_id], id=a.id, **{text_field: a.text}, parent_id=a.parent_id,
                     operation=a.operation, params=a.params, knn_label=a.knn_label) for a in result.kept]
    out_path = Path(out)
    atomic_write_text(out_path, "".join(lines))
    dropped = out_path.with_name(out_path.name.removesuffix(".jsonl") + ".dropped.jsonl")
    atomic_write_text(dropped, "".join(orjson.dumps(r).decode() + "\n" for r in result.rows(kept=False)))
    summary = result.summary | {"unlabelled": len(pool) - len(labelled), "quarantined": len(pool.quarantined),
                                "out": str(out_path.resolve()), "dropped_file": str(dropped.resolve()),
                                "written": len(lines)}
    atomic_write_json(out_path.with_name(out_path.name.removesuffix(".jsonl") + ".summary.json"), summary)
    return summary
