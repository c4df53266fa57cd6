"""LoRA fine-tuning of a causal LM on (prompt, response) pairs, and gold-answer log-likelihood scoring.

The supervised fine-tuning recipe (Hu et al. 2021, LoRA; the loss masking of Alpaca/TRL's SFT): each pair is
rendered with the tokenizer's chat template (a user turn, then the assistant's response and end-of-turn token),
the loss is the mean negative log-likelihood of the response tokens only (prompt tokens are masked), and only
the low-rank adapters on the attention projections train (``peft``). The base model is never modified: every
run adapts a deep copy, so one loaded model serves many runs.

Scoring uses the same rendering: an item's score is the mean log-probability (nats per token) of its gold
response given its prompt, and a set's score is the mean of the items' scores (every item weighs the same,
whatever its length). The logits are computed on response positions only (the LM head is a third of
SmolLM2-135M's compute per token), in training and in scoring.

Sequences longer than ``max_tokens`` keep the response's first tokens and the prompt's last ones (at least
half the window goes to the prompt when it needs it); callers that compare budgets should pass pairs that fit
(``fits``), so the tokens trained on are the tokens counted.
"""

from __future__ import annotations

import copy
import time
from dataclasses import asdict, dataclass

import numpy as np

IGNORE = -100  # label of a position that is not trained on or scored (the prompt, padding)


@dataclass(frozen=True)
class LoraSpec:
    """LoRA and optimiser settings. Defaults: rank 8 on q/k/v/o (the LoRA paper's attention setting), one epoch,
    AdamW at a constant learning rate (few steps: a schedule would spend most of them warming up)."""

    rank: int = 8
    alpha: int = 16
    dropout: float = 0.05
    target_modules: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj")
    lr: float = 1e-3
    epochs: int = 1
    batch_size: int = 8
    max_tokens: int = 256
    seed: int = 0


def render_prompt(tokenizer, prompt: str) -> str:
    """The text before the response: the chat template's user turn and assistant header, or ``prompt + "\\n\\n"``
    for a tokenizer without a template."""
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template([{"role": "user", "content": prompt}], add_generation_prompt=True,
                                             tokenize=False)
    return f"{prompt}\n\n" if prompt else ""


