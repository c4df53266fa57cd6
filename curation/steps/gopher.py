"""Gopher quality and repetition rules (Rae et al. 2021, appendix A.1.1 and table A1).

Thresholds are the paper's (and datatrove's defaults). What the rules count (lines, words, n-grams) is defined in
``curation/rule_text.py``; ``check`` is the readable reference and ``run`` the compiled batch path
(``curation/rule_kernel.py``), which gives the same decisions (tested on real documents).
"""

from __future__ import annotations

import polars as pl

from pydantic import field_validator, model_validator

from core.config_types import Fraction, LanguageCode, NonNegativeFloat, PositiveInt, WordCount, check_min_max
from curation.rule_text import (content_lines, duplicate_stats, duplicated_ngram_chars, paragraphs_of,
                                top_ngram_chars, word_stats, words_of)
from curation.steps.base import StepConfig, register_step
from curation.steps.heuristic import HeuristicFilter

STOP_WORDS = ("the", "be", "to", "of", "and", "that", "have", "with")
BULLETS = ("•", "-")  # datatrove 0.10.1's bullets; markdown "*" lists (LIMA answers) are prose


class GopherQualityConfig(StepConfig, step="gopher_quality"):
    min_doc_words: WordCount | None = 50
    max_doc_words: WordCount | None = 100_000
    min_avg_word_length: NonNegativeFloat | None = 3
    max_avg_word_length: NonNegativeFloat | None = 10
    max_symbol_word_ratio: NonNegativeFloat | None = 0.1
    max_bullet_lines_ratio: Fraction | None = 0.9
    max_ellipsis_lines_ratio: Fraction | None = 0.3
    max_non_alpha_words_ratio: Fraction | None = 0.8
    min_stop_words: WordCount | None = 2
    bullet_chars: tuple[str, ...] = BULLETS
    stop_words: tuple[str, ...] = STOP_WORDS
    languages: tuple[LanguageCode, ...] | None = ("en",)  # the stop words are English

    @field_validator("bullet_chars")
    @classmethod
    def _single_characters(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(len(b) != 1 for b in value):
            raise ValueError(f"bullet_chars = {value!r}: each must be a single character")
        return value

    @field_validator("stop_words")
    @classmethod
    def _few_stop_words(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(value) > 64 or any(not w or len(w.split()) != 1 for w in value):
            raise ValueError("stop_words: at most 64 single words")
        return value

    @model_validator(mode="after")
    def _ordered(self):
        check_min_max(self, "min_doc_words", "max_doc_words")
        check_min_max(self, "min_avg_word_length", "max_avg_word_length")
        if self.min_stop_words and len(set(w.lower() for w in self.stop_words)) < self.min_stop_words:
            raise ValueError(f"min_stop_words = {self.min_stop_words} needs at least that many distinct stop_words "
                             f"(got {len(self.stop_words)}): every document would be removed")
        return self


@register_step(GopherQualityConfig)
class GopherQualityFilter(HeuristicFilter):
    """Drops documents whose word statistics look unlike prose (Gopher, appendix A.1.1).

    Words outside 50-100,000 or mean word length outside 3-10 characters; more than 0.1 ``#`` or ellipses per
    word; over 90 % of lines starting with a bullet or over 30 % ending with an ellipsis; under 80 % of words
    (whitespace-separated) holding a letter; fewer than 2 distinct stop words (case-insensitive).
    """

    version = "2"
    config: GopherQualityConfig

    def check(self, text: str) -> str | None:
        c = self.config
        ws = word_stats(text)
        lines = content_lines(text)
        stops = {w.lower() for w in words_of(text)} & {w.lower() for w in c.stop_words}
        return gopher_quality_reason(
            c, ws.n_words, ws.word_chars, text.count("#"), text.count("...") + text.count("…"),
            len(lines), sum(ln.lstrip().startswith(c.bullet_chars) for ln in lines),
            sum(ln.rstrip().endswith(("...", "…")) for ln in lines), ws.n_chunks, ws.alpha_chunks, len(stops),
        )

    def decide(self, texts: pl.Series) -> tuple[list[str | None], None]:
        from curation.rule_kernel import gopher_quality_reasons

        return gopher_quality_reasons(texts, self.config), None


def gopher_quality_reason(c: GopherQualityConfig, n_words: int, word_chars: int, hashes: int, ellipses: int,
                          n_lines: int, bullet_lines: int, ellipsis_lines: int, n_chunks: int, alpha_chunks: int,
                          stop_words: int) -> str | None:
    """The decision from the counts (shared by ``check`` and the compiled path)."""
    if c.min_doc_words and n_words < c.min_doc_words:
        return "gopher_short_doc"
    if c.max_doc_words and n_words > c.max_doc_words:
        return "gopher_long_doc"
    if n_words == 0:
        return "gopher_short_doc"
    avg = word_chars / n_words
    if c.min_avg_word_length and avg < c.min_avg_word_length:
        return "gopher_below_avg_word_length"
    if c.max_avg_word_length and avg > c.max_avg_word_length:
        return "gopher_above_avg_word_length"
    if c.max_symbol_word_ratio and hashes / n_words > c.max_symbol_word_ratio:
        return "gopher_too_many_hashes"
    if c.max_symbol_word_ratio and ellipses / n_words > c.max_symbol_word_ratio:
        return "gopher_too_many_ellipsis"
    if c.max_bullet_lines_ratio and n_lines and bullet_lines / n_lines > c.max_bullet_lines_ratio:
        return "gopher_too_many_bullets"
    if c.max_ellipsis_lines_ratio and n_lines and ellipsis_lines / n_lines > c.max_ellipsis_lines_ratio:
        return "gopher_too_many_end_ellipsis"
    if c.max_non_alpha_words_ratio and alpha_chunks / max(n_chunks, 1) < c.max_non_alpha_words_ratio:
        return "gopher_below_alpha_threshold"
    if c.min_stop_words and stop_words < c.min_stop_words:
        return "gopher_too_few_stop_words"
    return None


class GopherRepetitionConfig(StepConfig, step="gopher_repetition"):
    dup_line_frac: Fraction | None = 0.3
    dup_para_frac: Fraction | None = 0.3
    dup_line_char_frac: Fraction | None = 0.2
    dup_para_char_frac: Fraction | None = 0.2
    top_n_grams: tuple[tuple[PositiveInt, Fraction], ...] = ((2, 0.2), (3, 0.18), (4, 0.16))
    dup_n_grams: tuple[tuple[PositiveInt, Fraction], ...] = (
        (5, 0.15), (6, 0.14), (7, 0.13), (8, 0.12), (9, 0.11), (10, 0.10))
    languages: tuple[LanguageCode, ...] | None = None  # None: every language written with spaces


@register_step(GopherRepetitionConfig)
class GopherRepetitionFilter(HeuristicFilter):
    """Drops documents dominated by repeated lines, paragraphs or word n-grams (Gopher, table A1).

    Fractions are of the document's characters, except the duplicate line and paragraph fractions, which are of
    its (non-blank) lines and paragraphs.
    """

    version = "2"
    config: GopherRepetitionConfig

    def check(self, text: str) -> str | None:
        paragraphs = paragraphs_of(text)
        lines = content_lines(text)
        words = words_of(text)
        top = {n: top_ngram_chars(words, n) for n, _ in self.config.top_n_grams}
        dup = {n: duplicated_ngram_chars(words, n) for n, _ in self.config.dup_n_grams}
        return gopher_repetition_reason(self.config, len(text), len(paragraphs), *duplicate_stats(paragraphs),
                                        len(lines), *duplicate_stats(lines), top, dup)

    def decide(self, texts: pl.Series) -> tuple[list[str | None], None]:
        from curation.rule_kernel import gopher_repetition_reasons

        return gopher_repetition_reasons(texts, self.config), None


def gopher_repetition_reason(c: GopherRepetitionConfig, n_chars: int, n_paras: int, dup_paras: int,
                             dup_para_chars: int, n_lines: int, dup_lines: int, dup_line_chars: int,
                             top: dict[int, int], dup: dict[int, int]) -> str | None:
    n_chars = n_chars or 1
    if c.dup_para_frac and n_paras and dup_paras / n_paras > c.dup_para_frac:
        return "gopher_dup_para_frac"
    if c.dup_para_char_frac and dup_para_chars / n_chars > c.dup_para_char_frac:
        return "gopher_dup_para_char_frac"
    if c.dup_line_frac and n_lines and dup_lines / n_lines > c.dup_line_frac:
        return "gopher_dup_line_frac"
    if c.dup_line_char_frac and dup_line_chars / n_chars > c.dup_line_char_frac:
        return "gopher_dup_line_char_frac"
    for n, frac in c.top_n_grams:
        if top[n] / n_chars > frac:
            return f"gopher_top_{n}_gram"
    for n, frac in c.dup_n_grams:
        if dup[n] / n_chars > frac:
            return f"gopher_duplicated_{n}_grams"
    return None

