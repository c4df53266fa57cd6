"""A real pool for selection tests: 150 Alpaca pairs + 50 GSM8K problems, embedded once per session."""

from __future__ import annotations

import pytest

from selection import Pool, load_pool
from tests.conftest import shared


@pytest.fixture(scope="session")
def mixed_pool() -> Pool:
    alpaca = load_pool([shared("instruct", "alpaca_en_demo.json")])
    gsm = load_pool([shared("math", "gsm8k_train.jsonl")])
    pool = Pool()
    for src, n in ((alpaca, 150), (gsm, 50)):
        for i in range(n):
            pool.ids.append(src.ids[i])
            pool.prompts.append(src.prompts[i])
            pool.responses.append(src.responses[i])
            pool.metadata.append(src.metadata[i] | {"origin": "gsm8k" if src is gsm else "alpaca"})
            pool.sources.append(src.sources[i])
    return pool


@pytest.fixture(scope="session")
def gsm_target() -> Pool:
    gsm = load_pool([shared("math", "gsm8k_test.jsonl")])
    return Pool.from_texts(gsm.texts[:30], ids=gsm.ids[:30])


@pytest.fixture(scope="session")
def embed():
    from core.embed import Embedder

    return Embedder().embed


@pytest.fixture(scope="session")
def pool_cache(mixed_pool, embed) -> dict:
    """Shared precomputed embeddings: strategies read them instead of re-embedding per test."""
    return {"embeddings": embed(mixed_pool.texts)}
