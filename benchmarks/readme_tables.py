"""README blocks generated from the JSON they cite: one registry, one rewrite command, one test.

A block in README.md is markdown between two marker lines, rendered from files in ``benchmarks/results/``::

    <!-- generated: NAME -->
    ...whatever BLOCKS[NAME] renders (a table, a paragraph, a list)...
    <!-- end: NAME -->

Usage (from the repository root)::

    .venv/bin/python -m benchmarks.readme_tables            # rewrite every block of README.md in place
    .venv/bin/python -m benchmarks.readme_tables --only NAME   # rewrite only that block (repeatable)
    .venv/bin/python -m benchmarks.readme_tables --check    # exit 1, naming each block that differs
    .venv/bin/python -m benchmarks.readme_tables NAME       # print one block

``tests/benchmarks/test_readme_tables.py`` fails when a block differs from what its JSON renders (naming the block),
when a marker names no registered block, and when a registered block has no markers in the README.

To add a block: write ``render(*results) -> str`` (one argument per JSON file, each the parsed JSON; returns markdown
without surrounding blank lines) in a module of your own, importing only the standard library at module level so the
test stays fast; add ``"NAME": Block(("FILE.json",), "benchmarks.module:function")`` to ``BLOCKS``; put the two marker
lines where the block goes and run the command. Words that state a verdict ("better", "within noise") belong in the
render function, computed from the interval in the JSON, so a rerun cannot leave a stale claim behind.
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
README = ROOT / "README.md"


@dataclass(frozen=True)
class Block:
    """One generated README block: the JSON files it reads (relative to benchmarks/results/) and its renderer.

    ``render`` is ``"package.module:function"``, imported only when the block is rendered, so each section's owner
    keeps the function beside their benchmark; the function gets the parsed JSON files in the order of ``sources``.
    """

    sources: tuple[str, ...]
    render: str

    def __call__(self) -> str:
        module, _, name = self.render.partition(":")
        fn = getattr(importlib.import_module(module), name)
        return fn(*(json.loads((RESULTS / s).read_text()) for s in self.sources)).strip("\n")


# name -> block. Keep sorted by README order; each section's owner edits only their own entries.
_C = "benchmarks.readme_curation:"
_ICL = ("demo_icl_variants.json", "demo_icl_sweep_paired.json")
BLOCKS: dict[str, Block] = {
    "demo": Block(("demo_counts.json", "prefect_startup.json"), _C + "demo"),
    "dedup_scripts": Block(("dedup_scripts.json",), _C + "dedup_scripts"),
    "dedup_scripts_reading": Block(("dedup_scripts.json", "readme_facts.json", "dedup_speed.json"),
                                   "benchmarks.readme_facts:dedup_scripts_reading"),
    "filter_agreement": Block(("filter_agreement.json",), "benchmarks.filter_agreement_readme:tables"),
    "filter_agreement_summary": Block(("filter_agreement.json",), "benchmarks.filter_agreement_readme:summary"),
    "dedup_quality": Block(("dedup_quality.json",), _C + "dedup_quality"),
    "cc_shard_pairs": Block(("readme_facts.json",), "benchmarks.readme_facts:cc_shard_pairs_note"),
    "extraction_quality": Block(("extraction_quality.json",), _C + "extraction"),
    "warc_demo": Block(("warc_demo.json",), _C + "warc_demo"),
    "warc_speed": Block(("warc_speed.json", "extraction_quality.json"), _C + "warc_speed"),
    "dedup_speed": Block(("dedup_speed.json",), _C + "dedup_speed"),
    "dedup_speed_languages": Block(("dedup_speed.json",), _C + "dedup_languages"),
    "dedup_scale": Block(("dedup_speed.json",), _C + "dedup_scale"),
    "reliability": Block(("reliability.json",), _C + "reliability"),
    "quality_classifier": Block(("quality_classifier.json",), _C + "quality_classifier"),
    "smollm2_load": Block(("readme_facts.json",), "benchmarks.readme_facts:smollm2_load_note"),
    "embed_speed": Block(("embed_speed.json",), _C + "embed_speed"),
    "select_efficiency": Block(("select_efficiency.json", "select_efficiency_balanced.json"),
                               "benchmarks.readme_selection:select_table"),
    "select_efficiency_reading": Block(("select_efficiency.json", "select_efficiency_balanced.json"),
                                       "benchmarks.readme_selection:select_reading"),
    "select_finetune": Block(("select_finetune.json",), "benchmarks.readme_select_finetune:block"),
    "augment_efficiency": Block(("augment_efficiency.json",), "benchmarks.readme_selection:augment_table"),
    "augment_reading": Block(("augment_efficiency.json",), "benchmarks.readme_selection:augment_reading"),
    "mixture_search": Block(("mixture_search.json",), "benchmarks.readme_selection:mixture_search"),
    "prompt_search": Block(("prompt_search.json", "prompt_search_draw1.json"), "benchmarks.readme_prompts:prompt_search"),
    "icl_run": Block(_ICL, "benchmarks.readme_icl:run_note"),
    "icl_variants": Block(_ICL, "benchmarks.readme_prompts:icl_variants"),
    "icl_variant_detail": Block(_ICL, "benchmarks.readme_prompts:icl_variant_detail"),
    "icl_sweep": Block(_ICL, "benchmarks.readme_prompts:icl_sweep"),
    "icl_reading": Block(_ICL + ("demo_icl.json",), "benchmarks.readme_icl:reading"),
    "compress_speed": Block(("compress_quality.json",), "benchmarks.readme_compress:compress_speed"),
    "compress_quality": Block(("compress_quality.json",), "benchmarks.readme_compress:compress_quality"),
    "compress_baselines": Block(("compress_quality.json",), "benchmarks.readme_compress:compress_baselines"),
    "compress_reading": Block(("compress_quality.json",), "benchmarks.readme_compress:compress_reading"),
    "compress_runs": Block(("compress_quality.json",), "benchmarks.readme_compress:compress_runs"),
    "compress_verdict": Block(("compress_quality.json",), "benchmarks.readme_compress:compress_verdict"),
    "vllm_env": Block(("readme_facts.json",), "benchmarks.readme_facts:vllm_env_note"),
    "serving_prompts": Block(("serving_prompts.json",), "benchmarks.readme_prompts:serving_prompts"),
    "serving_prefix_cache": Block(("serving_prefix_cache.json",), "benchmarks.readme_prompts:prefix_cache"),
    "eval_demo": Block(("eval_demo/compare.json", "eval_demo/raw/eval_report.json",
                        "eval_demo/curated/eval_report.json"), "benchmarks.readme_evals:eval_demo"),
    "serving_reading": Block(("serving_prompts.json",), "benchmarks.readme_prompts:serving_reading"),
    "prefix_cache_reading": Block(("serving_prefix_cache.json", "serving_prompts.json"),
                                  "benchmarks.readme_prompts:prefix_cache_reading"),
    "ablation": Block(("ablation.json",), "benchmarks.readme_ablation:ablation"),
    "prefect_ephemeral": Block(("prefect_startup.json",), _C + "prefect_ephemeral"),
    "prefect_cost": Block(("prefect_startup.json", "readme_facts.json"), "benchmarks.readme_facts:prefect_cost_note"),
    "prefect_startup": Block(("prefect_startup.json",), _C + "prefect_startup"),
}

_MARKER = re.compile(r"^<!-- (generated|end): ([A-Za-z0-9_.-]+) -->[ \t]*$", re.M)


def prose(text: str, width: int = 115) -> str:
    """A rendered paragraph wrapped as the README's hand-written ones are (words and code spans never split)."""
    return textwrap.fill(text, width, break_long_words=False, break_on_hyphens=False)


