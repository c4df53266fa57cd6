"""Two runs on one directory: the second is refused with the holder named. Same input: byte-identical output."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from curation.config import CurationConfig
from curation.runner import curate_local
from core.storage import RunLocked, run_lock
from tests.conftest import DOLMA_CC, ROOT

LIGHT = CurationConfig.model_validate({"steps": [{"step": "normalize"}, {"step": "exact_dedup"}, {"step": "minhash"}],
                                       "shard_docs": 300})


def test_second_run_on_the_same_directory_is_refused(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", (
        "import time, sys; from core.storage import run_lock\n"
        f"with run_lock({str(tmp_path)!r}):\n    print('locked', flush=True); time.sleep(30)")],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(RunLocked, match=rf"another winnow run is writing here \(pid {holder.pid} since"):
            curate_local([str(DOLMA_CC)], tmp_path, LIGHT)
        assert not (tmp_path / "_stages").exists()  # refused before touching anything
    finally:
        holder.kill()
        holder.wait()
    # the OS released the dead holder's lock: the directory is usable again
    assert curate_local([str(DOLMA_CC)], tmp_path, LIGHT)["input"] == 697


def test_waiting_lock_proceeds_after_the_holder_finishes(tmp_path):
    start = time.monotonic()
    holder = subprocess.Popen([sys.executable, "-c", (
        "import time; from core.storage import run_lock\n"
        f"with run_lock({str(tmp_path)!r}):\n    print('locked', flush=True); time.sleep(2)")],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    with run_lock(tmp_path, wait=True):
        assert time.monotonic() - start >= 1.5
    holder.wait()


def test_same_input_and_config_give_byte_identical_outputs(tmp_path):
    a = curate_local([str(DOLMA_CC)], tmp_path / "a", LIGHT)
    b = curate_local([str(DOLMA_CC)], tmp_path / "b", LIGHT)
    for part in ("kept", "removed", "quarantine"):
        files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a" / part).rglob("*.jsonl"))
        assert files_a == sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b" / part).rglob("*.jsonl"))
        assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files_a)
    strip = lambda r: {k: v for k, v in r.items() if k not in ("finished_at", "outputs")}  # noqa: E731
    assert [{k: s[k] for k in ("name", "input", "kept", "removed", "reasons")} for s in strip(a)["steps"]] == \
        [{k: s[k] for k in ("name", "input", "kept", "removed", "reasons")} for s in strip(b)["steps"]]


def test_concurrent_runs_on_different_directories_share_caches_safely(tmp_path):
    """Two processes at once (numba's on-disk cache, the same inputs): both finish, outputs identical."""
    from tests.conftest import SPAMASSASSIN

    cmd = lambda out: [sys.executable, "-m", "curation.runner", str(out), str(SPAMASSASSIN)]  # noqa: E731
    config = tmp_path / "c.yaml"
    config.write_text("steps:\n  - step: mail_body\n  - step: exact_dedup\n  - step: minhash\nshard_docs: 2000\n")
    procs = [subprocess.Popen(cmd(tmp_path / name) + ["--config", str(config)], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for name in ("a", "b")]
    results = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [r[1][-1500:] for r in results]
    assert results[0][0] == results[1][0]
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a" / "removed").rglob("*.jsonl"))
    assert files and all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files)
