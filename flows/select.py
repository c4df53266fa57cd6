"""Selection flows: a fine-tuning (or pretraining) subset by strategy and budget, and few-shot demos per query."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import orjson
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact
from prefect.cache_policies import NONE as NO_CACHE

from core.config_types import Fraction, PositiveInt, Seed
from selection import SelectParams, load_pool, select, summary_path
from selection.budget import BudgetSpec
from selection.report import write_report
from core.storage import atomic_write_json, atomic_write_text
from selection.strategies import STRATEGIES
from prompts.demo_selection import demos_for_queries, demos_summary
from prompts.demos import DEMO_STRATEGIES

SelectStrategy = Literal[tuple(STRATEGIES)]  # type: ignore[valid-type]  # the UI form offers exactly these
DemoStrategy = Literal[DEMO_STRATEGIES]  # type: ignore[valid-type]


@task(name="select-subset", cache_policy=NO_CACHE)
def select_task(*, pool: list[str], budget: str, strategy: str, target: list[str] | None, seed: int,
                params: SelectParams, text_field: str | None, out: str) -> dict:
    items = load_pool(pool, text_field)
    target_pool = load_pool(target, text_field) if target else None
    selection = select(items, budget, strategy, target=target_pool, seed=seed, params=params)
    manifest = selection.write(out)
    report = write_report(selection, manifest)
    return {"manifest": str(manifest.resolve()), "summary": selection.summary, "report": report,
            "quarantined": items.quarantined[:20]}


@task(name="select-demos", cache_policy=NO_CACHE)
def demos_task(*, pool: list[str], queries: list[str], k: int, strategy: str, seed: int, lam: float, chat: bool,
               out: str) -> dict:
    pool_items, query_items = load_pool(pool), load_pool(queries)
    rows = demos_for_queries(pool_items, query_items, k, strategy, seed=seed, lam=lam, chat=chat)
    atomic_write_text(out, "".join(orjson.dumps(r).decode() + "\n" for r in rows))
    summary = demos_summary(rows, len(pool_items), len(pool_items.quarantined) + len(query_items.quarantined))
    atomic_write_json(summary_path(out), summary)
    return {"out": str(Path(out).resolve()), "summary": str(summary_path(out).resolve())} | summary


@task(name="publish-selection", cache_policy=NO_CACHE)
def publish_selection(result: dict) -> None:
    create_markdown_artifact(Path(result["report"]["markdown"]).read_text(), key="selection-report",
                             description="selected subset: budget, strategy, top picks")
    create_link_artifact(f"file://{result['report']['plot']}", link_text="selection plot", key="selection-plot",
                         description="pool vs selected (PCA) and score histogram")


@flow(name="select_finetune", log_prints=True)
def select_finetune(pool: list[str], budget: BudgetSpec, strategy: SelectStrategy = "random",
                    out: str = "runs/select/manifest.jsonl", target: list[str] | None = None, seed: Seed = 0,
                    params: SelectParams | None = None,
                    text_field: str | None = None) -> dict:
    """Select a subset of instruction pairs or documents; writes the manifest, a summary and a report."""
    result = select_task(pool=pool, budget=budget, strategy=strategy, target=target, seed=seed,
                         params=params or SelectParams(), text_field=text_field, out=out)
    publish_selection(result)
    s = result["summary"]
    if s.get("note"):
        get_run_logger().warning(s["note"])
    get_run_logger().info("%s selected %s of %s (%s); manifest %s", strategy, s["selected"], s["pool_size"],
                          s["budget"]["text"], result["manifest"])
    return result


@flow(name="select_demos", log_prints=True)
def select_demos(pool: list[str], queries: list[str], k: PositiveInt = 4, strategy: DemoStrategy = "knn",
                 out: str = "runs/select/demos.jsonl", seed: Seed = 0, lam: Fraction = 0.5, chat: bool = False) -> dict:
    """Pick k demonstrations per query (random, knn, mmr or balanced) and render each prompt."""
    result = demos_task(pool=pool, queries=queries, k=k, strategy=strategy, seed=seed, lam=lam, chat=chat, out=out)
    create_markdown_artifact(
        f"# Demonstrations: {strategy}, k={k}\n\n- queries: {result['queries']}\n- pool: {result['pool']}\n"
        f"- quarantined lines: {result['quarantined']}\n- pool items left out because they are the query itself "
        f"(same id or same normalized text): {result['excluded_self']} for {result['queries_in_pool']} queries\n"
        f"- output: `{result['out']}`\n",
        key="demos-report", description="few-shot demonstrations per query")
    return result
