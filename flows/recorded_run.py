"""`winnow curate`'s default path: the run in this process, recorded in Prefect by a detached recorder.

Prefect's flow engine in the CLI process costs ~1.2 s of imports and ~2 s of engine, API calls and shutdown per
run (benchmarks/prefect_startup.py), more than issue 13's budget of 1.2x ``curation.runner``. So this module
imports no Prefect: it runs ``curation.execute`` with a timing ``LocalExecutor`` here, and a recorder process
(``python -m flows.run_recorder``, started first, detached, on the other core) imports Prefect, resolves the
server as ``flows.server.recording_server`` does (PREFECT_API_URL, else the kept local server, started if
needed), creates a flow run of ``curate_corpus`` (same flow name and parameters as `winnow curate --executor
prefect`, so the UI lists both kinds together) in state Running, and once this process has written its result
records one task run per unit (name, start, end, state), the report artifacts, the log lines and the final state
(Completed, Failed with the message, or Crashed when this process died without a result).

Hand-off: ``PREFECT_HOME/winnow-runs/<token>/`` holds ``request.json`` (written here before the recorder starts),
``flow_run.json`` (the recorder: flow-run id and UI address, once created) and ``result.json`` (written here
atomically at the end: state, error, report path, units with Unix start/end seconds, log lines). The recorder
removes the folder when done. When it cannot record (server refused, no server could start) it appends the reason
to ``PREFECT_HOME/winnow-recorder.log`` and leaves ``winnow-recorder.failed``; the next run prints one warning.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import traceback
import uuid
from pathlib import Path

from core.storage import run_lock
from curation.config import CurationConfig
from curation.execute import LocalExecutor, execute
from curation.plan import CurationPlan
from curation.report import DropAlarmError, alarm_error

RUNS_DIR = "winnow-runs"
RECORDER_LOG = "winnow-recorder.log"
RECORDER_FAILED = "winnow-recorder.failed"


def prefect_home_from_env() -> Path:
    """PREFECT_HOME without importing Prefect: `winnow` sets it (default ./.prefect) before any command runs."""
    return Path(os.environ.get("PREFECT_HOME") or Path.cwd() / ".prefect").expanduser()


def write_json_atomic(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps(data, default=str))
    tmp.replace(path)


class TimingExecutor(LocalExecutor):
    """``LocalExecutor`` that notes each unit's kind, name, Unix start/end seconds and state, and the log lines."""

    def __init__(self) -> None:
        self.units: list[dict] = []
        self.logs: list[dict] = []

    def _timed(self, unit):
        row = {"kind": type(unit).__name__, "name": unit.name, "start": time.time(), "state": "RUNNING"}
        self.units.append(row)
        try:
            result = unit.run()
        except BaseException as exc:
            row |= {"end": time.time(), "state": "FAILED", "error": f"{type(exc).__name__}: {exc}"}
            raise
        row |= {"end": time.time(), "state": "COMPLETED"}
        return result

    def map(self, units: list) -> list:
        return [self._timed(u) for u in units]

    def run(self, unit):
        return self._timed(unit)

    def log(self, message: str, level: int = 20) -> None:
        super().log(message)
        self.logs.append({"time": time.time(), "level": level, "message": message})


def previous_recorder_failure(home: Path) -> str | None:
    """The reason the last recorder could not record (once: the marker is removed), or None."""
    marker = home / RECORDER_FAILED
    try:
        reason = marker.read_text().strip()
        marker.unlink()
    except OSError:
        return None
    return reason.splitlines()[0] if reason else "unknown reason"


def start_recorder(home: Path, request: dict) -> Path:
    """Writes ``request.json`` and starts ``python -m flows.run_recorder DIR`` detached; returns DIR."""
    run_dir = home / RUNS_DIR / request["token"]
    run_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(run_dir / "request.json", request)
    with open(home / RECORDER_LOG, "a") as log:
        # own session, no pipes to us: the CLI exits (and a caller capturing its output returns) without waiting
        subprocess.Popen([sys.executable, "-m", "flows.run_recorder", str(run_dir)], stdin=subprocess.DEVNULL,
                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True, close_fds=True,
                         cwd=str(Path(__file__).resolve().parents[1]),
                         env=os.environ | {"PYTHONPATH": os.pathsep.join(filter(None, [
                             str(Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH")]))})
    return run_dir


def run_recorded(inputs: list[str], out_dir: str, run_config: CurationConfig, wait_for_lock: bool = False,
                 say=print) -> dict:
    """Curates ``inputs`` into ``out_dir`` here and has the run recorded in Prefect; returns report.json's dict.

    Raises what ``curation.runner.curate_local`` raises (``DropAlarmError`` for a strict run's alarm, after the
    report is written); the recorder records the run as Failed with that message either way. ``say`` gets the
    lines for the user (where the run is recorded, a previous recorder's failure).
    """
    home = prefect_home_from_env()
    if (reason := previous_recorder_failure(home)) is not None:
        say(f"winnow: WARNING the previous run was not recorded in Prefect: {reason} (see {home / RECORDER_LOG})")
    token = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}"
    name = f"local-{Path(out_dir).name}-{token[9:15]}"
    started = time.time()
    request = {"token": token, "name": name, "pid": os.getpid(), "started": started,
               "parameters": {"inputs": inputs, "out_dir": out_dir, "config": run_config.model_dump(mode="json"),
                              "wait_for_lock": wait_for_lock}}
    handoff = start_recorder(home, request)
    executor = TimingExecutor()
    result: dict = {"state": "COMPLETED", "error": None, "report_path": None}
    try:
        plan = CurationPlan.build(inputs, out_dir, run_config)
        with run_lock(plan.run_dir, wait=wait_for_lock):
            report = execute(plan, executor)
        result["report_path"] = str(Path(plan.run_dir) / "report.json")
        for warning in report.get("warnings", []):
            executor.log(warning["message"], level=30)
        executor.log(f"report: {Path(plan.run_dir) / 'report.md'}")
        if run_config.strict and (error := alarm_error(report)) is not None:
            result |= {"state": "FAILED", "error": str(error)}
            raise error
        return report
    except BaseException as exc:
        if result["state"] == "COMPLETED":
            result |= {"state": "FAILED", "error": f"{type(exc).__name__}: {exc}"}
            if not isinstance(exc, DropAlarmError):
                executor.log("".join(traceback.format_exception(exc)).rstrip(), level=40)
        raise
    finally:
        result |= {"end": time.time(), "units": executor.units, "logs": executor.logs}
        write_json_atomic(handoff / "result.json", result)
        say(where_recorded(handoff, name, home))


def where_recorded(handoff: Path, name: str, home: Path) -> str:
    """One line: the flow run's UI address if the recorder has created it already, else its name and the log."""
    try:
        created = json.loads((handoff / "flow_run.json").read_text())
        return f"winnow: run recorded in Prefect as flow run {created['name']}: {created['url']}"
    except (OSError, ValueError, KeyError):
        return (f"winnow: the run is being recorded in Prefect as flow run {name} by a background recorder "
                f"(log: {home / RECORDER_LOG})")
