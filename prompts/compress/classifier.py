"""A keep/drop word scorer distilled from the self-information compressor (LLMLingua-2 style, Pan et al. 2024).

LLMLingua-2 replaces the causal LM's per-token surprisal by a token classifier trained on keep/drop labels and
keeps the words with the highest keep probability that fit the budget. Here the teacher is our own
self-information step (``token_level.score_units`` + ``choose``: SmolLM2-135M, iterative) and the student is a
linear model over cheap per-word features, so scoring a prompt costs one tokenizer call and a few table look-ups
instead of SmolLM2 forward passes:

- hashed weight tables (``HASHED``): the word itself (lower-cased letters and digits), the word before it, the
  word after it, the (previous word, word) pair, which stands in for how predictable the word is after its
  neighbour, and the (word, teacher segment) pair: the teacher scores 256-token segments one after the other,
  each conditioned on the already compressed text before it, so a function word that is predictable in the first
  segment becomes surprising after telegraphic text and is kept more often later in a long prompt;
- its SmolLM2 token ids (log of the id: byte-pair merges are ranked by frequency, so a low id is a common
  piece), the number of tokens and characters;
- whether and how often the word appeared before in the prompt (repeated words are predictable), its position
  in its item and in its sentence, capitalisation, digits, punctuation, a line break before it, a label before it.

Training (``fit``): either ridge regression on the teacher's within-prompt rank of each word's surprisal
(``rank_targets``: the teacher keeps the top of that ranking at any budget, so one labelled prompt teaches every
budget) or LLMLingua-2's logistic regression on the keep/drop labels at one budget; the training script picks
the objective and strength by agreement with the teacher on validation prompts and reports agreement on held-out
prompts (``meta``). ``score_units(units, tokenizer)`` fills each unit's ``ids`` and puts the score in
``surprisal``, so ``token_level.choose`` ranks and cuts exactly as it does for the teacher. Weights:
``classifier_weights.npz`` beside this file (float16, ~100-200 KB with ``meta["trained_items"]``, the CRC-32 of every
training context item, so benchmarks can evaluate on demos never trained on), written by
``benchmarks/train_compress_classifier.py`` (``make compress-classifier``) from packaged data only.
"""

from __future__ import annotations

import json
import zlib
from functools import lru_cache
from pathlib import Path

import numpy as np
import regex

from prompts.compress.token_level import SEGMENT_TOKENS, Unit, choose

WEIGHTS = Path(__file__).with_name("classifier_weights.npz")
# hashed weight tables: the word, the word before it, the word after it, the (previous, word) pair, and the
# (word, teacher segment: 0, 1, 2, 3 or later) pair
HASHED = {"word": 1 << 14, "prev": 1 << 12, "next": 1 << 12, "bigram": 1 << 15, "word_segment": 1 << 15}
LAST_SEGMENT = 3
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


def item_key(text: str) -> int:
    """CRC-32 of a context item with its whitespace collapsed: how the weights' ``meta["trained_items"]`` names
    the items the classifier was trained on (benchmarks exclude them from the demos they evaluate on)."""
    return zlib.crc32(" ".join(text.split()).encode("utf-8"))


