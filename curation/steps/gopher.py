"""Gopher quality and repetition rules (Rae et al. 2021, Table A1), thresholds as in datatrove's defaults."""

from __future__ import annotations

import re
from typing import Literal

from curation.steps.base import FilterStep, StepConfig
from curation.text import PUNCTUATION, duplicate_stats, duplicated_ngram_chars, ngrams, top_ngram_chars, words

STOP_WORDS = ("the", "be", "to", "of", "and", "that", "have", "with")
PARAGRAPH_RE = re.compile(r"\n{2,}")


class GopherQualityConfig(StepConfig):
    step: Literal["gopher_quality"] = "gopher_quality"
    min_doc_words: int | None = 50
    max_doc_words: int | None = 100_000
    min_avg_word_length: float | None = 3
    max_avg_word_length: float | None = 10
    max_symbol_word_ratio: float | None = 0.1
    max_bullet_lines_ratio: float | None = 0.9
    max_ellipsis_lines_ratio: float | None = 0.3
    max_non_alpha_words_ratio: float | None = 0.8
    min_stop_words: int | None = 2
    bullet_chars: tuple[str, ...] = ("•",)
    stop_words: tuple[str, ...] = STOP_WORDS


class GopherQualityFilter(FilterStep):
    """Drops documents whose word statistics look unlike prose (too short, symbol-heavy, no stop words)."""

    name = "gopher_quality"
    config: GopherQualityConfig

    def check(self, text: str) -> str | None:
        c = self.config
        toks = words(text)
        content = [w for w in toks if w not in PUNCTUATION]
        n_words = len(content)
        if c.min_doc_words and n_words < c.min_doc_words:
            return "gopher_short_doc"
        if c.max_doc_words and n_words > c.max_doc_words:
            return "gopher_long_doc"
        if n_words == 0:
            return "gopher_short_doc"
        avg = sum(map(len, content)) / n_words
        if c.min_avg_word_length and avg < c.min_avg_word_length:
            return "gopher_below_avg_word_length"
        if c.max_avg_word_length and avg > c.max_avg_word_length:
            return "gopher_above_avg_word_length"
        if c.max_symbol_word_ratio and text.count("#") / n_words > c.max_symbol_word_ratio:
            return "gopher_too_many_hashes"
        if c.max_symbol_word_ratio and (text.count("...") + text.count("…")) / n_words > c.max_symbol_word_ratio:
            return "gopher_too_many_ellipsis"
        lines = text.splitlines() or [text]
        if c.max_bullet_lines_ratio and sum(ln.lstrip().startswith(c.bullet_chars) for ln in lines) / len(
            lines
        ) > c.max_bullet_lines_ratio:
            return "gopher_too_many_bullets"
        if c.max_ellipsis_lines_ratio and sum(ln.rstrip().endswith(("...", "…")) for ln in lines) / len(
            lines
        ) > c.max_ellipsis_lines_ratio:
            return "gopher_too_many_end_ellipsis"
        if c.max_non_alpha_words_ratio and sum(any(ch.isalpha() for ch in w) for w in toks) / n_words < (
            c.max_non_alpha_words_ratio
        ):
            return "gopher_below_alpha_threshold"
        stop = set(c.stop_words)
        if c.min_stop_words and sum(w.lower() in stop for w in toks) < c.min_stop_words:
            return "gopher_too_few_stop_words"
        return None


class GopherRepetitionConfig(StepConfig):
    step: Literal["gopher_repetition"] = "gopher_repetition"
    dup_line_frac: float | None = 0.3
    dup_para_frac: float | None = 0.3
    dup_line_char_frac: float | None = 0.2
    dup_para_char_frac: float | None = 0.2
    top_n_grams: tuple[tuple[int, float], ...] = ((2, 0.2), (3, 0.18), (4, 0.16))
    dup_n_grams: tuple[tuple[int, float], ...] = ((5, 0.15), (6, 0.14), (7, 0.13), (8, 0.12), (9, 0.11), (10, 0.10))


class GopherRepetitionFilter(FilterStep):
    """Drops documents dominated by repeated lines, paragraphs or n-grams (menus, spam templates)."""

    name = "gopher_repetition"
    config: GopherRepetitionConfig

    def check(self, text: str) -> str | None:
        c = self.config
        n_chars = len(text) or 1
        paragraphs = PARAGRAPH_RE.split(text.strip())
        dup_n, dup_chars = duplicate_stats(paragraphs)
        if c.dup_para_frac and dup_n / len(paragraphs) > c.dup_para_frac:
            return "gopher_dup_para_frac"
        if c.dup_para_char_frac and dup_chars / n_chars > c.dup_para_char_frac:
            return "gopher_dup_para_char_frac"
        lines = text.splitlines() or [text]
        dup_n, dup_chars = duplicate_stats(lines)
        if c.dup_line_frac and dup_n / len(lines) > c.dup_line_frac:
            return "gopher_dup_line_frac"
        if c.dup_line_char_frac and dup_chars / n_chars > c.dup_line_char_frac:
            return "gopher_dup_line_char_frac"
        toks = words(text)
        for n, frac in c.top_n_grams:
            grams = ngrams(toks, n)
            if grams and top_ngram_chars(grams) / n_chars > frac:
                return f"gopher_top_{n}_gram"
        for n, frac in c.dup_n_grams:
            if len(toks) >= n and duplicated_ngram_chars(toks, n) / n_chars > frac:
                return f"gopher_duplicated_{n}_grams"
        return None
