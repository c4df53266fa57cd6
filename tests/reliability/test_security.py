"""Security basics, checked on the code itself: loopback servers, no pickle, no shell, outputs stay inside."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import ROOT

SOURCES = [p for d in ("core", "curation", "selection", "flows", "prompts", "evals", "benchmarks") for p in (ROOT / d).rglob("*.py")]


def test_no_shell_true_and_no_pickle_loading():
    for path in SOURCES:
        text = path.read_text()
        assert "shell=True" not in text, path
        assert not re.search(r"pickle\.loads?\(|allow_pickle=True|torch\.load\(", text), path


def test_servers_bind_loopback_by_default():
    from flows.deploy import start_server

    assert start_server.__defaults__[0] == "127.0.0.1"
    assert "0.0.0.0" not in "".join(p.read_text() for p in SOURCES)


def test_prefect_results_are_json_not_pickle():
    from flows import curation_tasks as tasks

    for t in (tasks.read_task, tasks.chain_task, tasks.reduce_task):
        assert t.persist_result is True and t.result_serializer == "json"


def test_output_file_names_come_from_the_code_not_the_input(tmp_path):
    """Input values (ids, paths with ../) never become output paths: names are shard keys and step names."""
    import json

    from curation.config import CurationConfig
    from curation.runner import curate_local

    shard = tmp_path / "in" / "x.jsonl"
    shard.parent.mkdir()
    shard.write_text("\n".join(json.dumps({"id": f"../../escape{i}", "text": f"doc {i} text here"}) for i in range(5)))
    out = tmp_path / "out"
    curate_local([str(shard)], out, CurationConfig.model_validate({"steps": [{"step": "exact_dedup"}]}))
    written = [p for p in tmp_path.rglob("*") if p.is_file() and not p.is_relative_to(out) and p != shard]
    assert written == []
    assert all(p.resolve().is_relative_to(out.resolve()) for p in out.rglob("*"))