def features(units: list[Unit], item_starts: list[int] | None = None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(dense float32[n, len(DENSE)], {table: bucket int[n] for table in HASHED}) for units with ``ids`` set.

    item_starts: indices of the first unit of each context item (positions and "seen in item" restart there).
    ``prev`` / ``next`` are the nearest non-blank words before / after the unit (any item), ``bigram`` the pair of
    the previous word and this one, ``word_segment`` the word and the teacher's segment it falls in (tokens before
    it // ``SEGMENT_TOKENS``, capped at ``LAST_SEGMENT``)."""
    n = len(units)
    dense = np.zeros((n, len(DENSE)), dtype=np.float32)
    keys = [_key(u.text) if u.text.strip() else "" for u in units]
    prev_keys, next_keys, last = [""] * n, [""] * n, ""
    for i, k in enumerate(keys):
        prev_keys[i] = last
        last = k or last
    last = ""
    for i in range(n - 1, -1, -1):
        next_keys[i] = last
        last = keys[i] or last
    before = np.cumsum([0] + [len(u.ids) for u in units[:-1]]) if n else np.zeros(0, dtype=np.int64)
    segments = np.minimum(before // SEGMENT_TOKENS, LAST_SEGMENT)
    hashed = {"word": [_bucket(k, HASHED["word"]) for k in keys],
              "prev": [_bucket(k, HASHED["prev"]) for k in prev_keys],
              "next": [_bucket(k, HASHED["next"]) for k in next_keys],
              "bigram": [_bucket(p + "\x00" + k, HASHED["bigram"]) for p, k in zip(prev_keys, keys)],
              "word_segment": [_bucket(f"{k}\x01{s}", HASHED["word_segment"]) for k, s in zip(keys, segments)]}
    starts = set(item_starts or [0])
    bounds = sorted(starts | {n})
    item_len = {s: e - s for s, e in zip(bounds, bounds[1:])}
    seen: dict[str, int] = {}
    seen_item: dict[str, int] = {}
    item_start, since_sentence, prev_unit = 0, 0, None
    for i, u in enumerate(units):
        if i in starts:
            item_start, since_sentence, seen_item, prev_unit = i, 0, {}, None
        text = u.text
        stripped = text.strip()
        key = keys[i]
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
        if stripped:
            seen[key] = seen.get(key, 0) + 1
            seen_item[key] = seen_item.get(key, 0) + 1
            prev_unit = u
            since_sentence = 0 if stripped[-1:] in ".?!。？！" or "\n" in text else since_sentence + 1
    return dense, {name: np.asarray(b, dtype=np.int64) for name, b in hashed.items()}


@lru_cache(maxsize=4)
def load_weights(path: str | Path = WEIGHTS) -> dict:
    """{"dense": float32[len(DENSE)], table: float32[HASHED[table]] for each hashed table, "meta": dict}."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no trained compressor classifier; run `make compress-classifier`")
    with np.load(path) as z:
        if not all(k in z for k in ("dense", *HASHED)):
            raise ValueError(f"{path}: weights were trained for other features; run `make compress-classifier`")
        w = {k: z[k].astype(np.float32) for k in ("dense", *HASHED)}
        w["meta"] = json.loads(str(z["meta"]))
    if len(w["dense"]) != len(DENSE) or any(len(w[k]) != size for k, size in HASHED.items()):
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
    dense, hashed = features(units, item_starts)
    return dense @ w["dense"] + sum(w[name][b] for name, b in hashed.items())


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


def rank_targets(units: list[Unit]) -> np.ndarray:
    """Per unit, the teacher's score (``surprisal``) as its rank among the prompt's free units, scaled to [0, 1]
    (an unscored first word, surprisal inf, ranks last-but-kept: highest); protected units get 0."""
    s = np.asarray([u.surprisal for u in units], dtype=np.float64)
    free = np.asarray([not u.protected for u in units])
    out = np.zeros(len(units))
    idx = np.flatnonzero(free)
    if len(idx):
        vals = np.where(np.isfinite(s[idx]), s[idx], np.inf)
        out[idx] = vals.argsort(kind="stable").argsort() / max(1, len(idx) - 1)
    return out


def fit(examples: list[tuple[list[Unit], list[int], list[bool]]], c: float = 1.0, objective: str = "rank") -> dict:
    """A linear scorer over the dense features and the hashed tables, fitted (scikit-learn) on (units, item starts,
    teacher labels) of many prompts; only free units (not protected, not whitespace) are training rows.

    objective "rank": ridge regression (``alpha = 1 / c``) on the teacher's within-prompt rank of each word's
    surprisal (``rank_targets``: ``choose`` keeps the top of that ranking, at any budget); "label": L2 logistic
    regression (``C = c``) on the keep/drop labels at the prompt's one budget (LLMLingua-2's objective).
    Returns weights as ``load_weights`` does."""
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression, Ridge

    if objective not in ("rank", "label"):
        raise ValueError(f"objective {objective!r}: 'rank' or 'label'")
    blocks, targets = [], []
    for units, starts, keep in examples:
        dense, hashed = features(units, starts)
        rows = [i for i, u in enumerate(units) if not u.protected]
        n = len(rows)
        onehots = [sparse.csr_matrix((np.ones(n), (np.arange(n), hashed[name][rows])), shape=(n, size))
                   for name, size in HASHED.items()]
        blocks.append(sparse.hstack([sparse.csr_matrix(dense[rows]), *onehots]).tocsr())
        target = rank_targets(units) if objective == "rank" else np.asarray(keep, dtype=np.float64)
        targets.append(target[rows])
    x, y = sparse.vstack(blocks).tocsr(), np.concatenate(targets)
    if objective == "rank":
        coef = Ridge(alpha=1 / c, fit_intercept=False).fit(x, y).coef_
    else:
        coef = LogisticRegression(C=c, max_iter=3000, fit_intercept=False).fit(x, y.astype(np.int8)).coef_[0]
    coef = coef.astype(np.float32)
    out, at = {"dense": coef[:len(DENSE)]}, len(DENSE)
    for name, size in HASHED.items():
        out[name], at = coef[at:at + size], at + size
    return out | {"meta": {"rows": int(len(y)), "objective": objective, "C": c,
                           "kept_share": float(np.mean([k for _, _, keep in examples for k in keep]))}}


def save_weights(weights: dict, path: str | Path = WEIGHTS) -> None:
    """float16 weights and a JSON ``meta`` (training data, agreement) in one compressed npz."""
    np.savez_compressed(path, **{k: weights[k].astype(np.float16) for k in ("dense", *HASHED)},
                        meta=np.asarray(json.dumps(weights["meta"])))
    load_weights.cache_clear()
