"""``winnow eval`` and ``winnow compare``: the before/after story from the command line."""

from __future__ import annotations

import argparse

from core.config_types import count_arg


def add_parsers(sub: argparse._SubParsersAction, formatter) -> None:
    e = sub.add_parser(
        "eval", formatter_class=formatter, help="train raw vs curated at one token budget and compare (before/after)",
        description=(
            "Run the `efficiency_eval` flow: curate the raw shards into RUN_DIR if --curate-config is given, then\n"
            "train the same small Llama (SmolLM2 tokenizer) on the raw shards and on\n"
            "a curation run's kept/ documents at the same token budget, for every seed; measure held-out loss on\n"
            "wikitext-2 test and on a hashed slice of the raw corpus no arm trains on; benchmark serving (TTFT,\n"
            "TPOT, ITL, E2E, throughput, memory; GPU memory/SM/energy via NVML on a GPU) with the chosen backend;\n"
            "write OUT/raw and OUT/curated eval reports\n"
            "(JSON, Markdown, loss-curve PNG) and OUT/compare.md with a verdict per metric. Finished training runs\n"
            "are reused on rerun. Headline: tokens the curated arm needs to reach the raw arm's final loss."
        ))
    e.add_argument("--raw", nargs="+", required=True, metavar="SHARD", help="raw corpus shards")
    e.add_argument("--curated", required=True, metavar="RUN_DIR",
                   help="a `winnow curate` output directory (made first when --curate-config is given)")
    e.add_argument("--curate-config", metavar="FILE",
                   help="curate SHARDs into RUN_DIR with this YAML/JSON config first (the whole story in one command; "
                        "finished units are reused on rerun)")
    e.add_argument("--out", default="runs/eval", metavar="DIR", help="where reports and checkpoints go")
    e.add_argument("--token-budget", type=count_arg, default=20_000, help="training tokens per run (default: 20000)")
    e.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds per arm (default: 0 1 2)")
    e.add_argument("--backend", choices=["transformers", "vllm", "vllm-server"], default="transformers",
                   help="serving backend: transformers; vllm = vLLM's offline engine; vllm-server = `vllm serve` "
                        "on 127.0.0.1 (both vLLM ones need `make vllm`, ~45-85 s engine start on CPU)")
    e.add_argument("--slo", nargs="+", metavar="METRIC=SECONDS", default=[],
                   help="service-level objectives for goodput, e.g. ttft_s=0.5 tpot_s=0.05 (metrics: ttft_s, tpot_s, "
                        "e2e_s)")
    e.add_argument("--concurrency", type=count_arg, default=2, help="requests per burst in the serving benchmark (default: 2)")
    c = sub.add_parser(
        "compare", formatter_class=formatter, help="compare two eval reports: deltas, intervals, verdicts",
        description=("Print a side-by-side of eval reports A and B (directories or eval_report.json) with the delta\n"
                     "per metric, its 95% interval, and a verdict: better / worse / within noise."))
    c.add_argument("a", metavar="A", help="baseline report")
    c.add_argument("b", metavar="B", help="report compared against A")
    c.add_argument("--out", metavar="FILE.md", help="also write the comparison (and FILE.json)")


def cmd_eval(args: argparse.Namespace) -> int:
    from curation.config import CurationConfig
    from flows.evaluate import efficiency_eval

    curate_config = CurationConfig.load(args.curate_config) if args.curate_config else None
    slo = {}
    for item in args.slo:
        key, _, value = item.partition("=")
        try:
            assert key in ("ttft_s", "tpot_s", "e2e_s")
            slo[key] = float(value)
        except (AssertionError, ValueError):
            raise SystemExit(f"--slo {item!r}: expected ttft_s=, tpot_s= or e2e_s= followed by seconds") from None
    r = efficiency_eval(raw=args.raw, curated=args.curated, out_dir=args.out, token_budget=args.token_budget,
                        seeds=args.seeds, backend=args.backend,
                        concurrency=args.concurrency, curate_config=curate_config,
                        serve_slo=slo or None)
    print(open(r["compare"]).read())
    print(f"reports: {r['reports']['raw']['markdown']}\n         {r['reports']['curated']['markdown']}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from evals.compare import compare_files

    print(compare_files(args.a, args.b, args.out)[1])
    return 0


COMMANDS = {"eval": cmd_eval, "compare": cmd_compare}
