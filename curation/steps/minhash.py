"""MinHash-LSH near-dedup, staged: signatures per shard, band buckets by partition, components, drop lists.

Map (per shard): signatures (``sig-KEY.npy``), one row per (band, bucket) for documents with words
(``bands-KEY.parquet``, sorted by partition), and document keys/lengths (``docs-KEY.parquet``; the key is
``source``, unique in a run even when ids repeat across files, so ``duplicate_of`` names exactly one document).
Reduce: per partition, documents sharing a (band, bucket) become star edges to the bucket's earliest member;
edges are optionally verified (estimated Jaccard from signatures, or exact Jaccard on the texts); connected
components (scipy) give clusters; each cluster keeps its first (or longest) document.

Engines: ``winnow`` (numba, see ``curation.dedup.signatures``) or ``datasketch`` (the reference
implementation, ``MinHash.update_batch`` on the same shingles, ``curation.text.shingles``: word 5-grams, and
character 5-grams in Chinese, Japanese, Thai, Lao, Khmer and Myanmar text; slow, for comparison).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl
from pydantic import model_validator

from core.config_types import Fraction, PositiveInt, Seed
from curation.dedup.clusters import connected_components, keepers
from curation.dedup.signatures import SIGNATURE_VERSION, band_hashes, is_empty, minhash_signatures, shingle_sets
from curation.steps.base import DropListStep, ShardContext, StepConfig, register_step, write_drops
from core.storage import atomic_save_npy, atomic_write_parquet


class MinHashConfig(StepConfig, step="minhash"):
    ngram: PositiveInt = 5
    num_perm: PositiveInt = 112
    bands: PositiveInt = 14
    rows: PositiveInt = 8
    seed: Seed = 1
    keep: Literal["first", "longest"] = "first"
    engine: Literal["winnow", "datasketch"] = "winnow"
    verify: Literal["none", "estimated", "exact"] = "none"
    verify_threshold: Fraction = 0.8

    @model_validator(mode="after")
    def _bands_fit(self) -> MinHashConfig:
        if self.bands * self.rows > self.num_perm:
            raise ValueError(f"bands x rows = {self.bands} x {self.rows} = {self.bands * self.rows} exceeds "
                             f"num_perm = {self.num_perm}: must be bands x rows <= num_perm")
        return self

    @property
    def threshold(self) -> float:
        """Jaccard at which a pair becomes a candidate with probability ~0.5: (1/b)^(1/r)."""
        return (1 / self.bands) ** (1 / self.rows)


def datasketch_signatures(texts: list[str], num_perm: int, ngram: int, seed: int) -> np.ndarray:
    from datasketch import MinHash

    from curation.text import shingles

    template = MinHash(num_perm=num_perm, seed=seed)
    out = np.full((len(texts), num_perm), np.uint32(0xFFFFFFFF), dtype=np.uint32)
    for i, text in enumerate(texts):
        grams = shingles(text, ngram)
        if grams:
            m = MinHash(num_perm=num_perm, seed=seed, permutations=template.permutations, scheme=template.scheme)
            m.update_batch([g.encode("utf-8") for g in grams])
            out[i] = m.hashvalues.astype(np.uint32)
    return out


@register_step(MinHashConfig)
class MinHashDedup(DropListStep):
    version = f"{SIGNATURE_VERSION}.k2"  # .k2: duplicate_of is the keeper's source (file:line), not its id
    config: MinHashConfig

    def signatures(self, texts: pl.Series) -> np.ndarray:
        c = self.config
        if c.engine == "datasketch":
            return datasketch_signatures(texts.to_list(), c.num_perm, c.ngram, c.seed)
        return minhash_signatures(texts, c.num_perm, c.ngram, c.seed)

    def signature_version(self) -> str:
        if self.config.engine == "datasketch":
            from importlib.metadata import version

            return f"datasketch-{version('datasketch')}"
        return SIGNATURE_VERSION

    def map_shard(self, batches: Iterator[pl.DataFrame], ctx: ShardContext) -> dict:
        c = self.config
        sigs, ids, lengths = [], [], []
        for batch in batches:
            sigs.append(self.signatures(batch["text"]))
            ids.extend(batch["source"].to_list())
            lengths.append(batch["text"].str.len_chars().to_numpy())
        sig = np.concatenate(sigs) if sigs else np.zeros((0, c.num_perm), dtype=np.uint32)
        atomic_save_npy(ctx.work_dir / f"sig-{ctx.key}.npy", sig)
        empty = is_empty(sig)
        rows = np.flatnonzero(~empty)
        bands = band_hashes(sig[rows], c.bands, c.rows) if len(rows) else np.zeros((0, c.bands), dtype=np.uint64)
        frame = pl.DataFrame({
            "band": np.repeat(np.arange(c.bands, dtype=np.int16)[None, :], len(rows), axis=0).ravel(),
            "bucket": bands.ravel(),
            "row": np.repeat(rows.astype(np.int64), c.bands),
        }).with_columns((pl.col("bucket") % ctx.partitions).cast(pl.Int32).alias("part"))
        atomic_write_parquet(ctx.work_dir / f"bands-{ctx.key}.parquet", frame.sort("part", "band", "bucket"))
        atomic_write_parquet(ctx.work_dir / f"docs-{ctx.key}.parquet", pl.DataFrame(
            {"key": ids, "length": np.concatenate(lengths) if lengths else np.zeros(0, dtype=np.int64)},
            schema={"key": pl.String, "length": pl.Int64}))
        return {"documents": len(ids), "without_words": int(empty.sum()), "signature": self.signature_version()}

    def _candidate_edges(self, keys: list[str], work_dir: Path, partitions: int, offsets: np.ndarray):
        for part in range(partitions):
            frame = pl.concat([
                pl.scan_parquet(work_dir / f"bands-{k}.parquet").filter(pl.col("part") == part)
                .select("band", "bucket", (pl.col("row") + int(offsets[i])).alias("doc"))
                for i, k in enumerate(keys)
            ]).collect()
            buckets = (frame.group_by("band", "bucket").agg(pl.col("doc").sort())
                       .filter(pl.col("doc").list.len() > 1))
            if buckets.height == 0:
                continue
            edges = buckets.select(pl.col("doc").list.first().alias("a"), pl.col("doc").list.slice(1).alias("b"))
            edges = edges.explode("b").unique(maintain_order=False).sort("a", "b")
            yield edges["a"].to_numpy(), edges["b"].to_numpy()

    def _verify(self, a: np.ndarray, b: np.ndarray, keys: list[str], work_dir: Path, offsets: np.ndarray,
                sources: dict[str, str]) -> np.ndarray:
        """Which candidate edges reach ``verify_threshold`` (estimated or exact Jaccard)."""
        docs = np.unique(np.concatenate([a, b]))
        shard_of = np.searchsorted(offsets, docs, side="right") - 1
        if self.config.verify == "estimated":
            sig = np.empty((len(docs), self.config.num_perm), dtype=np.uint32)
            for s in np.unique(shard_of):
                mm = np.load(work_dir / f"sig-{keys[s]}.npy", mmap_mode="r")
                sel = shard_of == s
                sig[sel] = mm[docs[sel] - offsets[s]]
            ia, ib = np.searchsorted(docs, a), np.searchsorted(docs, b)
            return (sig[ia] == sig[ib]).mean(axis=1) >= self.config.verify_threshold
        sets: dict[int, np.ndarray] = {}
        for s in np.unique(shard_of):
            wanted = docs[shard_of == s] - offsets[s]
            texts = (pl.scan_parquet(sources[keys[s]]).with_row_index("r").filter(pl.col("r").is_in(wanted.tolist()))
                     .collect()["text"])
            for d, shingles in zip(wanted + offsets[s], shingle_sets(texts, self.config.ngram)):
                sets[int(d)] = shingles
        jac = np.array([
            len(np.intersect1d(sets[x], sets[y], assume_unique=True)) / max(1, len(np.union1d(sets[x], sets[y])))
            for x, y in zip(a.tolist(), b.tolist())
        ])
        return jac >= self.config.verify_threshold

    def reduce(self, keys: list[str], work_dir: Path, partitions: int, sources: dict[str, str]) -> dict:
        per_shard = [pl.read_parquet(work_dir / f"docs-{k}.parquet") for k in keys]
        docs = pl.concat(per_shard)
        offsets = np.concatenate([[0], np.cumsum([f.height for f in per_shard])]).astype(np.int64)
        edges = list(self._candidate_edges(keys, work_dir, partitions, offsets))
        a = np.concatenate([e[0] for e in edges]) if edges else np.zeros(0, dtype=np.int64)
        b = np.concatenate([e[1] for e in edges]) if edges else np.zeros(0, dtype=np.int64)
        if len(a):  # the same pair can surface in several bands, hence several partitions
            pairs = np.unique(a * np.int64(docs.height) + b)
            a, b = pairs // docs.height, pairs % docs.height
        candidates = len(a)
        if self.config.verify != "none" and len(a):
            ok = self._verify(a, b, keys, work_dir, offsets, sources)
            a, b = a[ok], b[ok]
        labels = connected_components(docs.height, a, b)
        lengths = docs["length"].to_numpy() if self.config.keep == "longest" else None
        keeper = keepers(labels, lengths)
        drop = np.flatnonzero(keeper != np.arange(docs.height))
        shard_of = np.searchsorted(offsets, drop, side="right") - 1
        ids = docs["key"]
        drops = pl.DataFrame({
            "shard": [keys[s] for s in shard_of], "row": drop - offsets[shard_of],
            "reason": ["near_duplicate"] * len(drop), "duplicate_of": ids.gather(keeper[drop]).to_list(),
            "cluster_id": labels[drop],
        }, schema={"shard": pl.String, "row": pl.Int64, "reason": pl.String, "duplicate_of": pl.String,
                   "cluster_id": pl.Int64})
        write_drops(work_dir, 0, drops)
        sizes = np.bincount(labels) if len(labels) else np.zeros(0, dtype=np.int64)
        return {"candidate_pairs": int(candidates), "edges_kept": int(len(a)), "near_duplicates": int(len(drop)),
                "clusters": int((sizes > 1).sum()), "largest_cluster": int(sizes.max()) if len(sizes) else 0,
                "lsh_threshold": round(self.config.threshold, 4), "signature": self.signature_version()}
