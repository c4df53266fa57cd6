"""vLLM offline engine and OpenAI-compatible server against the transformers backend, on a tiny Llama.

Run whenever vLLM is installed (``make test`` builds .venv-vllm); each backend starts its engine once.
"""

import math

import pytest

from evals.backends import load_backend, vllm_available
from evals.serving_bench import run_cell

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not vllm_available(), reason="vLLM not installed (make vllm)")]

CONTEXT = "Question: What is the capital of France?\nAnswer:"
CHOICES = [" Paris", " the city of Lyon", " 42"]
PROMPTS = [f"Request number {i}: tell me about the weather in city {i}." for i in range(6)]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from core.models import load_smollm2_tokenizer

    tok = load_smollm2_tokenizer()  # head_dim 32: vLLM's CPU attention has no kernel for 16
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=128, intermediate_size=256, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                      bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, torch_dtype="float32")
    out = tmp_path_factory.mktemp("tiny-llama")
    LlamaForCausalLM(cfg).save_pretrained(out)
    tok.save_pretrained(out)
    return str(out)


@pytest.fixture(scope="module")
def reference(tiny_model):
    with load_backend("transformers", tiny_model, "cpu") as hf:
        return hf.loglikelihood(CONTEXT, CHOICES)


@pytest.mark.parametrize("name", ["vllm", "vllm-server"])
def test_vllm_backend_matches_transformers_and_times_every_request(name, tiny_model, reference):
    with load_backend(name, tiny_model) as backend:
        scores = backend.loglikelihood(CONTEXT, CHOICES)
        cell = run_cell(backend, PROMPTS, max_tokens=8, concurrency=3, warmups=1)
        gens = backend.generate(PROMPTS[:2], max_tokens=5)
    assert [s.tokens for s in scores] == [r.tokens for r in reference]
    for got, want in zip(scores, reference):
        assert math.isclose(got.logprob, want.logprob, rel_tol=1e-3, abs_tol=1e-3), (got, want)
    assert cell["requests"] == len(PROMPTS) and cell["concurrency"] == 3
    assert all(g.output_tokens == 5 and 0 < g.ttft_s <= g.e2e_s for g in gens)
    assert gens[0].prompt_tokens > 5
    assert cell["ttft_s"]["p50"] > 0 and cell["e2e_s"]["p99"] >= cell["ttft_s"]["p50"]
    if name == "vllm-server":  # streamed: a gap per token after the first
        assert 1 <= len(gens[0].itl_s) <= 4
