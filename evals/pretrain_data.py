"""The pretraining ablation's data: arms, a duplicate-cluster hold-out, and a BPE vocabulary of the training pool.

DataDecide / DCLM style at small scale (Magnusson et al. 2025, "DataDecide"; Li et al. 2024, "DataComp-LM"):
every arm is drawn from the same extracted documents, so an arm differs only in which documents it keeps.

- ``extracted``: the mail bodies after extraction alone (``mail_body``), unfiltered: what curation starts from.
- ``curated``: the documents the demo curation pipeline (``configs/demo_mail.yaml``) keeps, matched to the
  extracted documents by ``source`` (``file:line``, unique in a run); their text is the pipeline's (normalized).
- ``random``: a random subset of the extracted documents with the curated arm's token count (drawn per seed):
  does curation beat merely training on less data?

Hold-out by duplicate cluster (``duplicate_clusters``): MinHash-LSH clusters over the extracted documents with the
demo pipeline's own parameters (``curation.dedup``: 112 permutations, 14 bands x 8 rows, word 5-grams), joined
with exact-text copies (documents too short for a 5-gram share no bucket). A whole cluster is held out or kept,
so no near-duplicate of a held-out document is in any arm; a per-id split leaves a spam campaign's other copies
in training.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import xxhash


def duplicate_clusters(texts: list[str], num_perm: int = 112, bands: int = 14, rows: int = 8, ngram: int = 5,
                       seed: int = 1) -> np.ndarray:
    """Cluster label per text (the smallest member's index): connected components of MinHash-LSH candidate pairs
    (documents sharing a bucket in any band, as the ``minhash`` step pairs them, unverified) and exact copies."""
    from curation.dedup.clusters import candidate_pairs, connected_components
    from curation.dedup.signatures import band_hashes, is_empty, minhash_signatures

    n = len(texts)
    sig = minhash_signatures(texts, num_perm=num_perm, ngram=ngram, seed=seed)
    rows_with_words = np.flatnonzero(~is_empty(sig))
    a, b = candidate_pairs(band_hashes(sig[rows_with_words], bands, rows)) if len(rows_with_words) else ([], [])
    a, b = rows_with_words[np.asarray(a, dtype=np.int64)], rows_with_words[np.asarray(b, dtype=np.int64)]
    first: dict[int, int] = {}
    exact = [(first.setdefault(xxhash.xxh64_intdigest(t.encode()), i), i) for i, t in enumerate(texts)]
    ea, eb = (np.asarray(x, dtype=np.int64) for x in zip(*exact)) if exact else (np.zeros(0, np.int64),) * 2
    keep = ea != eb
    return connected_components(n, np.concatenate([a, ea[keep]]), np.concatenate([b, eb[keep]]))


def cluster_holdout(labels: np.ndarray, keys: list[str], percent: float) -> np.ndarray:
    """Boolean mask of held-out documents: a cluster is held out when its first member's key hashes into the
    ``percent`` slice (xxh64 % 10,000), so a cluster is wholly in or wholly out and the split is reproducible."""
    labels = np.asarray(labels)
    cut = int(round(percent * 100))
    held_cluster = {int(c): xxhash.xxh64_intdigest(keys[int(c)].encode()) % 10_000 < cut for c in np.unique(labels)}
    return np.array([held_cluster[int(c)] for c in labels], dtype=bool)


def random_subset_at_tokens(token_counts: np.ndarray, target_tokens: int, seed: int) -> np.ndarray:
    """Indices of a uniformly shuffled prefix of documents whose token count first reaches ``target_tokens``."""
    order = np.random.default_rng(seed).permutation(len(token_counts))
    reach = np.searchsorted(np.cumsum(np.asarray(token_counts)[order]), target_tokens) + 1
    return np.sort(order[: min(reach, len(order))])


def train_bpe(texts: list[str], vocab_size: int, eos: str = "<|endoftext|>"):
    """A byte-level BPE (Hugging Face ``tokenizers``, GPT-2 pre-tokenization) trained on ``texts``: every byte
    string encodes, so bits per byte on any held-out text are defined. ``eos`` is id 0."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[eos], show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer=trainer, length=len(texts))
    return tok


def encode(tokenizer, texts: list[str]) -> list[np.ndarray]:
    """Token ids per text (int32), without the end-of-text token."""
    return [np.asarray(e.ids, dtype=np.int32) for e in tokenizer.encode_batch(texts)]


@dataclass
class Corpus:
    """The extracted documents (one row each) with what the arms and the hold-out need."""
    sources: list[str]
    texts: list[str]
    curated_text: dict[int, str]  # extracted index -> the curated pipeline's text, for the documents it keeps
    clusters: np.ndarray
    held_out: np.ndarray  # bool per document
    stats: dict = field(default_factory=dict)


def load_corpus(extracted_dir: str | Path, curated_dir: str | Path, holdout_percent: float) -> Corpus:
    """Extracted and curated runs' ``kept/`` files joined on ``source``; clusters and the hold-out mask."""
    def kept(run: str | Path) -> list[dict]:
        rows = []
        for p in sorted(Path(run, "kept").glob("part-*.jsonl")):
            rows.extend(json.loads(line) for line in p.open(encoding="utf-8") if line.strip())
        if not rows:
            raise FileNotFoundError(f"{run}: no kept/part-*.jsonl (not a finished curation run)")
        return rows

    ext, cur = kept(extracted_dir), kept(curated_dir)
    sources = [r["source"] for r in ext]
    texts = [r["text"] for r in ext]
    index = {s: i for i, s in enumerate(sources)}
    missing = [r["source"] for r in cur if r["source"] not in index]
    if missing:
        raise ValueError(f"{len(missing)} curated documents are not among the extracted ones, e.g. {missing[0]}")
    curated_text = {index[r["source"]]: r["text"] for r in cur}
    clusters = duplicate_clusters(texts)
    held = cluster_holdout(clusters, sources, holdout_percent)
    sizes = np.bincount(clusters)
    stats = {"extracted": len(texts), "curated": len(curated_text), "clusters": int((sizes > 0).sum()),
             "documents_in_multi_member_clusters": int((sizes[clusters] > 1).sum()),
             "held_out": int(held.sum()), "held_out_clusters": int(len(np.unique(clusters[held]))),
             "held_out_curated": int(sum(held[i] for i in curated_text))}
    return Corpus(sources, texts, curated_text, clusters, held, stats)
