"""Scores every document with the project's fastText quality model; keeps by threshold or top percentile."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Literal

import numpy as np
import polars as pl
from pydantic import model_validator

from curation.classifiers.quality_model import positive_scores, prepare
from curation.steps.base import BatchSource, Step, StepConfig, split_by_reason


@lru_cache(maxsize=4)
def _model(path: str):
    import fasttext

    return fasttext.load_model(path)


class QualityConfig(StepConfig):
    step: Literal["quality"] = "quality"
    model_path: str
    threshold: float | None = 0.5
    top_percentile: float | None = None

    @model_validator(mode="after")
    def _one_rule(self) -> QualityConfig:
        if self.top_percentile is not None and not 0 < self.top_percentile <= 100:
            raise ValueError("top_percentile must be in (0, 100]")
        return self


class QualityClassifier(Step):
    """Adds ``quality_score``; with ``top_percentile`` the cut is computed over the whole stage first."""

    name = "quality"
    config: QualityConfig

    def _score(self, batch: pl.DataFrame) -> pl.DataFrame:
        scores = positive_scores(_model(self.config.model_path), [prepare(t) for t in batch["text"]])
        return batch.with_columns(pl.Series("quality_score", scores, dtype=pl.Float64))

    def _split(self, batch: pl.DataFrame, cut: float, reason: str) -> tuple[pl.DataFrame, pl.DataFrame]:
        reasons = [reason if s < cut else None for s in batch["quality_score"]]
        return split_by_reason(batch, reasons, self.name)

    def process(self, batches: BatchSource) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
        if self.config.top_percentile is None:
            for batch in batches():
                yield self._split(self._score(batch), self.config.threshold or 0.0, "quality_below_threshold")
            return
        scores = np.concatenate([self._score(b)["quality_score"].to_numpy() for b in batches()] or [np.zeros(0)])
        cut = float(np.percentile(scores, 100 - self.config.top_percentile)) if len(scores) else 0.0
        for batch in batches():
            yield self._split(self._score(batch), cut, "quality_below_top_percentile")
