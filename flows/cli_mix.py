"""``winnow mix``: argument parsing in front of the ``mix_corpus`` flow."""

from __future__ import annotations

import argparse

from flows.cli_options import add_options, descriptions


def add_parsers(sub: argparse._SubParsersAction, formatter) -> None:
    p = sub.add_parser(
        "mix", formatter_class=formatter, help="sample a corpus to target proportions per group under a budget",
        description=(
            "Sample INPUT (documents or an instruction pool; any format `winnow curate` reads) to target\n"
            "proportions per group with the `mix_corpus` flow, under a document or token budget.\n\n"
            "Groups (--by): a metadata field (dotted for nested: meta.source), url_domain, label, language, or\n"
            "file (the input file's name).\n"
            "Targets: natural (p ∝ n^(1/T); --temperature 1 keeps the corpus' shares, inf is uniform), uniform,\n"
            "or a JSON/YAML file of group -> weight. A group gets at most --max-upsample K times its documents\n"
            "(repeats are recorded); what a capped group cannot take goes to the others. --rehydrate repeats\n"
            "documents by duplicate-cluster size (FineWeb-2), read from a cluster_size column or metadata field.\n\n"
            "Writes OUT (the mix; a document repeated r times appears r times with mix_copy 0..r-1),\n"
            "OUT.removed.jsonl (not_sampled; input = kept + removed), OUT.report.json and OUT.report.md\n"
            "(before/after share per group and what the budget bought)."
        ))


def mix_options(p: argparse.ArgumentParser) -> None:
    """From the ``mix_corpus`` flow's signature, described by ``MixConfig`` (the step config it builds)."""
    from curation.steps.mix import MixConfig
    from flows.mix import mix_corpus

    p.set_defaults(options=add_options(p, mix_corpus, help=descriptions(MixConfig) | HELP, spelling={
        "inputs": {"positional": True, "metavar": "INPUT"}, "by": {"metavar": "FIELD"},
        "budget": {"metavar": "N|'N tokens'"}, "target": {"metavar": "uniform|natural|FILE"},
        "temperature": {"metavar": "T"}, "max_upsample": {"metavar": "K"},
        "tokenizer": {"metavar": "words|smollm2|PATH"}, "text_field": {"metavar": "NAME"},
        "out": {"metavar": "FILE.jsonl", "required": True}}))


HELP = {"inputs": "files or directories", "target": "natural, uniform, or a JSON/YAML file of group -> weight",
        "seed": "seed", "out": "where the mix goes",
        "text_field": "plain documents in this field (default: detect text or instruction pairs, as select does)"}


def cmd_mix(args: argparse.Namespace) -> int:
    from curation.steps.mix import MixConfig, load_target
    from flows.mix import mix_corpus

    options = args.options.values(args)
    # every value is checked before Prefect starts
    fields = {k: v for k, v in options.items() if k in MixConfig.model_fields}
    MixConfig(**fields | {"target": load_target(args.target)})
    r = mix_corpus(**options)
    unit = "documents" if r["unit"] == "docs" else "tokens"
    print(f"mix by {args.by}: spent {r['spent']:,} of {r['budget']:,} {unit}; input {r['input']:,} = kept "
          f"{r['kept']:,} + not sampled {r['removed']:,}; {r['copies_out']:,} rows out "
          f"({r['repeated_copies']:,} repeats)")
    for g in r["groups"]:
        print(f"  {g['group']:30s} {g['share_before']:.3f} -> {g['share_after']:.3f} (target {g['target_share']:.3f})")
    print(f"mix: {r['outputs']['mix']}\nreport: {r['outputs']['mix'].removesuffix('.jsonl')}.report.md")
    return 0


COMMANDS = {"mix": cmd_mix}
OPTIONS = {"mix": mix_options}
