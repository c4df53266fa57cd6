"""`winnow augment` end to end through its Prefect flow on the first SST-2 training sentences, and its errors."""

from __future__ import annotations

import json

from flows.cli import main
from tests.conftest import shared


def sst2_pool(tmp_path, n: int = 12):
    lines = shared("eval_cls", "sst2", "stsa.binary.train").read_text(encoding="utf-8").splitlines()[:n]
    path = tmp_path / "sst2.jsonl"
    path.write_text("".join(json.dumps({"id": f"sst2-{i}", "text": line[2:], "label": line[0]}) + "\n"
                            for i, line in enumerate(lines, start=1)))
    return path


def test_augment_writes_originals_kept_edits_and_dropped_edits(tmp_path, capsys):
    pool, out = sst2_pool(tmp_path), tmp_path / "aug.jsonl"
    # swap and delete need no WordNet; the label check runs on the packaged MiniLM
    assert main(["augment", str(pool), "--out", str(out), "--ops", "swap,delete", "--seed", "1",
                 "--check-rule", "label"]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    dropped = [json.loads(line) for line in (tmp_path / "aug.dropped.jsonl").read_text().splitlines()]
    summary = json.loads((tmp_path / "aug.summary.json").read_text())
    originals = [r for r in rows if r["operation"] == "original"]
    edits = [r for r in rows if r["operation"] != "original"]
    assert [r["id"] for r in originals] == [f"sst2-{i}" for i in range(1, 13)]
    # 12 items x 2 operations = 24 edits, every one either kept (in OUT) or dropped (in OUT.dropped.jsonl)
    assert summary["made"] == 24 and len(edits) + len(dropped) == 24 == summary["kept"] + summary["dropped"]
    parent_label = {r["id"]: r["label"] for r in originals}
    for r in edits:
        assert r["label"] == parent_label[r["parent_id"]] and r["knn_label"] == r["label"]
        assert r["params"]["alpha"] == 0.1 and r["params"]["seed"] == 1
    assert all(d["reason"] == "unchanged" or d["reason"].startswith("knn label") for d in dropped)
    ops = summary["operations"]
    assert ops["swap"]["made"] == ops["delete"]["made"] == 12
    text = capsys.readouterr().out
    assert f"kept {summary['kept']} of 24 edits" in text and "dropped by label check" in text


def test_augment_refuses_bad_options_in_one_line(tmp_path, capsys):
    pool = sst2_pool(tmp_path, 3)
    assert main(["augment", str(pool), "--out", str(tmp_path / "o.jsonl"), "--ops", "swap,translate"]) == 2
    assert "unknown operations ['translate']" in capsys.readouterr().err
    assert main(["augment", str(pool), "--out", str(tmp_path / "o.jsonl"), "--alpha", "2"]) == 2
    assert "alpha = 2.0: must be in [0, 1]" in capsys.readouterr().err
