"""Warmup-stable-decay (WSD) training with decayed checkpoints at several token budgets from one run.

WSD (Hu et al. 2024, "MiniCPM", sec. 4; Hägele et al. 2024, "Scaling Laws and Compute-Optimal Training Beyond
Fixed Training Durations"): linear warmup, a constant learning rate, then a short decay. A decay branches off the
stable phase at each budget: at ``(1 - decay_fraction) x budget`` the model and optimizer are copied, the copy
decays to the budget (the "1 - sqrt" shape Hägele et al. found best) and is evaluated, and the stable run resumes
from the copy's branch point. The data order is a fixed function of the step, so the branch for budget B has
seen exactly the first B tokens, as a run trained for B alone with the same schedule would. Unlike a cosine
plateau, each budget's checkpoint is a fully decayed model.

``train_wsd`` returns tokens/s over the training steps alone: evaluation and the branch copies are timed apart
(``eval_s``, ``branch_s``), and CPU seconds (``time.process_time``) are reported beside wall seconds.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np


@dataclass
class ModelConfig:
    """A small Llama (transformers ``LlamaConfig``), tied embeddings; sized by ``benchmarks/pretrain_ablation``."""
    seq_len: int = 128
    batch_size: int = 16
    hidden_size: int = 128
    layers: int = 4
    heads: int = 4
    kv_heads: int = 2
    intermediate_size: int = 384
    lr: float = 3e-3
    weight_decay: float = 0.1
    warmup_tokens: int = 20_480
    decay_fraction: float = 0.2


def wsd_multiplier(step: int, warmup_steps: int, decay_start: int | None = None, decay_steps: int = 1) -> float:
    """Learning-rate multiplier at ``step`` (0-based): (step + 1) / warmup during warmup, 1.0 in the stable phase,
    then 1 - sqrt((step - decay_start) / decay_steps) from ``decay_start`` (None: no decay)."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    if decay_start is None or step < decay_start:
        return 1.0
    return 1.0 - math.sqrt(min(1.0, (step - decay_start) / max(1, decay_steps)))


def schedule(budgets: list[int], tokens_per_step: int, warmup_tokens: int, decay_fraction: float) -> dict:
    """Steps per budget: {"warmup": W, "budgets": {tokens: {"steps", "decay_start", "decay_steps"}}}.

    Raises ValueError when a budget's decay would start inside the warmup."""
    warmup = max(1, warmup_tokens // tokens_per_step)
    out = {}
    for b in sorted(budgets):
        steps = b // tokens_per_step
        decay = max(1, round(decay_fraction * steps))
        if steps - decay < warmup:
            raise ValueError(f"budget {b} tokens: decay would start at step {steps - decay}, inside the "
                             f"{warmup}-step warmup")
        out[b] = {"steps": steps, "decay_start": steps - decay, "decay_steps": decay}
    return {"warmup": warmup, "budgets": out}


def packed_blocks(encoded: list[np.ndarray], eos: int, seq_len: int) -> np.ndarray:
    """Documents joined with end-of-text and cut into ``seq_len + 1`` windows, stride ``seq_len`` (inputs and
    shifted targets share one token)."""
    ids = np.concatenate([np.append(np.asarray(e, dtype=np.int64), eos) for e in encoded]) if encoded else np.zeros(0)
    n = (len(ids) - 1) // seq_len
    if n <= 0:
        return np.zeros((0, seq_len + 1), dtype=np.int64)
    return np.lib.stride_tricks.sliding_window_view(ids[: n * seq_len + 1], seq_len + 1)[::seq_len].copy()


def build_model(cfg: ModelConfig, vocab_size: int, seed: int):
    from evals.train import small_llama

    return small_llama(cfg, vocab_size, seed, cfg.seq_len, bos=0, eos=0)


def train_wsd(blocks: np.ndarray, cfg: ModelConfig, budgets: list[int], vocab_size: int, seed: int,
              evaluate: Callable[[object], dict]) -> dict:
    """Trains one seed on ``blocks`` (cycled if smaller than the largest budget) and calls ``evaluate(model)`` on
    the decayed model at each budget. Returns {"budgets": {tokens: evaluate's dict}, timing, schedule}."""
    import torch

    if not len(blocks):
        raise ValueError("no training blocks")
    tps = cfg.batch_size * cfg.seq_len
    plan = schedule(budgets, tps, cfg.warmup_tokens, cfg.decay_fraction)
    model = build_model(cfg, vocab_size, seed)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.95))
    last = max(plan["budgets"])
    need = plan["budgets"][last]["steps"] * cfg.batch_size
    rng = np.random.default_rng(seed)
    order = np.concatenate([rng.permutation(len(blocks)) for _ in range(math.ceil(need / len(blocks)))])
    timing = {"train_s": 0.0, "train_cpu_s": 0.0, "eval_s": 0.0, "eval_cpu_s": 0.0, "branch_s": 0.0,
              "steps": 0}
    losses: list[float] = []

    def run(start: int, stop: int, decay_start: int | None, decay_steps: int) -> None:
        t0, c0 = time.perf_counter(), time.process_time()
        model.train()
        for step in range(start, stop):
            for g in opt.param_groups:
                g["lr"] = cfg.lr * wsd_multiplier(step, plan["warmup"], decay_start, decay_steps)
            x = torch.from_numpy(blocks[order[step * cfg.batch_size: (step + 1) * cfg.batch_size]])
            logits = model(input_ids=x[:, :-1]).logits
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), x[:, 1:].reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            losses.append(loss.item())
        timing["train_s"] += time.perf_counter() - t0
        timing["train_cpu_s"] += time.process_time() - c0
        timing["steps"] += stop - start

    results, step = {}, 0
    for b, p in sorted(plan["budgets"].items()):
        run(step, p["decay_start"], None, 1)
        step = p["decay_start"]
        saved = None
        if b != last:
            t0 = time.perf_counter()
            saved = copy.deepcopy(model.state_dict()), copy.deepcopy(opt.state_dict())
            timing["branch_s"] += time.perf_counter() - t0
        run(p["decay_start"], p["steps"], p["decay_start"], p["decay_steps"])
        t0, c0 = time.perf_counter(), time.process_time()
        results[b] = evaluate(model)
        timing["eval_s"] += time.perf_counter() - t0
        timing["eval_cpu_s"] += time.process_time() - c0
        if saved is not None:
            t0 = time.perf_counter()
            model.load_state_dict(saved[0])
            opt.load_state_dict(saved[1])
            timing["branch_s"] += time.perf_counter() - t0
    trained = timing["steps"] * tps
    return {"budgets": results, "schedule": plan, "tokens_trained": trained, **timing,
            "tokens_per_s": trained / timing["train_s"], "tokens_per_cpu_s": trained / timing["train_cpu_s"],
            "parameters": sum(p.numel() for p in model.parameters()), "final_train_loss": losses[-1],
            "config": asdict(cfg), "seed": seed}
