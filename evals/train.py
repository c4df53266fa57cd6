"""Train a small Llama-architecture LM on a corpus at a fixed token budget: the DCLM/FineWeb ablation recipe.

Only the data changes between arms: same architecture, tokenizer (SmolLM2's), budget, schedule and seed.
Held-out loss is measured on clean text (wikitext-2 test) and on a hashed slice of the raw corpus that no arm
trains on. The checkpoint is a Hugging Face directory (config, safetensors, tokenizer) that vLLM can load.
"""

from __future__ import annotations

import json
import logging
import math
import resource
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import xxhash


@dataclass
class TrainConfig:
    token_budget: int = 200_000
    seq_len: int = 128
    batch_size: int = 8
    hidden_size: int = 128
    layers: int = 4
    heads: int = 4
    kv_heads: int = 2
    intermediate_size: int = 384
    lr: float = 2e-3
    warmup_steps: int = 10
    eval_every_tokens: int = 0  # 0: every tenth of the budget (the headline interpolates between evaluations)
    eval_tokens: int = 8_192
    seed: int = 0
    holdout_percent: int = 5  # raw documents hashed into this slice are held out of every arm


def is_holdout(doc_id: str, percent: int) -> bool:
    return xxhash.xxh64_intdigest(doc_id.encode()) % 100 < percent


def read_texts(paths: list[str], text_field: str = "text", quarantined: list | None = None) -> list[tuple[str, str]]:
    """(id, text) for every readable document. An unreadable line is never trained on: it is logged with its file
    and line number, and appended as (file, line, error) to ``quarantined`` when given."""
    from core.readers import ReaderConfig, read_documents

    def skip(file: str, line: int, error: str, raw: str) -> None:
        logging.getLogger(__name__).warning("%s:%d: not trained on: %s", file, line, error)
        if quarantined is not None:
            quarantined.append((file, line, error))

    out = []
    for batch in read_documents(paths, ReaderConfig(text_field=text_field), skip):
        out.extend(zip(batch["id"].to_list(), batch["text"].to_list()))
    return out


def token_blocks(texts: list[str], tokenizer, seq_len: int) -> np.ndarray:
    """Documents joined with EOS and cut into ``seq_len + 1`` windows (input and shifted target)."""
    ids: list[int] = []
    for encoded in tokenizer(texts, add_special_tokens=False)["input_ids"]:
        ids.extend(encoded)
        ids.append(tokenizer.eos_token_id)
    n = (len(ids) - 1) // seq_len
    arr = np.asarray(ids[: n * seq_len + 1], dtype=np.int64)
    return np.stack([arr[i * seq_len: i * seq_len + seq_len + 1] for i in range(n)]) if n else np.zeros((0, seq_len + 1), np.int64)


