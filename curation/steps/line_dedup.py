"""Line-level boilerplate removal: lines found in at least ``min_docs`` documents are cut from every document.

Like datatrove's sentence dedup, but on lines (navigation bars, footers, mailing-list trailers). A global step:
map writes each document's distinct line hashes, reduce counts documents per hash partition by partition,
apply cuts the lines whose hash reached ``min_docs``. A document left with no text is removed
(``boilerplate_only``) with its original text; kept documents get ``boilerplate_lines`` (lines cut).
Lines are compared whole (stripped), so any script works; ``min_line_chars`` counts display columns (a wide
character, Han, Kana, Hangul or full-width, counts 2, as in Unicode UAX #11), so a 5-character Chinese footer
counts like a 10-letter English one.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import numpy as np
import polars as pl
import xxhash
from pydantic import Field

from core.config_types import WordCount
from curation.steps.base import GlobalStep, ShardContext, StepConfig, register_step, split_by_reason
from core.storage import atomic_save_npy, atomic_write_parquet


class LineDedupConfig(StepConfig, step="line_dedup"):
    min_docs: Annotated[int, Field(ge=2)] = 3  # a line in one document only is not boilerplate
    min_line_chars: WordCount = 10


def line_width(line: str) -> int:
    """Display columns of a line: East Asian Wide and Fullwidth characters count 2, others 1 (UAX #11)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


def _line_hash(line: str) -> int:
    h = xxhash.xxh3_64_intdigest(line.encode("utf-8"))
    return h - (1 << 64) if h >= 1 << 63 else h


@register_step(LineDedupConfig)
class LineDedup(GlobalStep):
    config: LineDedupConfig

    def _candidates(self, text: str) -> list[tuple[str, int | None]]:
        """Each line with its hash, or None for lines too short to count as boilerplate."""
        n = self.config.min_line_chars
        out = []
        for ln in text.split("\n"):
            s = ln.strip()
            out.append((ln, _line_hash(s) if len(s) >= n or line_width(s) >= n else None))
        return out

    def map_shard(self, batches: Iterator[pl.DataFrame], ctx: ShardContext) -> dict:
        hashes: list[int] = []
        for batch in batches:
            for text in batch["text"]:
                hashes.extend({h for _, h in self._candidates(text) if h is not None})
        frame = pl.DataFrame({"hash": hashes}, schema={"hash": pl.Int64}).with_columns(
            (pl.col("hash") % ctx.partitions).cast(pl.Int32).alias("part"))
        atomic_write_parquet(ctx.work_dir / f"lines-{ctx.key}.parquet", frame.sort("part"))
        return {"distinct_lines": frame.height}

    def reduce(self, keys: list[str], work_dir: Path, partitions: int, sources: dict[str, str]) -> dict:
        common = []
        for part in range(partitions):
            counts = (pl.concat([pl.scan_parquet(work_dir / f"lines-{k}.parquet").filter(pl.col("part") == part)
                                 for k in keys]).group_by("hash").len().filter(pl.col("len") >= self.config.min_docs)
                      .collect())
            common.append(counts["hash"].to_numpy())
        boilerplate = np.sort(np.concatenate(common)) if common else np.zeros(0, dtype=np.int64)
        atomic_save_npy(work_dir / "boilerplate.npy", boilerplate)
        return {"boilerplate_lines": int(len(boilerplate))}

    def apply_shard(self, batches: Iterator[pl.DataFrame], ctx: ShardContext) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
        common = set(np.load(ctx.work_dir / "boilerplate.npy").tolist())
        for batch in batches:
            texts, cut = [], []
            for text in batch["text"]:
                lines = self._candidates(text)
                kept = [ln for ln, h in lines if h is None or h not in common]
                texts.append("\n".join(kept).strip())
                cut.append(len(lines) - len(kept))
            reasons = [None if t else "boilerplate_only" for t in texts]
            new = batch.with_columns(pl.Series("text", [t or o for t, o in zip(texts, batch["text"])], dtype=pl.String),
                                     pl.Series("boilerplate_lines", cut, dtype=pl.Int64))
            yield split_by_reason(new, reasons, self.name)
