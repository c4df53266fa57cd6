"""``winnow compress``: argument parsing in front of the compress_prompts flow."""

from __future__ import annotations

import argparse


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
    p.add_argument("input", metavar="IN.jsonl", help="prompts to compress")
    budget = p.add_mutually_exclusive_group(required=True)
    budget.add_argument("--rate", type=float, metavar="R", help="target compressed/original tokens, e.g. 0.5")
    budget.add_argument("--target-tokens", type=int, metavar="N", help="target tokens per prompt")
    p.add_argument("--out", required=True, metavar="OUT.jsonl", help="output path")
    p.add_argument("--coarse-scorer", choices=["embedding", "perplexity"], default="embedding",
                   help="how context items are ranked for the coarse step (default: embedding)")
    p.add_argument("--max-fine-drop", type=float, default=0.5,
                   help="coarse step drops items until word pruning cuts at most this fraction (default: 0.5)")
    p.add_argument("--no-protect-patterns", action="store_true",
                   help="let numbers, IDs, URLs and code be pruned too (<keep> spans stay protected)")


def cmd_compress(args: argparse.Namespace) -> int:
    from flows.compress import compress_prompts
    from prompts.compress import CompressConfig, check_budget

    check_budget(args.rate, args.target_tokens)  # before the flow starts its Prefect server
    cfg = CompressConfig(coarse_scorer=args.coarse_scorer, max_fine_drop=args.max_fine_drop,
                         protect_patterns=not args.no_protect_patterns)
    r = compress_prompts(path=args.input, out=args.out, rate=args.rate, target_tokens=args.target_tokens, config=cfg)
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
