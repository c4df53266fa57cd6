"""The before/after ablation: the same recipe trained on raw and on curated data, then compared.

Both arms see the same token budget, tokenizer, architecture and seeds; only the documents differ. Raw
documents whose id hashes into the hold-out slice are excluded from both arms (curated kept/ files carry the
raw ids), so the raw held-out loss is measured on text neither arm trained on. The headline is DataDecide's
question at small scale: how many tokens does the curated arm need to reach the raw arm's final held-out loss?
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np

from core.shared_data import shared_data_dir
from core.storage import file_hash, fingerprint
from evals.report import EvalReport, Metric, environment
from core.statistics import mean_ci, unigram_loss
from evals.train import TrainConfig, is_holdout, read_texts, token_blocks, tokens_to_reach, train

HELD_OUT = ("wikitext", "raw_heldout")


def curated_files(run_dir: str | Path) -> list[str]:
    kept = sorted(str(p) for p in (Path(run_dir) / "kept").glob("part-*.jsonl"))
    if not kept:
        raise FileNotFoundError(f"{run_dir}: no kept/part-*.jsonl (is this a `winnow curate` run directory? "
                                "`winnow eval --curate-config FILE` curates into it first)")
    return kept


def prepare(raw: list[str], curated_run: str, cfg: TrainConfig, tokenizer, wikitext_chars: int = 200_000) -> dict:
    skipped = {"raw": [], "curated": []}
    raw_docs = read_texts(raw, quarantined=skipped["raw"])
    cur_docs = read_texts(curated_files(curated_run), quarantined=skipped["curated"])
    held = [t for i, t in raw_docs if is_holdout(i, cfg.holdout_percent)]
    eval_blocks = max(1, cfg.eval_tokens // cfg.seq_len)
    wiki = (shared_data_dir() / "lm" / "wikitext-2_test.txt").read_text(encoding="utf-8")[:wikitext_chars]
    return {
        "arms": {
            "raw": token_blocks([t for i, t in raw_docs if not is_holdout(i, cfg.holdout_percent)], tokenizer, cfg.seq_len),
            "curated": token_blocks([t for i, t in cur_docs if not is_holdout(i, cfg.holdout_percent)], tokenizer,
                                    cfg.seq_len),
        },
        "held_out": {"wikitext": token_blocks([wiki], tokenizer, cfg.seq_len)[:eval_blocks],
                     "raw_heldout": token_blocks(held, tokenizer, cfg.seq_len)[:eval_blocks]},
        "vocab_size": len(tokenizer),  # for the unigram baseline beside each held-out loss
        "documents": {"raw": len(raw_docs), "curated": len(cur_docs), "held_out": len(held),
                      "unreadable": {arm: len(lines) for arm, lines in skipped.items()}},
        # what each arm read, by content: a re-curation that keeps the same documents reuses the trained runs
        "hashes": {**{f"raw:{Path(p).name}": file_hash(p) for p in raw},
                   **{f"curated:{Path(p).name}": file_hash(p) for p in curated_files(curated_run)}},
    }


def seed_metric(runs: list[dict], value, **fields) -> Metric:
    """A seed mean with its t interval (n - 1 df) and the per-seed values keyed by seed, for paired compares."""
    values = [float(value(r)) for r in runs]
    s = mean_ci(values)
    return Metric(mean=s["mean"], ci95=s["ci95"], stderr=s["stderr"], n=s["n"], values=values,
                  keys=[str(r["config"]["seed"]) for r in runs], **fields)


def arm_report(name: str, runs: list[dict], cfg: TrainConfig, data: dict, serving: dict | None,
               reference_loss: dict | None = None) -> EvalReport:
    """The arm's eval report. Held-out losses carry the unigram baseline of the arm's own training tokens
    (``statistics.unigram_loss``; ``data["vocab_size"]`` from ``prepare``). ``reference_loss``: the raw arm's
    final losses, for the tokens-to-reach headline and the data MCR's performance term."""
    versions, hardware = environment()
    metrics = {}
    train_targets, vocab_size = data["arms"][name][:, 1:], data.get("vocab_size")
    for h in HELD_OUT:
        base = unigram_loss(train_targets, data["held_out"][h][:, 1:], vocab_size) if vocab_size else None
        metrics[f"heldout_loss/{h}"] = seed_metric(runs, lambda r: r["final"][h], higher_is_better=False,
                                                   unit="nats/token", baseline=base, baseline_name="unigram")
    # EfficientLLM's training throughput: tokens over training time, evaluation excluded (evals.train)
    metrics["train/tokens_per_s"] = seed_metric(runs, lambda r: r["tokens_per_s"], unit="tokens/s")
    metrics["train/peak_rss_mb"] = Metric(mean=max(r["peak_rss_mb"] for r in runs), higher_is_better=False, unit="MB",
                                          statistic="value")
    if reference_loss:
        for h, target in reference_loss.items():
            reached = [tokens_to_reach(r["evals"], h, target) for r in runs]
            s = mean_ci([x for x in reached if x is not None])
            metrics[f"tokens_to_raw_final_loss/{h}"] = Metric(
                mean=s["mean"], ci95=s["ci95"], stderr=s["stderr"], n=s["n"], higher_is_better=False, unit="tokens")
    for key, value in (serving or {}).get("metrics", {}).items():
        metrics[f"serving/{key}"] = Metric(**value)
    tokens_in_arm, raw_tokens = int(data["arms"][name].size), int(data["arms"]["raw"].size)
    metrics["data/tokens_available"] = Metric(mean=tokens_in_arm, unit="tokens", statistic="value")
    metrics["data/tokens_kept_fraction"] = Metric(mean=tokens_in_arm / raw_tokens, unit="fraction", statistic="value")
    # EfficientLLM's MCR = (original size / compressed size) x (compressed performance / original performance);
    # for data: raw tokens / arm tokens, times raw loss / arm loss (lower loss is better), per held-out set
    for h in HELD_OUT:
        ref = (reference_loss or {}).get(h) if name != "raw" else metrics[f"heldout_loss/{h}"].mean
        if ref is not None:
            mcr = raw_tokens / tokens_in_arm * ref / metrics[f"heldout_loss/{h}"].mean
            metrics[f"data/mcr/{h}"] = Metric(mean=mcr, unit="x", statistic="value")
    return EvalReport(
        name=name, metrics=metrics, config=asdict(cfg), data=data["hashes"] | {"documents": data["documents"]},
        versions=versions, hardware=hardware,
        curves={f"{name} seed {r['config']['seed']} {h}": [{"x": e["tokens"], "y": e[h]} for e in r["evals"]]
                for r in runs for h in HELD_OUT},
        details={"runs": [{k: r.get(k) for k in ("config", "final", "wall_s", "train_s", "eval_s", "tokens_per_s",
                                                 "checkpoint", "epochs", "resources")} for r in runs],
                 "serving_backend": (serving or {}).get("backend"),
                 "serving_latencies": (serving or {}).get("latencies", {})})


