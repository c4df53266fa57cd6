"""Prompt search flow: candidates from a seed prompt, scored on a dev split; the accuracy/tokens front, the chosen
prompt, and its held-out effect against the seed prompt (see evals.prompt_search)."""

from __future__ import annotations

from typing import Literal

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NONE as NO_CACHE

from core.config_types import Fraction, PositiveInt, Seed, WordCount
from evals.prompt_search import SearchConfig, SmolLM2Scorer, render_markdown, search, write_report
from evals.eval_sets import TASKS


@task(name="prompt-search", cache_policy=NO_CACHE)
def search_task(config: SearchConfig, device: str, command: str | None) -> dict:
    return search(config, SmolLM2Scorer(device), command=command)


@flow(name="prompt_search", log_prints=True)
def prompt_search(task: Literal[TASKS] = "sst2", seed_prompt: str | None = None, candidates: PositiveInt = 8,
                  dev: PositiveInt = 40, test: PositiveInt = 80, seed_k: WordCount = 4, max_k: WordCount = 4,
                  rewrites: WordCount = 3, tolerance: Fraction = 0.01, timing_items: WordCount = 20, seed: Seed = 0,
                  device: str = "cpu", out: str = "runs/prompt_search", command: str | None = None) -> dict:
    """Search prompts for TASK with SmolLM2: LM rewrites of the seed instruction and recombinations (instruction
    or none, k = 0..max_k demos, separators); keep the Pareto front of dev accuracy vs prompt tokens, choose the
    cheapest within ``tolerance`` of the best, and compare it with the seed prompt on held-out items (paired)."""
    config = SearchConfig(task=task, seed_prompt=seed_prompt, candidates=candidates, dev=dev, test=test,
                          seed_k=seed_k, max_k=max_k, rewrites=rewrites, tolerance=tolerance,
                          timing_items=timing_items, seed=seed)
    report = search_task(config, device, command)
    report["outputs"] = write_report(report, out)
    create_markdown_artifact(render_markdown(report), key="prompt-search-front",
                             description="candidates, Pareto front of accuracy vs prompt tokens, held-out effect")
    create_table_artifact([{"candidate": r["name"], "k": r["k"], "dev_accuracy": r["dev_accuracy"]["mean"],
                            "mean_prompt_tokens": round(r["dev_mean_prompt_tokens"], 1), "on_front": r["on_front"]}
                           for r in report["candidates"]], key="prompt-search-candidates",
                          description="every candidate's dev accuracy and prompt tokens")
    d = report["test"]["accuracy_difference"]
    get_run_logger().info("chose %s: held-out accuracy %+.3f vs seed (%s), prompt tokens x%.2f", report["chosen"],
                          d["delta"], d["verdict"], report["test"]["token_ratio"])
    return report
