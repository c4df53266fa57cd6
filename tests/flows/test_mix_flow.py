"""`winnow mix` end to end on real mail (the mix_corpus flow), and its one-line errors."""

from __future__ import annotations

import json

import pytest

from flows.cli import main
from tests.conftest import shared


def test_mix_errors_are_one_line(tmp_path, capsys):
    mail = str(shared("mail", "spamassassin.jsonl.gz"))
    assert main(["mix", mail, "--by", "label", "--budget", "lots", "--out", str(tmp_path / "m.jsonl")]) == 2
    assert "budget 'lots'" in capsys.readouterr().err
    assert main(["mix", mail, "--by", "label", "--budget", "10", "--target", str(tmp_path / "none.yaml"),
                 "--out", str(tmp_path / "m.jsonl")]) == 2
    assert main(["mix", mail, "--by", "label", "--budget", "10", "--target", "uniform", "--temperature", "2",
                 "--out", str(tmp_path / "m.jsonl")]) == 2


@pytest.mark.usefixtures("prefect_harness")
def test_mix_cli_writes_mix_removed_and_report(tmp_path, capsys):
    target = tmp_path / "target.yaml"
    target.write_text("ham: 1\nspam: 3\n")
    out = tmp_path / "mix.jsonl"
    code = main(["mix", str(shared("mail", "spamassassin.jsonl.gz")), "--by", "label", "--budget", "4000",
                 "--target", str(target), "--max-upsample", "2", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    # 4,000 rows: spam wants 3,000 but has 1,896 messages; K = 2 allows 3,792, so 3,000 spam and 1,000 ham rows
    assert len(rows) == 4000
    assert sum(r["label"] == "spam" for r in rows) == 3000
    assert sum(r["mix_copy"] == 1 for r in rows) == 3000 - 1896  # 1,104 spam messages used twice
    report = json.loads((tmp_path / "mix.report.json").read_text())
    # input = kept + removed: 6,046 messages; kept = 1,896 spam + 1,000 ham distinct messages
    assert (report["input"], report["kept"], report["removed"]) == (6046, 2896, 3150)
    assert sum(1 for _ in (tmp_path / "mix.removed.jsonl").open()) == 3150
    shares = {g["group"]: (round(g["share_before"], 3), g["share_after"]) for g in report["groups"]}
    assert shares == {"ham": (0.686, 0.25), "spam": (0.314, 0.75)}  # 4,150 / 6,046 ham before
    md = (tmp_path / "mix.report.md").read_text()
    assert "| spam | 1,896 | 0.314 | 0.750 | 0.750 | 1,896 | 3,000 |" in md
    assert "spam" in capsys.readouterr().out


def test_mix_corpus_is_deployed():
    from flows.deploy import flows

    assert "mix_corpus" in flows()
