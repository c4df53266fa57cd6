"""``winnow mix``: argument parsing in front of the ``mix_corpus`` flow."""

from __future__ import annotations

import argparse


def _temperature(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text}: the temperature must be > 0 (inf = uniform)")
    return value


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
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="files or directories")
    p.add_argument("--by", required=True, metavar="FIELD",
                   help="group key: field, dotted path, url_domain, label, language")
    p.add_argument("--budget", required=True, metavar="N|'N tokens'",
                   help="documents (5000, 5k) or tokens ('2M tokens')")
    p.add_argument("--target", default="natural", metavar="uniform|natural|FILE", help="(default: natural)")
    p.add_argument("--temperature", type=_temperature, default=1.0, metavar="T",
                   help="natural target: p ∝ n^(1/T) (default: 1; inf = uniform)")
    p.add_argument("--max-upsample", type=int, default=1, metavar="K", help="most repeats of one document (default: 1)")
    p.add_argument("--tokenizer", default="words", metavar="words|smollm2|PATH",
                   help="unit of a token budget (default: whitespace words)")
    p.add_argument("--rehydrate", action="store_true", help="repeat documents by duplicate-cluster size")
    p.add_argument("--text-field", metavar="NAME",
                   help="plain documents in this field (default: detect text or instruction pairs, as select does)")
    p.add_argument("--seed", type=int, default=0, help="seed (default: 0)")
    p.add_argument("--out", required=True, metavar="FILE.jsonl", help="where the mix goes")


def cmd_mix(args: argparse.Namespace) -> int:
    from curation.steps.mix import MixConfig, load_target
    from flows.mix import mix_corpus

    # every value is checked before Prefect starts
    MixConfig(by=args.by, budget=args.budget, target=load_target(args.target), temperature=args.temperature,
              max_upsample=args.max_upsample, tokenizer=args.tokenizer, rehydrate=args.rehydrate, seed=args.seed)
    r = mix_corpus(inputs=args.inputs, by=args.by, budget=args.budget, out=args.out, target=args.target,
                   temperature=args.temperature, max_upsample=args.max_upsample, tokenizer=args.tokenizer,
                   rehydrate=args.rehydrate, seed=args.seed, text_field=args.text_field)
    unit = "documents" if r["unit"] == "docs" else "tokens"
    print(f"mix by {args.by}: spent {r['spent']:,} of {r['budget']:,} {unit}; input {r['input']:,} = kept "
          f"{r['kept']:,} + not sampled {r['removed']:,}; {r['copies_out']:,} rows out "
          f"({r['repeated_copies']:,} repeats)")
    for g in r["groups"]:
        print(f"  {g['group']:30s} {g['share_before']:.3f} -> {g['share_after']:.3f} (target {g['target_share']:.3f})")
    print(f"mix: {r['outputs']['mix']}\nreport: {r['outputs']['mix'].removesuffix('.jsonl')}.report.md")
    return 0


COMMANDS = {"mix": cmd_mix}
