"""FineWeb's own quality rules (Penedo et al. 2024), thresholds as in datatrove's FineWebQualityFilter."""

from __future__ import annotations

from typing import Literal

from curation.steps.base import FilterStep, StepConfig
from curation.text import duplicate_stats, words

STOP_CHARS = (".", "'", '"', "!", "?")


class FineWebQualityConfig(StepConfig):
    step: Literal["fineweb_quality"] = "fineweb_quality"
    line_punct_thr: float = 0.12
    line_punct_exclude_zero: bool = False
    short_line_thr: float = 0.67
    short_line_length: int = 30
    char_duplicates_ratio: float = 0.01
    new_line_ratio: float = 0.3


class FineWebQualityFilter(FilterStep):
    """Drops list-like pages: few lines ending in punctuation, mostly short lines, repeated lines."""

    name = "fineweb_quality"
    config: FineWebQualityConfig

    def check(self, text: str) -> str | None:
        c = self.config
        lines = text.split("\n")
        ratio = sum(ln.endswith(STOP_CHARS) for ln in lines) / len(lines)
        if ratio <= c.line_punct_thr and not (ratio == 0 and c.line_punct_exclude_zero):
            return "fineweb_line_punct_ratio"
        if sum(len(ln) <= c.short_line_length for ln in lines) / len(lines) >= c.short_line_thr:
            return "fineweb_short_line_ratio"
        non_empty = [ln for ln in lines if ln.strip()]
        chars = len(text.replace("\n", "")) or 1
        if duplicate_stats(non_empty)[1] / chars >= c.char_duplicates_ratio:
            return "fineweb_char_dup_ratio"
        n_words = len(words(text)) or 1
        if text.count("\n") / n_words > c.new_line_ratio:
            return "fineweb_list_ratio"
        return None
