"""The curation stages composed without Prefect, one unit after another (tests, benchmarks, library use).

``flows.curate`` composes the very same units as Prefect tasks; both write identical outputs.
"""

from __future__ import annotations

from pathlib import Path

from curation.config import CurationConfig
from curation.outputs import clear_outputs, export_shard, require_documents, write_outputs
from curation.pipeline import (
    apply_shard, input_shards, map_shard, plan_inputs, read_input, reduce_stage, run_shard, summarize_read,
    summarize_stage,
)
from curation.report import alarm_error, write_report
from curation.steps import STEP_CLASSES
from core.storage import run_lock


def run_step(config, shards: list[dict], index: int, run_dir: str, cfg: CurationConfig) -> tuple[list[dict], dict]:
    """One step over all shards; returns the next shards and the stage summary."""
    name, batch = STEP_CLASSES[config.step].name, cfg.reader.batch_size
    if not STEP_CLASSES[config.step].is_global:
        results = [run_shard(config, s, index, run_dir, batch) for s in shards]
        return results, summarize_stage(name, index, results)
    maps = [map_shard(config, s, index, run_dir, cfg.partitions, batch) for s in shards]
    reduced = reduce_stage(config, maps, index, run_dir, cfg.partitions)
    results = [apply_shard(config, s, reduced, index, run_dir, cfg.partitions, batch) for s in shards]
    return results, summarize_stage(name, index, results, maps, reduced)


def curate_local(inputs: list[str], run_dir: str | Path, config: CurationConfig | None = None) -> dict:
    config = config or CurationConfig()
    run_dir = str(Path(run_dir).resolve())
    with run_lock(run_dir):
        return _curate_local(inputs, run_dir, config)


def _curate_local(inputs: list[str], run_dir: str, config: CurationConfig) -> dict:
    files = plan_inputs(inputs)
    reads = [read_input(i, f, config.reader, config.shard_docs, run_dir) for i, f in enumerate(files)]
    stages = [summarize_read(reads)]
    require_documents(stages[0])
    shards = input_shards(reads)
    for index, step in enumerate(config.steps, start=1):
        shards, stage = run_step(step, shards, index, run_dir, config)
        stages.append(stage)
    clear_outputs(run_dir)
    exported = [export_shard(s["key"], s["kept_path"], stages[1:], run_dir, config.output_format) for s in shards]
    report = write_outputs(run_dir, files, stages, exported, config.output_format, config.model_dump(mode="json"))
    report = write_report(run_dir, report)
    if config.strict and (error := alarm_error(report)) is not None:
        raise error
    return report


def run_frames(config, frames: list, work_dir: str | Path, partitions: int = 8):
    """Applies one step to in-memory frames, each treated as a shard; returns (kept, removed) concatenated.

    For tests and notebooks: the same units as a real run, on a throwaway directory.
    """
    import polars as pl

    from core.storage import atomic_write_parquet

    work = Path(work_dir)
    shards = []
    for i, frame in enumerate(frames):
        path = work / "input" / f"kept-{i:05d}-0000.parquet"
        atomic_write_parquet(path, frame)
        shards.append({"key": f"{i:05d}-0000", "kept_path": str(path), "rows": frame.height, "fingerprint": f"frames-{i}"})
    cfg = CurationConfig(steps=[config], partitions=partitions)
    results, _ = run_step(config, shards, 1, str(work / "run"), cfg)
    kept = pl.concat([pl.read_parquet(r["kept_path"]) for r in results], how="diagonal_relaxed")
    removed = pl.concat([pl.read_parquet(r["removed_path"]) for r in results], how="diagonal_relaxed")
    return kept, removed


if __name__ == "__main__":  # `python -m curation.runner OUT INPUT... [--config FILE]`: no Prefect, for tests
    import argparse

    ap = argparse.ArgumentParser(description="Curate without Prefect (same units and outputs as the flow).")
    ap.add_argument("out")
    ap.add_argument("inputs", nargs="+")
    ap.add_argument("--config")
    ns = ap.parse_args()
    r = curate_local(ns.inputs, ns.out, CurationConfig.load(ns.config))
    print(f"kept {r['kept']} removed {r['removed']} quarantined {r['quarantined']} of {r['input']}")
