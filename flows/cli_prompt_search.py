"""``winnow prompt-search``: argument parsing in front of the ``prompt_search`` flow."""

from __future__ import annotations

import argparse
import shlex
import sys

from core.config_types import count_arg


def add_parsers(sub: argparse._SubParsersAction, formatter) -> None:
    from evals.tasks import TASKS

    p = sub.add_parser(
        "prompt-search", formatter_class=formatter,
        help="search shorter prompts: accuracy vs prompt tokens, checked on held-out items",
        description=(
            "Propose prompts for TASK from a seed prompt with the `prompt_search` flow: SmolLM2 rewrites of the\n"
            "instruction ('Rewrite this instruction more briefly', sampled) and recombinations (the instruction,\n"
            "its first sentence, a rewrite or none; k = 0..--max-k demos; blank-line or newline separators).\n"
            "Each is scored on --dev items with the cloze scorer (SmolLM2-135M, length-normalized answer\n"
            "log-likelihood) and its prompt tokens counted with SmolLM2's tokenizer. Kept: the Pareto front of\n"
            "dev accuracy vs mean prompt tokens. Chosen: the fewest tokens among candidates within --tolerance\n"
            "of the best dev accuracy. Then the chosen and the seed prompt are scored on --test held-out items\n"
            "(disjoint from dev) and compared per item (paired t interval; 'within noise' unless it excludes 0),\n"
            "with the majority-class baseline. Prefill time (TTFT of the transformers backend) is timed on\n"
            "--timing-items test prompts per arm.\n"
            "Writes OUT/report.json, OUT/report.md and OUT/front.png."
        ))
    p.add_argument("--task", required=True, choices=TASKS)
    p.add_argument("--seed-prompt", metavar="TEXT", help="the seed instruction (default: one per task)")
    p.add_argument("--candidates", type=count_arg, default=8, metavar="N",
                   help="candidates scored, the seed prompt included (default: 8)")
    p.add_argument("--dev", type=count_arg, default=40, metavar="N", help="dev items (default: 40)")
    p.add_argument("--test", type=count_arg, default=80, metavar="N", help="held-out test items (default: 80)")
    p.add_argument("--seed-k", type=int, default=4, metavar="K", help="demos in the seed prompt (default: 4)")
    p.add_argument("--max-k", type=int, default=4, metavar="K", help="recombination tries k = 0..K (default: 4)")
    p.add_argument("--rewrites", type=int, default=3, metavar="N", help="LM rewrites asked for (default: 3)")
    p.add_argument("--tolerance", type=float, default=0.01, metavar="SHARE",
                   help="choice: within this dev accuracy of the best (absolute; default: 0.01 = 1 point)")
    p.add_argument("--timing-items", type=int, default=20, metavar="N",
                   help="test prompts timed for prefill per arm; 0 = not measured (default: 20)")
    p.add_argument("--device", default="cpu", help="torch device for SmolLM2 (default: cpu)")
    p.add_argument("--seed", type=int, default=0, help="seed for splits, demos, rewrites and the draw (default: 0)")
    p.add_argument("--out", required=True, metavar="DIR", help="where the report goes")


def cmd_prompt_search(args: argparse.Namespace) -> int:
    from evals.prompt_search import SearchConfig
    from flows.prompt_search import prompt_search

    params = dict(task=args.task, seed_prompt=args.seed_prompt, candidates=args.candidates, dev=args.dev,
                  test=args.test, seed_k=args.seed_k, max_k=args.max_k, rewrites=args.rewrites,
                  tolerance=args.tolerance, timing_items=args.timing_items, seed=args.seed)
    SearchConfig(**params)  # every range checked before Prefect starts
    command = "winnow " + shlex.join(sys.argv[1:]) if sys.argv[1:2] == ["prompt-search"] else None
    r = prompt_search(**params, device=args.device, out=args.out, command=command)
    t, d = r["test"], r["test"]["accuracy_difference"]
    print(f"{len(r['candidates'])} candidates on {r['splits']['dev']} dev items; front: {', '.join(r['front'])}")
    print(f"chosen {r['chosen']} ({r['choice_rule']})")
    ci = f"[{d['ci'][0]:+.3f}, {d['ci'][1]:+.3f}]" if d["ci"] else "none"
    print(f"held-out {r['splits']['test']} items: seed {t['seed']['accuracy']['mean']:.3f} "
          f"({t['seed']['mean_prompt_tokens']:.0f} tokens) vs chosen {t['chosen']['accuracy']['mean']:.3f} "
          f"({t['chosen']['mean_prompt_tokens']:.0f} tokens, x{t['token_ratio']:.2f}); difference "
          f"{d['delta']:+.3f} {ci}: {d['verdict']}; majority class {t['majority_baseline']['accuracy']:.3f}")
    print(f"report: {r['outputs']['markdown']}")
    return 0


COMMANDS = {"prompt-search": cmd_prompt_search}
