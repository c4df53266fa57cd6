"""C4's rules (Raffel et al. 2020, section 2.2; TensorFlow Datasets' ``c4_utils.clean_page``): line cleanup, then
page rules.

Per line (``str.splitlines``, as the reference): strip; drop it if a word is over 1,000 characters; remove
Wikipedia citation marks; keep only lines ending in a terminal punctuation mark (period, exclamation or question
mark, end quotation mark; an ellipsis is not one) with at least 5 words; drop lines naming JavaScript or a
cookie/terms policy. Per page: "lorem ipsum" or a curly bracket in a kept line drops it; fewer than 3 sentences in
the kept lines drops it. The bad-words list is not applied (a download in datatrove, not shipped here).
"""

from __future__ import annotations

import re

import polars as pl
from pydantic import Field, field_validator

from core.config_types import LanguageCode, WordCount
from curation.rule_text import OPENERS, is_closer, is_symbol, sentence_terminals
from curation.steps.base import StepConfig, register_step
from curation.steps.heuristic import HeuristicFilter

CITATION_RE = re.compile(r"\[\d*]|\[edit]|\[citation needed]")
# "a period, exclamation mark, question mark, or end quotation mark" (the reference code: . ? ! and the straight
# double quote; datatrove adds the apostrophe, which ends "students'" as often as a quotation)
END_PUNCTUATION = (".", "?", "!", '"', "”")
POLICY_SUBSTRINGS = ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies")
# As spaCy's sentencizer (which datatrove's C4 filter runs): a sentence ends at a terminal mark (., !, ?, 。 and
# every other Unicode Sentence_Terminal) when, after closing quotes or brackets and at least one space, a character that
# is not punctuation follows on the line. A run of periods ("...") ends none, nor does a single period after an
# abbreviation: an initial ("H. gammarus"), a word with inner periods ("e.g.", "U.S."), or one of these (kept
# whole by spaCy's English tokenizer).
ABBREVIATIONS = frozenset(
    "Mr Mrs Ms Messrs Dr Prof Rev Gen Gov Sen Rep Adm St Mt Jr Sr Co Corp Inc Ltd Bros vs "
    "Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec".split()
)


def is_abbreviation(word: str) -> bool:
    """``word`` (without its final period) is an initial, holds a period, or is a listed abbreviation."""
    return (len(word) == 1 and word.isalpha()) or "." in word or word in ABBREVIATIONS


def count_sentences(line: str) -> int:
    """Sentences in one non-empty line (see above): breaks, plus the last sentence even if unterminated."""
    terminals = sentence_terminals()
    count, i, n = 1, 0, len(line)
    while i < n:
        if line[i] not in terminals:
            i += 1
            continue
        j = i
        while j < n and line[j] in terminals:
            j += 1
        run = line[i:j]
        k = j
        while k < n and is_closer(line[k]):
            k += 1
        spaced = k < n and line[k].isspace()
        while k < n and (line[k].isspace() or is_symbol(line[k])):
            k += 1
        if spaced and k < n:
            if run == ".":
                a = i
                while a > 0 and not line[a - 1].isspace():
                    a -= 1
                if not is_abbreviation(line[a:i].lstrip(OPENERS)):
                    count += 1
            elif set(run) != {"."}:
                count += 1
        i = k
    return count


class C4QualityConfig(StepConfig, step="c4_quality"):
    remove_citations: bool = True
    filter_no_terminal_punct: bool = True
    # the paper's numbers ("fewer than 3 sentences", "at least 5 words") and its code's; datatrove's defaults swap
    # them (5 sentences, 3 words), and FineWeb ran those: curation.steps.default_steps() states FineWeb's setting
    min_num_sentences: WordCount = 3
    min_words_per_line: WordCount = 5
    max_word_length: int = Field(1000, ge=-1, description="-1: no limit; 0 would drop every line")

    @field_validator("max_word_length")
    @classmethod
    def _some_words(cls, value: int) -> int:
        if value == 0:
            raise ValueError("max_word_length = 0: must be -1 (no limit) or >= 1 (0 drops every line)")
        return value
    filter_lorem_ipsum: bool = True
    filter_javascript: bool = True
    filter_curly_bracket: bool = True
    filter_policy: bool = True
    languages: tuple[LanguageCode, ...] | None = None  # None: every language written with spaces


@register_step(C4QualityConfig)
class C4QualityFilter(HeuristicFilter):
    """Keeps only sentence-like lines, then drops pages with too few sentences, lorem ipsum or code braces."""

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

    def decide(self, texts: pl.Series) -> tuple[list[str | None], list[str]]:
        from curation.rule_kernel import c4_reasons_and_texts

        return c4_reasons_and_texts(texts, self.config)
