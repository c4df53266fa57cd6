"""`winnow select` and `winnow demos` end to end through their Prefect flows, on real data."""

from __future__ import annotations

import json

import pytest

from flows.cli import build_parser, main
from tests.conftest import shared


def test_help_lists_strategies_and_budget_forms(capsys):
    for command, words in {
        "select": ["random", "knn", "kcenter", "deita", "semdedup", "ifd", "quality", "dsir", "--budget", "--target",
                   "--seed", "tokens", "--balance-by", "--max-per-group", "manifest"],
        "demos": ["--pool", "--queries", "--k", "knn", "mmr", "balanced", "--lam", "--chat", "most similar last"],
    }.items():
        with pytest.raises(SystemExit):
            build_parser().parse_args([command, "--help"])
        text = capsys.readouterr().out
        assert all(w in text for w in words), (command, [w for w in words if w not in text])


def test_select_errors_are_one_line(tmp_path, capsys):
    alpaca = str(shared("instruct", "alpaca_en_demo.json"))
    assert main(["select", alpaca, "--budget", "lots", "--out", str(tmp_path / "m.jsonl")]) == 2
    assert capsys.readouterr().err.startswith("winnow select: error: options: budget = 'lots': not a number; "
                                              "a budget is a count of items (500)")
    assert main(["select", str(tmp_path / "missing.json"), "--budget", "5", "--out", str(tmp_path / "m.jsonl")]) == 2
    assert "missing.json" in capsys.readouterr().err


@pytest.mark.usefixtures("prefect_harness")
def test_select_cli_writes_manifest_summary_and_report(tmp_path, capsys):
    out = tmp_path / "alpaca-kcenter.jsonl"
    code = main(["select", str(shared("instruct", "alpaca_en_demo.json")), "--budget", "25", "--strategy", "kcenter",
                 "--seed", "2", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 25 and len({r["id"] for r in rows}) == 25
    assert {r["strategy"] for r in rows} == {"kcenter"} and {r["seed"] for r in rows} == {2}
    summary = json.loads((tmp_path / "alpaca-kcenter.summary.json").read_text())
    assert summary["pool_size"] == 999 and summary["selected"] == 25
    report = (tmp_path / "alpaca-kcenter.report.md").read_text()
    assert "# Selection: kcenter (seed 2)" in report and "**999**" in report
    assert (tmp_path / "alpaca-kcenter.report.png").stat().st_size > 10_000
    assert "selected 25 of 999" in capsys.readouterr().out


@pytest.mark.usefixtures("prefect_harness")
def test_demos_cli_logs_the_demos_of_every_query(tmp_path, capsys):
    queries, pool = tmp_path / "queries.jsonl", tmp_path / "pool.jsonl"
    test = [json.loads(line) for line in shared("math", "gsm8k_test.jsonl").read_text().splitlines()[:5]]
    queries.write_text("".join(json.dumps(r) + "\n" for r in test))
    pool.write_text("\n".join(shared("math", "gsm8k_train.jsonl").read_text().splitlines()[:300]) + "\n")
    out = tmp_path / "demos.jsonl"
    code = main(["demos", "--pool", str(pool), "--queries", str(queries), "--k", "3",
                 "--strategy", "knn", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["query_id"] for r in rows] == [f"queries.jsonl:{i}" for i in range(1, 6)]
    for r, q in zip(rows, test):
        assert len(r["demos"]) == 3 and [d["position"] for d in r["demos"]] == [0, 1, 2]
        sims = [d["similarity"] for d in r["demos"]]
        assert sims == sorted(sims) and sims[-1] > 0.35  # related word problems, most similar last
        assert r["prompt"].endswith(q["question"]) and r["prompt"].count("####") == 3
