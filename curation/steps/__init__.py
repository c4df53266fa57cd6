"""Step registry: every module of this package is imported, and each ``@register_step`` class in it is registered
under its config's ``step`` name (``class XConfig(StepConfig, step="x")``, the one place the name is written).

Adding a step is one new module here (see README, "How to add a step"); this file does not change.
``AnyStepConfig`` is the discriminated union of the registered configs: a config file's ``- step: x`` picks
``XConfig``, and the Prefect UI form offers every step.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Annotated, Union

from pydantic import Field

from curation.steps.base import STEP_CLASSES, Step, StepConfig, register_step

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    importlib.import_module(f"{__name__}.{_module}")

from curation.steps.c4 import C4QualityConfig  # noqa: E402  (the default pipeline's configs)
from curation.steps.exact_dedup import ExactDedupConfig  # noqa: E402
from curation.steps.fineweb import FineWebQualityConfig  # noqa: E402
from curation.steps.gopher import GopherQualityConfig, GopherRepetitionConfig  # noqa: E402
from curation.steps.langid import LanguageIdConfig  # noqa: E402
from curation.steps.minhash import MinHashConfig  # noqa: E402
from curation.steps.normalize import NormalizeConfig  # noqa: E402


def step_config_union() -> object:
    """The discriminated union (on ``step``) of the configs registered so far."""
    return Annotated[Union[tuple(cls.config_class for cls in STEP_CLASSES.values())], Field(discriminator="step")]


AnyStepConfig = step_config_union()  # every step of this package (CurationConfig.steps, the UI form)

__all__ = ["STEP_CLASSES", "AnyStepConfig", "Step", "StepConfig", "build_step", "default_steps", "register_step",
           "step_config_union"]


def build_step(config: StepConfig) -> Step:
    """The registered step for ``config`` (by its ``step`` name), built with it."""
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
