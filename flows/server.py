"""The local Prefect server that `winnow` commands record their runs in, kept between runs.

Without ``PREFECT_API_URL`` Prefect starts a temporary ("ephemeral") API server in every process that runs a
flow and stops it at exit: ~15 s of start-up per `winnow curate` on a 2-core machine. Instead the first run
starts one ``prefect server start`` on 127.0.0.1 in the background, detached from the terminal, and records it in
``PREFECT_HOME/winnow-server.json``; later runs find it there and reuse it. Every run lands in the same SQLite
database under ``PREFECT_HOME`` that the ephemeral server would have used, and the UI of the kept server shows it.

Resolution order (``api_for_cli``): ``PREFECT_API_URL`` (environment or Prefect profile) -> the server recorded in
the state file, if its pid is alive and ``/api/health`` answers -> a new background server (port 4200 if free,
else any free port). ``WINNOW_PREFECT_SERVER=ephemeral`` keeps Prefect's per-run temporary server (nothing is left
running; the test suite uses it). A state file whose process has died, or whose pid now belongs to something else,
is stale: it is removed and a new server started. A server started by a run stops itself after
``WINNOW_SERVER_IDLE_MINUTES`` (default 30) unused (see ``flows.server_watch``); `winnow server --stop` ends the
recorded server at once (stop any `winnow serve` first: a serve process whose server disappears hangs).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

HOST = "127.0.0.1"  # loopback only: the API has no authentication
DEFAULT_PORT = 4200
STATE_FILE = "winnow-server.json"
LOG_FILE = "winnow-server.log"
MODE_ENV = "WINNOW_PREFECT_SERVER"  # "auto" (default) or "ephemeral"
IDLE_ENV = "WINNOW_SERVER_IDLE_MINUTES"  # a server started by a run stops after this long unused (0: never)
DEFAULT_IDLE_MINUTES = 30.0
_children: list[subprocess.Popen] = []  # background servers started by this process (kept so none is GC-warned)


class ServerError(RuntimeError):
    """A local Prefect server could not be started, reached or stopped; the message says what to do."""


@dataclass(frozen=True)
class LocalServer:
    """One Prefect server recorded in ``PREFECT_HOME/winnow-server.json``.

    ``mode`` is ``background`` (started detached by winnow: ``pid`` is its ``flows.server_watch`` parent, the leader
    of its process group) or ``foreground`` (`winnow server` in a terminal); ``started_at`` is Unix time in seconds;
    ``idle_minutes``: a background server stops itself after that long unused (0: never).
    """

    pid: int
    port: int
    host: str = HOST
    mode: str = "background"
    started_at: float = 0.0
    idle_minutes: float = 0.0

    @property
    def ui_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.ui_url}/api"


def prefect_home() -> Path:
    """PREFECT_HOME as Prefect resolves it (environment, profile or temporary settings)."""
    from prefect.settings import get_current_settings

    return Path(get_current_settings().home).expanduser()


def read_state(home: Path | None = None) -> LocalServer | None:
    """The recorded server, alive or not; None when there is no readable state file."""
    path = (home or prefect_home()) / STATE_FILE
    try:
        return LocalServer(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def _write_state(home: Path, server: LocalServer) -> None:
    home.mkdir(parents=True, exist_ok=True)
    tmp = home / f".{STATE_FILE}.{os.getpid()}"
    tmp.write_text(json.dumps(asdict(server)))
    tmp.replace(home / STATE_FILE)  # atomic: a reader sees the old file or the new one, never half of one


def _remove_state(home: Path, server: LocalServer | None = None) -> None:
    """Removes the state file (only if it still names ``server``, when given)."""
    if server is None or read_state(home) == server:
        (home / STATE_FILE).unlink(missing_ok=True)


def _pid_is_server(pid: int) -> bool:
    """True if ``pid`` runs and looks like a Prefect/winnow server (not a zombie, not a recycled pid)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reap it if it is our own exited child
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, another user's
    proc = Path(f"/proc/{pid}")
    if not proc.exists():  # no procfs (macOS): trust the pid and the health check
        return True
    try:
        if "\nState:\tZ" in (proc / "status").read_text():
            return False
        cmdline = (proc / "cmdline").read_bytes()
    except OSError:
        return False
    return any(mark in cmdline for mark in (b"prefect", b"winnow", b"flows.server_watch"))


