"""URL rules: ``url_dedup`` (exact on the normalised URL) and ``url_filter`` (user block lists).

Both read the URL from the document's metadata (``url_field``, dotted for nested keys): the WARC reader puts
``WARC-Target-URI`` there as ``url``, and JSONL/Parquet shards carry their ``url`` column into it. See
``curation.urls`` for the normalisation and the block-list file format.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import polars as pl
import xxhash
from pydantic import Field, model_validator

from curation.steps.base import DropListStep, ShardContext, Step, StepConfig, split_by_reason, write_drops
from curation.storage import atomic_write_parquet
from curation.urls import BlockList, dedup_url_key, url_from_metadata


class UrlDedupConfig(StepConfig):
    step: Literal["url_dedup"] = "url_dedup"
    url_field: str = Field("url", description="metadata key holding the URL (dotted for nested: metadata.url)")


def _signed64(h: int) -> int:
    return h - (1 << 64) if h >= 1 << 63 else h


class UrlDedup(DropListStep):
    """Second and later documents with the same normalised URL are removed as ``url_duplicate``.

    Same contract as ``exact_dedup``: the first in input order is kept, ``duplicate_of`` is its ``source``.
    Documents without a URL are never deduplicated here (they have nothing to compare).
    """

    name = "url_dedup"
    config: UrlDedupConfig

    def map_shard(self, batches: Iterator[pl.DataFrame], ctx: ShardContext) -> dict:
        hashes, keys = [], []
        for batch in batches:
            for source, meta in zip(batch["source"], batch["metadata"]):
                url = url_from_metadata(meta, self.config.url_field)
                hashes.append(None if url is None else _signed64(xxhash.xxh3_64_intdigest(dedup_url_key(url).encode())))
                keys.append(source)
        frame = (
            pl.DataFrame({"hash": hashes, "key": keys}, schema={"hash": pl.Int64, "key": pl.String})
            .with_row_index("row")
            .with_columns(pl.col("row").cast(pl.Int64), (pl.col("hash") % ctx.partitions).cast(pl.Int32).alias("part"))
            .filter(pl.col("hash").is_not_null())
        )
        atomic_write_parquet(ctx.work_dir / f"map-{ctx.key}.parquet", frame.sort("part"))
        return {"documents": len(keys), "with_url": frame.height}

    def reduce(self, keys: list[str], work_dir: Path, partitions: int, sources: dict[str, str]) -> dict:
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
            write_drops(work_dir, part, drops.with_columns(pl.lit("url_duplicate").alias("reason"),
                                                           pl.col("hash").alias("cluster_id")))
        return {"duplicates": duplicates}


class UrlFilterConfig(StepConfig):
    step: Literal["url_filter"] = "url_filter"
    domain_files: list[str] = Field(default_factory=list, description="files of blocked domains (subdomains too)")
    url_files: list[str] = Field(default_factory=list, description="files of blocked URLs (compared normalised)")
    substring_files: list[str] = Field(default_factory=list, description="files of blocked URL substrings")
    url_field: str = Field("url", description="metadata key holding the URL (dotted for nested: metadata.url)")
    missing_url: Literal["keep", "remove"] = Field("keep", description="documents without a URL")
    lists_sha256: str = Field("", description="set from the files' content (so an edited list is not reused)")

    @model_validator(mode="after")
    def _digest_lists(self) -> UrlFilterConfig:
        import hashlib

        digest = hashlib.sha256()
        for path in [*self.domain_files, *self.url_files, *self.substring_files]:
            if not Path(path).is_file():
                raise ValueError(f"url_filter: block list {path} not found")
            digest.update(path.encode() + b"\0" + Path(path).read_bytes() + b"\0")
        object.__setattr__(self, "lists_sha256", digest.hexdigest())
        return self


class UrlFilter(Step):
    """Removes documents whose URL is on a block list: ``url_blocked_domain``, ``_url`` or ``_substring``."""

    name = "url_filter"
    config: UrlFilterConfig

    def __init__(self, config: UrlFilterConfig):
        super().__init__(config)
        self.blocked = BlockList.from_files(config.domain_files, config.url_files, config.substring_files)

    def run(self, batch: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        reasons: list[str | None] = []
        for meta in batch["metadata"]:
            url = url_from_metadata(meta, self.config.url_field)
            if url is None:
                reasons.append("url_missing" if self.config.missing_url == "remove" else None)
            else:
                kind = self.blocked.match(url)
                reasons.append(f"url_blocked_{kind}" if kind else None)
        return split_by_reason(batch, reasons, self.name)
