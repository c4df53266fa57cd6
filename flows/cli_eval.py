"""``winnow eval`` and ``winnow compare``: the before/after story from the command line."""

from __future__ import annotations

import argparse

from flows.cli_options import add_options


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
    c = sub.add_parser(
        "compare", formatter_class=formatter, help="compare two eval reports: deltas, intervals, verdicts",
        description=("Print a side-by-side of eval reports A and B (directories or eval_report.json) with the delta\n"
                     "per metric, its 95% interval, and a verdict: better / worse / within noise."))
    c.add_argument("a", metavar="A", help="baseline report")
    c.add_argument("b", metavar="B", help="report compared against A")
    c.add_argument("--out", metavar="FILE.md", help="also write the comparison (and FILE.json)")


def eval_options(p: argparse.ArgumentParser) -> None:
    """From the ``efficiency_eval`` flow's signature (its TrainConfig is the experiment's, not a flag's)."""
    from flows.evaluate import efficiency_eval

    p.set_defaults(options=add_options(p, efficiency_eval, skip=("config",), help=HELP, spelling={
        "raw": {"metavar": "SHARD"}, "curated": {"metavar": "RUN_DIR"},
        "curate_config": {"flag": "--curate-config", "metavar": "FILE", "type": str, "convert": _load_curation},
        "out_dir": {"flag": "--out", "metavar": "DIR"},
        "serve_slo": {"flag": "--slo", "metavar": "METRIC=SECONDS", "type": _slo_item, "nargs": "+", "convert": dict}}))


def _load_curation(path: str):
    from curation.config import CurationConfig

    return CurationConfig.load(path)


def _slo_item(item: str) -> tuple[str, float]:
    key, _, value = item.partition("=")
    try:
        assert key in ("ttft_s", "tpot_s", "e2e_s")
        return key, float(value)
    except (AssertionError, ValueError):
        raise argparse.ArgumentTypeError(f"{item!r}: expected ttft_s=, tpot_s= or e2e_s= followed by seconds") from None


HELP = {
    "raw": "raw corpus shards",
    "curated": "a `winnow curate` output directory (made first when --curate-config is given)",
    "out_dir": "where reports and checkpoints go", "token_budget": "training tokens per run",
    "seeds": "seeds per arm (none given: 0 1 2)", "serve_requests": "requests per arm in the serving benchmark",
    "serve_max_tokens": "tokens generated per serving request",
    "backend": "serving backend: transformers; vllm = vLLM's offline engine; vllm-server = `vllm serve` on 127.0.0.1 "
               "(both vLLM ones need `make vllm`, ~45-85 s engine start on CPU)",
    "concurrency": "requests per burst in the serving benchmark",
    "curate_config": "curate SHARDs into RUN_DIR with this YAML/JSON config first (the whole story in one command; "
                     "finished units are reused on rerun)",
    "serve_slo": "service-level objectives for goodput, e.g. ttft_s=0.5 tpot_s=0.05 (metrics: ttft_s, tpot_s, e2e_s)",
}


def cmd_eval(args: argparse.Namespace) -> int:
    from core.config_types import check_call
    from flows.evaluate import efficiency_eval

    options = args.options.values(args)
    check_call(efficiency_eval.fn, "options", **{k: v for k, v in options.items() if k != "curate_config"})
    r = efficiency_eval(**options)
    print(open(r["compare"]).read())
    print(f"reports: {r['reports']['raw']['markdown']}\n         {r['reports']['curated']['markdown']}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from evals.compare import compare_files

    print(compare_files(args.a, args.b, args.out)[1])
    return 0


COMMANDS = {"eval": cmd_eval, "compare": cmd_compare}
OPTIONS = {"eval": eval_options}
