"""Train the keep/drop word classifier of ``winnow compress --method classifier`` (prompts/compress/classifier.py).

Distillation, LLMLingua-2 style: the teacher is the self-information compressor's fine step (SmolLM2-135M,
iterative surprisal, then the most surprising words that fit the budget), run on few-shot contexts and paragraphs
built from packaged data only:

- ARC-Easy, PIQA, BoolQ, SST-2, AG News and TREC train pools (k-shot contexts drawn with seeds >= 1, never the
  seed-0 demos ``benchmarks/compress_quality.py`` evaluates on), GSM8K train solutions in the OLMES format,
  wikitext-2 *test* paragraphs (the tests use the valid split);
- each prompt is labelled at one keep fraction drawn from [0.45, 0.85] (after the coarse step, the fine step
  keeps at least half of the words: ``CompressConfig.max_fine_drop``).

One prompt in five is held out; the agreement of student and teacher keep/drop decisions at the same budget on
those prompts is stored in the weights' ``meta`` and printed. Deterministic (seeded). Labelling is the cost: one
SmolLM2 pass per prompt, ~40 min for the default 80 prompts on this shared 2-core CPU.

    python benchmarks/train_compress_classifier.py            # writes prompts/compress/classifier_weights.npz
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def training_prompts(per_source: int) -> list[tuple[str, list[str]]]:
    """(source, context items) from packaged train splits, seeded; never the evaluated seed-0 demos."""
    import numpy as np

    from core.shared_data import shared_data_dir
    from evals.prompt_sets import gsm8k_train_demos
    from evals.eval_sets import load_task

    out: list[tuple[str, list[str]]] = []
    for name, shots in (("arc_easy", 5), ("piqa", 4), ("boolq", 2), ("sst2", 6), ("agnews", 3), ("trec", 6)):
        task = load_task(name, max_passage_chars=400)
        evaluated = set(np.random.default_rng(0).permutation(len(task.pool))[:5].tolist())  # cloze_items' demos
        candidates = [i for i in range(len(task.pool)) if i not in evaluated]
        for seed in range(1, per_source + 1):
            pick = np.random.default_rng(seed).choice(candidates, shots, replace=False)
            out.append((name, [f"{task.pool[i].input} {task.pool[i].output}" for i in pick]))
    gsm = [text for _, text in gsm8k_train_demos()]
    for seed in range(1, per_source + 1):
        out.append(("gsm8k", [gsm[i] for i in np.random.default_rng(seed).choice(len(gsm), 2, replace=False)]))
    paragraphs = [p.strip() for p in (shared_data_dir() / "lm/wikitext-2_test.txt").read_text(encoding="utf-8")
                  .split("\n \n") if len(p.strip()) > 400 and not p.strip().startswith("=")]
    for seed in range(per_source):
        out.append(("wikitext", [paragraphs[(seed * 7) % len(paragraphs)][:900]]))
    return out


def labelled(prompts, model, tok, seed: int = 0):
    """(source, units, item starts, teacher labels) per prompt; units as ``compress`` builds them."""
    import numpy as np

    from prompts.compress.classifier import teacher_labels
    from prompts.compress.protect import split_protected
    from prompts.compress.token_level import units_of

    rng = np.random.default_rng(seed)
    rows = []
    for source, items in prompts:
        units, starts = [], []
        for item in items:
            starts.append(len(units))
            units += units_of(split_protected(item))
        fraction = float(rng.uniform(0.45, 0.85))
        rows.append((source, units, starts, teacher_labels(units, model, tok, fraction)))
    return rows


def agreement(rows, weights, tok) -> dict:
    """Share of free units where student and teacher agree, both cutting to the teacher's kept tokens."""
    import numpy as np

    from prompts.compress.classifier import score_units
    from prompts.compress.token_level import Unit, choose

    same = total = 0
    kappas = []
    for _, units, starts, keep in rows:
        copy = [Unit(u.text, u.protected) for u in units]
        score_units(copy, tok, starts, weights)
        choose(copy, sum(u.tokens for u, k in zip(units, keep) if k and not u.protected))
        a = np.asarray([k for u, k in zip(units, keep) if not u.protected])
        b = np.asarray([u.keep for u in copy if not u.protected])
        same += int((a == b).sum())
        total += len(a)
        pe = a.mean() * b.mean() + (1 - a.mean()) * (1 - b.mean())
        kappas.append(((a == b).mean() - pe) / (1 - pe) if pe < 1 else 1.0)
    return {"agreement": same / total, "units": total, "cohen_kappa_mean": float(np.mean(kappas))}


def save_labels(path: Path, rows, seconds: float) -> None:
    """The teacher's labels as JSON (never pickle: tests/reliability/test_security.py), units as their fields."""
    from dataclasses import asdict

    data = {"seconds": seconds, "rows": [[source, [asdict(u) for u in units], starts, [bool(k) for k in labels]]
                                         for source, units, starts, labels in rows]}
    path.write_text(json.dumps(data))


def load_labels(path: Path):
    """(rows, seconds) as ``save_labels`` wrote them."""
    from prompts.compress.token_level import Unit

    data = json.loads(path.read_text())
    rows = [(source, [Unit(**u) for u in units], starts, labels) for source, units, starts, labels in data["rows"]]
    return rows, data["seconds"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--per-source", type=int, default=10, help="prompts per data source (8 sources)")
    ap.add_argument("--c", type=float, default=0.5, help="inverse L2 strength of the logistic regression")
    ap.add_argument("--out", default=None, help="weights path (default: prompts/compress/classifier_weights.npz)")
    ap.add_argument("--labels", default=None, help="JSON file of the teacher's labels: reused if it exists, else written")
    args = ap.parse_args()
    import torch

    from core.models import load_smollm2
    from prompts.compress.classifier import WEIGHTS, fit, save_weights

    torch.manual_seed(0)
    model, tok = load_smollm2("cpu")
    t0 = time.perf_counter()
    if args.labels and Path(args.labels).is_file():
        rows, label_s = load_labels(Path(args.labels))
    else:
        rows = labelled(training_prompts(args.per_source), model, tok)
        label_s = time.perf_counter() - t0
        if args.labels:
            save_labels(Path(args.labels), rows, label_s)
    held = [r for i, r in enumerate(rows) if i % 5 == 4]
    train = [r for i, r in enumerate(rows) if i % 5 != 4]
    weights = fit([(u, s, k) for _, u, s, k in train], c=args.c)
    weights["meta"] |= {"teacher": "prompts.compress.token_level self-information (SmolLM2-135M-Instruct), "
                                   "keep fraction uniform in [0.45, 0.85] per prompt",
                        "prompts": {"train": len(train), "held_out": len(held)},
                        "sources": sorted({s for s, *_ in rows}), "per_source": args.per_source,
                        "held_out": agreement(held, weights, tok), "train": agreement(train, weights, tok),
                        "labelling_s": round(label_s, 1),
                        "command": "python benchmarks/train_compress_classifier.py " + " ".join(sys.argv[1:])}
    out = Path(args.out) if args.out else WEIGHTS
    save_weights(weights, out)
    held_out = weights["meta"]["held_out"]
    print(f"labelled {len(rows)} prompts in {label_s:.0f} s; held-out agreement {held_out['agreement']:.3f} "
          f"(kappa {held_out['cohen_kappa_mean']:.3f}) over {held_out['units']} units; wrote {out} "
          f"({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
