"""Wall time of `winnow curate` against the same steps without Prefect (`python -m curation.runner`).

Four arms on the demo shard (SpamAssassin, 6,046 messages) with configs/demo_mail.yaml, each a fresh process and
a fresh --out, interleaved per repetition so load on a shared machine hits all of them alike:
  runner     python -m curation.runner OUT INPUT --config ...        (no Prefect at all)
  cold       winnow curate on a fresh PREFECT_HOME: creates the database and starts the kept background server
  warm       winnow curate again: reuses that server
  ephemeral  WINNOW_PREFECT_SERVER=ephemeral winnow curate: Prefect's temporary server per run (the old way)
One untimed runner run first fills numba's kernel cache. Between warm and ephemeral the two runs are read back from the kept server's API (recorded where the UI shows
them), then the server is stopped. Medians of --reps repetitions; ratios against the runner's median.

    .venv/bin/python benchmarks/prefect_startup.py [--reps 3] [--input FILE] [--out benchmarks/results/...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.shared_data import shared_data_dir  # noqa: E402

TARGET = 1.2  # issue 13: `winnow curate` wall time <= 1.2x the plain runner's


def demo_input() -> Path:
    local = ROOT / "data" / "demo" / "spamassassin.jsonl"
    return local if local.exists() else shared_data_dir() / "mail" / "spamassassin.jsonl.gz"


def server_cpu(home: Path) -> float:
    """CPU seconds used so far by the kept server recorded in ``home`` (its watcher and the server under it)."""
    import psutil

    from flows.server import read_state

    server = read_state(home)
    try:
        proc = psutil.Process(server.pid) if server else None
        return sum(sum(p.cpu_times()[:2]) for p in [proc, *proc.children(recursive=True)]) if proc else 0.0
    except psutil.Error:
        return 0.0


def timed(cmd: list[str], env: dict, out: Path, home: Path | None = None) -> dict:
    """Wall seconds of one process, and CPU seconds (user + sys) of it and its children, plus what the kept
    server in ``home`` spent meanwhile (it serves the run's API calls). CPU time is much less disturbed by other
    jobs on a shared machine than wall time."""
    before, server_before = resource.getrusage(resource.RUSAGE_CHILDREN), server_cpu(home) if home else 0.0
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    cpu += (server_cpu(home) - server_before) if home else 0.0
    report = json.loads((out / "report.json").read_text())
    return {"seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2), "kept": report["kept"],
            "removed": report["removed"]}


def recorded_runs(api_url: str) -> list[dict]:
    import httpx

    runs = httpx.post(f"{api_url}/flow_runs/filter", json={}, timeout=30).json()
    tasks = lambda run_id: httpx.post(f"{api_url}/task_runs/count", timeout=30,  # noqa: E731
                                      json={"flow_runs": {"id": {"any_": [run_id]}}}).json()
    return [{"name": r["name"], "state": r["state"]["type"], "out_dir": r["parameters"]["out_dir"],
             "task_runs": tasks(r["id"])} for r in runs]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--input", type=Path, default=None, help="default: data/demo/spamassassin.jsonl, else shared")
    ap.add_argument("--config", type=Path, default=ROOT / "configs" / "demo_mail.yaml")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "prefect_startup.json")
    args = ap.parse_args()
    from flows.server import read_state, stop_server

    data = (args.input or demo_input()).resolve()
    base_env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "WINNOW_PREFECT_SERVER")}
    base_env |= {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
                 "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    py = sys.executable
    arms: dict[str, list[dict]] = {"runner": [], "cold": [], "warm": [], "ephemeral": []}
    recorded = []
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="prefect-startup-") as tmp:
        tmp = Path(tmp)
        # untimed: a fresh checkout compiles its numba kernels into the cache on the first run, whichever arm
        timed([py, "-m", "curation.runner", str(tmp / "warm-up"), str(data), "--config", str(args.config)],
              base_env, tmp / "warm-up")
        for rep in range(args.reps):
            home = tmp / f"prefect-{rep}"
            env = base_env | {"PREFECT_HOME": str(home)}
            out = lambda arm: tmp / f"{arm}-{rep}"  # noqa: E731  fresh --out: nothing reused
            curate = lambda arm: [py, "-m", "flows.cli", "curate", str(data), "--config", str(args.config),  # noqa: E731
                                  "--out", str(out(arm))]
            try:
                arms["runner"].append(timed([py, "-m", "curation.runner", str(out("runner")), str(data), "--config",
                                             str(args.config)], env, out("runner")))
                arms["cold"].append(timed(curate("cold"), env, out("cold"), home))
                arms["warm"].append(timed(curate("warm"), env, out("warm"), home))
                server = read_state(home)
                runs = recorded_runs(server.api_url)
                recorded.append({"rep": rep, "server_port": server.port, "runs": runs})
                assert sorted(r["out_dir"] for r in runs) == sorted(str(out(a)) for a in ("cold", "warm")), runs
                assert all(r["state"] == "COMPLETED" for r in runs), runs
            finally:
                stop_server(home)
            arms["ephemeral"].append(timed(curate("ephemeral"), env | {"WINNOW_PREFECT_SERVER": "ephemeral"},
                                           out("ephemeral")))
            print(f"rep {rep}: " + ", ".join(f"{a} {v[-1]['seconds']} s ({v[-1]['cpu_seconds']} s CPU)"
                                             for a, v in arms.items()), flush=True)
    kept = {(r["kept"], r["removed"]) for runs in arms.values() for r in runs}
    assert len(kept) == 1, f"the arms disagree on the outputs: {kept}"
    medians = {arm: statistics.median(r["seconds"] for r in runs) for arm, runs in arms.items()}
    ratios = {arm: round(medians[arm] / medians["runner"], 3) for arm in ("cold", "warm", "ephemeral")}
    cpu = {arm: statistics.median(r["cpu_seconds"] for r in runs) for arm, runs in arms.items()}
    cpu_ratios = {arm: round(cpu[arm] / cpu["runner"], 3) for arm in ("cold", "warm", "ephemeral")}
    result = {
        "what": "wall time of one `winnow curate` process vs `python -m curation.runner` on the same input/config",
        "input": str(data), "input_bytes": data.stat().st_size, "config": str(args.config.relative_to(ROOT)),
        "documents": {"kept": kept.pop()[0]},
        "reps": args.reps,
        "arms": {
            "runner": "python -m curation.runner (no Prefect)",
            "cold": "winnow curate, fresh PREFECT_HOME: creates the database, starts the kept background server",
            "warm": "winnow curate, reusing that server",
            "ephemeral": "WINNOW_PREFECT_SERVER=ephemeral winnow curate: Prefect's temporary server per run",
        },
        "seconds": {arm: [r["seconds"] for r in runs] for arm, runs in arms.items()},
        "median_seconds": medians,
        "ratio_to_runner": ratios,
        "cpu_seconds": {arm: [r["cpu_seconds"] for r in runs] for arm, runs in arms.items()},
        "median_cpu_seconds": cpu,
        "cpu_ratio_to_runner": cpu_ratios,
        "target_ratio": TARGET,
        "warm_meets_target": ratios["warm"] <= TARGET,
        "recorded_in_kept_server": recorded,
        "machine": {"cpus": os.cpu_count(), "load_before": [round(x, 2) for x in load_before],
                    "load_after": [round(x, 2) for x in os.getloadavg()], "python": platform.python_version()},
        "prefect": __import__("prefect").__version__,
        "commit": os.environ.get("BENCH_COMMIT") or subprocess.run(  # BENCH_COMMIT: run from a `git archive` copy
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip() or None,
        "note": "2 cores shared with other agents' jobs: wall times are noisy (see the load averages); CPU "
                "seconds (user+sys of the run's processes, plus the kept server's share for cold/warm) much less",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({"median_seconds": medians, "ratio_to_runner": ratios, "median_cpu_seconds": cpu,
                      "cpu_ratio_to_runner": cpu_ratios}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
