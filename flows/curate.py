"""The corpus-curation flow: ``curation.execute`` with Prefect's executor (``flows.curation_tasks``)."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger
from prefect.states import Failed

from curation.config import CurationConfig
from curation.execute import execute
from curation.plan import CurationPlan
from curation.records import CurationReport
from curation.report import alarm_error
from core.storage import run_lock
from flows.artifacts import publish_curation_report
from flows.curation_tasks import PrefectExecutor


@flow(name="curate_corpus", log_prints=True)
def curate_corpus(inputs: list[str], out_dir: str, config: CurationConfig | None = None,
                  wait_for_lock: bool = False) -> dict:
    """Curate JSONL/Parquet/HF-dataset shards into ``out_dir`` (kept/, removed/, quarantine/, report.*).

    One run per output directory: a second one is refused with the holder's pid, or waits (``wait_for_lock``).
    The run is ``curation.execute`` on the plan with Prefect's executor: the same composition as
    ``curation.runner.curate_local``, each unit a task run.
    """
    config = config or CurationConfig()
    plan = CurationPlan.build(inputs, out_dir, config)
    with run_lock(plan.run_dir, wait=wait_for_lock):
        report = execute(plan, PrefectExecutor())
    log = get_run_logger()
    publish_curation_report(CurationReport.from_json(report))
    for warning in report.get("warnings", []):
        log.warning(warning["message"])
    log.info("report: %s", Path(plan.run_dir) / "report.md")
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
