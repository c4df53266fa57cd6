"""Scores every document with the project's fastText quality model; keeps by threshold or top percentile.

A global step so the percentile cut is taken over the whole corpus: map scores each shard once
(``scores-KEY.npy``), reduce computes the cut, apply adds ``quality_score`` and splits.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import numpy as np
import polars as pl
from pydantic import Field, model_validator

from curation.classifiers.fasttext_models import load_fasttext
from curation.classifiers.quality_model import positive_scores, prepare
from core.config_types import Fraction
from curation.steps.base import GlobalStep, ShardContext, StepConfig, register_step, split_by_reason
from core.storage import atomic_save_npy, atomic_write_json


class QualityConfig(StepConfig, step="quality"):
    model_path: str
    threshold: Fraction | None = 0.5  # P(high quality) below this is removed
    top_percentile: Annotated[float, Field(gt=0, le=100, allow_inf_nan=False)] | None = None  # keep this % of the corpus

    @model_validator(mode="after")
    def _one_rule(self) -> QualityConfig:
        if not Path(self.model_path).is_file():
            raise ValueError(f"model_path {self.model_path}: no such model file (train one with `winnow train-quality`)")
        return self


@register_step(QualityConfig)
class QualityClassifier(GlobalStep):
    config: QualityConfig

    def map_shard(self, batches: Iterator[pl.DataFrame], ctx: ShardContext) -> dict:
        model = load_fasttext(self.config.model_path)
        scores = [positive_scores(model, [prepare(t) for t in batch["text"]]) for batch in batches]
        scores = np.concatenate(scores) if scores else np.zeros(0)
        atomic_save_npy(ctx.work_dir / f"scores-{ctx.key}.npy", scores)
        return {"documents": len(scores)}

    def reduce(self, keys: list[str], work_dir: Path, partitions: int, sources: dict[str, str]) -> dict:
        if self.config.top_percentile is None:
            cut, reason = self.config.threshold or 0.0, "quality_below_threshold"
        else:
            scores = np.concatenate([np.load(work_dir / f"scores-{k}.npy") for k in keys] or [np.zeros(0)])
            cut = float(np.percentile(scores, 100 - self.config.top_percentile)) if len(scores) else 0.0
            reason = "quality_below_top_percentile"
        atomic_write_json(work_dir / "cut.json", {"cut": cut, "reason": reason})
        return {"cut": cut}

    def apply_shard(self, batches: Iterator[pl.DataFrame], ctx: ShardContext) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
        scores = np.load(ctx.work_dir / f"scores-{ctx.key}.npy")
        rule = json.loads((ctx.work_dir / "cut.json").read_text())
        offset = 0
        for batch in batches:
            s = scores[offset : offset + batch.height]
            offset += batch.height
            batch = batch.with_columns(pl.Series("quality_score", s, dtype=pl.Float64))
            yield split_by_reason(batch, [rule["reason"] if v < rule["cut"] else None for v in s], self.name)
