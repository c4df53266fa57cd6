"""Browser test: a real Prefect server and `winnow serve` on free loopback ports, a curate_corpus run started
through the API as the UI does, then the UI in headless Chromium shows the deployment, the run and its artifact.

Runs in `make test` when Debian's chromium and the playwright package are installed (the Makefile tries);
skipped with the reason otherwise. Screenshots go to the test's tmp dir (and to $WINNOW_SCREENSHOT_DIR if set).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, shared

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
try:
    import playwright.sync_api  # noqa: F401

    HAVE_PLAYWRIGHT = True
except ImportError:
    HAVE_PLAYWRIGHT = False

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)"),
    pytest.mark.skipif(not HAVE_PLAYWRIGHT, reason="the playwright Python package is not installed"),
]

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(url: str, json: dict, attempts: int = 30) -> httpx.Response:
    """POST, retrying 503s as Prefect's own client does: the server sends 503 for retryable database errors
    (SQLite busy while `winnow serve` writes its deployments' heartbeats)."""
    for _ in range(attempts):
        response = httpx.post(url, json=json, timeout=10)
        if response.status_code != 503:
            return response
        time.sleep(1)
    return response


def wait_for(check, timeout: float, what: str, proc: subprocess.Popen | None = None, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"{what}: process exited ({proc.returncode}); log:\n{log.read_text()[-3000:] if log else ''}")
        try:
            if result := check():
                return result
        except httpx.HTTPError:
            pass
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; log:\n{log.read_text()[-3000:] if log else ''}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ui")
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PREFECT_HOME": str(tmp / "prefect"), "PREFECT_API_URL": api,
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    (tmp / "curate.yaml").write_text("steps:\n  - step: normalize\n  - step: exact_dedup\n  - step: gopher_quality\n"
                                     "  - step: minhash\n")
    (tmp / "deployments.yaml").write_text(
        "curate_corpus:\n  tags: [winnow, ui-test]\n  parameters:\n"
        f"    inputs: [{shared('web', 'llamafactory_c4_demo.jsonl')}]\n    out_dir: {tmp / 'run'}\n"
        f"    config_file: {tmp / 'curate.yaml'}\n"
    )
    winnow = [sys.executable, "-m", "flows.cli"]
    server_log, serve_log = tmp / "server.log", tmp / "serve.log"
    server = subprocess.Popen(winnow + ["server", "--port", str(port)], env=env, cwd=ROOT,
                              stdout=server_log.open("w"), stderr=subprocess.STDOUT)
    serve = None
    try:
        wait_for(lambda: httpx.get(f"{api}/health", timeout=5).status_code == 200, 120, "the Prefect server",
                 server, server_log)
        serve = subprocess.Popen(winnow + ["serve", "--config", str(tmp / "deployments.yaml")], env=env, cwd=ROOT,
                                 stdout=serve_log.open("w"), stderr=subprocess.STDOUT)
        deployment = wait_for(
            lambda: (r := httpx.get(f"{api}/deployments/name/curate_corpus/curate-corpus", timeout=5)).status_code == 200
            and r.json(), 120, "the curate-corpus deployment", serve, serve_log)
        # serve registers the other flows' deployments after this one: wait for all of them, so a run created
        # below does not race those SQLite writes (the server answers 503 while the database is busy)
        from flows.deploy import flows

        wait_for(lambda: httpx.post(f"{api}/deployments/count", json={}, timeout=5).json() == len(flows()), 120,
                 "every deployment", serve, serve_log)
        yield {"api": api, "ui": f"http://127.0.0.1:{port}", "deployment": deployment, "tmp": tmp,
               "serve_log": serve_log, "serve": serve, "server": server}
    finally:
        if serve is not None:
            stop(serve)  # the serve process first: stopping the server under it hangs it
        stop(server)


def test_run_started_through_the_api_completes_and_shows_in_the_ui(stack, tmp_path):
    from playwright.sync_api import sync_playwright

    api, ui = stack["api"], stack["ui"]
    assert stack["deployment"]["tags"] == ["winnow", "ui-test"]
    created = post(f"{api}/deployments/{stack['deployment']['id']}/create_flow_run", json={})
    assert created.status_code == 201, created.text
    run = created.json()
    state = wait_for(
        lambda: (s := httpx.get(f"{api}/flow_runs/{run['id']}", timeout=5).json()["state"]["type"])
        in ("COMPLETED", "FAILED", "CRASHED") and s, 300, "the flow run", log=stack["serve_log"])
    assert state == "COMPLETED", stack["serve_log"].read_text()[-3000:]
    assert (stack["tmp"] / "run" / "report.json").exists()

    shots = [tmp_path]
    if os.environ.get("WINNOW_SCREENSHOT_DIR"):
        shots.append(Path(os.environ["WINNOW_SCREENSHOT_DIR"]))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)  # a fresh temp profile
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{ui}/deployments")
        page.get_by_text("curate-corpus").first.wait_for(timeout=60_000)
        page.goto(f"{ui}/runs/flow-run/{run['id']}")
        page.get_by_text("Completed").first.wait_for(timeout=60_000)
        page.get_by_text(run["name"]).first.wait_for(timeout=30_000)
        for d in shots:
            d.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(d / "prefect-flow-run.png"))
        page.goto(f"{ui}/artifacts")
        page.get_by_text("curation-report").first.wait_for(timeout=60_000)
        page.get_by_text("curation-steps").first.wait_for(timeout=30_000)
        for d in shots:
            page.screenshot(path=str(d / "prefect-artifacts.png"))
        browser.close()
    assert (tmp_path / "prefect-flow-run.png").stat().st_size > 10_000


def test_invalid_parameters_fail_fast_with_a_clear_message(stack):
    api, deployment = stack["api"], stack["deployment"]
    wrong_type = post(f"{api}/deployments/{deployment['id']}/create_flow_run", json={"parameters": {"out_dir": 42}})
    assert wrong_type.status_code in (409, 422) and "out_dir" in wrong_type.text  # refused before any run exists
    params = dict(deployment["parameters"])
    params["config"] = {"steps": [{"step": "minhash", "bands": 20, "rows": 8}]}
    run = post(f"{api}/deployments/{deployment['id']}/create_flow_run", json={"parameters": params}).json()
    state = wait_for(
        lambda: (s := httpx.get(f"{api}/flow_runs/{run['id']}", timeout=5).json()["state"]["type"])
        in ("COMPLETED", "FAILED", "CRASHED") and s, 300, "the invalid flow run", log=stack["serve_log"])
    assert state == "FAILED"
    # logs reach the API in batches, possibly after the state: poll for the message
    wait_for(lambda: any(
        "bands x rows = 20 x 8 = 160 exceeds num_perm = 112" in log["message"]
        for log in httpx.post(f"{api}/logs/filter", json={"logs": {"flow_run_id": {"any_": [run["id"]]}}},
                              timeout=10).json()), 60, "the validation message in the run's log", log=stack["serve_log"])


def test_ctrl_c_stops_serve_then_server_cleanly(stack):
    serve, server = stack["serve"], stack["server"]
    serve.send_signal(signal.SIGINT)
    assert serve.wait(timeout=30) == 0, stack["serve_log"].read_text()[-2000:]
    server.send_signal(signal.SIGINT)  # `winnow server` is the server process itself: nothing left behind
    server.wait(timeout=30)
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{stack['api']}/health", timeout=2)
