"""Prefect's executor for ``curation.execute``: one task type per unit kind of ``curation.plan``.

Read, chain and reduce units are cached: a unit's cache key is ``unit.verified_key()`` (the fingerprints of its
manifests: input content + every upstream config), offered only while every manifest of the unit and its files
still verify on disk, so a cached result never points at deleted or half-written files. The manifests are the
durable record; Prefect's cache saves the re-check. Results are stored as JSON (the typed records of
``curation.records``), never pickled. I/O errors are retried twice.

Each task takes the unit and calls ``unit.run()``; the task run is named after the unit (``read-00000``,
``01-mail_body..03-exact_dedup-map-00000-0000``, ``03-exact_dedup-reduce``, ``export-00000-0000``), so the
Prefect UI shows the plan.
"""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.cache_policies import NONE as NO_CACHE

from curation.plan import ChainUnit, ExportUnit, ReadUnit, ReduceUnit, ReportUnit
from curation.records import ChainResult, ExportResult, ReadResult, ReduceResult


def _retry_on_io(task, task_run, state) -> bool:
    try:
        state.result()
    except OSError:
        return True
    except Exception:
        return False
    return False


IO = dict(retries=2, retry_delay_seconds=1, retry_condition_fn=_retry_on_io)
CACHED = dict(persist_result=True, result_serializer="json", cache_key_fn=lambda ctx, p: p["unit"].verified_key(), **IO)


@task(name="read", task_run_name="{unit.name}", **CACHED)
def read_task(unit: ReadUnit) -> ReadResult:
    return unit.run()


@task(name="chain", task_run_name="{unit.name}", **CACHED)
def chain_task(unit: ChainUnit) -> ChainResult:
    return unit.run()


@task(name="reduce", task_run_name="{unit.name}", **CACHED)
def reduce_task(unit: ReduceUnit) -> ReduceResult:
    return unit.run()


@task(name="export", task_run_name="{unit.name}", cache_policy=NO_CACHE, **IO)
def export_task(unit: ExportUnit) -> ExportResult:
    return unit.run()


@task(name="write-report", task_run_name="{unit.name}", cache_policy=NO_CACHE, **IO)
def report_task(unit: ReportUnit) -> dict:
    return unit.run()


TASKS = {ReadUnit: read_task, ChainUnit: chain_task, ReduceUnit: reduce_task, ExportUnit: export_task,
         ReportUnit: report_task}


class PrefectExecutor:
    """Runs ``curation.execute``'s units as Prefect tasks of the current flow run (on its task runner: threads,
    or Dask workers with ``flows.curate.with_dask``); logs to the flow run's log."""

    def map(self, units: list) -> list:
        if not units:
            return []
        return TASKS[type(units[0])].map(unit=units).result()

    def run(self, unit):
        return TASKS[type(unit)](unit)

    def log(self, message: str) -> None:
        get_run_logger().info(message)
