"""``tokenize`` step: each kept document's token count (``n_tokens``), the number training budgets are set in.

Counts come from the same tokenizer and encoding as ``winnow tokenize``'s shards (``curation.tokenize``), so the
report's totals match the shards it would write. The step removes nothing; put it last.
"""

from __future__ import annotations

from typing import Annotated

import polars as pl
from pydantic import AfterValidator, Field

from curation.steps.base import Step, StepConfig, register_step, split_by_reason
from curation.tokenize import DEFAULT_TOKENIZER, check_tokenizer, count_tokens, load_tokenizer


class TokenizeConfig(StepConfig, step="tokenize"):
    tokenizer: Annotated[str, AfterValidator(check_tokenizer)] = Field(DEFAULT_TOKENIZER, description="'smollm2' (packaged) or a path to a tokenizers JSON file")


@register_step(TokenizeConfig)
class Tokenize(Step):
    config: TokenizeConfig

    def run(self, batch: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        counts = count_tokens(batch["text"].to_list(), load_tokenizer(self.config.tokenizer))
        kept = batch.with_columns(pl.Series("n_tokens", counts, dtype=pl.Int64))
        return split_by_reason(kept, [None] * kept.height, self.name)
