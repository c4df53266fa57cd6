"""FineWeb's own quality rules (Penedo et al. 2024, section 3.3; the authors' code is datatrove's
``FineWebQualityFilter``), with its thresholds.

Blank lines are not lines (the authors drop them before every ratio); a line "ends in punctuation" when its last
character is a sentence terminal of any script (``curation.rule_text.sentence_terminals``); the newline/word ratio
divides by all tokens, punctuation included, as the authors' word tokenizer does.
"""

from __future__ import annotations


import polars as pl

from core.config_types import Fraction, LanguageCode, NonNegativeFloat, WordCount
from curation.rule_text import content_lines, duplicate_stats, sentence_terminals, word_stats
from curation.steps.base import StepConfig, register_step
from curation.steps.heuristic import HeuristicFilter


class FineWebQualityConfig(StepConfig, step="fineweb_quality"):
    line_punct_thr: Fraction = 0.12
    line_punct_exclude_zero: bool = False
    short_line_thr: Fraction = 0.67
    short_line_length: WordCount = 30
    char_duplicates_ratio: Fraction = 0.01
    new_line_ratio: NonNegativeFloat = 0.3
    languages: tuple[LanguageCode, ...] | None = None  # None: every language written with spaces


@register_step(FineWebQualityConfig)
class FineWebQualityFilter(HeuristicFilter):
    """Drops list-like pages: few lines end in punctuation, most lines are short, lines repeat, many newlines.

    Ratios over non-blank lines: ending in a sentence terminal < 0.12; at most 30 characters > 0.67; characters in
    repeated lines / characters (newlines excluded) > 0.01; newlines per token > 0.3.
    """

    version = "2"
    config: FineWebQualityConfig

    def check(self, text: str) -> str | None:
        lines = content_lines(text)
        terminals = sentence_terminals()
        return fineweb_reason(
            self.config, len(lines), sum(bool(ln) and ln[-1] in terminals for ln in lines),
            sum(len(ln) <= self.config.short_line_length for ln in lines), duplicate_stats(lines)[1],
            len(text) - text.count("\n"), text.count("\n"), word_stats(text).n_tokens,
        )

    def decide(self, texts: pl.Series) -> tuple[list[str | None], None]:
        from curation.rule_kernel import fineweb_reasons

        return fineweb_reasons(texts, self.config), None


def fineweb_reason(c: FineWebQualityConfig, n_lines: int, punct_lines: int, short_lines: int, dup_line_chars: int,
                   chars_no_newline: int, newlines: int, n_tokens: int) -> str | None:
    if n_lines == 0:
        return "fineweb_empty"
    ratio = punct_lines / n_lines
    if ratio < c.line_punct_thr and not (ratio == 0 and c.line_punct_exclude_zero):
        return "fineweb_line_punct_ratio"
    if short_lines / n_lines > c.short_line_thr:
        return "fineweb_short_line_ratio"
    if dup_line_chars / max(chars_no_newline, 1) > c.char_duplicates_ratio:
        return "fineweb_char_dup_ratio"
    if newlines / max(n_tokens, 1) > c.new_line_ratio:
        return "fineweb_list_ratio"
    return None
