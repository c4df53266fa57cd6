"""LoRA fine-tuning and gold-answer scoring (evals.finetune) on a tiny random Llama with SmolLM2's real tokenizer:
seconds, no packaged weights loaded."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("peft")

from evals.finetune import IGNORE, LoraSpec, answer_logprobs, encode_pair, fits, lora_finetune, pair_tokens  # noqa: E402

PAIRS = [("What is 2 + 3?", "2 + 3 = 5.\n#### 5"), ("Name a colour.", "Blue."),
         ("Write a greeting.", "Hello there, nice to meet you!")]


@pytest.fixture(scope="module")
def tokenizer():
    from core.models import load_smollm2_tokenizer

    return load_smollm2_tokenizer()


@pytest.fixture(scope="module")
def tiny(tokenizer):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                         tie_word_embeddings=True)
    return LlamaForCausalLM(config).eval()


def test_encode_pair_masks_the_prompt_and_ends_the_response(tokenizer):
    ids, labels = encode_pair(tokenizer, "What is 2 + 3?", "5", max_tokens=256)
    response = tokenizer("5", add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    # the chat template's user turn and assistant header are the prompt: masked; the answer and end of turn train
    assert ids[-len(response):] == response
    assert labels == [IGNORE] * (len(ids) - len(response)) + response
    assert len(ids) == pair_tokens(tokenizer, ["What is 2 + 3?"], ["5"])[0]


def test_encode_pair_truncates_to_the_window(tokenizer):
    long_prompt, long_answer = "word " * 300, "answer " * 300
    ids, labels = encode_pair(tokenizer, long_prompt, long_answer, max_tokens=64)
    assert len(ids) == 64
    # half the window goes to the prompt (its end: the assistant header), the rest to the answer's start
    assert sum(y == IGNORE for y in labels) == 32
    assert ids[32:] == tokenizer(long_answer, add_special_tokens=False)["input_ids"][:32]
    assert not fits(tokenizer, [long_prompt], [long_answer], 64)[0] and fits(tokenizer, ["a"], ["b"], 64)[0]


def test_answer_logprobs_matches_a_plain_forward_pass(tiny, tokenizer):
    prompts, responses = zip(*PAIRS)
    got = answer_logprobs(tiny, tokenizer, list(prompts), list(responses), batch_size=2)
    for k, (p, r) in enumerate(PAIRS):  # one at a time, no padding, full logits
        ids, labels = encode_pair(tokenizer, p, r, 256)
        with torch.no_grad():
            logp = torch.log_softmax(tiny(input_ids=torch.tensor([ids])).logits[0, :-1].double(), -1)
        keep = torch.tensor(labels[1:]) != IGNORE
        want = logp[torch.arange(len(ids) - 1), torch.tensor(ids[1:])][keep].mean().item()
        assert got[k] == pytest.approx(want, abs=1e-4)  # batching pads: results stay in input order, same values


def test_lora_finetune_trains_adapters_only_and_leaves_the_base_untouched(tiny, tokenizer):
    before = {k: v.clone() for k, v in tiny.state_dict().items()}
    prompts, responses = [PAIRS[0][0]] * 8, [PAIRS[0][1]] * 8
    start = answer_logprobs(tiny, tokenizer, [PAIRS[0][0]], [PAIRS[0][1]])[0]
    model, stats = lora_finetune(tiny, tokenizer, prompts, responses,
                                 LoraSpec(rank=4, alpha=8, lr=5e-2, epochs=3, batch_size=4, dropout=0.0))
    after = answer_logprobs(model, tokenizer, [PAIRS[0][0]], [PAIRS[0][1]])[0]
    assert after > start + 0.1  # 6 steps on one pair: its answer gets more likely (+0.24 nats/token measured)
    assert stats["steps"] == 6 and stats["examples"] == 8
    n_answer = len(tokenizer(PAIRS[0][1], add_special_tokens=False)["input_ids"]) + 1  # + end of turn
    assert stats["trained_tokens"] == 8 * n_answer
    # rank 4 on q, k, v, o of 2 layers: A (r x in) + B (out x r) per projection; k and v project to 2 heads of 8
    assert stats["trainable_params"] == 2 * 4 * ((32 + 32) + (32 + 16) + (32 + 16) + (32 + 32))
    assert all(torch.equal(v, tiny.state_dict()[k]) for k, v in before.items())
    assert answer_logprobs(tiny, tokenizer, [PAIRS[0][0]], [PAIRS[0][1]])[0] == pytest.approx(start)


def test_same_seed_same_run(tiny, tokenizer):
    prompts, responses = map(list, zip(*PAIRS))
    spec = LoraSpec(rank=2, alpha=4, lr=1e-2, batch_size=2, seed=3)
    a = lora_finetune(tiny, tokenizer, prompts, responses, spec)[1]["losses"]
    b = lora_finetune(tiny, tokenizer, prompts, responses, spec)[1]["losses"]
    assert a == b and len(a) == 2


def test_empty_training_set_is_refused(tiny, tokenizer):
    with pytest.raises(ValueError, match="non-empty"):
        lora_finetune(tiny, tokenizer, [], [])
    with pytest.raises(ValueError, match="no response tokens"):
        lora_finetune(tiny, tokenizer, ["x"], ["y"], LoraSpec(max_tokens=1))  # the window holds the prompt only
