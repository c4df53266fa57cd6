"""A keep/drop word classifier distilled from the self-information compressor (LLMLingua-2 style, Pan et al. 2024).

LLMLingua-2 replaces the causal LM's per-token surprisal by a token classifier trained on keep/drop labels and
keeps the words with the highest keep probability that fit the budget. Here the teacher is our own
self-information step (``token_level.score_units`` + ``choose``: SmolLM2-135M, iterative) and the student is a
logistic regression over cheap per-word features, so scoring a prompt costs one tokenizer call and a dot product
instead of SmolLM2 forward passes:

- the word itself (lower-cased letters and digits) and the word before it, each hashed into a weight table
  (``WORD_BUCKETS``, ``PREV_BUCKETS``): what the teacher keeps or drops for that word;
- its SmolLM2 token ids (log of the id: byte-pair merges are ranked by frequency, so a low id is a common
  piece), the number of tokens and characters;
- whether and how often the word appeared before in the prompt (repeated words are predictable), its position
  in its item and in its sentence, capitalisation, digits, punctuation, a line break before it, a label before it.

``score_units(units, tokenizer)`` fills each unit's ``ids`` and puts the keep logit in ``surprisal``, so
``token_level.choose`` ranks and cuts exactly as it does for the teacher. Weights: ``classifier_weights.npz``
beside this file (a few KB), written by ``benchmarks/train_compress_classifier.py`` (``make compress-classifier``)
from packaged data only.
"""

from __future__ import annotations

import json
import zlib
from functools import lru_cache
from pathlib import Path

import numpy as np
import regex

from prompts.compress.token_level import Unit, choose

WEIGHTS = Path(__file__).with_name("classifier_weights.npz")
WORD_BUCKETS = 4096
PREV_BUCKETS = 1024
DENSE = ("bias", "log_first_id", "log_mean_id", "log_max_id", "log_min_id", "tokens", "log_chars", "seen_before",
         "seen_in_item", "capitalized", "has_digit", "ends_sentence", "ends_clause", "after_newline", "item_position",
         "sentence_position", "after_protected", "after_sentence_end", "no_letters", "glued", "cjk")
_KEY = regex.compile(r"[\p{L}\p{N}]+")
_CJK = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}]")


def _key(text: str) -> str:
    found = _KEY.findall(text.lower())
    return "".join(found) if found else text.strip()


def _bucket(key: str, size: int) -> int:
    return zlib.crc32(key.encode("utf-8")) % size


def features(units: list[Unit], item_starts: list[int] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dense float32[n, len(DENSE)], word bucket int[n], previous-word bucket int[n]) for units with ``ids`` set.

    item_starts: indices of the first unit of each context item (positions and "seen in item" restart there)."""
    n = len(units)
    dense = np.zeros((n, len(DENSE)), dtype=np.float32)
    word = np.zeros(n, dtype=np.int64)
    prev = np.zeros(n, dtype=np.int64)
    starts = set(item_starts or [0])
    bounds = sorted(starts | {n})
    item_len = {s: e - s for s, e in zip(bounds, bounds[1:])}
    seen: dict[str, int] = {}
    seen_item: dict[str, int] = {}
    item_start, since_sentence, prev_key, prev_unit = 0, 0, "", None
    for i, u in enumerate(units):
        if i in starts:
            item_start, since_sentence, seen_item, prev_unit = i, 0, {}, None
        text = u.text
        stripped = text.strip()
        key = _key(text)
        logs = np.log1p(np.asarray(u.ids or [0], dtype=np.float64)) / 11.0
        row = dense[i]
        row[:] = (1.0, logs[0], logs.mean(), logs.max(), logs.min(), min(len(u.ids), 8) / 4,
                  np.log1p(len(stripped)) / 3, np.log1p(seen.get(key, 0)), np.log1p(seen_item.get(key, 0)),
                  stripped[:1].isupper(), any(c.isdigit() for c in stripped), stripped[-1:] in ".?!。？！",
                  stripped[-1:] in ",;:，、；：", "\n" in text[: len(text) - len(text.lstrip())],
                  (i - item_start) / max(1, item_len.get(item_start, 1)), np.log1p(since_sentence) / 3,
                  prev_unit is not None and prev_unit.protected,
                  prev_unit is not None and prev_unit.text.strip()[-1:] in ".?!。？！",
                  not any(c.isalpha() for c in stripped), not text[:1].isspace(), bool(_CJK.search(stripped)))
        word[i] = _bucket(key, WORD_BUCKETS)
        prev[i] = _bucket(prev_key, PREV_BUCKETS)
        if stripped:
            seen[key] = seen.get(key, 0) + 1
            seen_item[key] = seen_item.get(key, 0) + 1
            prev_key, prev_unit = key, u
            since_sentence = 0 if stripped[-1:] in ".?!。？！" or "\n" in text else since_sentence + 1
    return dense, word, prev


@lru_cache(maxsize=4)
def load_weights(path: str | Path = WEIGHTS) -> dict:
    """{"dense": float32[len(DENSE)], "word": float32[WORD_BUCKETS], "prev": float32[PREV_BUCKETS], "meta": dict}."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no trained compressor classifier; run `make compress-classifier`")
    with np.load(path) as z:
        w = {k: z[k].astype(np.float32) for k in ("dense", "word", "prev")}
        w["meta"] = json.loads(str(z["meta"]))
    if len(w["dense"]) != len(DENSE) or len(w["word"]) != WORD_BUCKETS or len(w["prev"]) != PREV_BUCKETS:
        raise ValueError(f"{path}: weights were trained for other features; run `make compress-classifier`")
    return w


