"""`winnow prompt-search` through its Prefect flow with a fake scorer (no LM), its deployment and its errors."""

from __future__ import annotations

import json

import pytest

from flows.cli import main
from tests.evals.test_prompt_search import FakeScorer


@pytest.mark.usefixtures("prefect_harness")
def test_prompt_search_cli_runs_the_flow_and_writes_the_report(tmp_path, capsys, monkeypatch):
    import flows.prompt_search

    monkeypatch.setattr(flows.prompt_search, "SmolLM2Scorer", FakeScorer)
    code = main(["prompt-search", "--task", "sst2", "--candidates", "5", "--dev", "8", "--test", "12",
                 "--seed-k", "2", "--max-k", "2", "--out", str(tmp_path)])
    assert code == 0, capsys.readouterr().err
    report = json.loads((tmp_path / "report.json").read_text())
    assert len(report["candidates"]) == 5 and report["chosen"] in report["front"]
    assert report["splits"] == {"dev": 8, "test": 12, "source": report["splits"]["source"]}
    assert (tmp_path / "front.png").is_file() and "Held-out test" in (tmp_path / "report.md").read_text()
    out = capsys.readouterr().out
    assert f"chosen {report['chosen']}" in out and "majority class" in out


def test_prompt_search_refuses_bad_options(tmp_path, capsys):
    assert main(["prompt-search", "--task", "sst2", "--tolerance", "2", "--out", str(tmp_path)]) == 2
    assert "tolerance" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["prompt-search", "--task", "mnli", "--out", str(tmp_path)])


def test_prompt_search_is_deployed():
    from flows.deploy import flows

    assert "prompt_search" in flows()
