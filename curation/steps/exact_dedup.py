"""Exact dedup on xxh3 of the whitespace-normalised text; the first occurrence is kept."""

from __future__ import annotations

from typing import Literal

import polars as pl
import xxhash

from curation.documents import mark_removed
from curation.steps.base import Step, StepConfig
from curation.text import dedup_key


class ExactDedupConfig(StepConfig):
    step: Literal["exact_dedup"] = "exact_dedup"
    lowercase: bool = False


class ExactDedup(Step):
    """State is one 8-byte hash and the first id per distinct text; the cluster id is the text's hash."""

    name = "exact_dedup"
    config: ExactDedupConfig

    def __init__(self, config: ExactDedupConfig):
        super().__init__(config)
        self.first_seen: dict[int, str] = {}

    def run(self, batch: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        keep: list[bool] = []
        dup_of: list[str] = []
        clusters: list[int] = []
        for doc_id, text in zip(batch["id"], batch["text"]):
            key = dedup_key(text.lower() if self.config.lowercase else text)
            h = xxhash.xxh3_64_intdigest(key.encode("utf-8"))
            h = h - (1 << 64) if h >= 1 << 63 else h  # fit Int64
            first = self.first_seen.get(h)
            keep.append(first is None)
            if first is None:
                self.first_seen[h] = doc_id
            else:
                dup_of.append(first)
                clusters.append(h)
        mask = pl.Series(keep)
        return batch.filter(mask), mark_removed(batch.filter(~mask), self.name, "exact_duplicate", dup_of, clusters)