def wrap(name: str, body: str) -> str:
    """The block as it stands in the README: markers on their own lines, the body between blank lines."""
    return f"<!-- generated: {name} -->\n\n{body}\n\n<!-- end: {name} -->"


def blocks_in(text: str) -> dict[str, str]:
    """name -> current body (stripped) of every block in ``text``.

    Raises ValueError on a marker without its partner, an end before its start, nested or repeated blocks.
    """
    found: dict[str, str] = {}
    open_name, open_end = None, 0
    for m in _MARKER.finditer(text):
        kind, name = m.groups()
        if kind == "generated":
            if open_name is not None:
                raise ValueError(f"README block {open_name!r} has no end marker before {name!r} starts")
            if name in found:
                raise ValueError(f"README block {name!r} appears twice")
            open_name, open_end = name, m.end()
        else:
            if open_name != name:
                raise ValueError(f"README end marker {name!r} without its start marker")
            found[name] = text[open_end:m.start()].strip("\n")
            open_name = None
    if open_name is not None:
        raise ValueError(f"README block {open_name!r} has no end marker")
    return found


def rendered(names=None) -> dict[str, str]:
    """name -> body as its JSON renders it, for ``names`` (default: every registered block)."""
    return {n: BLOCKS[n]() for n in (BLOCKS if names is None else names)}


