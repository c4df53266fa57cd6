"""`winnow curate`'s local path: the run in the CLI process (no Prefect imported), recorded by flows.run_recorder.

The CLI runs in a subprocess pointed at the session's Prefect server (PREFECT_API_URL; WINNOW_PREFECT_SERVER not
``ephemeral``, so the local path is taken), and the test reads the recorded flow run back from that server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from flows.recorded_run import RECORDER_FAILED, previous_recorder_failure, start_recorder
from tests.conftest import ROOT, shared

# the CLI in a child process; prints its exit code and the prefect modules it imported
CLI = ("import json, sys; from flows.cli import main; rc = main(sys.argv[1:]); "
       "print(json.dumps({'rc': rc, 'prefect': sorted(m for m in sys.modules if m.split('.')[0] == 'prefect')}))")


@pytest.fixture(scope="module")
def api_url(prefect_harness) -> str:
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value()


def cli(api_url: str, home: Path, *argv: str) -> tuple[dict, str]:
    env = {k: v for k, v in os.environ.items() if k != "WINNOW_PREFECT_SERVER"} | {
        "PREFECT_API_URL": api_url, "PREFECT_HOME": str(home)}
    proc = subprocess.run([sys.executable, "-c", CLI, *argv], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stderr


def recorded(api_url: str, out_dir: Path, final: str, timeout: float = 120) -> dict:
    """The flow run recorded for ``out_dir`` once it reaches ``final`` state (the recorder is detached)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = httpx.post(f"{api_url}/flow_runs/filter", json={}, timeout=30).json()
        runs = [r for r in runs if r["parameters"].get("out_dir") == str(out_dir)]
        if runs and runs[0]["state"]["type"] == final:
            return runs[0]
        time.sleep(0.5)
    pytest.fail(f"no {final} flow run for {out_dir} within {timeout} s: {runs}")


def task_runs(api_url: str, run_id: str, count: int, timeout: float = 60) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:  # the task-run events are written by the server a moment later
        tasks = httpx.post(f"{api_url}/task_runs/filter", timeout=30,
                           json={"flow_runs": {"id": {"any_": [run_id]}}}).json()
        if len(tasks) >= count and all(t["state_type"] in ("COMPLETED", "FAILED") for t in tasks):
            return sorted(tasks, key=lambda t: t["start_time"])
        time.sleep(0.5)
    pytest.fail(f"{len(tasks)} task runs, expected {count}")


def test_local_run_is_recorded_with_its_units_and_artifacts(api_url, tmp_path):
    shard = tmp_path / "shard.jsonl"
    shard.write_text("\n".join(shared("web", "llamafactory_c4_demo.jsonl").read_text().splitlines()[:40]) + "\n")
    cfg = tmp_path / "c.yaml"
    cfg.write_text("steps:\n  - step: normalize\n  - step: exact_dedup\n")
    out = tmp_path / "run"
    result, err = cli(api_url, tmp_path / "home", "curate", str(shard), "--out", str(out), "--config", str(cfg))
    assert result == {"rc": 0, "prefect": []}, err  # the local path never imports Prefect
    assert "recorded in Prefect as flow run" in err or "being recorded in Prefect" in err, err
    run = recorded(api_url, out, "COMPLETED")
    assert run["name"].startswith("local-run-") and run["parameters"]["inputs"] == [str(shard)]
    flow = httpx.get(f"{api_url}/flows/{run['flow_id']}", timeout=30).json()
    assert flow["name"] == "curate_corpus"  # listed with the flow's other runs
    # read, the fused normalize..exact_dedup map, the exact_dedup reduce, its apply, export, report: one shard
    tasks = task_runs(api_url, run["id"], 6)
    names = [t["name"] for t in tasks]
    assert names == ["read-00000", "01-normalize..02-exact_dedup-map-00000-0000", "02-exact_dedup-reduce",
                     "02-exact_dedup-apply-00000-0000", "export-00000-0000", "write-report"], names
    assert all(t["state"]["type"] == "COMPLETED" and t["end_time"] >= t["start_time"] for t in tasks)
    arts = httpx.post(f"{api_url}/artifacts/filter", timeout=30,
                      json={"artifacts": {"flow_run_id": {"any_": [run["id"]]}}}).json()
    assert {a["key"] for a in arts} >= {"curation-report", "curation-steps"}
    logs = httpx.post(f"{api_url}/logs/filter", timeout=30,
                      json={"logs": {"flow_run_id": {"any_": [run["id"]]}}}).json()
    assert any(line["message"].startswith("read 1 files: 40 documents") for line in logs)


def test_failed_run_is_recorded_failed(api_url, tmp_path):
    shard = tmp_path / "broken.jsonl"
    shard.write_text('{"text": broken\n{"text": ""}\n')  # both lines quarantined: the read's drop alarm fires
    out = tmp_path / "run"
    result, err = cli(api_url, tmp_path / "home", "curate", str(shard), "--out", str(out), "--strict")
    assert result == {"rc": 1, "prefect": []}, err
    run = recorded(api_url, out, "FAILED")
    assert run["state"]["message"].startswith("strict run failed: drop alarm: read removed 100.0% of its input")
    # every unit ran (the report is written, as strict promises) and the run failed after them
    tasks = task_runs(api_url, run["id"], 3)
    assert tasks[0]["name"] == "read-00000" and tasks[-1]["name"] == "write-report"
    assert {t["state_type"] for t in tasks} == {"COMPLETED"}


@pytest.fixture
def recorder_env(monkeypatch, tmp_path):
    """This process's environment as the CLI gives it to the recorder: the session's server, a fresh home."""
    monkeypatch.delenv("WINNOW_PREFECT_SERVER", raising=False)
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def request(pid: int, out: Path) -> dict:
    return {"token": f"t-{out.name}", "name": f"local-{out.name}", "pid": pid, "started": time.time(),
            "parameters": {"inputs": [], "out_dir": str(out), "config": {}, "wait_for_lock": False}}


def test_dead_cli_is_recorded_crashed(api_url, recorder_env, monkeypatch, tmp_path):
    monkeypatch.setenv("PREFECT_API_URL", api_url)
    dead = subprocess.Popen(["true"])
    dead.wait()
    start_recorder(recorder_env, request(dead.pid, tmp_path / "never"))
    run = recorded(api_url, tmp_path / "never", "CRASHED")
    assert f"pid {dead.pid}" in run["state"]["message"]


def test_a_recorder_that_cannot_record_leaves_one_warning(recorder_env, monkeypatch, tmp_path):
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")  # nothing listens on the discard port
    monkeypatch.setenv("PREFECT_CLIENT_MAX_RETRIES", "0")
    handoff = start_recorder(recorder_env, request(os.getpid(), tmp_path / "lost"))
    deadline = time.monotonic() + 120
    while not (recorder_env / RECORDER_FAILED).exists() and time.monotonic() < deadline:
        time.sleep(0.3)
    assert "could not record the run local-lost" in (recorder_env / "winnow-recorder.log").read_text()
    reason = previous_recorder_failure(recorder_env)
    assert reason and "connect" in reason.lower(), reason
    assert previous_recorder_failure(recorder_env) is None  # reported by the next run, once
    assert (handoff / "request.json").exists()  # left for inspection
