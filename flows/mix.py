"""Mixture flow: sample a corpus or instruction pool to target proportions per group under a budget."""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NONE as NO_CACHE

from core.config_types import PositiveInt, Seed
from curation.mixing import mix_files, render_markdown
from curation.steps.mix import MixConfig, Temperature, load_target


@task(name="mix-files", cache_policy=NO_CACHE)
def mix_task(inputs: list[str], mix_config: MixConfig, out: str, text_field: str | None) -> dict:
    return mix_files(inputs, mix_config, out, text_field)


@flow(name="mix_corpus", log_prints=True)
def mix_corpus(inputs: list[str], by: str, budget: str, out: str = "runs/mix/mix.jsonl", target: str = "natural",
               temperature: Temperature = 1.0, max_upsample: PositiveInt = 1, tokenizer: str = "words",
               rehydrate: bool = False, seed: Seed = 0, text_field: str | None = None) -> dict:
    """Sample INPUTS to target proportions per group (``by``) under ``budget`` (documents or 'N tokens').

    target: natural (p ∝ n^(1/temperature)), uniform, or a JSON/YAML file of group -> weight."""
    mix_config = MixConfig(by=by, budget=budget, target=load_target(target), temperature=temperature,
                       max_upsample=max_upsample, tokenizer=tokenizer, rehydrate=rehydrate, seed=seed)
    report = mix_task(inputs, mix_config, out, text_field)
    create_markdown_artifact(render_markdown(report), key="mix-report",
                             description="before/after proportions per group")
    create_table_artifact([{k: g[k] for k in ("group", "documents_in", "share_before", "target_share", "share_after",
                                              "copies_out", "tokens_out", "max_repeats")} for g in report["groups"]],
                          key="mix-groups", description="share per group before and after the mix")
    get_run_logger().info("mix by %s: %s of %s %s spent; %s kept, %s not sampled", by, report["spent"],
                          report["budget"], report["unit"], report["kept"], report["removed"])
    return report
