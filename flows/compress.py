"""Prompt compression flow: a JSONL of prompts in, the same lines with their compressed prompts out."""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NONE as NO_CACHE

from core.config_types import PositiveFraction, PositiveInt
from prompts.compress import CompressConfig
from prompts.compress.batch import compress_file


@task(name="compress-file", cache_policy=NO_CACHE)
def compress_task(path: str, out: str, rate: float | None, target_tokens: int | None, config: CompressConfig) -> dict:
    return compress_file(path, out, rate=rate, target_tokens=target_tokens, config=config)


@flow(name="compress_prompts", log_prints=True)
def compress_prompts(path: str, out: str = "runs/compress/compressed.jsonl", rate: PositiveFraction | None = 0.5,
                     target_tokens: PositiveInt | None = None, config: CompressConfig | None = None) -> dict:
    """Compress every prompt to ``rate`` x its tokens (or ``target_tokens``, which wins over ``rate`` when given),
    protecting numbers, IDs and code. rate in (0, 1], target_tokens >= 1: the UI form refuses other values."""
    rate = None if target_tokens is not None else rate
    result = compress_task(path, out, rate, target_tokens, config or CompressConfig())
    create_markdown_artifact(
        f"# Prompt compression\n\n- prompts: {result['prompts']} ({result['unique_prompts']} unique), "
        f"quarantined lines: {result['quarantined']}\n- tokens: {result['original_tokens']:,} -> "
        f"{result['compressed_tokens']:,} (ratio {result['ratio']:.3f})\n"
        f"- compressor time: {result['compressor_seconds']:.1f} s\n- prompts with context items dropped by the "
        f"coarse step: {len(result['dropped'])}"
        + "".join(f"\n  - line {d['line']}: items {d['items']}, {d['spans_kept']} protected spans kept"
                  for d in result["dropped"][:20])
        + f"\n- output: `{result['out']}`\n",
        key="compression-report", description="tokens before/after and compressor cost")
    get_run_logger().info("compressed %s prompts: ratio %.3f", result["prompts"], result["ratio"])
    return result