def small_llama(cfg, vocab_size: int, seed: int, max_positions: int, bos: int, eos: int):
    """A randomly initialised ``LlamaForCausalLM`` with tied embeddings, sized by ``cfg`` (hidden_size,
    intermediate_size, layers, heads, kv_heads: ``TrainConfig`` or ``wsd.ModelConfig``), seeded; pad = eos."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=vocab_size, hidden_size=cfg.hidden_size, intermediate_size=cfg.intermediate_size,
                         num_hidden_layers=cfg.layers, num_attention_heads=cfg.heads, num_key_value_heads=cfg.kv_heads,
                         max_position_embeddings=max_positions, tie_word_embeddings=True, bos_token_id=bos,
                         eos_token_id=eos, pad_token_id=eos)
    return LlamaForCausalLM(config)


def build_model(cfg: TrainConfig, vocab_size: int):
    return small_llama(cfg, vocab_size, cfg.seed, max(512, cfg.seq_len), bos=1, eos=2)


def eval_loss(model, blocks: np.ndarray, batch_size: int = 16) -> float:
    import torch

    model.eval()
    total, count = 0.0, 0
    device = next(model.parameters()).device
    with torch.inference_mode():
        for i in range(0, len(blocks), batch_size):
            x = torch.from_numpy(blocks[i: i + batch_size]).to(device)
            out = model(input_ids=x[:, :-1])
            logp = torch.log_softmax(out.logits.float(), -1).gather(-1, x[:, 1:].unsqueeze(-1)).squeeze(-1)
            total -= float(logp.sum())
            count += logp.numel()
    model.train()
    return total / max(1, count)


def train(train_blocks: np.ndarray, held_out: dict[str, np.ndarray], cfg: TrainConfig, out_dir: str | Path,
          tokenizer, progress: bool = False, log_extra: dict | None = None, device: str = "cpu") -> dict:
    """Trains until ``token_budget`` tokens are seen (cycling the data if it is smaller) and saves the model.

    ``tokens_per_s`` is EfficientLLM's training throughput (TT): training tokens over training time, with the
    held-out evaluations' time excluded (``train_s``; ``eval_s`` is reported beside it, ``wall_s`` is both).
    ``resources`` are the monitor's numbers over the same training-only window (AMU/PCU/AEC on a GPU).
    device: "cpu" or "cuda" (the GPU suite); the same seed gives the same run on one device.
    ``log_extra`` (e.g. the data hashes a rerun checks before reusing the run) joins the result and train_log.json."""
    import torch
    from tqdm.auto import tqdm

    from evals.resource_monitor import ResourceMonitor

    if not len(train_blocks):
        raise ValueError("no training data: the corpus is empty after tokenization")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model = build_model(cfg, len(tokenizer)).to(device)
    params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.1, betas=(0.9, 0.95))
    tokens_per_step = cfg.batch_size * cfg.seq_len
    steps = max(1, cfg.token_budget // tokens_per_step)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / cfg.warmup_steps)
                                              * 0.5 * (1 + math.cos(math.pi * min(1.0, s / steps))))
    rng = np.random.default_rng(cfg.seed)
    order = np.concatenate([rng.permutation(len(train_blocks)) for _ in range(math.ceil(steps * cfg.batch_size / len(train_blocks)))])
    curve, evals = [], []
    eval_every = max(1, (cfg.eval_every_tokens or cfg.token_budget // 10) // tokens_per_step)
    eval_s = 0.0
    sync = torch.cuda.synchronize if str(device).startswith("cuda") else (lambda: None)
    model.train()
    with ResourceMonitor() as monitor:
        start = time.perf_counter()
        for step in tqdm(range(steps), desc="train", disable=not progress):
            x = torch.from_numpy(train_blocks[order[step * cfg.batch_size: (step + 1) * cfg.batch_size]]).to(device)
            loss = _loss(model, x)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            tokens = (step + 1) * tokens_per_step
            curve.append({"step": step + 1, "tokens": tokens, "loss": loss.item()})
            if (step + 1) % eval_every == 0 or step + 1 == steps:
                sync()
                with monitor.paused():
                    t0 = time.perf_counter()
                    evals.append({"tokens": tokens, **{name: eval_loss(model, b) for name, b in held_out.items()}})
                    eval_s += time.perf_counter() - t0
        sync()
        wall = time.perf_counter() - start
    model.to("cpu")
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    result = {
        "config": asdict(cfg), "parameters": params, "steps": steps, "tokens_seen": steps * tokens_per_step,
        "train_blocks": int(len(train_blocks)), "epochs": steps * cfg.batch_size / len(train_blocks),
        "wall_s": wall, "eval_s": eval_s, "train_s": wall - eval_s,
        "tokens_per_s": steps * tokens_per_step / (wall - eval_s), "device": str(device),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "resources": monitor.summary(),
        "final": evals[-1], "evals": evals, "loss_curve": curve, "checkpoint": str(out.resolve()),
    } | (log_extra or {})
    (out / "train_log.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def _loss(model, x):
    import torch

    logits = model(input_ids=x[:, :-1]).logits
    return torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), x[:, 1:].reshape(-1))


def tokens_to_reach(evals: list[dict], metric: str, target: float) -> float | None:
    """First token count at which ``metric`` falls to ``target`` (linear between evaluations), or None.

    If the first evaluation is already at or below the target, its token count is returned: an upper bound."""
    prev = None
    for e in evals:
        if e[metric] <= target:
            if prev is None or prev[metric] == e[metric]:
                return float(e["tokens"])
            frac = (prev[metric] - target) / (prev[metric] - e[metric])
            return prev["tokens"] + frac * (e["tokens"] - prev["tokens"])
        prev = e
    return None
