"""The step contract: a step sees batches, returns (kept, removed) per batch, and never knows what ran before.

Per-document steps implement ``run(batch)``; filters subclass ``FilterStep`` and only say why a text fails.
Steps that need the whole corpus (dedup, top-percentile cuts, boilerplate counts) are ``GlobalStep``s and work
in three phases over shards, all through files in the stage's ``work`` directory, so each phase can run in a
separate task (or Dask worker) and memory is bounded by a shard or a partition, never by the corpus:

- ``map_shard``: per shard, write compact state (hashes, signatures, scores) to ``ctx.work_dir``;
- ``reduce``: once, read the map outputs partition by partition and write decisions;
- ``apply_shard``: per shard, split documents by those decisions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal, TypeVar

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict

from core.documents import mark_removed


class StepConfig(BaseModel):
    """Base of every step's config: typed, validated, serialisable (it is part of the cache key).

    ``class XConfig(StepConfig, step="x")`` names the step once: it adds the field ``step: Literal["x"] = "x"``,
    the key a config file writes (``- step: x``) and the tag that picks this config in ``AnyStepConfig``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    def __init_subclass__(cls, step: str | None = None, **kwargs: object) -> None:
        if step is not None:  # before pydantic collects the fields (it does so after type.__new__ returns)
            cls.__annotations__ = {"step": Literal[step], **cls.__dict__.get("__annotations__", {})}
            cls.step = step
        super().__init_subclass__(**kwargs)


@dataclass(frozen=True)
class ShardContext:
    key: str  # shard key; keys sort in input order
    work_dir: Path
    partitions: int = 8


class Step:
    name: ClassVar[str]  # set by register_step: the config's step name
    config_class: ClassVar[type[StepConfig]]
    is_global: ClassVar[bool] = False
    version: ClassVar[str] = "1"  # bump when outputs change for the same config (part of every cache key)

    def __init__(self, config: StepConfig):
        self.config = config

    def run(self, batch: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        raise NotImplementedError


STEP_CLASSES: dict[str, type[Step]] = {}
"""Step name -> step class, filled by ``register_step`` as the step modules are imported (``curation.steps``)."""

S = TypeVar("S", bound=type[Step])


def register_step(config: type[StepConfig]) -> Callable[[S], S]:
    """Class decorator: the step that runs ``config``. Its ``name`` is the config's ``step`` (spelled once, in
    ``class XConfig(StepConfig, step="x")``), and ``build_step(config)`` finds it by that name.

    Raises ValueError when the name is taken by another class or the config names no step."""
    field = config.model_fields.get("step")
    if field is None or not isinstance(field.default, str):
        raise ValueError(f"{config.__name__} names no step: declare it as "
                         f"class {config.__name__}(StepConfig, step=...)")
    name = field.default

    def register(cls: S) -> S:
        if STEP_CLASSES.get(name, cls) is not cls:
            raise ValueError(f"step {name!r} is already registered by {STEP_CLASSES[name].__qualname__}")
        cls.name, cls.config_class = name, config
        STEP_CLASSES[name] = cls
        return cls

    return register


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


class GlobalStep(Step):
    is_global = True

    def map_shard(self, batches: Iterator[pl.DataFrame], ctx: ShardContext) -> dict:
        raise NotImplementedError

    def reduce(self, keys: list[str], work_dir: Path, partitions: int, sources: dict[str, str]) -> dict:
        """``sources`` maps shard key to the shard's input Parquet (for steps that must re-read texts)."""
        raise NotImplementedError

    def apply_shard(self, batches: Iterator[pl.DataFrame], ctx: ShardContext) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
        raise NotImplementedError


DROPS_SCHEMA = {"shard": pl.String, "row": pl.Int64, "reason": pl.String, "duplicate_of": pl.String,
                "cluster_id": pl.Int64}


class DropListStep(GlobalStep):
    """A global step whose reduce writes ``drops-*.parquet`` (shard, row, reason, duplicate_of, cluster_id)."""

    def apply_shard(self, batches: Iterator[pl.DataFrame], ctx: ShardContext) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
        files = sorted(ctx.work_dir.glob("drops-*.parquet"))
        drops = (
            pl.scan_parquet(files).filter(pl.col("shard") == ctx.key).collect().sort("row")
            if files else pl.DataFrame(schema=DROPS_SCHEMA)
        )
        offset = 0
        for batch in batches:
            rows = pl.DataFrame({"row": np.arange(offset, offset + batch.height, dtype=np.int64)})
            offset += batch.height
            hit = rows.join(drops, on="row", how="left", maintain_order="left")
            drop = hit["reason"].is_not_null()
            yield batch.filter(~drop), mark_removed(
                batch.filter(drop), self.name, hit["reason"].filter(drop), hit["duplicate_of"].filter(drop),
                hit["cluster_id"].filter(drop),
            )


def write_drops(work_dir: Path, part: int, drops: pl.DataFrame) -> None:
    from core.storage import atomic_write_parquet

    atomic_write_parquet(work_dir / f"drops-{part:04d}.parquet", drops.select(list(DROPS_SCHEMA)).cast(DROPS_SCHEMA).sort("shard", "row"))


def split_by_reason(batch: pl.DataFrame, reasons: list[str | None], step: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    reason = pl.Series("_reason", reasons, dtype=pl.String)
    drop = reason.is_not_null()
    removed = mark_removed(batch.filter(drop), step, reason.filter(drop))
    return batch.filter(~drop), removed
