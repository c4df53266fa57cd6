"""``winnow compress``: argument parsing in front of the compress_prompts flow."""

from __future__ import annotations

import argparse

from flows.cli_options import add_options


def add_parsers(sub: argparse._SubParsersAction, formatter) -> None:
    p = sub.add_parser(
        "compress", formatter_class=formatter, help="compress prompts to a token budget with SmolLM2",
        description=(
            "Compress every prompt of IN.jsonl (lines with `prompt`, or `instruction`, `context` (a string or a\n"
            "list of items such as demonstrations) and `question`) with the `compress_prompts` flow:\n"
            "  1. coarse: drop the context items least relevant to the question (embedding cosine, or SmolLM2's\n"
            "     perplexity of the question after the item with --coarse-scorer perplexity)\n"
            "  2. fine: iterative self-information pruning of words with SmolLM2-135M, to the exact budget\n"
            "Never touched: the instruction, the question, numbers, IDs, URLs, code spans, `Label:` line starts\n"
            "and spans you mark <keep>like this</keep>. Tokens are counted with SmolLM2's tokenizer.\n"
            "When the coarse step drops an item, its protected spans other than plain numbers and labels stay,\n"
            "byte for byte. Chinese, Japanese and Thai are pruned character by character.\n"
            "Output lines add compressed, original_tokens, compressed_tokens, ratio, latency_s (a note when\n"
            "nothing could be cut; dropped_items and spans_of_dropped when the coarse step dropped items).\n"
            "Unusable lines go to OUT.quarantine.jsonl with file and line number."
        ))


def compress_options(p: argparse.ArgumentParser) -> None:
    """From the ``compress_prompts`` flow's signature (the budget: --rate or --target-tokens) and ``CompressConfig``."""
    from flows.compress import compress_prompts
    from prompts.compress import CompressConfig

    options = add_options(p, compress_prompts, only=["path"], help=HELP, spelling=SPELLING)
    budget = p.add_mutually_exclusive_group()
    options += add_options(p, compress_prompts, only=["rate", "target_tokens"], help=HELP, spelling=SPELLING,
                           group=budget)
    options += add_options(p, compress_prompts, only=["out"], help=HELP, spelling=SPELLING)
    p.set_defaults(options=options, config=add_options(p, CompressConfig, help=HELP, spelling=SPELLING))


SPELLING = {"path": {"positional": True, "metavar": "IN.jsonl"}, "rate": {"metavar": "R"},
            "target_tokens": {"metavar": "N"}, "out": {"metavar": "OUT.jsonl", "required": True}}
HELP = {
    "path": "prompts to compress", "out": "output path",
    "rate": "target compressed/original tokens (--target-tokens wins when given)",
    "target_tokens": "target tokens per prompt",
    "coarse_scorer": "how context items are ranked for the coarse step",
    "max_fine_drop": "coarse step drops items until word pruning cuts at most this fraction",
    "segment_tokens": "tokens per segment scored at once by the fine (word pruning) step",
    "protect_patterns": "protect numbers, IDs, URLs and code from pruning (<keep> spans are always protected)",
    "separator": "joins instruction, context items and question into one prompt",
}


def cmd_compress(args: argparse.Namespace) -> int:
    import flows.compress
    from prompts.compress import CompressConfig, check_budget

    options = args.options.values(args)
    if options["target_tokens"] is not None:
        options["rate"] = None  # the flow's rule: target_tokens wins over rate
    check_budget(options["rate"], options["target_tokens"])  # before the flow starts its Prefect server
    cfg = CompressConfig(**args.config.values(args))
    r = flows.compress.compress_prompts(**options, config=cfg)
    print(f"compressed {r['prompts']} prompts ({r['unique_prompts']} unique): {r['original_tokens']:,} -> "
          f"{r['compressed_tokens']:,} tokens (ratio {r['ratio']:.3f}) in {r['compressor_seconds']:.1f} s")
    for d in r["dropped"][:20]:
        name = f"line {d['line']}" + (f" (id {d['id']})" if d["id"] is not None else "")
        print(f"{name}: coarse step dropped context items {', '.join(map(str, d['items']))} (0-based); "
              f"{d['spans_kept']} protected spans kept from them")
    if len(r["dropped"]) > 20:
        print(f"... and {len(r['dropped']) - 20} more prompts with dropped items: see dropped_items in the output")
    for n in r["notes"][:20]:
        print(f"line {n['line']}" + (f" (id {n['id']})" if n["id"] is not None else "") + f": {n['note']}")
    if len(r["notes"]) > 20:
        print(f"... and {len(r['notes']) - 20} more notes: see note in the output")
    if r["quarantined"]:
        print(f"quarantined {r['quarantined']} lines: {r['quarantine']}")
    print(f"output: {r['out']}")
    return 0


COMMANDS = {"compress": cmd_compress}
OPTIONS = {"compress": compress_options}
