"""A DCLM-style fastText quality classifier: word bigrams, clean reference text vs raw web text.

Training is deterministic (one thread, fixed seed, hash-based hold-out split) so the same inputs give the
same model and the same held-out ROC AUC; the report records both.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict, field
from pathlib import Path
from typing import Annotated

import numpy as np
import xxhash
from pydantic import ConfigDict, Field
from pydantic.dataclasses import dataclass as pydantic_dataclass

from core.config_types import PositiveInt, Seed, WordCount, named_in_errors
from core.readers import ReaderConfig, read_documents
from core.statistics import roc_auc_interval
from curation.text import WORD_RE

POSITIVE, NEGATIVE = "__label__hq", "__label__lq"
WIKITEXT_MARKUP_RE = re.compile(r" @(.)@ ")


def prepare(text: str, max_tokens: int = 2000) -> str:
    """fastText input: one line, lower-cased, punctuation split off (wikitext's " @-@ " folded back first)."""
    text = WIKITEXT_MARKUP_RE.sub(r"\1", text).replace("<unk>", " ")
    return " ".join(WORD_RE.findall(text.lower())[:max_tokens])


@named_in_errors
@pydantic_dataclass(config=ConfigDict(extra="forbid"))
class QualityTrainingConfig:
    positive_field: str = "text"
    negative_field: str = "text"
    min_words: WordCount = 10
    holdout_fraction: Annotated[float, Field(gt=0, lt=1, allow_inf_nan=False)] = 0.2  # both sides need documents
    balance: bool = True
    epoch: PositiveInt = 5
    lr: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 0.1
    dim: PositiveInt = 64
    word_ngrams: PositiveInt = 2
    min_count: PositiveInt = 2
    # hashed word n-gram rows (fastText's default); model.bin holds (vocabulary + bucket) x dim float32s, so the
    # default makes a ~0.5 GB file at dim 64 and 100,000 makes ~26 MB
    bucket: PositiveInt = 2_000_000
    seed: Seed = 0
    positive: list[str] = field(default_factory=list)
    negative: list[str] = field(default_factory=list)


def _load(paths: list[str], text_field: str, min_words: int) -> tuple[list[str], list[str], int]:
    ids, texts, skipped = [], [], 0
    bad: list[tuple] = []
    for batch in read_documents(paths, ReaderConfig(text_field=text_field), lambda *q: bad.append(q)):
        for source, text in zip(batch["source"], batch["text"]):
            prepared = prepare(text)
            if len(prepared.split()) < min_words:
                skipped += 1
                continue
            ids.append(source)
            texts.append(prepared)
    return ids, texts, skipped + len(bad)


def _holdout(key: str, fraction: float, seed: int) -> bool:
    return xxhash.xxh64_intdigest(key.encode(), seed=seed) % 10_000 < fraction * 10_000


def _balance(ids: list[str], texts: list[str], n: int, seed: int) -> tuple[list[str], list[str]]:
    if len(ids) <= n:
        return ids, texts
    order = sorted(range(len(ids)), key=lambda i: xxhash.xxh64_intdigest(ids[i].encode(), seed=seed + 1))[:n]
    order.sort()
    return [ids[i] for i in order], [texts[i] for i in order]


def train_quality_model(cfg: QualityTrainingConfig, out_dir: str | Path) -> dict:
    """Trains, evaluates on the hold-out split and writes ``model.bin``, ``report.json`` and ``report.md``."""
    import fasttext
    from sklearn.metrics import accuracy_score, roc_auc_score

    start = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pos_ids, pos_texts, pos_skipped = _load(cfg.positive, cfg.positive_field, cfg.min_words)
    neg_ids, neg_texts, neg_skipped = _load(cfg.negative, cfg.negative_field, cfg.min_words)
    if not pos_texts or not neg_texts:
        raise ValueError(f"need documents in both classes (positive: {len(pos_texts)}, negative: {len(neg_texts)})")
    if cfg.balance:
        n = min(len(pos_texts), len(neg_texts))
        pos_ids, pos_texts = _balance(pos_ids, pos_texts, n, cfg.seed)
        neg_ids, neg_texts = _balance(neg_ids, neg_texts, n, cfg.seed)
    rows = [(POSITIVE, i, t) for i, t in zip(pos_ids, pos_texts)] + [(NEGATIVE, i, t) for i, t in zip(neg_ids, neg_texts)]
    train = [r for r in rows if not _holdout(r[1], cfg.holdout_fraction, cfg.seed)]
    test = [r for r in rows if _holdout(r[1], cfg.holdout_fraction, cfg.seed)]
    # fastText reads a file; shuffle deterministically so classes interleave
    train.sort(key=lambda r: xxhash.xxh64_intdigest(r[1].encode(), seed=cfg.seed + 2))
    train_file = out / "train.txt"
    train_file.write_text("".join(f"{label} {text}\n" for label, _, text in train), encoding="utf-8")
    model = fasttext.train_supervised(
        str(train_file), epoch=cfg.epoch, lr=cfg.lr, dim=cfg.dim, wordNgrams=cfg.word_ngrams,
        minCount=cfg.min_count, bucket=cfg.bucket, thread=1, seed=cfg.seed, verbose=0, loss="softmax",
    )
    train_file.unlink()
    model.save_model(str(out / "model.bin"))
    y_true = np.array([r[0] == POSITIVE for r in test], dtype=int)
    scores = positive_scores(model, [r[2] for r in test])
    report = {
        "kind": "quality_classifier",
        "config": asdict(cfg),
        "train": {"positive": sum(r[0] == POSITIVE for r in train), "negative": sum(r[0] == NEGATIVE for r in train)},
        "holdout": {"positive": int(y_true.sum()), "negative": int(len(y_true) - y_true.sum())},
        "skipped": {"positive": pos_skipped, "negative": neg_skipped},
        "holdout_roc_auc": float(roc_auc_score(y_true, scores)) if 0 < y_true.sum() < len(y_true) else None,
        "holdout_roc_auc_ci95": roc_auc_interval(y_true, scores),
        "holdout_accuracy": float(accuracy_score(y_true, scores >= 0.5)) if len(y_true) else None,
        "model_path": str(out / "model.bin"),
        "seconds": round(time.perf_counter() - start, 3),
    }
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "report.md").write_text(
        "# Quality classifier\n\n"
        f"- held-out ROC AUC: **{report['holdout_roc_auc']:.4f}** (95% bootstrap interval "
        f"{_interval(report['holdout_roc_auc_ci95'])}), accuracy {report['holdout_accuracy']:.4f}\n"
        f"- train: {report['train']['positive']} positive / {report['train']['negative']} negative; "
        f"held out: {report['holdout']['positive']} / {report['holdout']['negative']}\n"
        f"- skipped (fewer than {cfg.min_words} words or unreadable): {pos_skipped} positive, {neg_skipped} negative\n"
        f"- model: `{report['model_path']}`\n"
    )
    return report


def _interval(ci: list[float] | None) -> str:
    return f"[{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "none"


def positive_scores(model, texts: list[str]) -> np.ndarray:
    """P(high quality) per text (already ``prepare``d)."""
    if not texts:
        return np.zeros(0)
    labels, probs = model.predict(texts, k=2)
    return np.array([dict(zip(lab, p)).get(POSITIVE, 0.0) for lab, p in zip(labels, probs)], dtype=np.float64)