def encode_pair(tokenizer, prompt: str, response: str, max_tokens: int) -> tuple[list[int], list[int]]:
    """(input_ids, labels) of one rendered pair, ``len <= max_tokens``; labels are IGNORE on prompt positions.

    The response ends with the end-of-sequence token (the chat template's end of turn), which is trained and
    scored: stopping is part of the answer."""
    p = tokenizer(render_prompt(tokenizer, prompt), add_special_tokens=False)["input_ids"]
    r = tokenizer(response, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    r = r[: max_tokens - min(len(p), max_tokens // 2)]
    p = p[len(p) - (max_tokens - len(r)):] if len(p) + len(r) > max_tokens else p
    return p + r, [IGNORE] * len(p) + r


def pair_tokens(tokenizer, prompts: list[str], responses: list[str]) -> np.ndarray:
    """Rendered length of each pair in tokens (template, prompt, response and end token; untruncated)."""
    rendered = [render_prompt(tokenizer, p) for p in prompts]
    lp = [len(x) for x in tokenizer(rendered, add_special_tokens=False)["input_ids"]]
    lr = [len(x) + 1 for x in tokenizer(list(responses), add_special_tokens=False)["input_ids"]]
    return np.asarray(lp) + np.asarray(lr)


def fits(tokenizer, prompts: list[str], responses: list[str], max_tokens: int) -> np.ndarray:
    """Boolean mask of the pairs that ``encode_pair`` would not truncate."""
    return pair_tokens(tokenizer, prompts, responses) <= max_tokens


def _batches(encoded: list[tuple[list[int], list[int]]], order, batch_size: int, pad_id: int):
    import torch

    for start in range(0, len(order), batch_size):
        rows = [encoded[i] for i in order[start: start + batch_size]]
        width = max(len(ids) for ids, _ in rows)
        ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
        labels = torch.full((len(rows), width), IGNORE, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for k, (x, y) in enumerate(rows):
            ids[k, : len(x)], labels[k, : len(y)], mask[k, : len(x)] = torch.tensor(x), torch.tensor(y), 1
        yield list(order[start: start + batch_size]), ids, labels, mask


def _causal_lm(model):
    """The ``*ForCausalLM`` module under a peft wrapper (its LoRA layers stay injected)."""
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def _target_logprobs(model, ids, labels, mask):
    """Log-probability of every labelled token given the tokens before it: (values [n], row of each value [n]).

    Runs the decoder on the whole batch and the LM head only where a label follows."""
    import torch

    lm = _causal_lm(model)
    hidden = lm.model(input_ids=ids, attention_mask=mask).last_hidden_state
    targets = labels[:, 1:]
    where = targets != IGNORE
    logits = lm.lm_head(hidden[:, :-1][where]).float()
    logp = torch.log_softmax(logits, dim=-1).gather(-1, targets[where].unsqueeze(-1)).squeeze(-1)
    rows = torch.arange(ids.shape[0]).unsqueeze(1).expand_as(targets)[where]
    return logp, rows


def lora_finetune(base, tokenizer, prompts: list[str], responses: list[str], spec: LoraSpec = LoraSpec()):
    """A LoRA-adapted deep copy of ``base`` trained on the pairs; returns (peft model in eval mode, stats).

    The seed fixes the adapters' initialisation, dropout and the data order, so two subsets trained with one
    seed differ only in their data. stats: steps, examples, trained (response) tokens, seconds, per-step losses.
    Raises ValueError on an empty training set or one with no response tokens."""
    import torch
    from peft import LoraConfig, get_peft_model

    if not prompts or len(prompts) != len(responses):
        raise ValueError(f"need a non-empty list of pairs, got {len(prompts)} prompts and {len(responses)} responses")
    encoded = [encode_pair(tokenizer, p, r, spec.max_tokens) for p, r in zip(prompts, responses)]
    trained = sum(sum(1 for y in labels[1:] if y != IGNORE) for _, labels in encoded)
    if not trained:
        raise ValueError("no response tokens to train on")
    torch.manual_seed(spec.seed)
    config = LoraConfig(r=spec.rank, lora_alpha=spec.alpha, lora_dropout=spec.dropout,
                        target_modules=list(spec.target_modules), task_type="CAUSAL_LM")
    model = get_peft_model(copy.deepcopy(base), config)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=spec.lr, weight_decay=0.0)
    rng = np.random.default_rng(spec.seed)
    losses, start = [], time.perf_counter()
    for _ in range(spec.epochs):
        for _, ids, labels, mask in _batches(encoded, rng.permutation(len(encoded)), spec.batch_size,
                                             tokenizer.pad_token_id):
            logp, _ = _target_logprobs(model, ids, labels, mask)
            if not len(logp):
                continue
            loss = -logp.mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(round(loss.item(), 4))
    model.eval()
    stats = {"steps": len(losses), "examples": len(encoded), "trained_tokens": int(trained),
             "seconds": round(time.perf_counter() - start, 2), "losses": losses,
             "trainable_params": int(sum(p.numel() for p in params)), "spec": asdict(spec)}
    return model, stats


def answer_logprobs(model, tokenizer, prompts: list[str], responses: list[str], max_tokens: int = 256,
                    batch_size: int = 8) -> np.ndarray:
    """Mean log-probability (nats per token, <= 0) of each gold response given its prompt: float64 [n].

    Items are batched by length (less padding); the result is in the input order. nan for an item with no
    response token left after truncation."""
    import torch

    encoded = [encode_pair(tokenizer, p, r, max_tokens) for p, r in zip(prompts, responses)]
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i][0]))
    out = np.full(len(encoded), np.nan)
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        for rows, ids, labels, mask in _batches(encoded, order, batch_size, tokenizer.pad_token_id):
            logp, row = _target_logprobs(model, ids, labels, mask)
            sums = torch.zeros(len(rows), dtype=torch.float64).index_add_(0, row, logp.double())
            counts = torch.bincount(row, minlength=len(rows))
            for k, i in enumerate(rows):
                if counts[k]:
                    out[i] = float(sums[k] / counts[k])
    model.train(was_training)
    return out
