"""Records a run of `winnow curate`'s local path (``flows.recorded_run``) in Prefect, from a detached process.

``python -m flows.run_recorder HANDOFF_DIR`` (started by ``flows.recorded_run.start_recorder``): resolves the
server as ``flows.server.recording_server`` does (PREFECT_API_URL, else the kept local server, started if
needed), creates a flow run of the ``curate_corpus`` flow with the run's parameters in state Running, writes
``flow_run.json`` (id, name, UI address), then waits for ``result.json`` and records
  - one task run per unit, named after it, of the task the Prefect path uses for that unit kind
    (``flows.curation_tasks``), with the unit's start and end times and state,
  - the log lines, the report artifacts (``flows.artifacts.report_artifacts``) and the final state: Completed,
    Failed with the error, or Crashed when the CLI process died without writing a result.
Failures to record go to PREFECT_HOME/winnow-recorder.log (this process's output) and ``winnow-recorder.failed``,
which the next `winnow curate` reports in one line.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import shutil
import sys
import time
import traceback
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path

from flows.recorded_run import RECORDER_FAILED, write_json_atomic

POLL_SECONDS = 0.2


def _at(unix: float) -> datetime:
    return datetime.fromtimestamp(unix, timezone.utc)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    status = Path(f"/proc/{pid}/status")
    try:
        return "\nState:\tZ" not in status.read_text()
    except OSError:
        return not status.parent.exists()  # no procfs: trust kill(0)


def wait_for_result(handoff: Path, pid: int) -> dict | None:
    """result.json's dict once the CLI wrote it; None when its process ended without one (crashed)."""
    path = handoff / "result.json"
    while True:
        if path.exists():
            return json.loads(path.read_text())
        if not _alive(pid):
            return json.loads(path.read_text()) if path.exists() else None
        time.sleep(POLL_SECONDS)


def ui_address(api_url: str, flow_run_id) -> str:
    base = api_url.rstrip("/").removesuffix("/api")
    return f"{base}/runs/flow-run/{flow_run_id}"


def _state_payload(state) -> dict:
    return {"type": str(state.type.value), "name": state.name, "message": state.message or "",
            "state_details": state.state_details.model_dump(mode="json", exclude_none=True, exclude_unset=True,
                                                            exclude={"flow_run_id", "task_run_id"})}


def record_task_run(task, flow_run, index: int, unit: dict, default_end: float) -> None:
    """One unit as a task run with its own start and end times: Pending -> Running -> Completed/Failed.

    Sent as the task-run state-change events the task engine emits (``prefect.utilities.engine``
    ``emit_task_run_state_change_event``, plus the flow run as the related resource the engine takes from its run
    context): the server's task-run recorder writes them with the events' times. The API's set-state call would
    stamp the server's clock (``StateCreate`` carries no timestamp): the time of recording, not of the run.
    """
    from uuid import uuid4

    from prefect.client.schemas.objects import TaskRun, TaskRunPolicy
    from prefect.events import emit_event
    from prefect.states import Completed, Failed, Pending, Running

    start, end = _at(unit["start"]), _at(unit.get("end", default_end))
    run = TaskRun(id=uuid4(), name=unit["name"], flow_run_id=flow_run.id, task_key=task.task_key,
                  dynamic_key=str(index), task_version=task.version, tags=list(task.tags),
                  empirical_policy=TaskRunPolicy(retries=task.retries, retry_delay=task.retry_delay_seconds),
                  expected_start_time=start, created=start, updated=start)
    final = Completed(timestamp=end) if unit["state"] == "COMPLETED" else \
        Failed(timestamp=end, message=unit.get("error") or "failed")
    related = [{"prefect.resource.id": f"prefect.flow-run.{flow_run.id}", "prefect.resource.role": "flow-run",
                "prefect.resource.name": flow_run.name},
               {"prefect.resource.id": f"prefect.flow.{flow_run.flow_id}", "prefect.resource.role": "flow"}]
    previous, event = None, None
    for state in (Pending(timestamp=start), Running(timestamp=start + timedelta(microseconds=1)), final):
        state.state_details.task_run_id, state.state_details.flow_run_id = run.id, flow_run.id
        run.state, run.state_id, run.state_type, run.state_name = state, state.id, state.type, state.name
        if state.is_running():
            run.start_time, run.run_count = state.timestamp, 1
        if state.is_final():
            run.end_time, run.total_run_time = state.timestamp, state.timestamp - run.start_time
        event = emit_event(
            id=state.id, occurred=state.timestamp, event=f"prefect.task-run.{state.name}", follows=event,
            payload={"intended": {"from": str(previous.type.value) if previous else None,
                                  "to": str(state.type.value)},
                     "initial_state": _state_payload(previous) if previous else None,
                     "validated_state": _state_payload(state) | {"data": None},
                     "task_run": run.model_dump(mode="json", exclude_none=True, exclude={
                         "id", "created", "updated", "flow_run_id", "state_id", "state_type", "state_name",
                         "state", "estimated_start_time_delta", "estimated_run_time"})},
            resource={"prefect.resource.id": f"prefect.task-run.{run.id}", "prefect.resource.name": run.name,
                      "prefect.run-count": str(run.run_count), "prefect.state-message": state.message or "",
                      "prefect.state-name": state.name or "", "prefect.state-timestamp": state.timestamp.isoformat(),
                      "prefect.state-type": str(state.type.value), "prefect.orchestration": "client"},
            related=related)
        previous = state


