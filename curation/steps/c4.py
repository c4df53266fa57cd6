"""C4's rules (Raffel et al. 2020, section 2.2; TensorFlow Datasets' ``c4_utils.clean_page``): line cleanup, then
page rules.

Per line (``str.splitlines``, as the reference): strip; drop it if a word is over 1,000 characters; remove
Wikipedia citation marks; keep only lines ending in a terminal punctuation mark (period, exclamation or question
mark, end quotation mark; an ellipsis is not one) with at least 3 words; drop lines naming JavaScript or a
cookie/terms policy. Per page: "lorem ipsum" or a curly bracket in a kept line drops it; fewer than 5 sentences in
the kept lines drops it. The bad-words list is not applied (a download in datatrove, not shipped here).
"""

from __future__ import annotations

import re
from typing import Literal

import polars as pl
from pydantic import Field

from curation.config_types import WordCount
from curation.steps.base import FilterStep, StepConfig, split_by_reason

CITATION_RE = re.compile(r"\[\d*]|\[edit]|\[citation needed]")
# A sentence ends at a run of terminal marks, optionally closed by quotes or brackets, before whitespace.
SENTENCE_BREAK_RE = re.compile(r"[.!?]+[\"'”’)\]]*\s+(?=\S)")
END_PUNCTUATION = (".", "?", "!", '"', "'", "”", "’")
POLICY_SUBSTRINGS = ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies")


def count_sentences(line: str) -> int:
    """Sentences in one non-empty line: breaks after terminal marks, plus the last sentence even if unterminated."""
    return len(SENTENCE_BREAK_RE.findall(line)) + 1


class C4QualityConfig(StepConfig):
    step: Literal["c4_quality"] = "c4_quality"
    remove_citations: bool = True
    filter_no_terminal_punct: bool = True
    min_num_sentences: WordCount = 5
    min_words_per_line: WordCount = 3
    max_word_length: int = Field(1000, ge=-1, description="-1: no limit")
    filter_lorem_ipsum: bool = True
    filter_javascript: bool = True
    filter_curly_bracket: bool = True
    filter_policy: bool = True


class C4QualityFilter(FilterStep):
    """Keeps only sentence-like lines, then drops pages with too few sentences, lorem ipsum or code braces."""

    name = "c4_quality"
    version = "2"
    config: C4QualityConfig

    def check(self, text: str) -> str | None | tuple[None, str]:
        c = self.config
        kept: list[str] = []
        sentences = 0
        for line in text.splitlines():
            line = line.strip()
            if c.max_word_length >= 0 and any(len(w) > c.max_word_length for w in line.split()):
                continue
            if c.remove_citations:
                line = CITATION_RE.sub("", line)
            if c.filter_no_terminal_punct and (not line.endswith(END_PUNCTUATION) or line.endswith("...")):
                continue
            if len(line.split()) < c.min_words_per_line:
                continue
            lower = line.lower()
            if c.filter_lorem_ipsum and "lorem ipsum" in lower:
                return "c4_lorem_ipsum"
            if c.filter_javascript and "javascript" in lower:
                continue
            if c.filter_curly_bracket and "{" in line:
                return "c4_curly_bracket"
            if c.filter_policy and any(p in lower for p in POLICY_SUBSTRINGS):
                continue
            sentences += count_sentences(line)
            kept.append(line)
        if sentences < c.min_num_sentences:
            return "c4_too_few_sentences"
        return None, "\n".join(kept).strip()

    def run(self, batch: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        from curation.rule_kernel import c4_reasons_and_texts

        reasons, texts = c4_reasons_and_texts(batch["text"], self.config)
        batch = batch.with_columns(pl.Series("text", texts, dtype=pl.String))
        return split_by_reason(batch, reasons, self.name)
