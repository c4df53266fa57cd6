"""C4 rules (Raffel et al. 2020) as datatrove's C4QualityFilter applies them: line cleanup, then page rules.

The bad-words list is not applied: it is a network download in datatrove and not shipped here.
"""

from __future__ import annotations

import re
from typing import Literal

from curation.steps.base import FilterStep, StepConfig

CITATION_RE = re.compile(r"\[\d*]|\[edit]|\[citation needed]")
SENTENCE_END_RE = re.compile(r"[.!?]+(?:\s|$)")
END_PUNCTUATION = (".", "?", "!", '"', "'")
POLICY_SUBSTRINGS = ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies")


class C4QualityConfig(StepConfig):
    step: Literal["c4_quality"] = "c4_quality"
    remove_citations: bool = True
    filter_no_terminal_punct: bool = True
    min_num_sentences: int = 5
    min_words_per_line: int = 3
    max_word_length: int = 1000
    filter_lorem_ipsum: bool = True
    filter_javascript: bool = True
    filter_curly_bracket: bool = True
    filter_policy: bool = True


class C4QualityFilter(FilterStep):
    """Keeps only sentence-like lines, then drops pages with too few sentences, lorem ipsum or code braces."""

    name = "c4_quality"
    config: C4QualityConfig

    def check(self, text: str) -> str | None | tuple[None, str]:
        c = self.config
        kept: list[str] = []
        sentences = 0
        for line in text.splitlines():
            line = line.strip()
            line_words = line.split()
            if c.max_word_length >= 0 and any(len(w) > c.max_word_length for w in line_words):
                continue
            if c.remove_citations:
                line = CITATION_RE.sub("", line)
            if c.filter_no_terminal_punct and (not line.endswith(END_PUNCTUATION) or line.endswith("...")):
                continue
            if len(line_words) < c.min_words_per_line:
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
            sentences += max(1, len(SENTENCE_END_RE.findall(line)))
            kept.append(line)
        if sentences < c.min_num_sentences:
            return "c4_too_few_sentences"
        return None, "\n".join(kept).strip()