def is_healthy(server: LocalServer, timeout: float = 2.0) -> bool:
    """True if ``GET /api/health`` answers 200."""
    try:
        return httpx.get(f"{server.api_url}/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def _wait_healthy(server: LocalServer, timeout: float, proc: subprocess.Popen | None = None) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if is_healthy(server):
            return True
        if (proc is not None and proc.poll() is not None) or not _pid_is_server(server.pid):
            return False
        time.sleep(0.2)
    return False


def find_server(home: Path | None = None, wait: float = 0.0) -> LocalServer | None:
    """The recorded server if it is running and answers; None otherwise (stale state is left for the caller).

    ``wait``: seconds to wait for a recorded server that is still starting (alive, not yet answering).
    """
    server = read_state(home or prefect_home())
    if server is None or not _pid_is_server(server.pid):
        return None
    return server if _wait_healthy(server, max(wait, 0.5)) else None


def _port_is_free(port: int) -> bool:
    """True if a server could bind ``port`` now (with SO_REUSEADDR, as uvicorn does: closed connections in
    TIME_WAIT do not count)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def startup_timeout() -> float:
    from prefect.settings import get_current_settings

    return float(get_current_settings().server.ephemeral.startup_timeout_seconds)


@contextlib.contextmanager
def _home_lock(home: Path):
    """One starter at a time per PREFECT_HOME: two runs started together share one server."""
    home.mkdir(parents=True, exist_ok=True)
    with open(home / "winnow-server.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _server_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               PREFECT_SERVER_LOGGING_LEVEL=os.environ.get("PREFECT_SERVER_LOGGING_LEVEL", "WARNING"))
    return env  # WARNING: no access-log line per API call in the log file


def _spawn(home: Path, port: int, timeout: float, idle_minutes: float) -> LocalServer:
    log = home / LOG_FILE
    cmd = [sys.executable, "-m", "flows.server_watch", "--home", str(home), "--host", HOST, "--port", str(port),
           "--idle-minutes", f"{idle_minutes:g}"]
    with open(log, "a") as fh:
        fh.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} winnow: {' '.join(cmd[1:])}\n")
        fh.flush()
        # own session: Ctrl-C in the terminal of the run that started it does not reach it; no pipes to us, so a
        # caller capturing our output is not held open by the server
        proc = subprocess.Popen(cmd, env=_server_env(home), stdin=subprocess.DEVNULL, stdout=fh,
                                stderr=subprocess.STDOUT, start_new_session=True, close_fds=True)
    _children.append(proc)
    server = LocalServer(pid=proc.pid, port=port, mode="background", started_at=time.time(),
                         idle_minutes=idle_minutes)
    if _wait_healthy(server, timeout, proc):
        return server
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)  # the watcher and the server under it
    proc.wait()
    tail = log.read_text(errors="replace")[-2000:]
    raise ServerError(f"the Prefect server on port {port} did not answer within {timeout:.0f} s "
                      f"(exit code {proc.returncode}); its log {log} ends:\n{tail}")


def start_background(home: Path | None = None, port: int | None = None, timeout: float | None = None,
                     idle_minutes: float = 0.0) -> LocalServer:
    """Starts ``prefect server start`` detached on 127.0.0.1 and records it; returns once /api/health answers.

    The server runs under ``flows.server_watch``, which stops it after ``idle_minutes`` unused (0: never).
    ``port``: None = 4200 if free, else a free port. A port taken between the check and the bind gets one retry
    on a fresh port (unless the port was given). Raises ServerError with the tail of ``winnow-server.log``.
    """
    home = home or prefect_home()
    timeout = timeout or startup_timeout()
    if port is not None and not _port_is_free(port):
        raise ServerError(f"port {port} is in use; pick another with --port")
    chosen = port if port is not None else (DEFAULT_PORT if _port_is_free(DEFAULT_PORT) else _free_port())
    try:
        server = _spawn(home, chosen, timeout, idle_minutes)
    except ServerError:
        if port is not None or _port_is_free(chosen):
            raise
        server = _spawn(home, _free_port(), timeout, idle_minutes)
    _write_state(home, server)
    return server


def ensure_server(home: Path | None = None, port: int | None = None, timeout: float | None = None,
                  idle_minutes: float = 0.0) -> tuple[LocalServer, bool]:
    """The running recorded server, or a new background one; returns (server, started_now).

    A recorded server that is alive but still starting is waited for; a stale record is replaced.
    """
    home = home or prefect_home()
    timeout = timeout or startup_timeout()
    with _home_lock(home):
        recorded = read_state(home)
        running = find_server(home, wait=timeout)
        if running is not None:
            return running, False
        if recorded is not None and _pid_is_server(recorded.pid):
            raise ServerError(f"the Prefect server recorded in {home / STATE_FILE} (pid {recorded.pid}, "
                              f"{recorded.ui_url}) runs but does not answer; end it with `winnow server --stop`")
        _remove_state(home, recorded)
        return start_background(home, port, timeout, idle_minutes), True


def stop_server(home: Path | None = None, timeout: float = 30.0) -> LocalServer | None:
    """Stops the recorded server (SIGTERM, then SIGKILL after ``timeout`` s) and removes the state file.

    Returns the server that was stopped, or None when none was running (a stale state file is removed).
    Stop any `winnow serve` / ``flow.serve()`` process talking to it first: it hangs once its server is gone.
    """
    home = home or prefect_home()
    server = read_state(home)
    if server is None or not _pid_is_server(server.pid):
        _remove_state(home, server)
        return None
    os.kill(server.pid, signal.SIGTERM)  # the watcher forwards it to the server and waits for it
    deadline = time.monotonic() + timeout + 5
    while _pid_is_server(server.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _pid_is_server(server.pid):
        # background: the watcher leads its own process group (the server is in it); foreground: the pid alone
        kill = os.killpg if server.mode == "background" else os.kill
        with contextlib.suppress(ProcessLookupError):
            kill(server.pid, signal.SIGKILL)
        while _pid_is_server(server.pid):
            time.sleep(0.1)
    _remove_state(home, server)
    return server


def record_foreground(port: int, home: Path | None = None) -> LocalServer:
    """Records this process as the server before it execs ``prefect server start`` (the pid survives exec)."""
    home = home or prefect_home()
    server = LocalServer(pid=os.getpid(), port=port, mode="foreground", started_at=time.time())
    _write_state(home, server)
    return server


def api_for_cli(say=print) -> str | None:
    """The API URL a `winnow` command should record its runs with, starting a server if needed.

    None: leave it to Prefect (PREFECT_API_URL or a profile sets it, or ``WINNOW_PREFECT_SERVER=ephemeral``).
    ``say`` gets one line for the user about which server is used.
    """
    from prefect.settings import get_current_settings

    if get_current_settings().api.url:
        return None
    mode = os.environ.get(MODE_ENV, "auto").lower()
    if mode == "ephemeral":
        return None
    if mode != "auto":
        raise ServerError(f"{MODE_ENV}={mode!r}: expected 'auto' or 'ephemeral'")
    home = prefect_home()
    if (server := find_server(home)) is None:
        idle = float(os.environ.get(IDLE_ENV, DEFAULT_IDLE_MINUTES))
        say(f"winnow: starting a local Prefect server in the background (once; later runs reuse it; "
            f"log in {home / LOG_FILE}) ...")
        server, _ = ensure_server(home, idle_minutes=idle)
        stops = f"stops after {idle:g} min unused or with" if idle > 0 else "runs until"
        say(f"winnow: Prefect server up: UI {server.ui_url} (pid {server.pid}); {stops} `winnow server --stop`")
    else:
        say(f"winnow: recording the run in the Prefect server at {server.ui_url} (pid {server.pid})")
    return server.api_url


@contextlib.contextmanager
def recording_server(say=print):
    """Runs the body with PREFECT_API_URL pointing at the server chosen by ``api_for_cli`` (if any).

    Sets the environment (Dask workers and other child processes), Prefect's process-wide settings (threads that
    do not copy our context, such as Prefect's log and event workers: with the import-time settings they would
    start an ephemeral server of their own) and the current context's settings.
    """
    from prefect.context import refresh_global_settings_context
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.server_watch import touch_used

    url = api_for_cli(say)
    if url is None:
        yield None
        return
    home = prefect_home()
    old = os.environ.get("PREFECT_API_URL")
    os.environ["PREFECT_API_URL"] = url
    refresh_global_settings_context()
    touch_used(home)  # the server's idle clock restarts at the start and the end of each run
    try:
        with temporary_settings(updates={PREFECT_API_URL: url}):
            yield url
    finally:
        touch_used(home)
        if old is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = old
        refresh_global_settings_context()
