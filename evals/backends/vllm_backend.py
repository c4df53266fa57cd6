"""vLLM's offline engine (``LLM``) behind the backend interface; imported only when vllm is installed.

Timings come from vLLM's own per-request metrics (arrival, first token, finish), so TTFT includes queueing.
Prefix caching is off: every cell of a benchmark pays for its own prefill.
"""

from __future__ import annotations

from evals.backends import Generation
from evals.lm_scoring import ContinuationScore


class VLLMBackend:
    name = "vllm"

    def __init__(self, model_path: str, max_model_len: int = 4096):
        from vllm import LLM

        self.llm = LLM(model=model_path, enable_prefix_caching=False, max_model_len=max_model_len,
                       disable_log_stats=False)
        self.tokenizer = self.llm.get_tokenizer()
        self.model_path = model_path

    def generate(self, prompts: list[str], max_tokens: int = 32, ignore_eos: bool = True) -> list[Generation]:
        from vllm import SamplingParams

        params = SamplingParams(max_tokens=max_tokens, temperature=0.0, ignore_eos=ignore_eos)
        out = []
        for r in self.llm.generate(prompts, params, use_tqdm=False):
            m = r.metrics
            o = r.outputs[0]
            ttft = (m.first_token_time - m.arrival_time) if m and m.first_token_time else float("nan")
            e2e = (m.finished_time - m.arrival_time) if m and m.finished_time else float("nan")
            out.append(Generation(o.text, len(r.prompt_token_ids), len(o.token_ids), ttft, e2e, []))
        return out

    def loglikelihood(self, context: str, continuations: list[str]) -> list[ContinuationScore]:
        from vllm import SamplingParams

        from evals.lm_scoring import _split

        params = SamplingParams(max_tokens=1, prompt_logprobs=0, temperature=0.0)
        scores = []
        context_ids = self.tokenizer(context, add_special_tokens=False)["input_ids"]
        for cont in continuations:
            ctx_ids, cont_ids = _split(self.tokenizer, context, cont, context_ids)
            r = self.llm.generate([{"prompt_token_ids": ctx_ids + cont_ids}], params, use_tqdm=False)[0]
            lps = [next(iter(d.values())).logprob if d else 0.0 for d in r.prompt_logprobs[len(ctx_ids):]]
            scores.append(ContinuationScore(float(sum(lps)), len(cont_ids)))
        return scores
