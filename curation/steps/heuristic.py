"""What the word-based heuristic rules (Gopher, C4, FineWeb) may judge, and the note left on what they may not.

The rules count words split at whitespace and, for Gopher quality, English stop words. On a language written
without spaces (Chinese, Japanese, Thai, Lao, Khmer, Myanmar, Tibetan) a "word" is a whole sentence, so those rules
would remove clean prose (datatrove#202). FineWeb-2 answers with a tokenizer and thresholds per language; winnow
does not have those yet, so it does the honest thing: such documents, and documents whose ``lang`` (from the
``langid`` step) is not among the filter's ``languages``, pass through unjudged. Each one carries the note
``step:lang`` in its ``unjudged`` column, and the report counts them per step and language.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from curation.steps.base import FilterStep, split_by_reason

UNSEGMENTED_LANGUAGES = frozenset({"zh", "ja", "th", "lo", "km", "my", "bo", "wuu", "yue", "gan"})
UNSEGMENTED_SHARE = 0.5  # a document is in an unsegmented script when over half its letters are
NOTE_COLUMN = "unjudged"


class HeuristicFilter(FilterStep):
    """A FilterStep whose ``decide`` sees only the documents it can judge (see the module docstring).

    Subclasses implement ``decide(texts) -> (reasons, new_texts or None)`` on a polars String Series; their
    config may have ``languages`` (None: every language written with spaces).
    """

    def decide(self, texts: pl.Series) -> tuple[list[str | None], list[str] | None]:
        raise NotImplementedError

    def unjudged_languages(self, batch: pl.DataFrame) -> list[str | None]:
        """Per document, None when the rules apply, else the language (or script) they cannot judge."""
        from curation.rule_kernel import unsegmented_letter_share

        share = unsegmented_letter_share(batch["text"])
        langs = batch["lang"].to_list() if "lang" in batch.columns else [None] * batch.height
        allowed = getattr(self.config, "languages", None)
        out: list[str | None] = []
        for lang, sh in zip(langs, share.tolist()):
            if lang in UNSEGMENTED_LANGUAGES:
                out.append(lang)
            elif sh > UNSEGMENTED_SHARE:
                out.append("unsegmented_script")
            elif allowed is not None and lang is not None and lang not in allowed:
                out.append(lang)
            else:
                out.append(None)
        return out

    def run(self, batch: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        skip = self.unjudged_languages(batch)
        judged = np.array([s is None for s in skip], dtype=bool)
        reasons: list[str | None] = [None] * batch.height
        if judged.all():
            reasons, texts = self.decide(batch["text"])
        else:
            idx = np.flatnonzero(judged)
            texts = batch["text"].to_list()
            if len(idx):
                sub_reasons, sub_texts = self.decide(batch["text"].gather(idx))
                for j, i in enumerate(idx.tolist()):
                    reasons[i] = sub_reasons[j]
                    if sub_texts is not None:
                        texts[i] = sub_texts[j]
        if texts is not None:
            batch = batch.with_columns(pl.Series("text", texts, dtype=pl.String))
        notes = [None if s is None else f"{self.name}:{s}" for s in skip]
        previous = batch[NOTE_COLUMN].to_list() if NOTE_COLUMN in batch.columns else [None] * batch.height
        merged = [p if n is None else n if p is None else f"{p},{n}" for p, n in zip(previous, notes)]
        batch = batch.with_columns(pl.Series(NOTE_COLUMN, merged, dtype=pl.String))
        return split_by_reason(batch, reasons, self.name)


def count_unjudged(kept: pl.DataFrame, step: str) -> dict[str, int]:
    """{language: documents the step passed through unjudged} in one kept batch."""
    if NOTE_COLUMN not in kept.columns:
        return {}
    prefix = f"{step}:"
    counts: dict[str, int] = {}
    for value in kept[NOTE_COLUMN].drop_nulls().to_list():
        for note in value.split(","):
            if note.startswith(prefix):
                lang = note[len(prefix):]
                counts[lang] = counts.get(lang, 0) + 1
    return counts
