"""Demonstration selection, measured honestly: SmolLM2-135M in-context accuracy with random vs kNN demos, paired
over the same queries, beside the baselines a demo-copying model would match, over demo orders and templates.

Each query is scored zero-shot (2 templates) and, per strategy, with one demo set in 3 orders x 2 templates
(``evals.icl.run_query``). Queries run in draw order, all tasks interleaved, and each finished (task, query) is
appended to a JSONL, so a run stopped by ``--minutes`` (or killed) still holds a random sample of every task and
resumes where it stopped. The summary (``evals.icl_report.summarize_variants``) uses the queries every task
finished, so every comparison is paired on the same queries and variants.

    python benchmarks/demo_icl.py                         # stops after 20 min; k = 3, 300-item pools, <= 40 queries
    python benchmarks/demo_icl.py --summarize             # rebuild the JSON from the JSONL
    python benchmarks/demo_icl.py --readme                # the README tables, from the JSON files
    python benchmarks/demo_icl.py --reanalyze-sweep       # paired tests + copy rates on the older k-sweep JSONL

The older k-sweep (k = 0/1/4/8, one template and order; ``demo_icl.partial.jsonl``) was run by this script at
commit 19c60ec; ``--reanalyze-sweep`` re-reads its per-query records with paired tests (no LM needed).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

RESULTS = Path(__file__).parent / "results"
MODEL = "SmolLM2-135M-Instruct (Q4_1 GGUF, de-quantized, fp32, CPU)"


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def _meta(args, **extra) -> dict:
    return {"model": MODEL, "scoring": "cloze: length-normalized log-likelihood of each answer text; prediction = argmax",
            "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
            "command": "python benchmarks/demo_icl.py " + " ".join(sys.argv[1:]), **extra}


def lm_seconds(records: list[dict]) -> dict:
    """LM time of the finished (task, query) records (each record's ``seconds``: every variant and zero-shot)."""
    import statistics

    secs = [r["seconds"] for r in records if r.get("seconds") is not None]
    return {"records": len(secs), "total_s": round(sum(secs), 1),
            "median_per_query_s": round(statistics.median(secs), 1) if secs else None}


def summarize(partial: Path, out: Path, args) -> dict:
    from collections import Counter

    from evals.icl_report import summarize_variants
    from evals.eval_sets import load_task

    records = _read_jsonl(partial)
    # the constant answer a model that learnt only the demo pool's label frequencies would give (gold index)
    pools = {name: pool_subsample(load_task(name, args.boolq_passage_chars), args.pool_size or 10**9).pool
             for name in sorted({r["task"] for r in records})}
    pool_majority = {name: Counter(e.gold for e in pool).most_common(1)[0][0] for name, pool in pools.items()}
    result = {"benchmark": "demo_icl_variants", **_meta(args, boolq_passage_chars=args.boolq_passage_chars, k=args.k,
                                                       pool_size=args.pool_size or "full train split"),
              **summarize_variants(records, pool_majority, resamples=args.resamples),
              "lm_seconds": lm_seconds(records)}
    out.write_text(json.dumps(result, indent=2) + "\n")
    return result


def reanalyze_sweep(args) -> dict:
    from evals.icl_report import reanalyze_sweep as analyze
    from evals.eval_sets import load_task

    rows = _read_jsonl(RESULTS / "demo_icl.partial.jsonl")
    tasks = {r["task"] for r in rows}
    pool_labels = {}
    for name in tasks:
        task = load_task(name, max_passage_chars=args.boolq_passage_chars)
        # the k-sweep ran on these pools; a demo's label is its gold index for fixed-label tasks only
        pool_labels[name] = {e.id: e.gold for e in task.pool} if task.labels else None
    result = {"benchmark": "demo_icl_sweep_paired", **_meta(args, source="benchmarks/results/demo_icl.partial.jsonl"),
              **analyze(rows, pool_labels, resamples=args.resamples)}
    (RESULTS / "demo_icl_sweep_paired.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def _pct(x) -> str:
    return "-" if x is None else f"{100 * x:.0f}"


def _diff(c: dict, ci_key: str = "ci_bonferroni") -> str:
    ci = c.get(ci_key)
    span = f" [{100 * ci[0]:+.0f}, {100 * ci[1]:+.0f}]" if ci else ""
    return f"{100 * c['delta']:+.0f}{span}"


def readme_tables(variants: dict | None, sweep: dict | None) -> str:
    """The README's "Few-shot demonstrations" numbers, from the two JSON files (nothing typed by hand)."""
    lines = []
    if variants:
        comps = {(c["task"], c["a"], c["b"]): c for c in variants["comparisons"]}
        lines += ["| task | n | majority eval / pool | zero-shot | 1-NN label (no LM) | random: mean [min-max] | "
                  "kNN: mean [min-max] | kNN copies nearest (when wrong) | kNN - random | kNN - 1-NN label |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for task, t in variants["tasks"].items():
            b, cells = t["baselines"], t["cells"]

            def cell(s):
                sp = cells[s]["accuracy_spread"]
                return f"{_pct(sp['mean'])} [{_pct(sp['min'])}-{_pct(sp['max'])}]"
            cp = cells["knn"]["copying"]
            copy = "-" if cp["nearest"] is None else f"{_pct(cp['nearest'])} ({_pct(cp['follows_wrong_nearest'])})"
            kr = comps[(task, "random", "knn")]
            kn = comps.get((task, "nearest_demo_label", "knn"))
            lines.append(f"| {task} | {t['n']} | {_pct(b['majority_eval']['accuracy'])} / "
                         f"{_pct(b.get('majority_pool', {}).get('accuracy'))} | {_pct(b['zero_shot']['mean'])} | "
                         f"{_pct(b.get('nearest_demo_label'))} | {cell('random')} | {cell('knn')} | {copy} | "
                         f"{_diff(kr)} {kr['verdict']} | {(_diff(kn) + ' ' + kn['verdict']) if kn else '-'} |")
        lines += ["", "| task | demos | t interval over the 6 variants | plain | instructed | ascending | descending | "
                  "shuffled | prediction = label of the demo next to the query | most frequent prediction |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for task, t in variants["tasks"].items():
            for s, c in t["cells"].items():
                sp, bt, bo = c["accuracy_spread"], c["accuracy_by_template"], c["accuracy_by_order"]
                ci = f"[{_pct(sp['ci95'][0])}, {_pct(sp['ci95'][1])}]" if sp["ci95"] else "-"
                lines.append(f"| {task} | {s} | {ci} | {_pct(bt.get('plain'))} | {_pct(bt.get('instructed'))} | "
                             f"{_pct(bo.get('ascending'))} | {_pct(bo.get('descending'))} | {_pct(bo.get('shuffled'))} | "
                             f"{_pct(c['copying']['adjacent'])} | {_pct(c['most_predicted']['share'])} |")
    if sweep:
        lines += ["", "| task | k | kNN | random | zero-shot | majority | 1-NN label | kNN copies nearest | kNN - random accuracy "
                  "(Holm p) | gold log-prob/token |", "|---|---|---|---|---|---|---|---|---|---|"]
        for c in sweep["cells"]:
            a, g = c["accuracy_knn_minus_random"], c["gold_logprob_knn_minus_random"]
            copy = c.get("copying_knn", {}).get("nearest")
            lines.append(f"| {c['task']} | {c['k']} | {_pct(c['accuracy']['knn'])} | {_pct(c['accuracy']['random'])} "
                         f"| {_pct(c.get('zero_shot'))} | {_pct(c['majority_eval'])} | {_pct(c.get('nearest_demo_label'))} | {_pct(copy)} | "
                         f"{_diff(a)} ({a['p_holm']:.2g}) {a['verdict']} | {g['delta']:+.2f} {g['verdict']} |")
    return "\n".join(lines)


def pool_subsample(task, size: int, seed: int = 0):
    """The task with a seeded random ``size`` of its demo pool (kept in pool order), for every strategy alike:
    embedding a full pool (up to 16k texts) is the slowest part of a run on a busy CPU."""
    import dataclasses

    import numpy as np

    if size >= len(task.pool):
        return task
    keep = sorted(int(i) for i in np.random.default_rng(seed).permutation(len(task.pool))[:size])
    return dataclasses.replace(task, pool=[task.pool[i] for i in keep])


def run(args, partial: Path) -> None:
    from core.embed import Embedder
    from core.models import load_smollm2
    from evals.icl import query_sample, run_query, task_embeddings
    from evals.eval_sets import load_task
    from prompts.demos import SelfMatches

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    deadline = time.monotonic() + 60 * args.minutes if args.minutes else None
    done = {(r["task"], r["query"]) for r in _read_jsonl(partial)}
    model, tokenizer = load_smollm2("cpu")
    embedder = Embedder(show_progress=False)
    tasks = {name: load_task(name, max_passage_chars=args.boolq_passage_chars) for name in args.tasks}
    if args.pool_size:
        tasks = {name: pool_subsample(t, args.pool_size) for name, t in tasks.items()}
    order = {name: query_sample(t, args.queries, ordered=False) for name, t in tasks.items()}
    embeddings = {name: task_embeddings(t, embedder.embed, order[name]) for name, t in tasks.items()}
    itself = {name: SelfMatches([e.id for e in t.pool], [e.input for e in t.pool]) for name, t in tasks.items()}
    for j in range(args.queries):  # query-major: a stopped run has the first j queries of every task
        for name, task in tasks.items():
            qi = order[name][j]
            if (name, qi) in done:
                continue
            if deadline and time.monotonic() > deadline:
                print(f"time budget of {args.minutes} min reached at query {j}", flush=True)
                return
            pool_emb, test_emb = embeddings[name]
            r = run_query(task, qi, args.k, tuple(args.strategies), model, tokenizer, pool_emb, test_emb,
                          itself[name])
            r["draw"], r["pool_size"] = j, len(task.pool)
            with open(partial, "a") as f:
                f.write(json.dumps(r) + "\n")
            print(f"{j:3d} {name:9s} gold {r['gold']} zero-shot {[v['pred'] for v in r['zero_shot'].values()]} "
                  + " ".join(f"{s}: {[v['pred'] for v in c['variants'].values()]}" for s, c in r["strategies"].items())
                  + f" ({r['seconds']:.0f} s)", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", nargs="+", default=["arc_easy", "boolq", "piqa", "sst2", "agnews"])
    ap.add_argument("--strategies", nargs="+", default=["random", "knn"])
    ap.add_argument("--k", type=int, default=3, help="demos per prompt (>= 3 for three distinct orders)")
    ap.add_argument("--queries", type=int, default=40, help="queries per task (the run may stop earlier)")
    ap.add_argument("--minutes", type=float, default=20, help="stop starting new queries after this long (0: none)")
    ap.add_argument("--boolq-passage-chars", type=int, default=400, help="truncate BoolQ passages (prompt length)")
    ap.add_argument("--pool-size", type=int, default=300,
                    help="demo pool: a seeded random subsample of this many train items per task (0: all)")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--resamples", type=int, default=10_000, help="bootstrap and permutation resamples")
    ap.add_argument("--out", default=str(RESULTS / "demo_icl_variants.json"))
    ap.add_argument("--summarize", action="store_true", help="only rebuild the summary from the partial file")
    ap.add_argument("--reanalyze-sweep", action="store_true", help="paired tests on the older k-sweep records")
    ap.add_argument("--readme", action="store_true", help="print the README tables from the JSON files")
    args = ap.parse_args()
    if args.readme:
        load = lambda p: json.loads(p.read_text()) if p.exists() else None  # noqa: E731
        print(readme_tables(load(Path(args.out)), load(RESULTS / "demo_icl_sweep_paired.json")))
        return
    if args.reanalyze_sweep:
        reanalyze_sweep(args)
        return
    out = Path(args.out)
    partial = out.with_suffix(".partial.jsonl")
    if not args.summarize:
        run(args, partial)
    summarize(partial, out, args)


if __name__ == "__main__":
    main()
