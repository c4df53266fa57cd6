"""RegMix-style proxy mixture search over three real domains, then the proposal against natural and uniform.

Domains (all from ../shared/data): web = dolma Common Crawl extraction (697 docs), mail = SpamAssassin message
bodies (a seeded subset), wiki = wikitext-2 valid. Held out of every run: dolma/mail documents whose id hashes
into a 10% slice, and wikitext-2 *test*. Target = the mean of the three held-out losses (each domain weighted
equally), the quantity the search minimises.

1. ``--mixtures`` Dirichlet(1,1,1) mixtures, one proxy run each (seed 0) of ``evals.train`` at ``--tokens``;
2. a Scheffé quadratic fitted to (mixture -> target loss) (``evals.mixture_search``); two proposals: its grid
   minimum over the whole simplex (``proposed_unconstrained``) and within ``--radius`` of a proxy run
   (``proposed``, a trust region: with this few runs the free minimum is an extrapolation);
3. both proposals, natural (token shares of the available training text) and uniform mixes, ``--seeds`` seeds
   each; paired differences (same seed = same init and data order) with ``core.statistics.paired_difference``.

A mixture is built by drawing round(w_d * blocks) training blocks (seq_len+1 tokens) from domain d's blocks,
cycling (repeating) a domain when it has fewer. Writes benchmarks/results/mixture_search.json and .png.
Usage: python benchmarks/mixture_search.py [--tokens 16384 --mixtures 6 --seeds 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.shared_data import shared_data_dir  # noqa: E402
from evals.mixture_search import dirichlet_mixtures, fit_mixture_model, propose_mixture, simplex_grid  # noqa: E402
from core.statistics import mean_ci, paired_difference, verdict  # noqa: E402
from evals.train import TrainConfig, is_holdout, read_texts, token_blocks, train  # noqa: E402

DOMAINS = ("web", "mail", "wiki")
RESULTS = Path(__file__).resolve().parent / "results"


def _chunks(text: str, chars: int = 2000) -> list[str]:
    return [text[i: i + chars] for i in range(0, len(text), chars)]


def load_domains(tokenizer, cfg: TrainConfig, mail_docs: int, eval_blocks: int) -> tuple[dict, dict, dict]:
    """(train blocks per domain, held-out blocks per domain, document counts)."""
    from curation.steps.mail_body import message_body

    data = shared_data_dir()
    web = read_texts([str(data / "web" / "dolma_CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz")])
    raw_mail = read_texts([str(data / "mail" / "spamassassin.jsonl.gz")])
    pick = np.random.default_rng(0).permutation(len(raw_mail))[:mail_docs]
    mail = [(raw_mail[i][0], "\n".join(message_body(raw_mail[i][1]))) for i in sorted(pick)]
    wiki_train = _chunks((data / "lm" / "wikitext-2_valid.txt").read_text(encoding="utf-8"))
    wiki_test = (data / "lm" / "wikitext-2_test.txt").read_text(encoding="utf-8")[:200_000]
    train_texts = {"web": [t for i, t in web if not is_holdout(i, 10)],
                   "mail": [t for i, t in mail if not is_holdout(i, 10)], "wiki": wiki_train}
    held_texts = {"web": [t for i, t in web if is_holdout(i, 10)],
                  "mail": [t for i, t in mail if is_holdout(i, 10)], "wiki": [wiki_test]}
    blocks = {d: token_blocks(train_texts[d], tokenizer, cfg.seq_len) for d in DOMAINS}
    held = {d: token_blocks(held_texts[d], tokenizer, cfg.seq_len)[:eval_blocks] for d in DOMAINS}
    counts = {d: {"train_docs": len(train_texts[d]), "train_blocks": int(len(blocks[d])),
                  "heldout_docs": len(held_texts[d]), "heldout_blocks": int(len(held[d]))} for d in DOMAINS}
    return blocks, held, counts


def mixture_blocks(blocks: dict, weights: np.ndarray, total: int, seed: int) -> np.ndarray:
    """round(w_d * total) blocks from each domain (largest remainder, so exactly ``total``), seeded order."""
    rng = np.random.default_rng(seed)
    raw = np.asarray(weights) * total
    take = np.floor(raw).astype(int)
    take[np.argsort(-(raw - take), kind="stable")[: total - take.sum()]] += 1
    parts = []
    for d, k in zip(DOMAINS, take):
        if k:
            reps = int(np.ceil(k / len(blocks[d])))
            order = np.concatenate([rng.permutation(len(blocks[d])) for _ in range(reps)])[:k]
            parts.append(blocks[d][order])
    return np.concatenate(parts)


def cached_run(cache: Path, *args) -> dict:
    """``run_one`` unless the cache file (JSON lines) holds a run of the same weights, seed and config."""
    blocks, held, weights, cfg, seed = args[:5]
    key = json.dumps([[round(float(x), 6) for x in weights], seed, cfg.__dict__])
    done = {}
    if cache.is_file():
        done = {r["key"]: r["run"] for r in map(json.loads, cache.read_text().splitlines())}
    if key in done:
        return done[key]
    run = run_one(*args)
    with cache.open("a") as f:
        f.write(json.dumps({"key": key, "run": run}) + "\n")
    return run


def run_one(blocks, held, weights, cfg: TrainConfig, seed: int, tokenizer, tmp: Path) -> dict:
    cfg = TrainConfig(**{**cfg.__dict__, "seed": seed})
    total = cfg.token_budget // cfg.seq_len
    start = time.perf_counter()
    r = train(mixture_blocks(blocks, weights, total, seed), held, cfg, tmp / f"run-{time.time_ns()}", tokenizer)
    losses = {d: float(r["final"][d]) for d in DOMAINS}
    return {"weights": [float(x) for x in weights], "seed": seed, "heldout": losses,
            "target": float(np.mean(list(losses.values()))), "seconds": round(time.perf_counter() - start, 1)}


def plot(path: Path, model, runs: list[dict], proposed: np.ndarray, natural: np.ndarray, free: np.ndarray) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = simplex_grid(3, 0.02)
    pred = model.predict(grid)
    def to_xy(w):  # barycentric (web, mail, wiki) -> plane: web at (0, 0), mail at (1, 0), wiki on top
        w = np.asarray(w)
        return w[..., 1] + 0.5 * w[..., 2], w[..., 2] * np.sqrt(3) / 2
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.6))
    x, y = to_xy(grid)
    sc = a.tricontourf(x, y, pred, levels=20, cmap="viridis")
    fig.colorbar(sc, ax=a, label="predicted mean held-out loss (nats/token)")
    rx, ry = to_xy(np.array([r["weights"] for r in runs]))
    a.scatter(rx, ry, c="white", edgecolors="black", label="proxy runs")
    for w, m, lab in ((proposed, "*", "proposed (trust region)"), (free, "X", "proposed (unconstrained)"),
                      (natural, "s", "natural"), (np.ones(3) / 3, "^", "uniform")):
        px, py = to_xy(w)
        a.scatter([px], [py], marker=m, s=140, c="red", edgecolors="black", label=lab)
    for w, lab in zip(np.eye(3), DOMAINS):
        px, py = to_xy(w)
        a.annotate(lab, (px, py), textcoords="offset points", xytext=(0, -14) if py == 0 else (22, -6), ha="center")
    a.set_axis_off()
    a.legend(loc="upper left", bbox_to_anchor=(-0.08, 1.0), fontsize=7, framealpha=0.6)
    a.set_title("fitted Scheffé quadratic over the simplex", pad=14)
    obs = np.array([r["target"] for r in runs])
    pr = model.predict(np.array([r["weights"] for r in runs]))
    b.scatter(pr, obs)
    lo, hi = min(obs.min(), pr.min()), max(obs.max(), pr.max())
    b.plot([lo, hi], [lo, hi], "k--", lw=1)
    b.set_xlabel("predicted")
    b.set_ylabel("observed (seed 0)")
    b.set_title(f"proxy runs: train RMSE {model.train_rmse:.3f}, LOO RMSE {model.loo_rmse:.3f}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tokens", type=int, default=16_384, help="training tokens per run")
    ap.add_argument("--mixtures", type=int, default=6)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--mail-docs", type=int, default=1500)
    ap.add_argument("--radius", type=float, default=0.15, help="trust region around the proxy runs (L2)")
    ap.add_argument("--out", default=str(RESULTS / "mixture_search.json"))
    ap.add_argument("--cache", default="/tmp/mixture_search_runs.jsonl", help="finished runs, reused on rerun")
    args = ap.parse_args(argv)
    import torch

    from core.models import load_smollm2_tokenizer

    torch.set_num_threads(1)
    started = time.perf_counter()
    cfg = TrainConfig(token_budget=args.tokens, seq_len=64, batch_size=8, hidden_size=64, layers=2, heads=2,
                      kv_heads=1, intermediate_size=192, lr=1e-2, warmup_steps=4, eval_every_tokens=args.tokens,
                      eval_tokens=4096)
    tokenizer = load_smollm2_tokenizer()
    blocks, held, counts = load_domains(tokenizer, cfg, args.mail_docs, cfg.eval_tokens // cfg.seq_len)
    sizes = np.array([counts[d]["train_blocks"] for d in DOMAINS], dtype=float)
    natural, uniform = sizes / sizes.sum(), np.ones(3) / 3
    search = []
    with tempfile.TemporaryDirectory() as tmp:
        for w in dirichlet_mixtures(3, args.mixtures, seed=0):
            search.append(cached_run(Path(args.cache), blocks, held, w, cfg, 0, tokenizer, Path(tmp)))
            r = search[-1]
            print(f"search {r['weights']} -> {r['target']:.4f} ({r['seconds']} s)", flush=True)
        model = fit_mixture_model(np.array([r["weights"] for r in search]), np.array([r["target"] for r in search]))
        observed = np.array([r["weights"] for r in search])
        free, free_predicted = propose_mixture(model)
        proposed, predicted = propose_mixture(model, observed=observed, radius=args.radius)
        arms = {"proposed": proposed, "proposed_unconstrained": free, "natural": natural, "uniform": uniform}
        finals = {name: [] for name in arms}
        for seed in range(args.seeds):
            for name, w in arms.items():
                finals[name].append(cached_run(Path(args.cache), blocks, held, w, cfg, seed, tokenizer, Path(tmp)))
                print(f"{name} seed {seed} -> {finals[name][-1]['target']:.4f}", flush=True)
    per_seed = {name: {str(r["seed"]): r["target"] for r in rs} for name, rs in finals.items()}
    comparisons = {}
    for arm in ("proposed", "proposed_unconstrained"):
        for base in ("natural", "uniform"):
            d = paired_difference(per_seed[base], per_seed[arm])  # arm - base; lower loss is better
            comparisons[f"{arm}_vs_{base}"] = d | {"verdict": verdict(d["ci"], higher_is_better=False)}
    result = {
        "what": "RegMix-style proxy mixture search: held-out loss (mean over web/mail/wiki held-out slices) vs "
                "mixture weights; Scheffé quadratic fit; proposal vs natural and uniform with paired t intervals",
        "domains": list(DOMAINS), "data": counts, "train_config": cfg.__dict__ | {"seed": "per run"},
        "search_runs": search,
        "fit": {"model": "Scheffé quadratic, ridge", "ridge": model.ridge, "coef": model.coef.tolist(),
                "train_rmse": model.train_rmse, "loo_rmse": model.loo_rmse},
        "proposed": {"weights": proposed.tolist(), "predicted_loss": predicted, "radius": args.radius},
        "proposed_unconstrained": {"weights": free.tolist(), "predicted_loss": free_predicted},
        "natural_weights": natural.tolist(), "uniform_weights": uniform.tolist(),
        "arms": {name: {"weights": [round(float(x), 4) for x in arms[name]], "runs": rs,
                        "target": mean_ci([r["target"] for r in rs])} for name, rs in finals.items()},
        "comparisons": comparisons, "seconds": round(time.perf_counter() - started, 1),
        # training time of every run, also of runs reused from --cache (``seconds`` above is this invocation's)
        "train_seconds_all_runs": round(sum(r["seconds"] for r in search + [x for rs in finals.values() for x in rs]), 1),
        "note": "timings on a shared 2-core CPU under load; tiny model (2 layers, hidden 64), "
                f"{args.tokens} tokens per run: a proxy-scale result, not a claim about larger models",
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    plot(out.with_suffix(".png"), model, search, proposed, natural, free)
    for k, c in comparisons.items():
        print(f"{k}: delta {c['delta']:+.4f} CI {c['ci']} -> {c['verdict']}")
    print(f"wrote {out} and {out.with_suffix('.png')} in {result['seconds']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
