"""Training groundwork: a tiny budget run is deterministic, logs its curves, and saves a loadable HF checkpoint."""

from __future__ import annotations

import json

import pytest

from evals.train import TrainConfig, is_holdout, read_texts, token_blocks, tokens_to_reach, train
from tests.conftest import shared


@pytest.mark.slow
def test_tiny_run_is_deterministic_and_saves_a_checkpoint(tmp_path):
    from transformers import AutoModelForCausalLM

    from core.models import load_smollm2_tokenizer

    tok = load_smollm2_tokenizer()
    docs = read_texts([str(shared("web", "llamafactory_c4_demo.jsonl"))])
    train_texts = [t for i, t in docs if not is_holdout(i, 5)]
    held = [t for i, t in docs if is_holdout(i, 5)]
    assert len(docs) == 300 and 0 < len(held) < 40
    cfg = TrainConfig(token_budget=4096, eval_every_tokens=2048, seq_len=64, layers=2, hidden_size=64,
                      intermediate_size=128)
    blocks = token_blocks(train_texts, tok, cfg.seq_len)
    held_out = {"raw_heldout": token_blocks(held, tok, cfg.seq_len)[:8]}
    a = train(blocks, held_out, cfg, tmp_path / "a", tok)
    b = train(blocks, held_out, cfg, tmp_path / "b", tok)
    assert a["tokens_seen"] == 4096 and a["steps"] == 8 and len(a["loss_curve"]) == 8
    # EfficientLLM's training throughput leaves the two held-out evaluations' time out
    assert a["train_s"] + a["eval_s"] == pytest.approx(a["wall_s"]) and 0 < a["eval_s"] < a["wall_s"]
    assert a["tokens_per_s"] == pytest.approx(4096 / a["train_s"])
    assert a["resources"]["measured_s"] == pytest.approx(a["train_s"], rel=0.2) and a["device"] == "cpu"
    assert [e["raw_heldout"] for e in a["evals"]] == [e["raw_heldout"] for e in b["evals"]]
    assert a["evals"][-1]["raw_heldout"] < a["evals"][0]["raw_heldout"] + 0.5
    model = AutoModelForCausalLM.from_pretrained(tmp_path / "a")
    assert model.config.model_type == "llama" and (tmp_path / "a" / "tokenizer.json").exists()
    assert json.loads((tmp_path / "a" / "train_log.json").read_text())["parameters"] == a["parameters"]


def test_tokens_to_reach_interpolates():
    evals = [{"tokens": 100, "loss": 5.0}, {"tokens": 200, "loss": 4.0}, {"tokens": 300, "loss": 3.0}]
    assert tokens_to_reach(evals, "loss", 3.5) == 250
    assert tokens_to_reach(evals, "loss", 6.0) == 100
    assert tokens_to_reach(evals, "loss", 2.0) is None


def test_read_texts_names_unreadable_lines(tmp_path, caplog):
    shard = tmp_path / "bad.jsonl"
    shard.write_text('{"id": "a", "text": "one good document"}\n{"id": "b", "text": \n{"id": "c", "text": "two"}\n')
    skipped = []
    with caplog.at_level("WARNING", logger="evals.train"):
        docs = read_texts([str(shard)], quarantined=skipped)
    assert [i for i, _ in docs] == ["a", "c"]
    assert [(f, line) for f, line, _ in skipped] == [(str(shard), 2)]
    assert f"{shard}:2: not trained on: invalid JSON" in caplog.text
