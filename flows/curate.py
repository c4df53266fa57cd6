"""The corpus-curation flow: read each input, run each step over the shards, export, report."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, unmapped
from prefect.states import Failed

from curation.config import CurationConfig
from curation.outputs import clear_outputs, require_documents
from curation.pipeline import input_shards, plan_inputs, summarize_read
from curation.report import alarm_error
from core.storage import run_lock
from flows.artifacts import publish_curation_report
from flows.tasks import export_task, finalize, read_file, step_tasks


@flow(name="curate_corpus", log_prints=True)
def curate_corpus(inputs: list[str], out_dir: str, config: CurationConfig | None = None,
                  wait_for_lock: bool = False) -> dict:
    """Curate JSONL/Parquet/HF-dataset shards into ``out_dir`` (kept/, removed/, quarantine/, report.*).

    One run per output directory: a second one is refused with the holder's pid, or waits (``wait_for_lock``).
    """
    config = config or CurationConfig()
    run_dir = str(Path(out_dir).resolve())
    with run_lock(run_dir, wait=wait_for_lock):
        return _curate(inputs, run_dir, config)


def _curate(inputs: list[str], run_dir: str, config: CurationConfig) -> dict:
    log = get_run_logger()
    files = plan_inputs(inputs)
    reads = read_file.map(file_index=range(len(files)), path=files, reader=unmapped(config.reader),
                          shard_docs=unmapped(config.shard_docs), run_dir=unmapped(run_dir)).result()
    stages = [summarize_read(reads)]
    require_documents(stages[0])
    log.info("read %s files: %s documents in %s shards, %s quarantined", len(files), stages[0]["kept"],
             sum(len(r["shards"]) for r in reads), stages[0]["quarantined"])
    shards = input_shards(reads)
    for index, step in enumerate(config.steps, start=1):
        shards, stage = step_tasks(step, shards, index, run_dir, config)
        stages.append(stage)
        log.info("%s: %s in, %s kept, %s removed %s", stage["name"], stage["input"], stage["kept"], stage["removed"],
                 stage["reasons"])
    clear_outputs(run_dir)
    exported = export_task.map(key=[s["key"] for s in shards], kept_path=[s["kept_path"] for s in shards],
                               steps=unmapped(stages[1:]), run_dir=unmapped(run_dir),
                               fmt=unmapped(config.output_format)).result()
    report = finalize(run_dir, files, stages, exported, config)
    publish_curation_report(report)
    for warning in report.get("warnings", []):
        log.warning(warning["message"])
    log.info("report: %s", Path(run_dir) / "report.md")
    if config.strict and (error := alarm_error(report)) is not None:
        return Failed(message=str(error), data=error)  # report written; the run ends Failed, the caller gets `error`
    return report


def with_dask(workers: int | None = None, address: str | None = None):
    """The same flow with its mapped tasks on Dask: a LocalCluster of ``workers`` processes, or a scheduler."""
    from prefect_dask import DaskTaskRunner

    runner = DaskTaskRunner(address=address) if address else DaskTaskRunner(
        cluster_kwargs={"n_workers": workers or 2, "threads_per_worker": 1, "processes": True,
                        "dashboard_address": None})
    return curate_corpus.with_options(task_runner=runner)
