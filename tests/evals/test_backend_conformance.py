"""Every serving backend against the contract in ``evals.backends.protocol``.

``assert_conforms`` is the conformance check; it runs here on the transformers backend (a tiny Llama, seconds)
and in ``test_vllm_backends.py`` on the vLLM engine and server (one engine start each, when vLLM is installed).
The server's failure paths (non-200, timeout) are also checked here without vLLM, on a mocked transport.
"""

from __future__ import annotations

import json
import time

import httpx
import pytest

from core.lm_scoring import ContinuationScore
from evals.backends import load_backend
from evals.backends.protocol import Generation, ServingBackend, failed
from evals.serving_bench import measure_serving

PROMPTS = [f"Request number {i}: tell me about the weather in city {i}." for i in range(3)]
MAX_MODEL_LEN = 512  # the tiny model's max_position_embeddings: vLLM's max_model_len, transformers' limit
TOO_LONG = "word " * 600  # > 512 tokens with any tokenizer that splits on spaces


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A 2-layer Llama with SmolLM2's tokenizer (head_dim 32: vLLM's CPU attention has no kernel for 16)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from core.models import load_smollm2_tokenizer

    tok = load_smollm2_tokenizer()
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=128, intermediate_size=256, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=MAX_MODEL_LEN,
                      bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, torch_dtype="float32")
    out = tmp_path_factory.mktemp("tiny-llama")
    LlamaForCausalLM(cfg).save_pretrained(out)
    tok.save_pretrained(out)
    return str(out)


def assert_conforms(backend) -> None:
    """The contract, checked on a live backend: one row per prompt in order, a too-long prompt as a failed row
    (the rest of its burst served), exact output lengths, timings from the burst's submission, cache counters."""
    assert isinstance(backend, ServingBackend), f"{type(backend).__name__} lacks part of ServingBackend"
    assert isinstance(backend.name, str) and backend.name
    start = time.perf_counter()
    rows = backend.generate([PROMPTS[0], TOO_LONG, PROMPTS[1]], max_tokens=5)
    wall = time.perf_counter() - start
    assert len(rows) == 3 and all(isinstance(r, Generation) for r in rows)
    ok, refused, ok2 = rows
    assert not refused.success and refused.ttft_s is None and refused.output_tokens == 0
    assert "context" in refused.error or "maximum" in refused.error, refused.error
    for r in (ok, ok2):
        assert r.success and r.error == "" and r.output_tokens == 5 and r.prompt_tokens > 5
        # the clock starts when the burst is handed over: nothing can end after the call returned
        assert 0 < r.ttft_s <= r.e2e_s <= wall
        if backend.per_token_timings:  # a gap per streamed chunk after the first; a chunk may hold tokens
            assert 1 <= len(r.itl_s) <= 4 and r.e2e_s == pytest.approx(r.ttft_s + sum(r.itl_s), abs=1e-6)
        assert r.tpot_s == pytest.approx((r.e2e_s - r.ttft_s) / 4)
    # ... and it does not start late: the slowest request ends within transport time of the call's return
    assert max(ok.e2e_s, ok2.e2e_s) >= 0.5 * wall, (ok, ok2, wall)
    cell = measure_serving(backend, [PROMPTS[2], TOO_LONG], max_tokens=4, concurrency=2, warmups=0)
    assert cell["completed"] == 1 and cell["failed"] == 1 and cell["failed_rows"][0]["prompt_index"] == 1
    assert sum(cell["errors"].values()) == 1
    stats = backend.cache_stats()
    assert stats is None or (set(stats) == {"queries", "hits"} and 0 <= stats["hits"] <= stats["queries"])
    backend.reset_prefix_cache()
    scores = backend.loglikelihood("Question: What is the capital of France?\nAnswer:", [" Paris", " 42"])
    assert all(isinstance(s, ContinuationScore) and s.tokens >= 1 and s.logprob < 0 for s in scores)


def test_transformers_backend_conforms(tiny_model):
    with load_backend("transformers", tiny_model, "cpu") as backend:
        assert_conforms(backend)
        # served in order: the second request of a burst waits for the first, and its TTFT says so
        a, b = backend.generate(PROMPTS[:2], max_tokens=3)
        assert b.ttft_s > a.e2e_s and len(a.itl_s) == len(b.itl_s) == 2  # one gap per token: no chunking


def test_transformers_refuses_prefix_caching(tiny_model):
    with pytest.raises(ValueError, match="no prefix cache"):
        load_backend("transformers", tiny_model, "cpu", prefix_caching=True)


def test_failed_row_carries_the_exception():
    row = failed(TimeoutError("read timed out"), prompt_tokens=7)
    assert not row.success and row.error == "TimeoutError: read timed out" and row.prompt_tokens == 7
    assert row.tpot_s is None and row.itl_s == []


def _server(handler):
    """The server backend on a mocked HTTP transport: no vLLM, no process."""
    from evals.backends.openai_server import VLLMServerBackend

    backend = object.__new__(VLLMServerBackend)
    backend.client = httpx.Client(base_url="http://test", transport=httpx.MockTransport(handler))
    backend.model, backend.proc, backend.prefix_caching = "m", None, True
    return backend


def _stream(n: int) -> bytes:
    chunks = [{"choices": [{"text": f" t{i}"}]} for i in range(n)] + [
        {"choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": n}}]
    return "".join(f"data: {json.dumps(c)}\n\n" for c in chunks).encode() + b"data: [DONE]\n\n"


def test_server_failures_are_rows_not_exceptions():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/metrics":
            return httpx.Response(200, text="")
        prompt = json.loads(request.content)["prompt"]
        if prompt == "busy":
            return httpx.Response(503, text="engine overloaded")
        if prompt == "slow":
            raise httpx.ReadTimeout("timed out", request=request)
        return httpx.Response(200, content=_stream(3), headers={"content-type": "text/event-stream"})

    with _server(handler) as backend:
        ok, busy, slow = backend.generate(["fine", "busy", "slow"], max_tokens=3)
        cell = measure_serving(backend, ["fine", "busy", "fine", "slow"], max_tokens=3, concurrency=2, warmups=0)
    assert ok.success and ok.output_tokens == 3 and ok.prompt_tokens == 9 and len(ok.itl_s) == 2
    assert not busy.success and busy.error == "HTTP 503: engine overloaded"
    assert not slow.success and slow.error.startswith("ReadTimeout")
    assert cell["completed"] == 2 and cell["failed"] == 2
    assert cell["errors"] == {"HTTP 503: engine overloaded": 1, "ReadTimeout: timed out": 1}
    assert [r["prompt_index"] for r in cell["failed_rows"]] == [1, 3]


def test_server_reads_prefix_cache_counters_from_metrics():
    # the exposition format vLLM 0.32 serves: counters get _total, one sample per engine label set
    metrics = ('# HELP vllm:prefix_cache_queries Prefix cache queries, in terms of number of queried tokens.\n'
               'vllm:prefix_cache_queries_total{engine="0",model_name="m"} 1200.0\n'
               'vllm:prefix_cache_hits_total{engine="0",model_name="m"} 900.0\n'
               'vllm:external_prefix_cache_hits_total{engine="0",model_name="m"} 5.0\n')
    resets = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/reset_prefix_cache":
            resets.append(request.method)
            return httpx.Response(200)
        return httpx.Response(200, text=metrics)

    with _server(handler) as backend:
        assert backend.cache_stats() == {"queries": 1200, "hits": 900}
        backend.reset_prefix_cache()
    assert resets == ["POST"]
