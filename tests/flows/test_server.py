"""The kept local Prefect server: `winnow curate` starts one in the background, the next run reuses it, a stale
record is replaced, `winnow server --stop` ends it, and every run is visible through the Prefect client."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx
import pytest

from flows import server as srv
from tests.conftest import ROOT, shared

CONFIG = "steps:\n  - step: normalize\n  - step: exact_dedup\n"


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()  # exited and reaped: nothing runs under this pid (until the kernel recycles it, far later)
    return proc.pid


@pytest.fixture
def home(tmp_path):
    """A fresh PREFECT_HOME; whatever server is recorded in it at the end is stopped (none is left running)."""
    home = tmp_path / "prefect"
    home.mkdir()
    yield home
    server = srv.read_state(home)
    srv.stop_server(home)
    if server is not None and srv._pid_is_server(server.pid):  # pragma: no cover - stop_server failed
        os.kill(server.pid, 9)


def winnow(home, *args, timeout=300):
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env |= {"PREFECT_HOME": str(home), "WINNOW_PREFECT_SERVER": "auto"}
    # capture_output: also proves the detached server holds no pipe of ours (run() would wait for it otherwise)
    return subprocess.run([sys.executable, "-m", "flows.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_stale_records_are_detected_without_starting_anything(home):
    sleeper = subprocess.Popen(["sleep", "60"])  # alive, but not a Prefect server: a recycled pid
    try:
        for pid in (dead_pid(), sleeper.pid):
            srv._write_state(home, srv.LocalServer(pid=pid, port=1))
            assert srv.find_server(home) is None
            assert srv.stop_server(home) is None  # removes the record, signals nothing
            assert not (home / srv.STATE_FILE).exists()
        assert sleeper.poll() is None
    finally:
        sleeper.kill()
        sleeper.wait()


def test_second_curate_reuses_the_server_and_both_runs_are_recorded(home, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    (tmp_path / "c.yaml").write_text(CONFIG)
    data = str(shared("web", "llamafactory_c4_demo.jsonl"))
    srv._write_state(home, srv.LocalServer(pid=dead_pid(), port=1))  # a server that died since: stale

    # the first run is the default recorded local run: its detached recorder starts the server and records it
    first = winnow(home, "curate", data, "--out", str(tmp_path / "a"), "--config", str(tmp_path / "c.yaml"))
    assert first.returncode == 0, first.stderr[-3000:]
    log, deadline = home / "winnow-recorder.log", time.monotonic() + 240
    while "recorded; recorder cpu_seconds=" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert "starting a local Prefect server in the background" in log.read_text(), log.read_text()[-3000:]
    assert "Starting temporary server" not in first.stderr + log.read_text()  # nothing fell back to an ephemeral one
    server = srv.read_state(home)
    assert server is not None and server.port != 1 and server.mode == "background"
    assert srv.find_server(home) == server

    second = winnow(home, "curate", data, "--out", str(tmp_path / "b"), "--config", str(tmp_path / "c.yaml"),
                    "--executor", "prefect")  # the flow in the CLI process, on the kept server
    assert second.returncode == 0, second.stderr[-3000:]
    assert f"recording the run in the Prefect server at {server.ui_url} (pid {server.pid})" in second.stderr
    assert "Starting temporary server" not in second.stderr and srv.read_state(home) == server

    with temporary_settings(updates={PREFECT_API_URL: server.api_url}), get_client(sync_client=True) as client:
        runs = client.read_flow_runs()
        names = {client.read_flow(r.flow_id).name for r in runs}
    # exactly the two CLI runs, of the same flow: the server was new (stale record replaced), both went to it
    assert len(runs) == 2 and names == {"curate_corpus"}
    assert all(r.state.is_completed() for r in runs)
    assert {r.parameters["out_dir"] for r in runs} == {str(tmp_path / "a"), str(tmp_path / "b")}
    assert json.loads((tmp_path / "b" / "report.json").read_text())["input"] == 300  # the whole C4 demo file

    # the idle clock: just used, so not idle; 31 minutes on, with no run pending and nothing served, idle
    from flows.server_watch import is_idle

    assert server.idle_minutes == 30
    assert not is_idle(server.api_url, home, server.started_at, idle_s=30 * 60)
    assert is_idle(server.api_url, home, server.started_at, idle_s=30 * 60, now=time.time() + 31 * 60)

    status = winnow(home, "server", "--status")
    assert status.returncode == 0 and server.ui_url in status.stdout
    stop = winnow(home, "server", "--stop")
    assert stop.returncode == 0 and f"pid {server.pid}" in stop.stdout
    assert not (home / srv.STATE_FILE).exists() and not srv._pid_is_server(server.pid)
    assert srv._port_is_free(server.port)  # the server under the watcher is gone too
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{server.api_url}/health", timeout=2)
    assert winnow(home, "server", "--status").returncode == 1


def test_prefect_api_url_wins_and_ephemeral_mode_starts_nothing(home, monkeypatch):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        assert srv.api_for_cli(say=lambda _: None) is None  # Prefect's own setting: used as it is
    monkeypatch.setenv(srv.MODE_ENV, "ephemeral")
    with temporary_settings(updates={PREFECT_API_URL: None}):
        assert srv.api_for_cli(say=lambda _: None) is None
    monkeypatch.setenv(srv.MODE_ENV, "sometimes")
    with temporary_settings(updates={PREFECT_API_URL: None}), pytest.raises(srv.ServerError, match="'auto' or"):
        srv.api_for_cli(say=lambda _: None)
    assert not (home / srv.STATE_FILE).exists()


def test_watcher_stops_an_idle_server_and_drops_its_own_record(home, monkeypatch, capsys):
    from flows import server_watch

    monkeypatch.setattr(server_watch, "server_command", lambda host, port: ["sleep", "60"])
    monkeypatch.setattr(server_watch, "is_idle", lambda *args: True)
    monkeypatch.setattr(server_watch.signal, "signal", lambda *args: None)  # keep pytest's own handlers
    srv._write_state(home, srv.LocalServer(pid=os.getpid(), port=1))  # as flows.server records the watcher
    assert server_watch.main(["--home", str(home), "--port", "1", "--idle-minutes", "0.01"]) == 0
    assert "stopped: idle for 0.01 minutes" in capsys.readouterr().out
    assert not (home / srv.STATE_FILE).exists()


def test_watch_forwards_a_stop_to_the_server():
    from flows.server_watch import watch

    child = subprocess.Popen(["sleep", "60"])
    calls = iter([None, None, "SIGTERM"])
    assert watch(child, lambda: next(calls), tick=0.01) == "SIGTERM"
    assert child.returncode == -15  # terminated, not left running
    done = subprocess.Popen(["true"])
    assert watch(done, lambda: None, tick=0.01) == "the server exited (0)"
