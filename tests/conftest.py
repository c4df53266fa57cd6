"""Shared fixtures: paths into ../shared/data (read in place, never copied) and one Prefect harness per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.shared_data import shared_data_dir

for _key, _value in {
    "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
    # `winnow curate` in a test (or its subprocess) uses Prefect's per-run temporary server, never leaving a kept
    # background server behind; tests/flows/test_server.py opts back in and stops what it starts
    "WINNOW_PREFECT_SERVER": "ephemeral",
}.items():
    os.environ.setdefault(_key, _value)

# Import Prefect now, before any test captures output: its console log handler binds to sys.stderr at setup,
# and a handler bound to one test's capsys stream fails in every later test once that stream is closed.
from prefect.logging.configuration import setup_logging  # noqa: E402

setup_logging()

ROOT = Path(__file__).resolve().parents[1]
SHARED = shared_data_dir()
DOLMA_CC = SHARED / "web" / "dolma_CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz"
SPAMASSASSIN = SHARED / "mail" / "spamassassin.jsonl.gz"
DEMO_CONFIG = ROOT / "configs" / "demo_mail.yaml"


def shared(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.fail(f"{path} missing: tests read the real data in ../shared/data (see its README)")
    return path


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory):
    """One ephemeral Prefect server for the whole session (it costs ~20 s to start)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield
