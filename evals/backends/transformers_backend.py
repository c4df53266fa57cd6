"""The light fallback: a greedy decode loop over transformers with a KV cache, timing every token.

One request at a time (no continuous batching): requests that arrive together queue, and their TTFT includes
the wait, as vLLM's does (the clock starts when the burst is submitted: ``protocol``). A request whose prompt
and output do not fit the model's context (``max_position_embeddings``) is a failed row, as vLLM refuses it.
"""

from __future__ import annotations

import time

import torch

from evals.backends.protocol import Backend, Generation, failed, submitted_clock, too_long
from core.lm_scoring import ContinuationScore, score_continuations


class TransformersBackend(Backend):
    name = "transformers"
    per_token_timings = True

    def __init__(self, model_path: str, device: str = "auto"):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from core.models import device as pick_device

        self.device = pick_device(device)
        self.model = AutoModelForCausalLM.from_pretrained(model_path).to(self.device).eval()
        self.tokenizer = AutoTokenizer.from_pretrained(model_path)
        self.model_path = model_path
        self.max_model_len = getattr(self.model.config, "max_position_embeddings", None)

    def _one(self, prompt: str, max_tokens: int, arrived: float, ignore_eos: bool) -> Generation:
        ids = self.tokenizer(prompt, add_special_tokens=False)["input_ids"] or [self.tokenizer.eos_token_id]
        refused = too_long(len(ids), max_tokens, self.max_model_len)
        if refused:
            return failed(refused, len(ids))
        try:
            return self._decode(ids, max_tokens, arrived, ignore_eos)
        except Exception as e:  # noqa: BLE001 - one request's failure is its row (protocol)
            return failed(e, len(ids))

    @torch.inference_mode()
    def _decode(self, ids: list[int], max_tokens: int, arrived: float, ignore_eos: bool) -> Generation:
        out = self.model(input_ids=torch.tensor([ids], device=self.device), use_cache=True)
        cache, logits = out.past_key_values, out.logits[0, -1]
        tokens, stamps = [], []
        for _ in range(max_tokens):
            if not ignore_eos:
                nxt = int(torch.argmax(logits))
            else:
                masked = logits.clone()
                masked[self.tokenizer.eos_token_id] = -float("inf")
                nxt = int(torch.argmax(masked))
            tokens.append(nxt)
            stamps.append(time.perf_counter())
            if nxt == self.tokenizer.eos_token_id and not ignore_eos:
                break
            out = self.model(input_ids=torch.tensor([[nxt]], device=self.device), past_key_values=cache, use_cache=True)
            cache, logits = out.past_key_values, out.logits[0, -1]
        return Generation(self.tokenizer.decode(tokens, skip_special_tokens=True), len(ids), len(tokens),
                          stamps[0] - arrived, stamps[-1] - arrived, [b - a for a, b in zip(stamps, stamps[1:])])

    def generate(self, prompts: list[str], max_tokens: int = 32, ignore_eos: bool = True) -> list[Generation]:
        """All prompts arrive at once (a burst of len(prompts) concurrent requests) and are served in order."""
        arrived = submitted_clock()
        return [self._one(p, max_tokens, arrived, ignore_eos) for p in prompts]

    def loglikelihood(self, context: str, continuations: list[str]) -> list[ContinuationScore]:
        return score_continuations(self.model, self.tokenizer, context, continuations)
