"""Precision / recall of MinHash-LSH near-duplicate pairs against exact word-5-gram Jaccard (ground truth).

Inputs: the dolma Common Crawl shard (697 docs; 27 empty ones are quarantined) after the pipeline's own
read -> normalize stages, and the SpamAssassin bodies (read -> mail_body -> normalize), so exact copies count as
near-duplicates too (they are pairs with Jaccard 1). Ground truth: every pair with exact Jaccard >= 0.8 on the
same shingles the step uses (a sparse doc x shingle product, so all pairs are exact, not sampled).
Note: the shard's README counts 378 pairs >= 0.5; 351 of those are pairs of the 27 empty documents.
Predicted pairs: (a) LSH candidate pairs (share a band bucket), (b) pairs inside one output cluster.

    .venv/bin/python benchmarks/dedup_quality.py [--threshold 0.8] [--out benchmarks/results/dedup_quality.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from itertools import combinations
from pathlib import Path

import numpy as np
import polars as pl
from scipy.sparse import csr_matrix

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from curation.config import CurationConfig  # noqa: E402
from curation.dedup.clusters import candidate_pairs, connected_components  # noqa: E402
from curation.dedup.signatures import band_hashes, is_empty, minhash_signatures, shingle_sets  # noqa: E402
from curation.runner import curate_local  # noqa: E402
from core.shared_data import shared_data_dir  # noqa: E402

DATA = shared_data_dir()
SHARDS = {
    "dolma_cc": (DATA / "web" / "dolma_CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz", ["normalize"]),
    "spamassassin_bodies": (DATA / "mail" / "spamassassin.jsonl.gz", ["mail_body", "normalize"]),
}
SETTINGS = [(14, 8), (16, 7), (22, 5), (8, 14)]


def prepared_texts(shard: Path, steps: list[str], workdir: str) -> list[str]:
    cfg = CurationConfig.model_validate({"steps": [{"step": s} for s in steps]})
    curate_local([str(shard)], workdir, cfg)
    return pl.concat([pl.read_ndjson(p) for p in sorted(Path(workdir, "kept").glob("*.jsonl"))])["text"].to_list()


def true_pairs(texts: list[str], ngram: int, threshold: float) -> tuple[set[tuple[int, int]], dict]:
    vocab: dict[int, int] = {}
    rows, cols = [], []
    for i, grams in enumerate(shingle_sets(texts, ngram)):
        for g in grams.tolist():
            rows.append(i)
            cols.append(vocab.setdefault(g, len(vocab)))
    m = csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(texts), len(vocab)))
    inter = (m @ m.T).tocoo()
    sizes = np.asarray(m.sum(axis=1)).ravel()
    upper = inter.row < inter.col
    a, b, n = inter.row[upper], inter.col[upper], inter.data[upper]
    jac = n / (sizes[a] + sizes[b] - n)
    jaccard = dict(zip(zip(a.tolist(), b.tolist()), jac.tolist()))
    return {pair for pair, j in jaccard.items() if j >= threshold}, jaccard


def scores(predicted: set, truth: set) -> dict:
    tp = len(predicted & truth)
    p = tp / len(predicted) if predicted else 1.0
    r = tp / len(truth) if truth else 1.0
    return {"pairs": len(predicted), "true_positives": tp, "precision": round(p, 4), "recall": round(r, 4),
            "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threshold", type=float, default=0.8)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "dedup_quality.json"))
    args = ap.parse_args()
    out = {"benchmark": "dedup_quality", "jaccard_threshold": args.threshold, "shingles": "lower-cased word 5-grams (winnow signatures engine)",
           "num_perm": 112, "command": "python benchmarks/dedup_quality.py", "shards": {}}
    for name, (shard, steps) in SHARDS.items():
        with tempfile.TemporaryDirectory() as tmp:
            out["shards"][name] = evaluate(shard, steps, tmp, args.threshold)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    for name, res in out["shards"].items():
        print(f"{name}: {res['documents']} documents, {res['true_pairs']} pairs with exact 5-gram Jaccard >= {args.threshold}")
        print(f"{'bands x rows':>12} {'t*':>6} {'cand P':>7} {'cand R':>7} {'clust P':>8} {'clust R':>8}")
        for r in res["results"]:
            c, k = r["candidates"], r["clusters"]
            print(f"{r['bands']:>5} x {r['rows']:<4} {r['lsh_threshold']:>6.3f} {c['precision']:>7.3f} "
                  f"{c['recall']:>7.3f} {k['precision']:>8.3f} {k['recall']:>8.3f}")
    print(f"wrote {args.out}")
    return 0


def evaluate(shard: Path, steps: list[str], tmp: str, threshold: float) -> dict:
    texts = prepared_texts(shard, steps, tmp)
    truth, jac = true_pairs(texts, 5, threshold)
    sig = minhash_signatures(texts)
    has_words = np.flatnonzero(~is_empty(sig))
    results = []
    for bands, rows in SETTINGS:
        start = time.perf_counter()
        a, b = candidate_pairs(band_hashes(sig[has_words], bands, rows))
        a, b = has_words[a], has_words[b]
        labels = connected_components(len(texts), a, b)
        seconds = time.perf_counter() - start
        candidates = set(zip(a.tolist(), b.tolist()))
        members: dict[int, list[int]] = {}
        for i, label in enumerate(labels.tolist()):
            members.setdefault(label, []).append(i)
        clustered = {pair for m in members.values() for pair in combinations(m, 2)}
        missed = sorted(truth - candidates)
        results.append({
            "bands": bands, "rows": rows, "num_perm": 112, "lsh_threshold": round((1 / bands) ** (1 / rows), 4),
            "candidates": scores(candidates, truth), "clusters": scores(clustered, truth),
            "missed_pair_jaccards": [round(jac[pair], 3) for pair in missed][:20],
            "seconds": round(seconds, 3),
        })
    return {"shard": shard.name, "pre_steps": steps, "documents": len(texts), "true_pairs": len(truth),
            "results": results}


if __name__ == "__main__":
    sys.exit(main())
