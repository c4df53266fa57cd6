"""``winnow select`` and ``winnow demos``: argument parsing in front of the selection flows."""

from __future__ import annotations

import argparse

from selection.strategies import STRATEGIES
from prompts.demos import DEMO_STRATEGIES


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
    p.add_argument("pool", nargs="+", metavar="POOL", help="pool files or directories")
    p.add_argument("--budget", required=True, help="count, fraction, or 'N tokens'")
    p.add_argument("--strategy", default="random", choices=list(STRATEGIES), help="(default: random)")
    p.add_argument("--target", nargs="+", metavar="TASK", help="target task examples (knn, dsir)")
    p.add_argument("--seed", type=int, default=0, help="seed (default: 0)")
    p.add_argument("--out", required=True, metavar="MANIFEST.jsonl", help="manifest path")
    p.add_argument("--text-field", metavar="NAME", help="plain documents in this field (skips shape detection)")
    p.add_argument("--quality-model", metavar="MODEL.bin", help="fastText model for quality (and deita --deita-score quality)")
    p.add_argument("--deita-threshold", type=float, default=0.9, help="DEITA cosine threshold (default: 0.9)")
    p.add_argument("--deita-score", choices=["ifd", "quality", "length"], default="ifd",
                   help="what DEITA ranks by before the diversity pass (default: ifd)")
    p.add_argument("--semdedup-eps", type=float, default=0.07, help="SemDeDup epsilon (default: 0.07)")
    p.add_argument("--balance-by", metavar="FIELD", help="metadata field (or url_domain) to cap per group")
    p.add_argument("--max-per-group", type=float, metavar="N", help="cap per group: count, or fraction of the budget")

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
    d.add_argument("--pool", nargs="+", required=True, metavar="TRAIN", help="demonstration pool")
    d.add_argument("--queries", nargs="+", required=True, metavar="TEST", help="queries needing demos")
    d.add_argument("--k", type=int, default=4, help="demos per query (default: 4)")
    d.add_argument("--strategy", default="knn", choices=list(DEMO_STRATEGIES), help="(default: knn)")
    d.add_argument("--lam", type=float, default=0.5, help="MMR relevance weight (default: 0.5)")
    d.add_argument("--seed", type=int, default=0, help="seed for random (default: 0)")
    d.add_argument("--chat", action="store_true", help="render with the model's chat template")
    d.add_argument("--out", required=True, metavar="DEMOS.jsonl", help="output path")


def cmd_select(args: argparse.Namespace) -> int:
    from core.config_types import check_call
    from selection import SelectParams
    from flows.select import select_finetune

    check_call(select_finetune.fn, "options", budget=args.budget, seed=args.seed)  # before Prefect starts
    params = SelectParams(deita_threshold=args.deita_threshold, deita_score=args.deita_score,
                          semdedup_eps=args.semdedup_eps, quality_model=args.quality_model,
                          balance_by=args.balance_by, max_per_group=args.max_per_group)
    result = select_finetune(pool=args.pool, budget=args.budget, strategy=args.strategy, out=args.out,
                             target=args.target, seed=args.seed, params=params, text_field=args.text_field)
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

    check_call(select_demos.fn, "options", k=args.k, lam=args.lam, seed=args.seed)  # before Prefect starts
    result = select_demos(pool=args.pool, queries=args.queries, k=args.k, strategy=args.strategy, out=args.out,
                          seed=args.seed, lam=args.lam, chat=args.chat)
    print(f"{args.strategy}: {args.k} demos for each of {result['queries']} queries from a pool of {result['pool']}")
    print(f"excluded {result['excluded_self']} pool items that are the query itself (same id, or same text under "
          f"another id) for {result['queries_in_pool']} queries: no query is its own demonstration")
    if result["short_of_k"]:
        print(f"{result['short_of_k']} queries got fewer than {args.k} demos: the pool less the excluded is smaller")
    print(f"demos: {result['out']}\nsummary: {result['summary']}")
    return 0


COMMANDS = {"select": cmd_select, "demos": cmd_demos}
