"""The pretraining ablation (evals.pretrain_ablation): run it, write benchmarks/results/ablation.{json,md}, and
the README's ablation block (``benchmarks/readme_ablation.py``, registered in ``benchmarks/readme_tables.py``).

    .venv/bin/python -m benchmarks.pretrain_ablation                 # the full run (--preset full)
    .venv/bin/python -m benchmarks.pretrain_ablation --preset small  # a dev run, minutes
    .venv/bin/python -m benchmarks.readme_tables --only ablation     # README block from the committed JSON

``--workers N`` (default 2) trains in N processes of one torch thread each, which share the runs through per-run
locks: on small matrices two single-threaded processes use two cores better than one process with two threads.
Finished (arm, seed) runs are kept in WORK/runs.jsonl and reused by a rerun with the same config, so an
interrupted run resumes; seeds run one after another (all arms of a seed first), so the report always pairs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RESULT = ROOT / "benchmarks" / "results" / "ablation.json"

PRESETS = {
    # designed for ~25-30 min on an idle 2-core CPU: 5 seeds x 3 arms, decayed checkpoints at 2 budgets
    "full": {"budgets": [393_216, 786_432], "seeds": [0, 1, 2, 3, 4]},
    # what fits a shared, loaded 2-core machine in about an hour: half the full budgets, a 2.5% cluster hold-out,
    # the first 16 of wikitext-2 test's 62 articles (whole)
    "shared": {"budgets": [196_608, 393_216], "seeds": [0, 1, 2, 3, 4], "holdout_percent": 2.5, "clean_articles": 16},
    # dev scale for a loaded shared machine: smaller budgets, a 2.5% cluster hold-out, the first 8 wikitext articles
    "small": {"budgets": [65_536, 131_072], "seeds": [0, 1, 2, 3, 4], "holdout_percent": 2.5, "clean_articles": 8},
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", choices=sorted(PRESETS), default="full")
    ap.add_argument("--seeds", type=int, nargs="+")
    ap.add_argument("--budgets", type=int, nargs="+")
    ap.add_argument("--work", default=str(ROOT / "runs" / "ablation"))
    ap.add_argument("--out", default=str(RESULT))
    ap.add_argument("--extract-steps", nargs="+", help="the extracted arm's steps (default: mail_body normalize)")
    ap.add_argument("--workers", type=int, default=2,
                    help="training processes sharing --work, one torch thread each (default 2: one per core)")
    ap.add_argument("--threads", type=int, default=0, help="torch threads per process (0: 1 with --workers > 1)")
    ap.add_argument("--no-report", action="store_true", help=argparse.SUPPRESS)  # a --workers helper process
    ap.add_argument("--note", default="", help="a line for the report (e.g. the machine's load)")
    ap.add_argument("--summarize-only", action="store_true", help="report the finished runs in --work, train nothing")
    ns = ap.parse_args(argv)
    out = Path(ns.out)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from benchmarks.readme_ablation import ablation as markdown
    from evals.pretrain_ablation import AblationConfig, run, summary_of

    threads = ns.threads or (1 if ns.workers > 1 else 0)
    if threads:
        import torch

        torch.set_num_threads(threads)
    helpers = []
    if ns.workers > 1 and not ns.summarize_only:
        import subprocess

        args = [a for a in (argv if argv is not None else sys.argv[1:])]
        helpers = [subprocess.Popen([sys.executable, "-m", "benchmarks.pretrain_ablation", *args, "--workers", "1",
                                     "--threads", str(threads), "--no-report"], cwd=ROOT)
                   for _ in range(ns.workers - 1)]

    preset = PRESETS[ns.preset] | {k: v for k, v in (("seeds", ns.seeds), ("budgets", ns.budgets),
                                                      ("extract_steps", ns.extract_steps)) if v}
    cfg = AblationConfig(**preset)
    work = Path(ns.work) / ns.preset
    if not ns.summarize_only:
        run(cfg, work)
    if any(h.wait() for h in helpers):
        raise SystemExit("a helper training process failed; rerun to resume (finished runs are kept)")
    if ns.no_report:
        return 0
    res = summary_of(cfg, work) | {"preset": ns.preset, "note": ns.note, "load_average": os.getloadavg(),
                                   "workers": ns.workers, "threads": threads}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1) + "\n")
    out.with_suffix(".md").write_text(f"# Pretraining ablation ({ns.preset})\n\n" + markdown(res) + "\n")
    print(markdown(res))
    print(f"wrote {out} and {out.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
