"""The step contract: a step sees batches, returns (kept, removed) per batch, and never knows what ran before.

Per-document filters subclass ``FilterStep`` and only say why a text fails. Steps that need the whole stage
(dedup with a keep-longest rule, top-percentile thresholds) override ``process`` and read the stage twice;
the runner hands them a callable that re-opens the stage from disk, so memory stays bounded by a batch plus
whatever compact state the step keeps (hashes, signatures).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import ClassVar

import polars as pl
from pydantic import BaseModel, ConfigDict

from curation.documents import mark_removed

BatchSource = Callable[[], Iterator[pl.DataFrame]]


class StepConfig(BaseModel):
    """Base of every step's config: typed, validated, serialisable (it is part of the cache key)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Step:
    name: ClassVar[str]

    def __init__(self, config: StepConfig):
        self.config = config

    def run(self, batch: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        raise NotImplementedError

    def process(self, batches: BatchSource) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
        for batch in batches():
            yield self.run(batch)


class FilterStep(Step):
    """A per-document rule set; ``check`` returns the drop reason, or None to keep.

    ``check`` may also return a rewritten text (C4 drops lines) as ``(None, new_text)``.
    """

    def check(self, text: str) -> str | None | tuple[str | None, str]:
        raise NotImplementedError

    def run(self, batch: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        reasons: list[str | None] = []
        texts: list[str] = []
        for text in batch["text"]:
            verdict = self.check(text)
            if isinstance(verdict, tuple):
                reasons.append(verdict[0])
                texts.append(verdict[1] if verdict[0] is None else text)
            else:
                reasons.append(verdict)
                texts.append(text)
        batch = batch.with_columns(pl.Series("text", texts, dtype=pl.String))
        return split_by_reason(batch, reasons, self.name)


def split_by_reason(batch: pl.DataFrame, reasons: list[str | None], step: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    reason = pl.Series("_reason", reasons, dtype=pl.String)
    drop = reason.is_not_null()
    removed = mark_removed(batch.filter(drop), step, reason.filter(drop))
    return batch.filter(~drop), removed
