"""Held-out loss in bits per byte over whole held-out sets, for a model and for unigram / bigram baselines.

Bits per byte (The Pile, Gao et al. 2020, sec. 3; DataDecide) = total cross-entropy in nats / ln 2 / UTF-8 bytes of
the text scored. Unlike nats per token it does not depend on the tokenizer, so arms, baselines and other models
compare on one scale.

An evaluation set is every document of the set, none truncated: each document's tokens followed by the
end-of-text token, all joined into one stream that starts with end-of-text, so every token of every document is
predicted (and each document's end too; its loss counts for that document, its bytes are the text's).
The model scores the stream in consecutive non-overlapping windows of ``seq_len`` targets (the first target of
a window sees no earlier context: the usual non-overlapping evaluation, a slight overestimate of the loss).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


def bits_per_byte(nats: float, n_bytes: int) -> float:
    """Total nats over a text -> bits per UTF-8 byte: nats / ln(2) / bytes."""
    if n_bytes <= 0:
        raise ValueError("bits per byte of an empty text is undefined")
    return float(nats) / math.log(2) / n_bytes


@dataclass
class EvalSet:
    """One stream of targets: ``tokens[0]`` is end-of-text; ``doc[i]`` is the document of target ``tokens[i+1]``."""
    tokens: np.ndarray  # int64, length T + 1
    doc: np.ndarray  # int32, length T
    doc_bytes: np.ndarray  # int64, one per document

    @classmethod
    def from_documents(cls, encoded: list[np.ndarray], texts: list[str], eos: int) -> EvalSet:
        parts, docs = [np.asarray([eos])], []
        for i, ids in enumerate(encoded):
            parts += [np.asarray(ids, dtype=np.int64), np.asarray([eos])]
            docs.append(np.full(len(ids) + 1, i, dtype=np.int32))
        return cls(np.concatenate(parts).astype(np.int64), np.concatenate(docs) if docs else np.zeros(0, np.int32),
                   np.asarray([len(t.encode("utf-8")) for t in texts], dtype=np.int64))

    @property
    def n_targets(self) -> int:
        return len(self.doc)

    def bpb(self, doc_nats: np.ndarray, docs: np.ndarray | None = None) -> float:
        """Bits per byte of the documents ``docs`` (all when None) from per-document nats."""
        sel = slice(None) if docs is None else docs
        return bits_per_byte(float(np.sum(doc_nats[sel])), int(np.sum(self.doc_bytes[sel])))

    def windows(self, seq_len: int) -> tuple[np.ndarray, np.ndarray]:
        """(inputs, targets) arrays of shape (W, seq_len); the last window is padded with target -100 (ignored)."""
        t = self.n_targets
        w = max(1, math.ceil(t / seq_len))
        inputs = np.zeros(w * seq_len, dtype=np.int64)
        targets = np.full(w * seq_len, -100, dtype=np.int64)
        inputs[:t], targets[:t] = self.tokens[:-1], self.tokens[1:]
        return inputs.reshape(w, seq_len), targets.reshape(w, seq_len)


def model_doc_nats(model, eval_set: EvalSet, seq_len: int, batch_size: int = 32) -> np.ndarray:
    """Per-document total nats of a causal LM (``model(input_ids=...).logits``) over the whole set."""
    import torch

    inputs, targets = eval_set.windows(seq_len)
    nats = np.zeros(eval_set.n_targets, dtype=np.float64)
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        for i in range(0, len(inputs), batch_size):
            x, y = torch.from_numpy(inputs[i: i + batch_size]), torch.from_numpy(targets[i: i + batch_size])
            logits = model(input_ids=x).logits.float()
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1),
                                                     reduction="none", ignore_index=-100)
            flat = loss.numpy().astype(np.float64)
            start = i * seq_len
            keep = y.reshape(-1).numpy() != -100
            nats[start: start + int(keep.sum())] = flat[keep]
    model.train(was_training)
    return np.bincount(eval_set.doc, weights=nats, minlength=len(eval_set.doc_bytes))


def ngram_doc_nats(train_tokens: np.ndarray, eval_set: EvalSet, vocab_size: int) -> dict[str, np.ndarray]:
    """Per-document nats of a unigram and an interpolated bigram model of ``train_tokens`` (a 1-d token stream).

    Both Witten-Bell smoothed (Witten & Bell 1991; Chen & Goodman 1998, sec. 2.4), so nothing is tuned on the
    held-out text. Unigram: P(w) = c(w) / (N + T) seen, T / (N + T) shared by the V - T unseen types (as
    ``core.statistics.unigram_loss``). Bigram: P(w | v) = (c(v, w) + T(v) P(w)) / (c(v) + T(v)), T(v) the distinct
    successors of v; an unseen v falls back to P(w). A model that does not beat these has learnt little context."""
    train = np.asarray(train_tokens, dtype=np.int64).ravel()
    counts = np.bincount(train, minlength=vocab_size).astype(np.float64)
    n, types = counts.sum(), float((counts > 0).sum())
    unseen = max(1.0, vocab_size - types)
    p_uni = np.where(counts > 0, counts / (n + types), (types / (n + types)) / unseen)

    keys, pair_counts = np.unique(train[:-1] * vocab_size + train[1:], return_counts=True)
    c_prev = np.bincount(train[:-1], minlength=vocab_size).astype(np.float64)
    t_prev = np.bincount(keys // vocab_size, minlength=vocab_size).astype(np.float64)
    prev, nxt = eval_set.tokens[:-1], eval_set.tokens[1:]
    query = prev * vocab_size + nxt
    pos = np.clip(np.searchsorted(keys, query), 0, max(0, len(keys) - 1))
    c_pair = np.where((len(keys) > 0) & (keys[pos] == query), pair_counts[pos], 0).astype(np.float64)
    denom = c_prev[prev] + t_prev[prev]
    p_bi = np.where(denom > 0, (c_pair + t_prev[prev] * p_uni[nxt]) / np.maximum(denom, 1), p_uni[nxt])
    docs = len(eval_set.doc_bytes)
    return {"unigram": np.bincount(eval_set.doc, weights=-np.log(p_uni[nxt]), minlength=docs),
            "bigram": np.bincount(eval_set.doc, weights=-np.log(p_bi), minlength=docs)}
