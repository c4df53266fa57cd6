"""The before/after flow: train raw and curated arms, benchmark serving, write both reports and compare them."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Literal

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact
from prefect.cache_policies import NONE as NO_CACHE

from core.config_types import PositiveInt, Seed
from curation.config import CurationConfig
from evals.backends import BACKENDS
from evals.ablation import arm_report, final_losses, prepare, serving_prompts, train_or_reuse
from evals.compare import compare_files
from evals.train import TrainConfig


@task(name="prepare-data", cache_policy=NO_CACHE)
def prepare_task(raw: list[str], curated: str, cfg: TrainConfig) -> dict:
    from core.models import load_smollm2_tokenizer

    return prepare(raw, curated, cfg, load_smollm2_tokenizer())


@task(name="train-arm", cache_policy=NO_CACHE)
def train_task(data: dict, arm: str, cfg: TrainConfig, seed: int, out_dir: str) -> dict:
    """Reuses a finished run with the same config and data whose checkpoint still verifies, else trains
    (``evals.ablation.train_or_reuse``: the curation units' manifest-verified resume)."""
    from core.models import load_smollm2_tokenizer

    run = train_or_reuse(data, arm, cfg, seed, out_dir, load_smollm2_tokenizer)
    if run["reused"]:
        get_run_logger().info("%s seed %s: reusing %s", arm, seed, Path(out_dir) / arm / f"seed{seed}")
    return run


@task(name="serving-benchmark", cache_policy=NO_CACHE)
def serve_task(checkpoint: str, prompts: list[str], max_tokens: int, backend: str, concurrency: int,
               slo: dict | None = None) -> dict:
    from evals.backends import load_backend
    from evals.serving_bench import measure_serving, report_metrics

    with load_backend(backend, checkpoint) as engine:
        cell = measure_serving(engine, prompts, max_tokens=max_tokens, concurrency=concurrency, slo=slo)
    return {"metrics": report_metrics(cell), "backend": backend,
            "latencies": {k: [row[k] for row in cell["requests_rows"]] for k in ("ttft_s", "e2e_s")}}


@task(name="write-reports", cache_policy=NO_CACHE)
def report_task(out_dir: str, data: dict, cfg: TrainConfig, runs: dict, serving: dict) -> dict:
    reference = final_losses(runs["raw"])
    paths = {}
    for arm in ("raw", "curated"):
        report = arm_report(arm, runs[arm], cfg, data, serving.get(arm), reference if arm == "curated" else None)
        paths[arm] = report.save(Path(out_dir) / arm)
    return paths


@task(name="compare-reports", cache_policy=NO_CACHE)
def compare_task(a: str, b: str, out: str | None = None) -> dict:
    rows, text = compare_files(a, b, out)
    create_markdown_artifact(text, key="compare-report", description=text.splitlines()[0].lstrip("# "))
    return {"rows": rows, "markdown": text, "out": out}


@flow(name="compare_reports", log_prints=True)
def compare_reports(a: str, b: str, out: str | None = None) -> dict:
    """Side-by-side of two eval reports with deltas, intervals and a verdict per metric."""
    return compare_task(a, b, out)


@flow(name="efficiency_eval", log_prints=True)
def efficiency_eval(raw: list[str], curated: str, out_dir: str = "runs/eval", token_budget: PositiveInt = 20_000,
                    seeds: list[Seed] | None = None, config: TrainConfig | None = None, serve_requests: PositiveInt = 8,
                    serve_max_tokens: PositiveInt = 16, backend: Literal[BACKENDS] = "transformers",
                    concurrency: PositiveInt = 2,
                    curate_config: CurationConfig | None = None, serve_slo: dict[str, float] | None = None) -> dict:
    """Curate (if asked), train raw vs curated at one token budget (>= 3 seeds), benchmark serving, report, compare.

    curate_config: run `curate_corpus` on ``raw`` into ``curated`` first (finished units are reused on rerun);
    without it, ``curated`` must already be a curation run directory.
    backend: transformers, vllm (offline engine) or vllm-server (OpenAI-compatible server); see evals.backends.
    serve_slo: e.g. {"ttft_s": 0.5, "tpot_s": 0.05}: the serving section then reports goodput.
    """
    cfg = TrainConfig(**(asdict(config or TrainConfig()) | {"token_budget": token_budget}))
    seeds = seeds if seeds is not None else [0, 1, 2]
    if curate_config is not None:
        from flows.curate import curate_corpus

        curate_corpus(inputs=raw, out_dir=curated, config=curate_config)
    data = prepare_task(raw, curated, cfg)
    runs = {arm: [train_task(data, arm, cfg, s, out_dir) for s in seeds] for arm in ("raw", "curated")}
    serving = {arm: serve_task(runs[arm][0]["checkpoint"], serving_prompts(serve_requests, part), serve_max_tokens,
                               backend, concurrency, serve_slo) for part, arm in enumerate(("raw", "curated"))}
    paths = report_task(out_dir, data, cfg, runs, serving)
    comparison = compare_task(paths["raw"]["json"], paths["curated"]["json"], str(Path(out_dir) / "compare.md"))
    for arm in ("raw", "curated"):
        create_markdown_artifact(Path(paths[arm]["markdown"]).read_text(), key=f"eval-{arm}",
                                 description=f"{arm} arm: held-out loss, throughput, serving")
        if "plot" in paths[arm]:
            create_link_artifact(f"file://{paths[arm]['plot']}", link_text=f"{arm} loss curves", key=f"eval-{arm}-plot")
    get_run_logger().info("reports: %s; comparison: %s", paths, comparison["out"])
    return {"reports": paths, "compare": comparison["out"], "verdicts": {r["metric"]: r["verdict"] for r in comparison["rows"]}}
