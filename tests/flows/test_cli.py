"""The winnow CLI: help that explains, clear errors naming the path, curate + report end to end."""

import json

import pytest

from flows.cli import build_parser, main
from tests.conftest import shared


def test_help_explains_every_option(capsys):
    for command, options in {
        "curate": ["--out", "--config", "--text-field", "--id-field", "--batch-size", "--format", "--shard-docs",
                   "--partitions", "--workers", "--scheduler", "--wait", "kept/", "quarantine/"],
        "train-quality": ["--positive", "--negative", "--out", "--positive-field", "ROC AUC"],
        "report": ["DIR", "--json"],
    }.items():
        with pytest.raises(SystemExit):
            build_parser().parse_args([command, "--help"])
        text = capsys.readouterr().out
        assert all(opt in text for opt in options), (command, text)


def test_missing_input_is_one_clear_error(tmp_path, capsys):
    assert main(["curate", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "nope.jsonl: no such file or directory" in err and "Traceback" not in err
    (tmp_path / "empty").mkdir()
    assert main(["curate", str(tmp_path / "empty"), "--out", str(tmp_path / "o")]) == 2
    assert "directory holds no shards" in capsys.readouterr().err


def test_bad_config_is_a_clear_error(tmp_path, capsys):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("steps:\n  - step: minhash\n    bands: 20\n    rows: 8\n")
    assert main(["curate", str(shared("web", "llamafactory_c4_demo.jsonl")), "--out", str(tmp_path / "o"),
                 "--config", str(cfg)]) == 2
    assert capsys.readouterr().err == (f"winnow curate: error: {cfg}: steps[0] (minhash): bands x rows = 20 x 8 = 160 "
                                       "exceeds num_perm = 112: must be bands x rows <= num_perm\n")


@pytest.mark.usefixtures("prefect_harness")
def test_second_curate_on_a_locked_directory_is_refused(tmp_path, capsys):
    from core.storage import run_lock

    with run_lock(tmp_path / "run"):
        code = main(["curate", str(shared("web", "llamafactory_c4_demo.jsonl")), "--out", str(tmp_path / "run")])
    assert code == 2
    assert f"pid {__import__('os').getpid()} since" in capsys.readouterr().err


@pytest.mark.usefixtures("prefect_harness")
def test_curate_then_report(tmp_path, capsys):
    shard = tmp_path / "shard.jsonl"
    lines = shared("web", "llamafactory_c4_demo.jsonl").read_text().splitlines()[:40]
    shard.write_text("\n".join(lines + ['{"text": broken', '{"text": ""}']) + "\n")
    cfg = tmp_path / "c.yaml"
    cfg.write_text("steps:\n  - step: normalize\n  - step: exact_dedup\n  - step: gopher_quality\n")
    assert main(["curate", str(shard), "--out", str(tmp_path / "run"), "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "of 42 documents" in out and "report: " in out
    assert main(["report", str(tmp_path / "run")]) == 0
    md = capsys.readouterr().out
    assert "Invariant holds: input 42" in md and "quarantined 2" in md
    q = [json.loads(x) for x in (tmp_path / "run" / "quarantine" / "part-00000.jsonl").read_text().splitlines()]
    assert [(r["line"], r["error"].split(":")[0]) for r in q] == [(41, "invalid JSON"), (42, "empty text")]
