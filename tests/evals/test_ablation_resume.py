"""The ablation's arms resume like curation units: a finished run is reused only while its manifest verifies."""

from __future__ import annotations

import json

import numpy as np

from evals import ablation
from evals.train import TrainConfig


def test_train_or_reuse_verifies_the_checkpoint(tmp_path, monkeypatch):
    calls = []

    def fake_train(blocks, held_out, cfg, out_dir, tokenizer, log_extra=None):  # what evals.train.train writes
        calls.append(cfg.seed)
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "model.safetensors").write_bytes(b"weights %d" % len(calls))
        result = {"config": {"seed": cfg.seed}, "final": {"raw_heldout": 3.0}, "checkpoint": str(out_dir)} | log_extra
        (out_dir / "train_log.json").write_text(json.dumps(result))
        return result

    monkeypatch.setattr(ablation, "train", fake_train)
    data = {"arms": {"raw": np.zeros((2, 8), dtype=np.int32)}, "held_out": {}, "hashes": {"raw:a.jsonl": "h1"}}
    run = lambda d: ablation.train_or_reuse(d, "raw", TrainConfig(), 0, tmp_path, lambda: None)  # noqa: E731
    first = run(data)
    assert not first["reused"] and calls == [0]
    assert run(data)["reused"] and calls == [0]  # same config and data: reused, the tokenizer never loaded
    (tmp_path / "raw" / "seed0" / "model.safetensors").write_bytes(b"truncated")
    assert not run(data)["reused"] and calls == [0, 0]  # a checkpoint file changed: trained again
    assert not run(data | {"hashes": {"raw:a.jsonl": "h2"}})["reused"] and len(calls) == 3  # other data
