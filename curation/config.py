"""The whole curation run as one typed config (YAML/JSON on disk, a form in the Prefect UI)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from curation.readers import ReaderConfig
from curation.steps import AnyStepConfig, default_steps


class CurationConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reader: ReaderConfig = Field(default_factory=ReaderConfig)
    steps: list[AnyStepConfig] = Field(default_factory=default_steps, description="applied in this order")
    output_format: Literal["jsonl", "parquet"] = Field("jsonl", description="format of kept/ and removed/")
    shard_docs: int = Field(100_000, ge=1, description="documents per shard: the unit of parallel work and resume")
    partitions: int = Field(8, ge=1, le=4096, description="hash partitions for global steps' reduce (memory per partition)")

    @classmethod
    def load(cls, path: str | Path | None) -> CurationConfig:
        if path is None:
            return cls()
        text = Path(path).read_text()
        data = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
        return cls.model_validate(data or {})
