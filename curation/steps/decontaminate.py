"""Eval decontamination: documents sharing a word 13-gram with an evaluation set are removed, with the match.

The eval side is an index of 13-gram hashes (sorted numpy array, 8 bytes a gram) built once per process from
JSONL files; fields may be dotted paths (``doc.query`` in OLMES request files). Eval texts shorter than
``ngram`` words count as one gram when they have at least ``min_eval_words`` words (else they would be invisible).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
import orjson
import polars as pl
import xxhash
from pydantic import BaseModel, ConfigDict, Field

from curation.config_types import PositiveInt
from curation.readers import InputError, _lines
from curation.steps.base import Step, StepConfig, split_by_reason
from curation.text import ALNUM_WORD_RE


class EvalSource(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    text_field: str = "text"
    id_field: str | None = None


class DecontaminateConfig(StepConfig):
    step: Literal["decontaminate"] = "decontaminate"
    evals: tuple[EvalSource, ...] = Field(min_length=1)
    ngram: PositiveInt = 13
    min_eval_words: PositiveInt = 8  # an eval text of no words is no evidence of anything


def _get(record: dict, dotted: str):
    for part in dotted.split("."):
        record = record.get(part) if isinstance(record, dict) else None
    return record


def _grams(text: str, n: int, min_words: int) -> list[int]:
    words = ALNUM_WORD_RE.findall(text.lower())
    if len(words) < n:
        return [xxhash.xxh3_64_intdigest(" ".join(words).encode())] if len(words) >= min_words else []
    return [xxhash.xxh3_64_intdigest(" ".join(words[i : i + n]).encode()) for i in range(len(words) - n + 1)]


def _eval_records(path: Path):
    """(line, record) of an eval JSONL (plain, .gz or .zst; BOM dropped, blank lines skipped) via the readers' line
    reader; a bad line stops the run with file and line (a silently skipped eval item would leave leaks in)."""
    broken: list = []
    for line_no, raw in _lines(path, lambda *q: broken.append(q)):
        if raw.strip():
            try:
                yield line_no, orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise InputError(f"{path}:{line_no}: eval item is not valid JSON ({exc})") from None
    if broken:
        raise InputError(f"{path}:{broken[0][1]}: {broken[0][2]}")


@lru_cache(maxsize=4)
def eval_index(config: DecontaminateConfig) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(sorted gram hashes, label index per hash, labels ``file:id``)."""
    hashes, owners, labels = [], [], []
    seen: dict[str, int] = {}
    for source in config.evals:
        path = Path(source.path)
        for line_no, record in _eval_records(path):
            text = _get(record, source.text_field)
            if not isinstance(text, str):
                continue
            label = f"{path.name}:{_get(record, source.id_field) if source.id_field else line_no}"
            if label not in seen:
                seen[label] = len(labels)
                labels.append(label)
            grams = _grams(text, config.ngram, config.min_eval_words)
            hashes.extend(grams)
            owners.extend([seen[label]] * len(grams))
    h = np.array(hashes, dtype=np.uint64)
    order = np.argsort(h, kind="stable")
    return h[order], np.array(owners, dtype=np.int64)[order], labels


class Decontaminate(Step):
    name = "decontaminate"
    config: DecontaminateConfig

    def run(self, batch: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        index, owners, labels = eval_index(self.config)
        matches: list[str | None] = []
        for text in batch["text"]:
            grams = np.array(_grams(text, self.config.ngram, self.config.ngram), dtype=np.uint64)
            pos = np.searchsorted(index, grams)
            hit = (pos < len(index)) & (index[np.minimum(pos, len(index) - 1)] == grams) if len(index) else grams < 0
            matches.append(labels[owners[pos[hit][0]]] + f" ({int(hit.sum())} grams)" if hit.any() else None)
        batch = batch.with_columns(pl.Series("contamination", matches, dtype=pl.String))
        return split_by_reason(batch, ["eval_contamination" if m else None for m in matches], self.name)
