"""Unicode NFC and whitespace normalisation, vectorised in polars (no Python call per document)."""

from __future__ import annotations

from typing import Literal

import polars as pl

from core.config_types import WordCount
from curation.steps.base import Step, StepConfig, register_step, split_by_reason


class NormalizeConfig(StepConfig, step="normalize"):
    unicode_form: Literal["NFC", "NFKC", "NFD", "NFKD"] = "NFC"
    collapse_spaces: bool = True
    max_blank_lines: WordCount = 1  # blank lines kept in a row, >= 0


@register_step(NormalizeConfig)
class Normalize(Step):
    """Canonical text so that hashing, n-grams and line rules see the same bytes for the same content."""

    config: NormalizeConfig

    def run(self, batch: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        c = self.config
        text = pl.col("text").str.normalize(c.unicode_form).str.replace_all(r"\r\n?", "\n")
        if c.collapse_spaces:
            text = text.str.replace_all(r"[^\S\n]+", " ").str.replace_all(r"(?m) +$", "").str.replace_all(r"(?m)^ +", "")
        text = text.str.replace_all(r"\n{" + str(c.max_blank_lines + 2) + r",}", "\n" * (c.max_blank_lines + 1))
        out = batch.with_columns(text.str.strip_chars().alias("text"))
        empty = out["text"].str.len_chars() == 0
        reasons = pl.Series([None] * out.height, dtype=pl.String).set(empty, "normalize_empty_text")
        return split_by_reason(out, reasons.to_list(), self.name)
