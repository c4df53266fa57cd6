"""Eval decontamination: documents sharing a 13-gram of tokens with an evaluation set are removed, with the match.

Tokens are the dedup tokens (``curation.text.dedup_tokens``): folded words, and single characters in scripts
written without spaces, so a Chinese, Japanese or Thai eval item is matched by 13 consecutive characters
(a Traditional-script copy of a Simplified item too). The eval side is an index of gram hashes (sorted numpy
array, 8 bytes a gram) built once per process from JSONL files; fields may be dotted paths (``doc.query`` in
OLMES request files). An eval text shorter than ``ngram`` tokens but of at least ``min_eval_words`` tokens is
one gram of its whole (normalized) token sequence, and documents are searched for runs of that length too, so a
12-word question is found alone or inside a paragraph (dolma#174). Eval texts of fewer than ``min_eval_words``
tokens are not checked (too short to be evidence); how many is logged.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np
import orjson
import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from curation.config_types import PositiveInt
from curation.readers import InputError, _lines
from curation.steps.base import Step, StepConfig, split_by_reason
from curation.dedup.signatures import token_hashes


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


log = logging.getLogger(__name__)


def gram_hashes(tokens: np.ndarray, n: int) -> np.ndarray:
    """uint64 hash of every run of ``n`` consecutive token hashes (the length is hashed in, so a 12-token run
    never equals a 13-token one); empty when there are fewer than ``n`` tokens."""
    m = len(tokens) - n + 1
    if m <= 0:
        return np.zeros(0, dtype=np.uint64)
    h = np.full(m, n, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    for t in range(n):
        h = h * np.uint64(0x100000001B3) + tokens[t : t + m]
    h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)  # splitmix64 finaliser
    h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


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
def eval_index(config: DecontaminateConfig) -> tuple[np.ndarray, np.ndarray, list[str], tuple[int, ...]]:
    """(sorted gram hashes, label index per hash, labels ``file:id``, gram lengths to search documents for).

    An item of at least ``ngram`` tokens gives its ``ngram``-grams; a shorter one of at least ``min_eval_words``
    tokens gives one gram of all its tokens, and its length joins the lengths searched.
    """
    texts, label_of, labels = [], [], []
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
            texts.append(text)
            label_of.append(seen[label])
    hashes, owners, lengths, too_short = [], [], {config.ngram}, 0
    for tokens, owner in zip(token_hashes(texts), label_of):
        n = min(len(tokens), config.ngram)
        if n < config.min_eval_words:
            too_short += 1
            continue
        lengths.add(n)
        grams = gram_hashes(tokens, n)
        hashes.append(grams)
        owners.append(np.full(len(grams), owner, dtype=np.int64))
    if too_short:
        log.warning("decontaminate: %d of %d eval items have fewer than min_eval_words = %d tokens and are not "
                    "checked", too_short, len(texts), config.min_eval_words)
    h = np.concatenate(hashes) if hashes else np.zeros(0, dtype=np.uint64)
    order = np.argsort(h, kind="stable")
    own = np.concatenate(owners) if owners else np.zeros(0, dtype=np.int64)
    return h[order], own[order], labels, tuple(sorted(lengths))


class Decontaminate(Step):
    name = "decontaminate"
    config: DecontaminateConfig

    def run(self, batch: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        index, owners, labels, lengths = eval_index(self.config)
        matches: list[str | None] = []
        for tokens in token_hashes(batch["text"]):
            grams = np.concatenate([gram_hashes(tokens, n) for n in lengths])
            pos = np.searchsorted(index, grams)
            hit = (pos < len(index)) & (index[np.minimum(pos, len(index) - 1)] == grams) if len(index) else grams < 0
            matches.append(labels[owners[pos[hit][0]]] + f" ({int(hit.sum())} grams)" if hit.any() else None)
        batch = batch.with_columns(pl.Series("contamination", matches, dtype=pl.String))
        return split_by_reason(batch, ["eval_contamination" if m else None for m in matches], self.name)