def stale_blocks(text: str) -> list[str]:
    """Names of the blocks in ``text`` whose body differs from what their JSON renders (unknown names included)."""
    current = blocks_in(text)
    unknown = [n for n in current if n not in BLOCKS]
    fresh = rendered([n for n in current if n in BLOCKS])
    return unknown + [n for n, body in fresh.items() if body != current[n]]


def rewrite(text: str, only=None) -> str:
    """``text`` with every registered block's body (or those named in ``only``) re-rendered from its JSON.

    Raises KeyError for a block in the text that is not registered (or a name in ``only`` not in the text)."""
    current = blocks_in(text)
    names = list(current) if only is None else list(only)
    unknown = [n for n in names if n not in BLOCKS or n not in current]
    if unknown:
        raise KeyError(f"README blocks not both in README.md and in benchmarks.readme_tables.BLOCKS: {unknown}")
    fresh = rendered(names)

    def sub(m: re.Match) -> str:
        return wrap(m.group(1), fresh[m.group(1)]) if m.group(1) in fresh else m.group(0)

    return re.sub(r"^<!-- generated: ([A-Za-z0-9_.-]+) -->[ \t]*\n.*?^<!-- end: \1 -->[ \t]*$", sub, text,
                  flags=re.M | re.S)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.readme_tables", description=__doc__.split("\n")[0])
    ap.add_argument("name", nargs="?", help="print this block's markdown instead of rewriting the README")
    ap.add_argument("--check", action="store_true", help="only report blocks that differ; exit 1 if any")
    ap.add_argument("--only", action="append", metavar="NAME", help="rewrite only this block (repeatable)")
    ap.add_argument("--readme", type=Path, default=README)
    a = ap.parse_args(argv)
    if a.name:
        print(BLOCKS[a.name]())
        return 0
    text = a.readme.read_text()
    if a.check:
        stale = stale_blocks(text)
        missing = [n for n in BLOCKS if n not in blocks_in(text)]
        for n in stale:
            print(f"stale: {n}")
        for n in missing:
            print(f"no markers in {a.readme.name}: {n}")
        return 1 if stale or missing else 0
    new = rewrite(text, a.only)
    if new != text:
        a.readme.write_text(new)
    changed = [n for n in blocks_in(text) if blocks_in(new)[n] != blocks_in(text)[n]]
    print(f"{a.readme.name}: {len(blocks_in(new))} blocks, rewritten: {', '.join(changed) or 'none'}")
    missing = [n for n in BLOCKS if n not in blocks_in(new)]
    if missing:
        print(f"registered but without markers in {a.readme.name}: {', '.join(missing)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
