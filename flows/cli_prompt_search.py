"""``winnow prompt-search``: argument parsing in front of the ``prompt_search`` flow."""

from __future__ import annotations

import argparse
import shlex
import sys

from flows.cli_options import add_options


def add_parsers(sub: argparse._SubParsersAction, formatter) -> None:
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


def prompt_search_options(p: argparse.ArgumentParser) -> None:
    """From the ``prompt_search`` flow's signature (the fields of ``SearchConfig`` plus device and output)."""
    from flows.prompt_search import prompt_search

    p.set_defaults(options=add_options(p, prompt_search, skip=("command",), help=HELP, spelling={
        "task": {"required": True}, "seed_prompt": {"metavar": "TEXT"}, "candidates": {"metavar": "N"},
        "dev": {"metavar": "N"}, "test": {"metavar": "N"}, "seed_k": {"metavar": "K"}, "max_k": {"metavar": "K"},
        "rewrites": {"metavar": "N"}, "tolerance": {"metavar": "SHARE"}, "timing_items": {"metavar": "N"},
        "out": {"metavar": "DIR", "required": True}}))


HELP = {
    "task": "evaluation task", "seed_prompt": "the seed instruction (default: one per task)",
    "candidates": "candidates scored, the seed prompt included", "dev": "dev items", "test": "held-out test items",
    "seed_k": "demos in the seed prompt", "max_k": "recombination tries k = 0..K", "rewrites": "LM rewrites asked for",
    "tolerance": "choice: within this dev accuracy of the best (absolute; 0.01 = 1 point)",
    "timing_items": "test prompts timed for prefill per arm; 0 = not measured",
    "seed": "seed for splits, demos, rewrites and the draw", "device": "torch device for SmolLM2",
    "out": "where the report goes",
}


def cmd_prompt_search(args: argparse.Namespace) -> int:
    from evals.prompt_search import SearchConfig
    from flows.prompt_search import prompt_search

    options = args.options.values(args)
    SearchConfig(**{k: v for k, v in options.items() if k in SearchConfig.model_fields})  # ranges before Prefect
    command = "winnow " + shlex.join(sys.argv[1:]) if sys.argv[1:2] == ["prompt-search"] else None
    r = prompt_search(**options, command=command)
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
OPTIONS = {"prompt-search": prompt_search_options}
