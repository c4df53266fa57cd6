"""``winnow select`` and ``winnow demos``: argument parsing in front of the selection flows."""

from __future__ import annotations

import argparse

from flows.cli_options import add_options


def add_parsers(sub: argparse._SubParsersAction, formatter) -> None:
    p = sub.add_parser(
        "select", formatter_class=formatter,
        help="select a fine-tuning or pretraining subset by strategy and budget",
        description=(
            "Select a subset of POOL (instruction data: Alpaca/LIMA JSON, GSM8K JSONL, ShareGPT; or plain-text\n"
            "shards) with the `select_finetune` flow. Writes the manifest (one JSON line per selected item: id,\n"
            "rank, score, reason, strategy, seed, source), MANIFEST.summary.json, and a report (.report.md and a\n"
            ".report.png with a 2-D projection of pool vs selected and the score histogram).\n\n"
            "Strategies:\n"
            "  random    seeded shuffle: the baseline every other strategy must beat\n"
            "  knn       closest to the --target examples first (embedding cosine)\n"
            "  kcenter   greedy k-center: each pick is farthest from the picks so far (coverage)\n"
            "  deita     best score first, skipping items within cosine --deita-threshold of a kept one\n"
            "  semdedup  k-means, drop within-cluster near-duplicates (cosine > 1 - eps), sample the rest\n"
            "  ifd       instruction-following difficulty from SmolLM2-135M (Superfiltering); IFD >= 1 last\n"
            "  quality   fastText P(high quality) from `winnow train-quality` (--quality-model)\n"
            "  dsir      importance resampling toward --target with hashed n-gram features (Xie et al. 2023)\n\n"
            "Budget: a count (500), a fraction (0.1 or 10%%) or tokens ('200k tokens', SmolLM2 tokenizer).\n"
            "Caps: --balance-by FIELD --max-per-group N (or a fraction of the budget) for domain/label/source mix."
        ))
    d = sub.add_parser(
        "demos", formatter_class=formatter, help="select few-shot demonstrations for each query",
        description=(
            "Pick --k demonstrations from --pool for every line of --queries with the `select_demos` flow and\n"
            "render each prompt (plain, or SmolLM2's chat template with --chat). Output lines hold query_id,\n"
            "the demos used (id, similarity, position; most similar last), excluded_self and the prompt.\n"
            "A query is never its own demo: pool items with its id, or its text (NFC, case-folded, whitespace\n"
            "collapsed) under another id, are left out and counted in OUT.summary.json.\n\n"
            "Strategies: random (seeded), knn (KATE: most similar), mmr (relevance vs redundancy, --lam),\n"
            "balanced (round-robin over labels, most similar of each)."
        ))


def select_options(p: argparse.ArgumentParser) -> None:
    """From the ``select_finetune`` flow's signature and its ``SelectParams``."""
    from flows.select import select_finetune
    from selection import SelectParams

    p.set_defaults(options=add_options(p, select_finetune, skip=("params",), help=SELECT_HELP, spelling=SPELLING),
                   params=add_options(p, SelectParams, help=SELECT_HELP, spelling=SPELLING))


def demos_options(p: argparse.ArgumentParser) -> None:
    """From the ``select_demos`` flow's signature."""
    from flows.select import select_demos

    p.set_defaults(options=add_options(p, select_demos, help=DEMOS_HELP, spelling=SPELLING | {
        "pool": {"metavar": "TRAIN"}, "queries": {"metavar": "TEST"},
        "out": {"metavar": "DEMOS.jsonl", "required": True}}))


SPELLING = {"pool": {"positional": True, "metavar": "POOL"}, "budget": {"metavar": "BUDGET"},
            "target": {"metavar": "TASK"}, "out": {"metavar": "MANIFEST.jsonl", "required": True},
            "text_field": {"metavar": "NAME"}, "quality_model": {"metavar": "MODEL.bin"},
            "balance_by": {"metavar": "FIELD"}, "max_per_group": {"metavar": "N"}}
SELECT_HELP = {
    "pool": "pool files or directories", "strategy": "selection strategy (see above)",
    "target": "target task examples (knn, dsir)", "seed": "seed", "out": "manifest path",
    "text_field": "plain documents in this field (skips shape detection)",
    "deita_threshold": "DEITA: keep an item only if its cosine to every kept item is <= this",
    "deita_score": "what DEITA ranks by before the diversity pass",
    "semdedup_eps": "SemDeDup epsilon: duplicates have cosine > 1 - eps within a k-means cluster",
    "semdedup_clusters": "SemDeDup k-means clusters (default: chosen from the pool size)",
    "quality_model": "fastText model from `winnow train-quality` (quality, and deita --deita-score quality)",
    "dsir_buckets": "DSIR hashed n-gram feature buckets",
    "balance_by": "metadata field (or url_domain) to cap per group",
    "max_per_group": "cap per group: a count (>= 1), or a fraction of the budget (< 1)",
}
DEMOS_HELP = {"pool": "demonstration pool", "queries": "queries needing demos", "k": "demos per query",
              "strategy": "demonstration strategy (see above)", "out": "output path", "seed": "seed for random",
              "lam": "MMR relevance weight", "chat": "render with the model's chat template"}


def cmd_select(args: argparse.Namespace) -> int:
    from core.config_types import check_call
    from selection import SelectParams
    from flows.select import select_finetune

    options = args.options.values(args)
    check_call(select_finetune.fn, "options", **options)  # before Prefect starts
    params = SelectParams(**args.params.values(args))
    result = select_finetune(**options, params=params)
    s = result["summary"]
    tokens = f", {s['tokens_selected']:,} tokens" if s.get("tokens_selected") is not None else ""
    print(f"{args.strategy}: selected {s['selected']:,} of {s['pool_size']:,}{tokens} "
          f"({s['quarantined']} quarantined lines)")
    if s.get("note"):
        print(f"note: {s['note']}")
    print(f"manifest: {result['manifest']}\nreport: {result['report']['markdown']}")
    return 0


def cmd_demos(args: argparse.Namespace) -> int:
    from core.config_types import check_call
    from flows.select import select_demos

    options = args.options.values(args)
    check_call(select_demos.fn, "options", **options)  # before Prefect starts
    result = select_demos(**options)
    print(f"{args.strategy}: {args.k} demos for each of {result['queries']} queries from a pool of {result['pool']}")
    print(f"excluded {result['excluded_self']} pool items that are the query itself (same id, or same text under "
          f"another id) for {result['queries_in_pool']} queries: no query is its own demonstration")
    if result["short_of_k"]:
        print(f"{result['short_of_k']} queries got fewer than {args.k} demos: the pool less the excluded is smaller")
    print(f"demos: {result['out']}\nsummary: {result['summary']}")
    return 0


COMMANDS = {"select": cmd_select, "demos": cmd_demos}
OPTIONS = {"select": select_options, "demos": demos_options}
