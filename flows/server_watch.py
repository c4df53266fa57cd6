"""The detached parent of a background Prefect server: forwards SIGTERM to it and stops it once it is idle.

``python -m flows.server_watch --home H --port P --idle-minutes N`` runs ``prefect server start`` on 127.0.0.1:P as
its child and records nothing itself (``flows.server`` writes the state file with this process's pid). It ends
the server and exits when
  - it gets SIGTERM / SIGINT (`winnow server --stop`),
  - the server has been idle for N minutes (N > 0): no `winnow` run began or ended in that time (they touch
    ``PREFECT_HOME/winnow-server.used``), no flow run is pending, running or cancelling, and no deployment is
    being served (a `winnow serve` / ``flow.serve()`` process polls it: status READY or polled in the last
    5 minutes), so no serve process is left hanging on a vanished server,
  - PREFECT_HOME was deleted (a throwaway home in /tmp).
Browsing the UI does not count as use: a server that idled out comes back with the next run or `winnow server`.
Imports no Prefect (a small process next to the server).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx

USED_FILE = "winnow-server.used"
BUSY_STATES = ["PENDING", "RUNNING", "CANCELLING"]


def last_used(home: Path, started: float) -> float:
    """Unix time of the last run that began or ended here (or the server's start, whichever is later)."""
    try:
        return max(started, (home / USED_FILE).stat().st_mtime)
    except OSError:
        return started


def touch_used(home: Path) -> None:
    (home / USED_FILE).touch()


def is_idle(api_url: str, home: Path, started: float, idle_s: float, now: float | None = None) -> bool:
    """True when nothing used the server for ``idle_s`` seconds and the API shows no work and no serve process.

    An API error counts as busy (we cannot tell; the server's own exit is handled by the caller).
    """
    now = time.time() if now is None else now
    if now - last_used(home, started) < idle_s:
        return False
    try:
        busy = httpx.post(f"{api_url}/flow_runs/count", timeout=10,
                          json={"flow_runs": {"state": {"type": {"any_": BUSY_STATES}}}})
        deployments = httpx.post(f"{api_url}/deployments/filter", json={}, timeout=10)
        busy.raise_for_status()
        deployments.raise_for_status()
    except httpx.HTTPError:
        return False
    recent = datetime.now(timezone.utc) - timedelta(minutes=5)
    served = any(d.get("status") == "READY" or (d.get("last_polled") and
                                                datetime.fromisoformat(d["last_polled"]) > recent)
                 for d in deployments.json())
    return busy.json() == 0 and not served


def server_command(host: str, port: int) -> list[str]:
    return [sys.executable, "-m", "prefect", "server", "start", "--host", host, "--port", str(port)]


def stop_child(child: subprocess.Popen, timeout: float = 30.0) -> int:
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            child.kill()
    return child.wait()


def watch(child: subprocess.Popen, should_stop, tick: float = 0.5) -> str:
    """Waits until the child exits or ``should_stop()`` names a reason; stops the child; returns the reason.

    ``should_stop`` is called every ``tick`` seconds (a signal is acted on within a tick) and throttles its own
    expensive checks.
    """
    while True:
        if child.poll() is not None:
            return f"the server exited ({child.returncode})"
        if reason := should_stop():
            stop_child(child)
            return reason
        time.sleep(tick)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", type=Path, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--idle-minutes", type=float, default=0.0, help="0: never stop for idleness")
    args = ap.parse_args(argv)
    started, idle_s = time.time(), args.idle_minutes * 60
    api_url = f"http://{args.host}:{args.port}/api"
    terminated: list[str] = []

    def on_signal(signum, _frame):
        terminated.append(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    child = subprocess.Popen(server_command(args.host, args.port), stdin=subprocess.DEVNULL)

    interval, checked = min(30.0, max(0.5, idle_s / 20)), [time.monotonic()]

    def should_stop() -> str | None:
        if terminated:
            return terminated[0]
        if time.monotonic() - checked[0] < interval:
            return None
        checked[0] = time.monotonic()
        if not args.home.exists():
            return f"PREFECT_HOME {args.home} was removed"
        if idle_s > 0 and is_idle(api_url, args.home, started, idle_s):
            return f"idle for {args.idle_minutes:g} minutes"
        return None

    reason = watch(child, should_stop)
    print(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} winnow: server on port {args.port} stopped: {reason}",
          flush=True)
    if "idle" in reason or "removed" in reason:  # not asked to stop: drop our own record, if it is still ours
        state = args.home / "winnow-server.json"
        try:
            if json.loads(state.read_text()).get("pid") == os.getpid():
                state.unlink()
        except (OSError, ValueError):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
