"""Exact dedup on xxh3 of the whitespace-normalised text; the first occurrence in input order is kept.

Map: one (hash, row, key) per document, tagged with its hash partition; the key is ``source`` (``file:line``),
unique in a run even when ids repeat across input files. Reduce, partition by partition: within each hash, the
earliest (shard, row) is the keeper, and ``duplicate_of`` is its key. Memory is one partition's hashes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl
import xxhash

from curation.steps.base import DropListStep, ShardContext, StepConfig, register_step, write_drops
from core.storage import atomic_write_parquet
from curation.text import dedup_key


class ExactDedupConfig(StepConfig, step="exact_dedup"):
    lowercase: bool = False


def hash64(key: str) -> int:
    """xxh3-64 of ``key``'s UTF-8 bytes as a signed int64 (polars' Int64)."""
    h = xxhash.xxh3_64_intdigest(key.encode("utf-8"))
    return h - (1 << 64) if h >= 1 << 63 else h


def write_hash_map(ctx: ShardContext, hashes: list[int | None], keys: list[str]) -> int:
    """The map output of a keep-the-first dedup: (hash, row, key, part) per document with a hash; returns how many."""
    frame = (
        pl.DataFrame({"hash": hashes, "key": keys}, schema={"hash": pl.Int64, "key": pl.String})
        .with_row_index("row")
        .with_columns(pl.col("row").cast(pl.Int64), (pl.col("hash") % ctx.partitions).cast(pl.Int32).alias("part"))
        .filter(pl.col("hash").is_not_null())
    )
    atomic_write_parquet(ctx.work_dir / f"map-{ctx.key}.parquet", frame.sort("part"))
    return frame.height


def reduce_keep_first(keys: list[str], work_dir: Path, partitions: int, reason: str) -> dict:
    """Within each hash the earliest (shard, row) is kept; the others are dropped with ``reason`` and
    ``duplicate_of`` = the keeper's key. One partition's hashes in memory at a time."""
    files = [work_dir / f"map-{k}.parquet" for k in keys]
    duplicates = 0
    for part in range(partitions):
        frame = (
            pl.concat([pl.scan_parquet(f).filter(pl.col("part") == part).with_columns(pl.lit(k).alias("shard"))
                       for k, f in zip(keys, files)])
            .collect()
            .sort("shard", "row")
        )
        drops = frame.with_columns(
            pl.col("key").first().over("hash").alias("duplicate_of"),
            (pl.int_range(pl.len()).over("hash") > 0).alias("dup"),
        ).filter("dup")
        duplicates += drops.height
        write_drops(work_dir, part, drops.with_columns(pl.lit(reason).alias("reason"), pl.col("hash").alias("cluster_id")))
    return {"duplicates": duplicates}


@register_step(ExactDedupConfig)
class ExactDedup(DropListStep):
    version = "2"  # 2: duplicate_of is the keeper's source (file:line), which names one document; ids may repeat
    config: ExactDedupConfig

    def map_shard(self, batches: Iterator[pl.DataFrame], ctx: ShardContext) -> dict:
        hashes, sources = [], []
        for batch in batches:
            for source, text in zip(batch["source"], batch["text"]):
                hashes.append(hash64(dedup_key(text.lower() if self.config.lowercase else text)))
                sources.append(source)
        return {"documents": write_hash_map(ctx, hashes, sources)}

    def reduce(self, keys: list[str], work_dir: Path, partitions: int, sources: dict[str, str]) -> dict:
        return reduce_keep_first(keys, work_dir, partitions, "exact_duplicate")
