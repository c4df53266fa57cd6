"""Log-likelihood of continuations given a context, with the context run once and its KV cache reused.

Split like lm-eval: the continuation's tokens are those of ``tokenize(context + continuation)`` past the
context's tokens, so a word that merges across the boundary is scored whole. The context is left-truncated
to fit ``max_tokens``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class ContinuationScore:
    logprob: float   # sum over the continuation's tokens
    tokens: int

    @property
    def mean(self) -> float:
        """Length-normalized (per token): what cloze accuracy ranks by."""
        return self.logprob / max(1, self.tokens)


def split_continuation(tokenizer, context: str, continuation: str, ctx: list[int] | None = None) -> tuple[list[int], list[int]]:
    """``ctx``: the context's token ids when the caller already has them (one context, many continuations)."""
    whole = tokenizer(context + continuation, add_special_tokens=False)["input_ids"]
    ctx = tokenizer(context, add_special_tokens=False)["input_ids"] if ctx is None else ctx
    n = len(ctx)
    while n > 0 and whole[:n] != ctx[:n]:
        n -= 1  # the boundary merged: give the shared tail to the continuation
    return whole[:n], whole[n:]


@torch.inference_mode()
def score_continuations(model, tokenizer, context: str, continuations: list[str],
                        max_tokens: int = 2048) -> list[ContinuationScore]:
    dev = next(model.parameters()).device
    context_ids = tokenizer(context, add_special_tokens=False)["input_ids"]
    splits = [split_continuation(tokenizer, context, c, context_ids) for c in continuations]
    shared = min(len(s[0]) for s in splits)
    prefix = splits[0][0][:shared]
    # every continuation keeps its own tail of context tokens past the shared prefix
    tails = [s[0][shared:] + s[1] for s in splits]
    longest = max(len(t) for t in tails)
    prefix = prefix[-(max_tokens - longest):] if len(prefix) + longest > max_tokens else prefix
    bos = [tokenizer.bos_token_id] if not prefix and tokenizer.bos_token_id is not None else []
    prefix = bos + prefix
    out = model(input_ids=torch.tensor([prefix], device=dev), use_cache=True)
    cache, first_logits = out.past_key_values, out.logits[0, -1].float()
    results = []
    for (ctx_ids, cont_ids), tail in zip(splits, tails):
        n_ctx_tail = len(ctx_ids) - shared
        logits = first_logits.unsqueeze(0)
        if len(tail) > 1:
            step = model(input_ids=torch.tensor([tail[:-1]], device=dev), past_key_values=copy.deepcopy(cache),
                         use_cache=True)
            logits = torch.cat([logits, step.logits[0].float()], dim=0)
        logp = torch.log_softmax(logits, dim=-1)
        targets = torch.tensor(tail, device=dev)
        token_logp = logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1)[n_ctx_tail:]
        results.append(ContinuationScore(float(token_logp.sum()), len(cont_ids)))
    return results
