"""The whole curation run as one typed config (YAML/JSON on disk, a form in the Prefect UI)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.config_types import ConfigError, Fraction, describe
from core.readers import ReaderConfig
from curation.steps import AnyStepConfig, default_steps


class CurationConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reader: ReaderConfig = Field(default_factory=ReaderConfig)
    steps: list[AnyStepConfig] = Field(default_factory=default_steps, description="applied in this order")
    output_format: Literal["jsonl", "parquet"] = Field("jsonl", description="format of kept/ and removed/")
    shard_docs: int = Field(100_000, ge=1, description="documents per shard: the unit of parallel work and resume")
    partitions: int = Field(8, ge=1, le=4096, description="hash partitions for global steps' reduce (memory per partition)")
    drop_alarm: Fraction = Field(0.9, description="warn when one step removes more than this share of its input")
    strict: bool = Field(False, description="fail the run (after writing the report) when a drop alarm fires")

    @classmethod
    def checked(cls, data: dict, source: str | None = None) -> CurationConfig:
        """Validated config; ConfigError (one line per bad value) instead of pydantic's multi-line dump."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise ConfigError(describe(exc, cls, source)) from None

    @classmethod
    def load(cls, path: str | Path | None) -> CurationConfig:
        if path is None:
            return cls()
        text = Path(path).read_text(encoding="utf-8-sig")  # a BOM (Windows editors) is not part of the config
        try:
            data = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
        except (json.JSONDecodeError, yaml.YAMLError) as exc:
            raise ConfigError(f"{path}: not valid {'JSON' if str(path).endswith('.json') else 'YAML'}: "
                              f"{' '.join(str(exc).split())}") from None
        if data is not None and not isinstance(data, dict):
            raise ConfigError(f"{path}: a curation config is a mapping (reader:, steps:, ...), got {type(data).__name__}")
        return cls.checked(data or {}, str(path))
