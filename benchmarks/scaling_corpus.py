"""A large corpus with known near-duplicate clusters, built from real documents by controlled random edits.

Base texts are real (Common Crawl, C4, SpamAssassin bodies, Wikipedia, LIMA/Alpaca answers from
../shared/data). Each *original* document is a base text with ``distinct_rate`` of its words replaced by words
drawn from the real vocabulary, so two originals of the same base share almost no 5-grams (Jaccard ~0.05).
A ``dup_fraction`` of documents are *copies* of an earlier original with ``copy_rate`` in (0, max] of their
words replaced (Jaccard ~0.85-1.0). The cluster id of every document is stored, so precision/recall against
the truth needs no pair enumeration. Parquet shards of ``shard_docs`` under the output directory; reused when
present with the same parameters.

    .venv/bin/python benchmarks/scaling_corpus.py --docs 100000 --out data/bench/scale-100k
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.shared_data import shared_data_dir  # noqa: E402
from curation.steps.mail_body import message_body  # noqa: E402


def base_texts() -> list[str]:
    data = shared_data_dir()
    texts = []
    with gzip.open(data / "web" / "dolma_CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz", "rt") as fh:
        texts += [json.loads(line)["text"] for line in fh]
    texts += [json.loads(line)["text"] for line in (data / "web" / "llamafactory_c4_demo.jsonl").open()]
    with gzip.open(data / "mail" / "spamassassin.jsonl.gz", "rt") as fh:
        texts += [message_body(json.loads(line)["text"])[1] for line in fh]
    texts += [ln for ln in (data / "lm" / "wikitext-2_valid.txt").read_text().splitlines() if len(ln.split()) > 40]
    for name in ("lima.json", "alpaca_en_demo.json"):
        texts += [r["output"] for r in json.loads((data / "instruct" / name).read_text())]
    return [t for t in texts if len(t.split()) >= 30]


def edit(words: list[str], rate: float, vocab: np.ndarray, rng: np.random.Generator) -> str:
    words = list(words)
    n = rng.binomial(len(words), rate)
    for i, w in zip(rng.choice(len(words), size=n, replace=False), rng.choice(vocab, size=n)):
        words[i] = w
    return " ".join(words)


def build(docs: int, out: Path, dup_fraction: float = 0.3, distinct_rate: float = 0.5, copy_rate: float = 0.03,
          shard_docs: int = 100_000, seed: int = 0) -> dict:
    params = {"docs": docs, "dup_fraction": dup_fraction, "distinct_rate": distinct_rate, "copy_rate": copy_rate,
              "shard_docs": shard_docs, "seed": seed}
    meta_path = out / "corpus.json"
    if meta_path.exists() and json.loads(meta_path.read_text())["params"] == params:
        return json.loads(meta_path.read_text())
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    bases = [t.split() for t in base_texts()]
    vocab = np.array(sorted({w for b in bases for w in b}))
    out.mkdir(parents=True, exist_ok=True)
    originals: list[tuple[int, list[str]]] = []  # (cluster id, words) of originals so far (a bounded pool)
    total_bytes, n_orig = 0, 0
    for shard_start in range(0, docs, shard_docs):
        ids, texts, clusters, kinds = [], [], [], []
        for i in range(shard_start, min(docs, shard_start + shard_docs)):
            if originals and rng.random() < dup_fraction:
                cluster, words = originals[rng.integers(len(originals))]
                text, kind = edit(words, rng.uniform(0, copy_rate), vocab, rng), "copy"
            else:
                base = bases[rng.integers(len(bases))]
                words = edit(base, distinct_rate, vocab, rng).split()
                cluster, kind, text = i, "original", " ".join(words)
                n_orig += 1
                if len(originals) < 50_000:
                    originals.append((cluster, words))
                else:
                    originals[rng.integers(len(originals))] = (cluster, words)
            ids.append(f"doc{i:08d}")
            texts.append(text)
            clusters.append(cluster)
            kinds.append(kind)
        frame = pl.DataFrame({"id": ids, "text": texts, "cluster": clusters, "kind": kinds})
        total_bytes += int(frame["text"].str.len_bytes().sum())
        frame.write_parquet(out / f"shard-{shard_start // shard_docs:05d}.parquet", compression="zstd")
    meta = {"params": params, "documents": docs, "originals": n_orig, "text_bytes": total_bytes,
            "bases": len(bases), "seconds": round(time.perf_counter() - start, 1)}
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    return meta


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--out", default=str(ROOT / "data" / "bench" / "scale-100k"))
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    print(json.dumps(build(args.docs, Path(args.out), seed=args.seed), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
