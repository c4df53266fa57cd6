"""The serving-backend contract: what one request returns, where its clock starts, and what a backend provides.

Modelled on vLLM's ``benchmark_serving`` (``RequestFuncOutput``: ``success``, ``error``, ``ttft``, ``itl``,
``latency``), with one difference stated here once: every timing starts on **the caller's clock when the burst
is handed to the backend** (``generate`` was called; every request of a burst is submitted at that moment) and
ends when the token is visible in the caller's process. ``vllm bench serve`` stamps each request just before its
HTTP POST; in a burst sent on concurrent connections the two differ by the client's thread start-up, which a
caller does wait for. So queueing is included everywhere: behind earlier requests (transformers serves a burst in
order), in the engine's scheduler, and on the client.

A failed request (a non-200 answer, a timeout, a prompt longer than the model's context, an exception in the
engine) is a ``Generation`` with ``success=False`` and its ``error``; ``generate`` returns one row per prompt, in
order, and never raises for one request's failure, so one bad request cannot abort a benchmark cell.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from core.lm_scoring import ContinuationScore


@dataclass
class Generation:
    """One request's result (vLLM's ``RequestFuncOutput``: generated_text, prompt_len, output_tokens, ttft,
    latency, itl, success, error). Times in seconds from the burst's submission (``submitted_clock``)."""

    text: str
    prompt_tokens: int
    output_tokens: int
    ttft_s: float | None          # submitted -> first output token visible to the caller; None when failed
    e2e_s: float | None           # submitted -> last output token (vLLM's "latency")
    itl_s: list[float] = field(default_factory=list)  # gaps between consecutive output chunks (empty if untimed)
    success: bool = True
    error: str = ""

    @property
    def tpot_s(self) -> float | None:
        """Time per output token after the first (vLLM's TPOT)."""
        if not self.success or self.output_tokens < 2:
            return None
        return (self.e2e_s - self.ttft_s) / (self.output_tokens - 1)


def failed(error: str | BaseException, prompt_tokens: int = 0) -> Generation:
    """The row of a request that did not complete: no text, no timings, the error as text."""
    if isinstance(error, BaseException):
        error = f"{type(error).__name__}: {error}"
    return Generation("", prompt_tokens, 0, None, None, [], success=False, error=str(error) or "unknown error")


def submitted_clock() -> float:
    """Where every TTFT / E2E starts: ``time.perf_counter()`` in the caller's process, taken as ``generate``
    begins. (vLLM's offline engine stamps tokens in its engine-core process with ``time.monotonic()``: it is
    handed the caller's ``time.monotonic()`` at the same moment and counts from that; on Linux both clocks are
    CLOCK_MONOTONIC, one system-wide clock.)"""
    return time.perf_counter()


def too_long(prompt_tokens: int, max_tokens: int, max_model_len: int | None) -> str | None:
    """The error for a request that cannot fit the model's context (prompt + output), as vLLM rejects it; else
    None. Every backend refuses such a request the same way, as a failed row."""
    if max_model_len is not None and prompt_tokens + max_tokens > max_model_len:
        return (f"prompt of {prompt_tokens} tokens + {max_tokens} output tokens is longer than the model's "
                f"context ({max_model_len})")
    return None


@runtime_checkable
class ServingBackend(Protocol):
    """What every serving backend provides (``tests/evals/test_backend_conformance.py`` checks each one).

    - ``generate(prompts, max_tokens, ignore_eos)``: one burst of ``len(prompts)`` concurrent requests, greedy;
      returns one ``Generation`` per prompt in order; a failed request is a row (``success=False``), not an
      exception. With ``ignore_eos`` every successful row has exactly ``max_tokens`` output tokens.
    - ``loglikelihood(context, continuations)``: summed log-probability of each continuation's tokens.
    - ``per_token_timings``: True when ``itl_s`` holds the gaps between the tokens as the caller received them:
      one per token after the first, or per streamed chunk where the server sends several tokens in one (as
      ``vllm bench serve`` counts ITL); ``e2e_s == ttft_s + sum(itl_s)``. False: ``itl_s`` is empty.
    - ``prefix_caching``: whether the engine reuses the KV cache of a shared prompt prefix (vLLM's automatic
      prefix caching; its default is on, the benchmarks choose).
    - ``cache_stats()``: cumulative prefix-cache counters ``{"queries": tokens looked up, "hits": tokens found}``
      since the engine started, or None when the backend has no prefix cache.
    - ``reset_prefix_cache()``: forget cached prefixes (so one cell never reuses an earlier one's); no-op without.
    - ``close()``: stop the engine process or server it holds (also on ``with ... as backend`` exit).
    """

    name: str
    per_token_timings: bool
    prefix_caching: bool

    def generate(self, prompts: list[str], max_tokens: int = 32, ignore_eos: bool = True) -> list[Generation]: ...

    def loglikelihood(self, context: str, continuations: list[str]) -> list[ContinuationScore]: ...

    def cache_stats(self) -> dict | None: ...

    def reset_prefix_cache(self) -> None: ...

    def close(self) -> None: ...


class Backend:
    """Defaults every backend shares: no prefix cache, ``with`` closes the engine process or server it holds."""

    name = "backend"
    per_token_timings = False
    prefix_caching = False

    def cache_stats(self) -> dict | None:
        return None

    def reset_prefix_cache(self) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def hit_rate(before: dict | None, after: dict | None) -> dict | None:
    """Prefix-cache tokens queried and hit between two ``cache_stats()`` readings, and hits / queries."""
    if before is None or after is None:
        return None
    queries, hits = after["queries"] - before["queries"], after["hits"] - before["hits"]
    return {"queries": queries, "hits": hits, "hit_rate": hits / queries if queries else None}
