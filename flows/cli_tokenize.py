"""``winnow tokenize``: a curated run's ``kept/`` to memory-mappable token shards (``curation.tokenize``)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parsers(sub: argparse._SubParsersAction, formatter) -> None:
    p = sub.add_parser(
        "tokenize", formatter_class=formatter, help="turn a curated run's kept/ into token-id shards for training",
        description=(
            "Tokenize every kept document of a `winnow curate` run (DIR/kept, JSONL or Parquet parts) and write\n"
            "to --out:\n"
            "  tokens-NNNNN.npy     flat token ids (uint16 when the vocabulary fits, else uint32); each document\n"
            "                       is followed by the EOS id (<|endoftext|>)\n"
            "  index-NNNNN.npy      int64 offsets: document i is tokens[index[i]:index[i+1]]\n"
            "  documents.parquet    id, source, domain, shard, offset, n_tokens per document\n"
            "  tokens.json          total tokens, per-domain counts, tokenizer, dtype\n"
            "Load a shard with numpy.load(path, mmap_mode='r'). Default tokenizer: SmolLM2's (from the packaged\n"
            "GGUF, offline); --tokenizer PATH takes any Hugging Face tokenizers JSON."
        ))
    p.add_argument("run_dir", metavar="DIR", help="a curate run directory (or its kept/ folder)")
    p.add_argument("--out", required=True, metavar="OUT", help="where the shards go")
    p.add_argument("--tokenizer", default="smollm2", metavar="NAME|PATH",
                   help="'smollm2' (default) or a tokenizer.json file")
    p.add_argument("--shard-tokens", type=int, default=100_000_000, metavar="N",
                   help="start a new shard after N tokens (default: 100,000,000)")


def cmd_tokenize(args: argparse.Namespace) -> int:
    from curation.tokenize import tokenize_kept

    if args.shard_tokens < 1:
        raise ValueError("--shard-tokens must be >= 1")
    run = Path(args.run_dir)
    kept = run / "kept" if (run / "kept").is_dir() else run
    summary = tokenize_kept(kept, args.out, tokenizer=args.tokenizer, shard_tokens=args.shard_tokens)
    print(f"{summary['tokens']:,} tokens in {summary['documents']:,} documents ({summary['dtype']}, "
          f"{len(summary['shards'])} shard(s), tokenizer {summary['tokenizer']})")
    for d in summary["domains"][:10]:
        print(f"  {d['domain']:40s} {d['documents']:>8,} docs {d['tokens']:>12,} tokens")
    print(f"summary: {Path(args.out).resolve() / 'tokens.json'}")
    return 0


COMMANDS = {"tokenize": cmd_tokenize}
