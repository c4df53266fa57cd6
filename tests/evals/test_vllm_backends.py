"""vLLM offline engine and OpenAI-compatible server against the transformers backend, on a tiny Llama: the
backend contract (``test_backend_conformance.assert_conforms``), log-likelihoods, timings and prefix caching.

Run whenever vLLM is installed (``make test`` builds .venv-vllm); each backend starts its engine once, with
prefix caching on (vLLM's default; requests with prompt log-probs skip the cache, so the scores are unaffected).
"""

import math

import pytest

from evals.backends import load_backend, vllm_available
from evals.serving_bench import measure_serving
from tests.evals.test_backend_conformance import assert_conforms, tiny_model  # noqa: F401 (fixture)

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not vllm_available(), reason="vLLM not installed (make vllm)")]

CONTEXT = "Question: What is the capital of France?\nAnswer:"
CHOICES = [" Paris", " the city of Lyon", " 42"]
PROMPTS = [f"Request number {i}: tell me about the weather in city {i}." for i in range(6)]


@pytest.fixture(scope="module")
def reference(tiny_model):
    with load_backend("transformers", tiny_model, "cpu") as hf:
        return hf.loglikelihood(CONTEXT, CHOICES)


@pytest.mark.parametrize("name", ["vllm", "vllm-server"])
def test_vllm_backend_matches_transformers_and_times_every_request(name, tiny_model, reference):
    shared = "You are a weather assistant. " * 60  # 361 tokens: 2 full KV blocks of 128 (vLLM's CPU default)
    with load_backend(name, tiny_model, prefix_caching=True) as backend:
        assert backend.prefix_caching
        assert_conforms(backend)
        scores = backend.loglikelihood(CONTEXT, CHOICES)
        cell = measure_serving(backend, PROMPTS, max_tokens=8, concurrency=3, warmups=1)
        gens = backend.generate(PROMPTS[:2], max_tokens=5)
        backend.reset_prefix_cache()
        before = backend.cache_stats()
        backend.generate([shared + "First question?"], max_tokens=2)
        cached = measure_serving(backend, [shared + "Second question?"], max_tokens=2, warmups=0)
    # the second request found the shared prefix's full blocks in the cache (vLLM's counters, in tokens)
    assert cached["prefix_cache"]["hits"] >= 256 and cached["prefix_cache"]["hit_rate"] > 0.6, cached["prefix_cache"]
    assert before["queries"] >= before["hits"] >= 0
    assert [s.tokens for s in scores] == [r.tokens for r in reference]
    for got, want in zip(scores, reference):
        assert math.isclose(got.logprob, want.logprob, rel_tol=1e-3, abs_tol=1e-3), (got, want)
    assert cell["requests"] == len(PROMPTS) and cell["concurrency"] == 3
    assert all(g.output_tokens == 5 and 0 < g.ttft_s <= g.e2e_s for g in gens)
    assert gens[0].prompt_tokens > 5
    assert cell["ttft_s"]["p50"] > 0 and cell["e2e_s"]["p99"] >= cell["ttft_s"]["p50"]
    if name == "vllm-server":  # streamed: a gap per token after the first
        assert 1 <= len(gens[0].itl_s) <= 4
