"""The batch schema shared by readers, steps and writers.

A batch is a polars DataFrame with at least ``id``, ``text``, ``metadata`` (a JSON string, so shards with
different metadata keys concatenate without schema fights) and ``source`` (``file:line``, unique per input
document, so every document can be traced back to where it came from). Steps may add score columns.
Removed documents carry ``step``, ``reason``, ``duplicate_of`` and ``cluster_id`` besides.
"""

from __future__ import annotations

import polars as pl

DOC_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.String,
    "text": pl.String,
    "metadata": pl.String,
    "source": pl.String,
}

REMOVAL_COLUMNS: dict[str, pl.DataType] = {
    "step": pl.String,
    "reason": pl.String,
    "duplicate_of": pl.String,
    "cluster_id": pl.Int64,
}

QUARANTINE_SCHEMA: dict[str, pl.DataType] = {
    "file": pl.String,
    "line": pl.Int64,
    "error": pl.String,
    "raw": pl.String,
}


def mark_removed(
    batch: pl.DataFrame,
    step: str,
    reason: str | pl.Series | list[str],
    duplicate_of: list[str | None] | pl.Series | None = None,
    cluster_id: list[int | None] | pl.Series | None = None,
) -> pl.DataFrame:
    """Attach the removal columns to documents a step drops (the why travels with the document)."""
    n = batch.height
    reasons = pl.Series("reason", [reason] * n if isinstance(reason, str) else reason, dtype=pl.String)
    dup = pl.Series("duplicate_of", duplicate_of if duplicate_of is not None else [None] * n, dtype=pl.String)
    cid = pl.Series("cluster_id", cluster_id if cluster_id is not None else [None] * n, dtype=pl.Int64)
    return batch.with_columns(pl.lit(step, dtype=pl.String).alias("step"), reasons, dup, cid)


def removed_schema(batch_schema: dict[str, pl.DataType]) -> dict[str, pl.DataType]:
    return {**batch_schema, **REMOVAL_COLUMNS}
