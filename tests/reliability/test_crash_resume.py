"""SIGKILL in the middle of every kind of unit, then rerun: byte-identical outputs, finished units not redone.

Both executors of ``curation.execute``: the in-process runner on every fault, and `winnow curate` (Prefect tasks,
each unit's result cached under its verified manifests) on one fault per unit kind.

Faults are injected with WINNOW_FAULT (``core.storage.fault_point``): before a unit starts, half-way
through writing a shard, and after a unit's files are written but before its manifest.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, SPAMASSASSIN

CONFIG = """
steps:
  - step: mail_body
  - step: normalize
  - step: exact_dedup
  - step: gopher_quality
  - step: minhash
shard_docs: 1500
partitions: 3
"""

FAULTS = [
    "00-read/input-00000:mid",                       # inside the read of the input file
    "00-read/input-00000:written",                   # read done, manifest not written
    "02-normalize/shard-00000-0002:start",           # between units of a per-document step
    "02-normalize/shard-00000-0001:mid",             # half-way through writing a shard
    "03-exact_dedup/work/manifest-map-00000-0003:written",  # global step: a map unit
    "03-exact_dedup/work/manifest-reduce:start",     # global step: before the reduce
    "05-minhash/work/manifest-reduce:written",       # reduce done, manifest not written
    "05-minhash/shard-00000-0003:mid",               # global step: inside an apply unit
]


def run(out: Path, config: Path, fault: str | None = None, api_url: str | None = None) -> subprocess.CompletedProcess:
    """``python -m curation.runner`` (LocalExecutor), or with ``api_url`` ``winnow curate`` (PrefectExecutor)
    recording in that server: both run ``curation.execute`` on the same plan."""
    env = {k: v for k, v in os.environ.items() if k != "WINNOW_FAULT"} | ({"WINNOW_FAULT": fault} if fault else {})
    cmd = [sys.executable, "-m", "curation.runner", str(out), str(SPAMASSASSIN), "--config", str(config)]
    if api_url:
        env |= {"PREFECT_API_URL": api_url, "PREFECT_HOME": str(out.parent / "prefect-home")}
        cmd = [sys.executable, "-m", "flows.cli", "curate", str(SPAMASSASSIN), "--out", str(out), "--config", str(config)]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def outputs(run_dir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(run_dir)): p.read_bytes()
            for part in ("kept", "removed", "quarantine") for p in sorted((run_dir / part).rglob("*")) if p.is_file()}


def manifests(run_dir: Path) -> dict[str, int]:
    return {str(p.relative_to(run_dir)): p.stat().st_mtime_ns for p in (run_dir / "_stages").rglob("*.json")}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("crash")
    (tmp / "c.yaml").write_text(CONFIG)
    done = run(tmp / "clean", tmp / "c.yaml")
    assert done.returncode == 0, done.stderr[-2000:]
    return tmp, outputs(tmp / "clean")


# The Prefect path on one fault per unit kind (read, a chain's per-document step, a global step's map, its reduce
# and an apply inside a chain): each run there costs Prefect's engine on top, and the suite must stay short.
PREFECT_FAULTS = [FAULTS[1], FAULTS[3], FAULTS[4], FAULTS[5], FAULTS[7]]


@pytest.fixture(scope="module")
def prefect_api(request):
    """The session's Prefect server (tests/conftest.py), handed to the `winnow curate` subprocesses."""
    from prefect.settings import PREFECT_API_URL

    request.getfixturevalue("prefect_harness")
    return PREFECT_API_URL.value()


@pytest.mark.parametrize("executor,fault", [("local", f) for f in FAULTS] + [("prefect", f) for f in PREFECT_FAULTS])
def test_killed_run_resumes_to_identical_outputs(reference, request, executor, fault):
    tmp, expected = reference
    api_url = request.getfixturevalue("prefect_api") if executor == "prefect" else None
    out = tmp / executor / fault.replace("/", "_").replace(":", "_")
    killed = run(out, tmp / "c.yaml", fault, api_url)
    assert killed.returncode == -9, f"fault {fault} never fired: {killed.stderr[-1500:]}"
    finished = manifests(out)
    resumed = run(out, tmp / "c.yaml", None, api_url)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert outputs(out) == expected  # the Prefect path also writes the runner's files, byte for byte
    after = manifests(out)
    assert {k: after[k] for k in finished} == finished  # no finished unit was recomputed
    # 4282 kept before issue 13; gopher_quality now counts a chunk without a letter (">", "--") as a word without
    # one and a URL as one word, as Gopher's rules read, so more short or symbol-heavy mail bodies go
    assert ("kept 3965 removed 2081 quarantined 0 of 6046" if executor == "local"
            else "kept 3,965 / removed 2,081 / quarantined 0 of 6,046") in resumed.stdout
    shutil.rmtree(out)  # ~45 MB per run directory, 14 of them in a module-scoped folder
