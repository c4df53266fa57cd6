"""Training throughput, measured as EfficientLLM defines it: training tokens per second with the held-out
evaluations' time left out, and on a GPU the time-averaged AMU / PCU and average power AEC over the same
training-only window (``evals.train``, ``evals.resource_monitor``). Several seeds, Student-t intervals.

The corpus is the raw web shard (``web/llamafactory_c4_demo.jsonl``, 300 documents; the hashed hold-out slice
is left out of training), held-out loss on wikitext-2 test and on that slice, each beside the unigram baseline
of the training tokens. ``--size gpu`` is a model large enough to keep a GPU busy (GPU suite);
``--size cpu`` the small ablation model.

    python benchmarks/train_throughput.py --device cuda --size gpu --token-budget 4000000 --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

SIZES = {
    "cpu": {},  # evals.train.TrainConfig defaults: 4 layers x 128 wide
    "gpu": {"seq_len": 512, "batch_size": 32, "hidden_size": 512, "layers": 8, "heads": 8, "kv_heads": 4,
            "intermediate_size": 1536, "lr": 1e-3, "warmup_steps": 20},
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="auto", help="cpu, cuda or auto")
    ap.add_argument("--size", choices=sorted(SIZES), default="cpu")
    ap.add_argument("--token-budget", type=int, default=100_000)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--eval-tokens", type=int, default=65_536, help="held-out tokens scored per set")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "train_throughput.json"))
    args = ap.parse_args()

    from core.models import device as pick_device
    from core.models import load_smollm2_tokenizer
    from core.shared_data import shared_data_dir
    from core.statistics import unigram_loss
    from evals.train import TrainConfig, is_holdout, read_texts, token_blocks, train

    device = pick_device(args.device)
    cfg = TrainConfig(**(SIZES[args.size] | {"token_budget": args.token_budget, "eval_tokens": args.eval_tokens}))
    tok = load_smollm2_tokenizer()
    d = shared_data_dir()
    docs = read_texts([str(d / "web" / "llamafactory_c4_demo.jsonl")])
    blocks = token_blocks([t for i, t in docs if not is_holdout(i, cfg.holdout_percent)], tok, cfg.seq_len)
    n_eval = max(1, cfg.eval_tokens // cfg.seq_len)
    held_out = {"wikitext": token_blocks([(d / "lm" / "wikitext-2_test.txt").read_text(encoding="utf-8")], tok,
                                         cfg.seq_len)[:n_eval],
                "raw_heldout": token_blocks([t for i, t in docs if is_holdout(i, cfg.holdout_percent)], tok,
                                            cfg.seq_len)[:n_eval]}
    runs = []
    tok_count, tok_len = int(blocks.size), len(tok)

    def write() -> None:  # after every seed: a run cut short by the GPU suite's timeout keeps what finished
        summarize(runs, args, cfg, device, tok_count, {h: unigram_loss(blocks[:, 1:], b[:, 1:], tok_len)
                                                       for h, b in held_out.items()})

    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            t0 = time.perf_counter()
            r = train(blocks, held_out, TrainConfig(**(asdict(cfg) | {"seed": seed})), Path(tmp) / f"seed{seed}", tok,
                      device=device)
            runs.append({k: r[k] for k in ("config", "parameters", "steps", "tokens_seen", "epochs", "wall_s",
                                           "train_s", "eval_s", "tokens_per_s", "final", "resources", "device")})
            gpu = r["resources"].get("gpu") or {}
            print(f"seed {seed}: {r['tokens_per_s']:.0f} tokens/s (train {r['train_s']:.1f} s, eval {r['eval_s']:.1f} s"
                  f"), held-out {r['final']['wikitext']:.3f} / {r['final']['raw_heldout']:.3f} nats"
                  + (f", AMU {gpu['amu']:.3f} PCU {gpu['pcu']:.3f} AEC {gpu['aec_w']:.0f} W" if gpu else "")
                  + f" ({time.perf_counter() - t0:.0f} s)", flush=True)
            write()


def summarize(runs: list[dict], args, cfg, device: str, train_tokens: int, unigram: dict[str, float]) -> None:
    from evals.report import environment
    from core.statistics import mean_ci

    gpu_keys = ("amu", "pcu", "aec_w")
    summary = {"tokens_per_s": mean_ci([r["tokens_per_s"] for r in runs]),
               **{f"heldout_loss/{h}": mean_ci([r["final"][h] for r in runs]) | {"unigram_baseline": base}
                  for h, base in unigram.items()},
               **{k: mean_ci([r["resources"]["gpu"][k] for r in runs if r["resources"].get("gpu")
                              and r["resources"]["gpu"].get(k) is not None]) for k in gpu_keys}}
    versions, hardware = environment()
    result = {"benchmark": "train_throughput", "device": device, "size": args.size, "config": asdict(cfg),
              "train_tokens_available": train_tokens, "seeds_requested": args.seeds,
              "seeds_finished": [r["config"]["seed"] for r in runs],
              "definitions": {
                  "tokens_per_s": "EfficientLLM training throughput: tokens trained / training seconds, the held-out "
                                  "evaluations' seconds excluded (evals.train)",
                  "amu": "EfficientLLM AMU: time average of GPU memory used / total over the training window",
                  "pcu": "EfficientLLM PCU: time average of NVML SM-busy fraction over the training window",
                  "aec_w": "EfficientLLM AEC: average power (W) = energy counter difference / training seconds",
                  "interval": "Student-t over seeds (core.statistics.mean_ci)"},
              "summary": summary, "runs": runs, "versions": versions, "hardware": hardware,
              "platform": platform.platform(),
              "command": "python benchmarks/train_throughput.py " + " ".join(sys.argv[1:])}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
