"""Prefect task wrappers around the curation units: retries on I/O errors, results cached by content.

A unit's cache key is its fingerprint (input content + every upstream config), offered only while the unit's
manifest and files on disk still verify, so a cached result never points at deleted or half-written files.
The manifests are the durable record; Prefect's cache saves the re-check.
"""

from __future__ import annotations

from pathlib import Path

from prefect import task, unmapped
from prefect.cache_policies import NONE as NO_CACHE

from curation import pipeline
from curation.config import CurationConfig
from curation.outputs import export_shard, write_outputs
from curation.report import write_report
from curation.steps import STEP_CLASSES


def _retry_on_io(task, task_run, state) -> bool:
    try:
        state.result()
    except OSError:
        return True
    except Exception:
        return False
    return False


def _verified(unit: tuple[Path, str]) -> str | None:
    manifest, fp = unit
    return f"{fp}:{manifest.resolve()}" if pipeline.load_done(manifest, fp) is not None else None


IO = dict(retries=2, retry_delay_seconds=1, retry_condition_fn=_retry_on_io)
CACHED = dict(persist_result=True, result_serializer="json", **IO)


@task(name="read", task_run_name="read-{file_index:05d}", **CACHED,
      cache_key_fn=lambda ctx, p: _verified(pipeline.read_unit(p["file_index"], p["path"], p["reader"], p["shard_docs"], p["run_dir"])))
def read_file(file_index: int, path: str, reader, shard_docs: int, run_dir: str) -> dict:
    return pipeline.read_input(file_index, path, reader, shard_docs, run_dir)


@task(name="shard", **CACHED,
      cache_key_fn=lambda ctx, p: _verified(pipeline.shard_unit(p["config"], p["shard"], p["index"], p["run_dir"])))
def shard_task(config, shard: dict, index: int, run_dir: str, batch_size: int) -> dict:
    return pipeline.run_shard(config, shard, index, run_dir, batch_size)


@task(name="map", **CACHED, cache_key_fn=lambda ctx, p: _verified(
    pipeline.map_unit(p["config"], p["shard"], p["index"], p["run_dir"], p["partitions"])))
def map_task(config, shard: dict, index: int, run_dir: str, partitions: int, batch_size: int) -> dict:
    return pipeline.map_shard(config, shard, index, run_dir, partitions, batch_size)


@task(name="reduce", **CACHED, cache_key_fn=lambda ctx, p: _verified(
    pipeline.reduce_unit(p["config"], p["maps"], p["index"], p["run_dir"], p["partitions"])))
def reduce_task(config, maps: list[dict], index: int, run_dir: str, partitions: int) -> dict:
    return pipeline.reduce_stage(config, maps, index, run_dir, partitions)


@task(name="apply", **CACHED, cache_key_fn=lambda ctx, p: _verified(
    pipeline.apply_unit(p["config"], p["shard"], p["reduced"], p["index"], p["run_dir"])))
def apply_task(config, shard: dict, reduced: dict, index: int, run_dir: str, partitions: int, batch_size: int) -> dict:
    return pipeline.apply_shard(config, shard, reduced, index, run_dir, partitions, batch_size)


def step_tasks(config, shards: list[dict], index: int, run_dir: str, cfg: CurationConfig) -> tuple[list[dict], dict]:
    """One step as tasks mapped over shards (map -> reduce -> apply for global steps)."""
    name, batch = STEP_CLASSES[config.step].name, cfg.reader.batch_size
    label = f"{index:02d}-{name}"
    common = dict(config=unmapped(config), index=unmapped(index), run_dir=unmapped(run_dir))
    if not STEP_CLASSES[config.step].is_global:
        run = shard_task.with_options(name=label, task_run_name=label + "-{shard[key]}")
        results = run.map(shard=shards, batch_size=unmapped(batch), **common).result()
        return results, pipeline.summarize_stage(name, index, results)
    maps = map_task.with_options(name=f"{label}-map", task_run_name=label + "-map-{shard[key]}").map(
        shard=shards, partitions=unmapped(cfg.partitions), batch_size=unmapped(batch), **common).result()
    reduced = reduce_task.with_options(name=f"{label}-reduce", task_run_name=f"{label}-reduce")(
        config, maps, index, run_dir, cfg.partitions)
    results = apply_task.with_options(name=f"{label}-apply", task_run_name=label + "-apply-{shard[key]}").map(
        shard=shards, reduced=unmapped(reduced), partitions=unmapped(cfg.partitions), batch_size=unmapped(batch),
        **common).result()
    return results, pipeline.summarize_stage(name, index, results, maps, reduced)


@task(name="export", task_run_name="export-{key}", cache_policy=NO_CACHE, **IO)
def export_task(key: str, kept_path: str, steps: list[dict], run_dir: str, fmt: str) -> dict:
    return export_shard(key, kept_path, steps, run_dir, fmt)


@task(name="write-report", cache_policy=NO_CACHE, **IO)
def finalize(run_dir: str, files: list[str], stages: list[dict], exported: list[dict], config: CurationConfig) -> dict:
    report = write_outputs(run_dir, files, stages, exported, config.output_format, config.model_dump(mode="json"))
    return write_report(run_dir, report)
