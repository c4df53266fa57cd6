"""Deployments for every winnow flow, served from one process (`winnow serve`), and the local server.

Each deployment gets typed default parameters (the UI renders the flow's pydantic models as a form), tags, and
an optional cron schedule from ``configs/deployments.yaml``. Relative paths in parameters are resolved against
the directory `winnow serve` starts in, so runs started from the UI find the same files.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from curation.config import CurationConfig

DEFAULT_CONFIG = Path("configs/deployments.yaml")


class DeploymentSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cron: str | None = Field(None, description="cron schedule, e.g. '0 3 * * *'; none = run on demand only")
    paused: bool = Field(True, description="schedules start paused; unpause in the UI")
    tags: list[str] = Field(default_factory=lambda: ["winnow"])
    parameters: dict = Field(default_factory=dict)


def _curate_parameters(params: dict, base: Path) -> dict:
    config_file = params.pop("config_file", None)
    config = CurationConfig.load(base / config_file if config_file else None)
    params.setdefault("config", config.model_dump(mode="json"))
    params["inputs"] = [str((base / p).resolve()) for p in params.get("inputs", [])]
    params["out_dir"] = str((base / params.get("out_dir", "runs/scheduled/curate")).resolve())
    return params


def flows() -> dict:
    """Flow name -> (flow object, parameter resolver, description). Later flows register here."""
    from flows.augment import augment_pool
    from flows.curate import curate_corpus
    from flows.compress import compress_prompts
    from flows.evaluate import compare_reports, efficiency_eval
    from flows.mix import mix_corpus
    from flows.prompt_search import prompt_search
    from flows.select import select_demos, select_finetune

    return {
        "curate_corpus": (curate_corpus, _curate_parameters,
                          "Curate corpus shards: dedup, heuristic filters, language id, quality."),
        "select_finetune": (select_finetune, _path_parameters(("pool", "target"), ("out",)),
                            "Select a fine-tuning / pretraining subset by strategy and budget; manifest + report."),
        "select_demos": (select_demos, _path_parameters(("pool", "queries"), ("out",)),
                         "Pick k few-shot demonstrations per query (random, knn, mmr, balanced)."),
        "compress_prompts": (compress_prompts, _path_parameters((), ("path", "out")),
                             "Compress a JSONL of prompts to a token budget with SmolLM2 (protected spans kept)."),
        "efficiency_eval": (efficiency_eval, _path_parameters(("raw",), ("curated", "out_dir")),
                            "Train raw vs curated at one token budget, benchmark serving, report and compare."),
        "compare_reports": (compare_reports, _path_parameters((), ("a", "b", "out")),
                            "Compare two eval reports: deltas, intervals, verdicts."),
        "augment_pool": (augment_pool, _path_parameters(("pool",), ("out",)),
                         "EDA augmentation of a small labelled pool; edits whose kNN label changes are dropped."),
        "mix_corpus": (mix_corpus, _path_parameters(("inputs",), ("out",)),
                       "Sample a corpus to target proportions per group under a document or token budget."),
        "prompt_search": (prompt_search, _path_parameters((), ("out",)),
                          "Search prompts for accuracy vs prompt tokens (Pareto front); held-out check vs the seed."),
    }


def _path_parameters(list_keys: tuple[str, ...], path_keys: tuple[str, ...]):
    """Resolves relative paths in these parameters against the directory `winnow serve` starts in."""

    def one(path: str, base: Path) -> str:
        # "shared:DIR/FILE" names a file in ../shared/data wherever this checkout lives
        if path.startswith("shared:"):
            from core.shared_data import shared_data_dir

            return str(shared_data_dir() / path.removeprefix("shared:"))
        return str((base / path).resolve())

    def resolve(params: dict, base: Path) -> dict:
        for key in list_keys:
            if params.get(key):
                params[key] = [one(p, base) for p in params[key]]
        for key in path_keys:
            if params.get(key):
                params[key] = one(params[key], base)
        return params

    return resolve


def load_settings(path: Path | None) -> dict[str, DeploymentSettings]:
    path = path or DEFAULT_CONFIG
    raw = yaml.safe_load(path.read_text()) if path.exists() else {}
    unknown = set(raw or {}) - set(flows())
    if unknown:
        raise ValueError(f"{path}: unknown flows {sorted(unknown)}; known: {sorted(flows())}")
    return {name: DeploymentSettings.model_validate((raw or {}).get(name) or {}) for name in flows()}


def build_deployments(config_path: Path | None = None, base: Path | None = None) -> list:
    from prefect.deployments.runner import EntrypointType

    base = (base or Path.cwd()).resolve()
    deployments = []
    for name, settings in load_settings(config_path).items():
        flow, resolve, description = flows()[name]
        deployments.append(flow.to_deployment(
            name=name.replace("_", "-"), cron=settings.cron, paused=settings.paused if settings.cron else None,
            tags=settings.tags, parameters=resolve(dict(settings.parameters), base), description=description,
            entrypoint_type=EntrypointType.MODULE_PATH,
        ))
    return deployments


def serve_all(config_path: Path | None = None) -> None:
    """Registers every deployment and executes their runs until interrupted (Ctrl-C stops cleanly)."""
    from prefect import serve

    serve(*build_deployments(config_path))


def start_server(host: str = "127.0.0.1", port: int = 4200) -> None:
    """Becomes `prefect server start` on loopback, with SQLite under PREFECT_HOME."""
    env = dict(os.environ)
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    print(f"Prefect UI: http://{host}:{port}  (API http://{host}:{port}/api; state in {env.get('PREFECT_HOME')})",
          flush=True)
    print(f"Next: PREFECT_API_URL=http://{host}:{port}/api winnow serve", flush=True)
    cmd = [sys.executable, "-m", "prefect", "server", "start", "--host", host, "--port", str(port)]
    # exec, not a child: Ctrl-C / SIGTERM reach the server itself, and nothing is left running behind us
    os.execve(sys.executable, cmd, env)