TRAIN_MANIFEST = "manifest-train.json"


def train_or_reuse(data: dict, arm: str, cfg: TrainConfig, seed: int, out_dir: str | Path,
                   load_tokenizer: Callable[[], object]) -> dict:
    """One arm and seed trained into ``out_dir/ARM/seedN``, or the finished run there reused.

    The same manifest-verified resume as every curation unit (``curation.pipeline.cached``): reused only when
    ``seedN/manifest-train.json`` names this config and these training data (``prepare``'s content hashes) and
    every checkpoint file still hashes to what it recorded; a killed or half-written run has no manifest and is
    trained again. ``load_tokenizer`` is called only when training. Returns ``train``'s result (``reused`` says
    which happened)."""
    from curation.pipeline import cached

    seeded = TrainConfig(**(asdict(cfg) | {"seed": seed}))
    ckpt = Path(out_dir) / arm / f"seed{seed}"

    def compute() -> tuple[dict, list[str]]:
        result = train(data["arms"][arm], data["held_out"], seeded, ckpt, load_tokenizer(),
                       log_extra={"data_hashes": data["hashes"]})
        files = sorted(str(p.relative_to(ckpt)) for p in ckpt.rglob("*") if p.is_file() and p.name != TRAIN_MANIFEST)
        return result, files

    return cached(ckpt / TRAIN_MANIFEST, fingerprint("train", asdict(seeded), data["hashes"]), compute)


def run_arm(data: dict, arm: str, cfg: TrainConfig, seeds: list[int], out_dir: str | Path, tokenizer) -> list[dict]:
    return [train_or_reuse(data, arm, cfg, seed, out_dir, lambda: tokenizer) for seed in seeds]


def final_losses(runs: list[dict]) -> dict:
    return {h: float(np.mean([r["final"][h] for r in runs])) for h in HELD_OUT}


def serving_prompts(n: int, part: int, chars: int = 400) -> list[str]:
    """``n`` wikitext-2 paragraphs, a different slice per ``part``: no cell is served from another's prefix cache."""
    paragraphs = [p.strip() for p in (shared_data_dir() / "lm" / "wikitext-2_valid.txt").read_text(encoding="utf-8")
                  .split("\n") if len(p.strip()) > 200]
    return [p[:chars] for p in paragraphs[part * n:(part + 1) * n]]
