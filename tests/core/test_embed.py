"""Embeddings: the packaged MiniLM loads offline, vectors match a bare SentenceTransformer, cache hits skip it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.embed import Embedder, EmbeddingCache, text_key
from tests.conftest import shared


@pytest.fixture(scope="module")
def alpaca_texts() -> list[str]:
    records = json.loads(shared("instruct", "alpaca_en_demo.json").read_text())
    return [r["instruction"] + "\n\n" + r["output"] for r in records[:40]]


def test_cache_hit_does_not_call_the_model(tmp_path, alpaca_texts):
    first = Embedder(cache=tmp_path / "cache")
    vectors = first.embed(alpaca_texts[:30])
    assert first.encode_calls == 30
    assert vectors.shape == (30, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)

    again = Embedder(cache=tmp_path / "cache")  # a new process-like instance: reads the parts from disk
    assert np.array_equal(again.embed(alpaca_texts[:30]), vectors)
    assert again.encode_calls == 0
    assert again._model is None  # the model was never even loaded

    mixed = again.embed(alpaca_texts[25:35])  # 5 hits, 5 misses
    assert again.encode_calls == 5
    assert np.array_equal(mixed[:5], vectors[25:30])


def test_duplicates_in_one_call_are_encoded_once(tmp_path, alpaca_texts):
    e = Embedder(cache=tmp_path / "c")
    out = e.embed([alpaca_texts[0], alpaca_texts[1], alpaca_texts[0]])
    assert e.encode_calls == 2
    assert np.array_equal(out[0], out[2])


def test_vectors_match_bare_sentence_transformers(tmp_path, alpaca_texts):
    from sentence_transformers import SentenceTransformer

    from core.models import embedding_model_path

    bare = SentenceTransformer(str(embedding_model_path()), device="cpu")
    expected = bare.encode(alpaca_texts[:10], normalize_embeddings=True)
    got = Embedder(cache=tmp_path / "c").embed(alpaca_texts[:10])
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_similar_sentences_are_closer_than_unrelated_ones(tmp_path):
    v = Embedder(cache=False).embed(["A cat sits on the mat.", "A kitten is sitting on a rug.",
                                     "Quarterly revenue rose by four percent."])
    assert v[0] @ v[1] > 0.5 > v[0] @ v[2]


def test_cache_parts_survive_reload_and_ignore_partial_temp_files(tmp_path):
    cache = EmbeddingCache(tmp_path)
    keys = [text_key("a"), text_key("b")]
    cache.put(keys, np.eye(2, 384, dtype=np.float32))
    (tmp_path / ".part-dead.npz.123.tmp").write_bytes(b"half a file")
    reloaded = EmbeddingCache(tmp_path)
    assert len(reloaded) == 2
    assert reloaded.get(text_key("b"))[1] == 1.0
