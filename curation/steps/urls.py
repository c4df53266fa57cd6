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
from pydantic import Field, model_validator

from curation.steps.base import DropListStep, ShardContext, Step, StepConfig, register_step, split_by_reason
from curation.steps.exact_dedup import hash64, reduce_keep_first, write_hash_map
from curation.urls import BlockList, dedup_url_key, url_from_metadata


class UrlDedupConfig(StepConfig, step="url_dedup"):
    url_field: str = Field("url", description="metadata key holding the URL (dotted for nested: metadata.url)")


@register_step(UrlDedupConfig)
class UrlDedup(DropListStep):
    """Second and later documents with the same normalised URL are removed as ``url_duplicate``.

    Same contract as ``exact_dedup``: the first in input order is kept, ``duplicate_of`` is its ``source``.
    Documents without a URL are never deduplicated here (they have nothing to compare).
    """

    config: UrlDedupConfig

    def map_shard(self, batches: Iterator[pl.DataFrame], ctx: ShardContext) -> dict:
        hashes, keys = [], []
        for batch in batches:
            for source, meta in zip(batch["source"], batch["metadata"]):
                url = url_from_metadata(meta, self.config.url_field)
                hashes.append(None if url is None else hash64(dedup_url_key(url)))
                keys.append(source)
        return {"documents": len(keys), "with_url": write_hash_map(ctx, hashes, keys)}

    def reduce(self, keys: list[str], work_dir: Path, partitions: int, sources: dict[str, str]) -> dict:
        return reduce_keep_first(keys, work_dir, partitions, "url_duplicate")


class UrlFilterConfig(StepConfig, step="url_filter"):
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


@register_step(UrlFilterConfig)
class UrlFilter(Step):
    """Removes documents whose URL is on a block list: ``url_blocked_domain``, ``_url`` or ``_substring``."""

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