async def record(handoff: Path, request: dict) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import LogCreate
    from prefect.settings import get_current_settings
    from prefect.states import Completed, Crashed, Failed, Running

    from curation.report import load_report
    from flows.artifacts import report_artifacts
    from flows.curate import curate_corpus
    from flows.curation_tasks import TASKS

    tasks = {unit_type.__name__: task for unit_type, task in TASKS.items()}
    async with get_client() as client:
        run = await client.create_flow_run(curate_corpus, name=request["name"], parameters=request["parameters"],
                                           state=Running(timestamp=_at(request["started"])))
        url = ui_address(str(get_current_settings().api.url or client.api_url), run.id)
        write_json_atomic(handoff / "flow_run.json", {"id": str(run.id), "name": run.name, "url": url})
        print(f"{time.strftime('%H:%M:%S')} {request['token']}: recording flow run {run.name} ({url})", flush=True)
        result = wait_for_result(handoff, request["pid"])
        if result is None:
            await client.set_flow_run_state(run.id, Crashed(
                message=f"the `winnow curate` process (pid {request['pid']}) ended without a result"), force=True)
            return
        for i, unit in enumerate(result["units"]):
            record_task_run(tasks[unit["kind"]], run, i, unit, result["end"])
        if result["logs"]:
            await client.create_logs([LogCreate(name="winnow.curation", level=line["level"], message=line["message"],
                                                timestamp=_at(line["time"]), flow_run_id=run.id)
                                      for line in result["logs"]])
        if result.get("report_path") and Path(result["report_path"]).exists():
            report = load_report(Path(result["report_path"]).parent)
            with warnings.catch_warnings():  # "artifact creation outside of a flow run": it names the flow run
                warnings.simplefilter("ignore", FutureWarning)
                for artifact in report_artifacts(report, flow_run_id=run.id):
                    await artifact.acreate(client)
        from prefect.events.worker import EventsWorker

        await EventsWorker.drain_all()  # the task runs' events are delivered before the run is final
        end = _at(result["end"])
        ran = (f"ran in `winnow curate` (pid {request['pid']}) from {_at(request['started']):%H:%M:%S.%f} to "
               f"{end:%H:%M:%S.%f} UTC; recorded by flows.run_recorder")
        state = Completed(timestamp=end, message=ran) if result["state"] == "COMPLETED" else \
            Failed(timestamp=end, message=f"{result.get('error') or 'failed'} ({ran})")
        await client.set_flow_run_state(run.id, state, force=True)


def main(handoff: Path) -> int:
    from flows.server import prefect_home, recording_server

    request = json.loads((handoff / "request.json").read_text())
    try:
        with recording_server(say=lambda line: print(line, flush=True)):
            asyncio.run(record(handoff, request))
    except BaseException as exc:  # the CLI is gone: the log and the marker are the only way to tell the user
        print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {request['token']}: could not record the run "
              f"{request['name']} ({request['parameters']['out_dir']}):\n{traceback.format_exc()}", flush=True)
        reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        (prefect_home() / RECORDER_FAILED).write_text(f"{reason}\n")
        return 1
    shutil.rmtree(handoff, ignore_errors=True)
    usage = resource.getrusage(resource.RUSAGE_SELF)  # the line benchmarks/prefect_startup.py reads
    print(f"{time.strftime('%H:%M:%S')} {request['token']}: recorded; recorder cpu_seconds="
          f"{usage.ru_utime + usage.ru_stime:.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
