"""``winnow tokenize``: a curated run's ``kept/`` to memory-mappable token shards (``curation.tokenize``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from flows.cli_options import add_options, descriptions


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


def tokenize_options(p: argparse.ArgumentParser) -> None:
    """From ``tokenize_kept``'s signature; the tokenizer described by ``TokenizeConfig`` (the curate step's)."""
    from curation.steps.tokenize import TokenizeConfig
    from core.config_types import check_call
    from curation.tokenize import tokenize_kept

    p.set_defaults(options=add_options(p, tokenize_kept, help=descriptions(TokenizeConfig) | HELP, spelling={
        "kept_dir": {"positional": True, "metavar": "DIR"}, "out_dir": {"flag": "--out", "metavar": "OUT"},
        "tokenizer": {"metavar": "NAME|PATH"}, "shard_tokens": {"metavar": "N"}, "top_domains": {"metavar": "N"}}))


HELP = {"kept_dir": "a curate run directory (or its kept/ folder)", "out_dir": "where the shards go",
        "shard_tokens": "start a new shard after N tokens", "top_domains": "domains listed by name in tokens.json"}


def cmd_tokenize(args: argparse.Namespace) -> int:
    from core.config_types import check_call
    from curation.tokenize import tokenize_kept

    options = args.options.values(args)
    check_call(tokenize_kept, "options", **options)
    run = Path(options.pop("kept_dir"))
    summary = tokenize_kept(run / "kept" if (run / "kept").is_dir() else run, **options)
    print(f"{summary['tokens']:,} tokens in {summary['documents']:,} documents ({summary['dtype']}, "
          f"{len(summary['shards'])} shard(s), tokenizer {summary['tokenizer']})")
    for d in summary["domains"][:10]:
        print(f"  {d['domain']:40s} {d['documents']:>8,} docs {d['tokens']:>12,} tokens")
    print(f"summary: {Path(options['out_dir']).resolve() / 'tokens.json'}")
    return 0


COMMANDS = {"tokenize": cmd_tokenize}
OPTIONS = {"tokenize": tokenize_options}
