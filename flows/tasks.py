"""Prefect task wrappers around the curation stages: retries on I/O errors, results cached by content.

A stage's cache key is its fingerprint (input content hash + every upstream step config), and it is offered
only while the stage's files on disk still match their manifest, so a cached result never points at
deleted or half-written files. The manifests are the durable record; Prefect's cache saves the re-check.
"""

from __future__ import annotations

from pathlib import Path

from prefect import task
from prefect.cache_policies import NONE as NO_CACHE

from curation.config import CurationConfig
from curation.outputs import write_outputs
from curation.pipeline import input_fingerprint, load_done, run_read_stage, run_step_stage, stage_dir
from curation.readers import ReaderConfig
from curation.report import write_report
from curation.steps import STEP_CLASSES
from curation.storage import fingerprint


def _retry_on_io(task, task_run, state) -> bool:
    try:
        state.result()
    except OSError:
        return True
    except Exception:
        return False
    return False


def _verified(directory: Path, fp: str) -> str | None:
    return f"{fp}:{directory.resolve()}" if load_done(directory, fp) is not None else None


def _read_key(context, params: dict) -> str | None:
    reader = params["reader"] if isinstance(params["reader"], ReaderConfig) else ReaderConfig(**params["reader"])
    return _verified(stage_dir(params["run_dir"], 0, "read"), input_fingerprint(params["inputs"], reader))


def _step_key(context, params: dict) -> str | None:
    config = params["config"]
    fp = fingerprint("step", params["previous"]["fingerprint"], config.model_dump(mode="json"))
    return _verified(stage_dir(params["run_dir"], params["index"], STEP_CLASSES[config.step].name), fp)


IO_TASK = dict(retries=2, retry_delay_seconds=1, retry_condition_fn=_retry_on_io, persist_result=True,
               result_serializer="json")


@task(name="read", cache_key_fn=_read_key, **IO_TASK)
def read_inputs(inputs: list[str], reader: ReaderConfig, run_dir: str) -> dict:
    return run_read_stage(inputs, reader, run_dir)


@task(cache_key_fn=_step_key, **IO_TASK)
def run_step(config, previous: dict, index: int, run_dir: str, batch_size: int) -> dict:
    return run_step_stage(config, previous, index, run_dir, batch_size)


@task(name="write-outputs", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1, retry_condition_fn=_retry_on_io)
def finalize(run_dir: str, inputs: list[str], stages: list[dict], config: CurationConfig) -> dict:
    report = write_outputs(run_dir, inputs, stages, config.output_format, config.model_dump(mode="json"))
    return write_report(run_dir, report)
