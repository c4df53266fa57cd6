"""The corpus-curation flow: read, each configured step as its own cached task, outputs, report."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger

from curation.config import CurationConfig
from flows.artifacts import publish_curation_report
from flows.tasks import finalize, read_inputs, run_step


@flow(name="curate_corpus", log_prints=True)
def curate_corpus(inputs: list[str], out_dir: str, config: CurationConfig | None = None) -> dict:
    """Curate JSONL/Parquet/HF-dataset shards into ``out_dir`` (kept/, removed/, quarantine/, report.*)."""
    config = config or CurationConfig()
    log = get_run_logger()
    out_dir = str(Path(out_dir).resolve())
    stage = read_inputs(inputs, config.reader, out_dir)
    log.info("read: %s documents, %s quarantined", stage["kept"], stage["quarantined"])
    stages = [stage]
    for index, step in enumerate(config.steps, start=1):
        task = run_step.with_options(name=f"{index:02d}-{step.step}", task_run_name=f"{index:02d}-{step.step}")
        stage = task(step, stage, index, out_dir, config.reader.batch_size)
        log.info("%s: %s in, %s kept, %s removed %s", stage["name"], stage["input"], stage["kept"], stage["removed"],
                 stage["reasons"])
        stages.append(stage)
    report = finalize(out_dir, inputs, stages, config)
    publish_curation_report(report)
    log.info("report: %s", Path(out_dir) / "report.md")
    return report