def tokenize_units(units: list[Unit], tokenizer) -> None:
    """One tokenizer call for all units (as ``token_level.score_units`` does): fills ``ids``."""
    if units:
        for u, ids in zip(units, tokenizer([u.text for u in units], add_special_tokens=False)["input_ids"]):
            u.ids = ids


def keep_logits(units: list[Unit], item_starts: list[int] | None = None, weights: dict | None = None) -> np.ndarray:
    """Logit of p(keep) per unit; units need ``ids``."""
    w = weights or load_weights()
    dense, word, prev = features(units, item_starts)
    return dense @ w["dense"] + w["word"][word] + w["prev"][prev]


def score_units(units: list[Unit], tokenizer, item_starts: list[int] | None = None,
                weights: dict | None = None) -> None:
    """The classifier's stand-in for ``token_level.score_units``: ``surprisal`` holds the keep logit."""
    tokenize_units(units, tokenizer)
    for u, s in zip(units, keep_logits(units, item_starts, weights)):
        u.surprisal = float(s)


def teacher_labels(units: list[Unit], model, tokenizer, keep_fraction: float) -> list[bool]:
    """The self-information compressor's keep/drop decision for the free units at ``keep_fraction`` of their tokens."""
    from prompts.compress.token_level import score_units as self_information

    self_information(units, model, tokenizer, keep_fraction)
    choose(units, int(round(keep_fraction * sum(u.tokens for u in units if not u.protected))))
    return [u.keep for u in units]


def fit(examples: list[tuple[list[Unit], list[int], list[bool]]], c: float = 1.0) -> dict:
    """Logistic regression (scikit-learn, L2, ``C=c``) on (units, item starts, teacher labels) of many prompts.

    Only free units (not protected, not whitespace) are training rows. Returns weights as ``load_weights`` does."""
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression

    blocks, labels = [], []
    for units, starts, keep in examples:
        dense, word, prev = features(units, starts)
        rows = [i for i, u in enumerate(units) if not u.protected]
        n = len(rows)
        onehot_w = sparse.csr_matrix((np.ones(n), (np.arange(n), word[rows])), shape=(n, WORD_BUCKETS))
        onehot_p = sparse.csr_matrix((np.ones(n), (np.arange(n), prev[rows])), shape=(n, PREV_BUCKETS))
        blocks.append(sparse.hstack([sparse.csr_matrix(dense[rows]), onehot_w, onehot_p]).tocsr())
        labels += [keep[i] for i in rows]
    x, y = sparse.vstack(blocks).tocsr(), np.asarray(labels, dtype=np.int8)
    model = LogisticRegression(C=c, max_iter=3000, fit_intercept=False).fit(x, y)
    coef = model.coef_[0].astype(np.float32)
    d = len(DENSE)
    return {"dense": coef[:d], "word": coef[d:d + WORD_BUCKETS], "prev": coef[d + WORD_BUCKETS:],
            "meta": {"rows": int(len(y)), "kept_share": float(y.mean()), "C": c}}


def save_weights(weights: dict, path: str | Path = WEIGHTS) -> None:
    """float16 weights and a JSON ``meta`` (training data, agreement) in one compressed npz."""
    np.savez_compressed(path, dense=weights["dense"].astype(np.float16), word=weights["word"].astype(np.float16),
                        prev=weights["prev"].astype(np.float16), meta=np.asarray(json.dumps(weights["meta"])))
    load_weights.cache_clear()
