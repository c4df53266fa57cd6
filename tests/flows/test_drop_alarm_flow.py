"""The drop alarm through Prefect: a WARNING log on the flow run, and --strict ends the run Failed with exit code 1."""

from __future__ import annotations

import json
import time

import pytest

from curation.config import CurationConfig
from tests.conftest import shared

pytestmark = pytest.mark.usefixtures("prefect_harness")

ENGLISH = {"steps": [{"step": "normalize"}, {"step": "langid", "languages": ["en"]}]}


@pytest.fixture(scope="module")
def zh_shard(tmp_path_factory):
    path = tmp_path_factory.mktemp("zh") / "zh200.jsonl"
    with open(shared("multilingual", "zh.jsonl"), encoding="utf-8") as src:
        path.write_text("".join(next(src) for _ in range(200)), encoding="utf-8")
    return path


def _warnings_logged(flow_run_id) -> list[str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId, LogFilterLevel

    deadline = time.monotonic() + 30  # logs reach the server in batches
    while True:
        with get_client(sync_client=True) as client:
            logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id]),
                                                         level=LogFilterLevel(ge_=30)))
        if logs or time.monotonic() > deadline:
            return [entry.message for entry in logs]
        time.sleep(0.5)


def test_flow_run_gets_a_warning_naming_the_step(zh_shard, tmp_path):
    from flows.curate import curate_corpus

    state = curate_corpus(inputs=[str(zh_shard)], out_dir=str(tmp_path / "run"),
                          config=CurationConfig.checked(ENGLISH), return_state=True)
    assert state.is_completed()
    assert state.result()["warnings"][0]["step"] == "langid"
    logged = _warnings_logged(state.state_details.flow_run_id)
    assert any(m.startswith("drop alarm: langid removed 100.0% of its input (200 of 200 documents") for m in logged)


def test_cli_strict_exits_1_after_the_report(zh_shard, tmp_path, capsys):
    from flows.cli import main

    config = tmp_path / "english.json"
    config.write_text(json.dumps(ENGLISH))
    out = tmp_path / "run"
    assert main(["curate", str(zh_shard), "--config", str(config), "--out", str(out), "--strict"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("winnow curate: strict run failed: drop alarm: langid removed 100.0% of its input")
    assert json.loads((out / "report.json").read_text())["warnings"][0]["top_reasons"] == {"wrong_language": 200}
    # without --strict the same run succeeds, and the warning is printed with the counts
    assert main(["curate", str(zh_shard), "--config", str(config), "--out", str(out)]) == 0
    assert any(line.startswith("WARNING drop alarm: langid") for line in capsys.readouterr().err.splitlines())
