"""Step registry: a config's ``step`` name picks the class; configs form one discriminated union."""

from __future__ import annotations

from typing import Annotated, Union

from pydantic import Field

from curation.steps.base import Step, StepConfig
from curation.steps.c4 import C4QualityConfig, C4QualityFilter
from curation.steps.decontaminate import Decontaminate, DecontaminateConfig
from curation.steps.exact_dedup import ExactDedup, ExactDedupConfig
from curation.steps.extract import Extract, ExtractConfig
from curation.steps.fineweb import FineWebQualityConfig, FineWebQualityFilter
from curation.steps.gopher import GopherQualityConfig, GopherQualityFilter, GopherRepetitionConfig, GopherRepetitionFilter
from curation.steps.langid import LanguageId, LanguageIdConfig
from curation.steps.line_dedup import LineDedup, LineDedupConfig
from curation.steps.mail_body import MailBody, MailBodyConfig
from curation.steps.minhash import MinHashConfig, MinHashDedup
from curation.steps.mix import Mix, MixConfig
from curation.steps.normalize import Normalize, NormalizeConfig
from curation.steps.pii import PiiConfig, PiiRedaction
from curation.steps.quality import QualityClassifier, QualityConfig
from curation.steps.tokenize import Tokenize, TokenizeConfig
from curation.steps.urls import UrlDedup, UrlDedupConfig, UrlFilter, UrlFilterConfig

STEP_CLASSES: dict[str, type[Step]] = {
    cls.name: cls
    for cls in (
        Normalize, ExactDedup, MinHashDedup, GopherQualityFilter, GopherRepetitionFilter,
        C4QualityFilter, FineWebQualityFilter, LanguageId, QualityClassifier, MailBody, LineDedup, Decontaminate,
        Extract, UrlDedup, UrlFilter, PiiRedaction, Tokenize, Mix,
    )
}

AnyStepConfig = Annotated[
    Union[
        NormalizeConfig, ExactDedupConfig, MinHashConfig, GopherQualityConfig, GopherRepetitionConfig,
        C4QualityConfig, FineWebQualityConfig, LanguageIdConfig, QualityConfig, MailBodyConfig, LineDedupConfig,
        DecontaminateConfig, ExtractConfig, UrlDedupConfig, UrlFilterConfig, PiiConfig, TokenizeConfig, MixConfig,
    ],
    Field(discriminator="step"),
]


def build_step(config: StepConfig) -> Step:
    return STEP_CLASSES[config.step](config)


def default_steps() -> list[StepConfig]:
    """FineWeb's order: cheap exact dedup first, filters, then near-dedup on what survived.

    C4 runs as FineWeb ran it (datatrove's C4QualityFilter(filter_no_terminal_punct=False) with datatrove's
    defaults): without the terminal-punctuation line rule (it strips too much web text), at least 5 sentences per
    page and 3 words per line (the C4 paper's own numbers, the class defaults, are 3 and 5).
    """
    return [
        NormalizeConfig(),
        ExactDedupConfig(),
        LanguageIdConfig(),
        GopherRepetitionConfig(),
        GopherQualityConfig(),
        C4QualityConfig(filter_no_terminal_punct=False, min_num_sentences=5, min_words_per_line=3),
        FineWebQualityConfig(),
        MinHashConfig(),
    ]
