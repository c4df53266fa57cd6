"""Eval decontamination: documents sharing a 13-word run of tokens with an evaluation set are removed, with the match.

Tokens are the dedup tokens (``curation.text.dedup_tokens``): folded words, and single characters in scripts
written without spaces. Lengths are counted in words, where a Han/Kana character counts as a word and a Thai,
Lao, Khmer or Myanmar code point as a quarter word (Thai has 5.4 code points per word of parallel German text: 13
of them are 2-3 words, and matched 460 of 589 unrelated Thai documents against 240 XQuAD paragraphs; 52 match
none). So a Chinese or Japanese item is matched by 13 consecutive characters, a Thai one by 52 code points,
spaces ignored, a Traditional-script copy of a Simplified item too. A gram starts at every token and is the
shortest run reaching ``ngram`` words, so the same text gives the same grams wherever it stands.

The eval side is an index of gram hashes (sorted numpy array, 8 bytes a gram) built once per process from JSONL
files; fields may be dotted paths (``doc.query`` in OLMES request files). An eval text shorter than ``ngram``
words but of at least ``min_eval_words`` is one gram of its whole (normalized) token sequence, and documents are
searched for runs of that many tokens too, so a 12-word question is found alone or inside a paragraph
(dolma#174). Eval texts under ``min_eval_words`` words are not checked (too short to be evidence); how many is
logged.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Annotated

import numba as nb
import numpy as np
import orjson
import polars as pl
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from core.config_types import PositiveInt
from core.readers import InputError, numbered_lines
from curation.steps.base import Step, StepConfig, register_step, split_by_reason
from curation.dedup.signatures import token_hashes


def _eval_file(path: str) -> str:
    """``path`` when it is a file (read relative to the working directory, as at run time), else ValueError."""
    if not Path(path).is_file():
        raise ValueError("no such eval file (a JSONL file, .gz or .zst, one eval item a line)")
    return path


class EvalSource(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    path: Annotated[str, AfterValidator(_eval_file)]
    text_field: str = "text"
    id_field: str | None = None


class DecontaminateConfig(StepConfig, step="decontaminate"):
    evals: tuple[EvalSource, ...] = Field(min_length=1)
    ngram: PositiveInt = 13
    min_eval_words: PositiveInt = 8  # an eval text of no words is no evidence of anything


def _get(record: dict, dotted: str):
    for part in dotted.split("."):
        record = record.get(part) if isinstance(record, dict) else None
    return record


log = logging.getLogger(__name__)


QUARTER_WORDS = np.array([0, 4, 4, 1], dtype=np.int64)
"""Length of a token in quarter words, by kind (separator, word, Han/Kana character, Thai/Lao/Khmer/Myanmar code
point: ``curation.text.TOKEN_*``)."""


@nb.njit(cache=True, inline="always")
def _finish(h, tokens):
    h = h ^ (np.uint64(tokens) * np.uint64(0x9E3779B97F4A7C15))  # the token count is hashed in
    h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)  # splitmix64 finaliser
    h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


@nb.njit(cache=True)
def weighted_grams(tokens, weights, target):
    """From each start, the hash of the shortest run of tokens whose weights reach ``target`` (none once the
    rest of the text is lighter)."""
    out = np.empty(len(tokens), dtype=np.uint64)
    n = 0
    for i in range(len(tokens)):
        h, w, j = np.uint64(0), 0, i
        while j < len(tokens) and w < target:
            h = h * np.uint64(0x100000001B3) + tokens[j]
            w += weights[j]
            j += 1
        if w < target:
            break
        out[n] = _finish(h, j - i)
        n += 1
    return out[:n]


@nb.njit(cache=True)
def fixed_grams(tokens, length):
    """The hash of every run of ``length`` tokens (equal to ``weighted_grams``' hash of the same run)."""
    out = np.empty(max(0, len(tokens) - length + 1), dtype=np.uint64)
    for i in range(len(out)):
        h = np.uint64(0)
        for j in range(i, i + length):
            h = h * np.uint64(0x100000001B3) + tokens[j]
        out[i] = _finish(h, length)
    return out


def _eval_records(path: Path):
    """(line, record) of an eval JSONL (plain, .gz or .zst; BOM dropped, blank lines skipped) via the readers' line
    reader; a bad line stops the run with file and line (a silently skipped eval item would leave leaks in)."""
    broken: list = []
    for line_no, raw in numbered_lines(path, lambda *q: broken.append(q)):
        if raw.strip():
            try:
                yield line_no, orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise InputError(f"{path}:{line_no}: eval item is not valid JSON ({exc})") from None
    if broken:
        raise InputError(f"{path}:{broken[0][1]}: {broken[0][2]}")


@lru_cache(maxsize=4)
def eval_index(config: DecontaminateConfig) -> tuple[np.ndarray, np.ndarray, list[str], tuple[int, ...]]:
    """(sorted gram hashes, label index per hash, labels ``file:id``, token counts of the short items).

    An item of at least ``ngram`` words gives its grams; a shorter one of at least ``min_eval_words`` words gives
    one gram of all its tokens, and its token count joins the run lengths documents are searched for.
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
    hashes, owners, lengths, too_short = [], [], set(), 0
    for (tokens, kinds), owner in zip(token_hashes(texts), label_of):
        weights = QUARTER_WORDS[kinds]
        if weights.sum() >= 4 * config.ngram:
            grams = weighted_grams(tokens, weights, 4 * config.ngram)
        elif weights.sum() >= 4 * config.min_eval_words:
            grams = fixed_grams(tokens, len(tokens))
            lengths.add(len(tokens))
        else:
            too_short += 1
            continue
        hashes.append(grams)
        owners.append(np.full(len(grams), owner, dtype=np.int64))
    if too_short:
        log.warning("decontaminate: %d of %d eval items have fewer than min_eval_words = %d words (a Han/Kana "
                    "character counts as a word, a Thai code point as a quarter) and are not checked",
                    too_short, len(texts), config.min_eval_words)
    h = np.concatenate(hashes) if hashes else np.zeros(0, dtype=np.uint64)
    order = np.argsort(h, kind="stable")
    own = np.concatenate(owners) if owners else np.zeros(0, dtype=np.int64)
    return h[order], own[order], labels, tuple(sorted(lengths))


@register_step(DecontaminateConfig)
class Decontaminate(Step):
    config: DecontaminateConfig

    def run(self, batch: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        index, owners, labels, lengths = eval_index(self.config)
        matches: list[str | None] = []
        for tokens, kinds in token_hashes(batch["text"]):
            grams = np.concatenate([weighted_grams(tokens, QUARTER_WORDS[kinds], 4 * self.config.ngram),
                                    *(fixed_grams(tokens, n) for n in lengths)])
            pos = np.searchsorted(index, grams)
            hit = (pos < len(index)) & (index[np.minimum(pos, len(index) - 1)] == grams) if len(index) else grams < 0
            matches.append(labels[owners[pos[hit][0]]] + f" ({int(hit.sum())} grams)" if hit.any() else None)
        batch = batch.with_columns(pl.Series("contamination", matches, dtype=pl.String))
        return split_by_reason(batch, ["eval_contamination" if m else None for m in matches], self.name)
