"""The distilled keep/drop classifier (``CompressConfig(method="classifier")``): budgets, protected spans, no LM."""

from __future__ import annotations

import json
import re

import pytest

from prompts.compress import CompressConfig, compress, smollm2_tokenizer
from prompts.compress.classifier import DENSE, HASHED, WEIGHTS, features, item_key, load_weights, rank_targets
from prompts.compress.token_level import Unit
from tests.conftest import shared

CLASSIFIER = CompressConfig(method="classifier")



@pytest.fixture(scope="module")
def minilm(tmp_path_factory):
    from core.embed import Embedder

    return Embedder(cache=tmp_path_factory.mktemp("embed")).embed


@pytest.fixture
def no_lm(monkeypatch):
    """The classifier path must never run SmolLM2: loading or scoring with it fails the test."""
    import core.models
    import prompts.compress.token_level

    def refuse(*a, **k):
        raise AssertionError("the classifier path ran SmolLM2")

    monkeypatch.setattr(core.models, "load_smollm2", refuse)
    monkeypatch.setattr(prompts.compress.token_level, "score_units", refuse)
    monkeypatch.setattr("prompts.compress.score_units", refuse)


def test_weights_are_small_and_trained_by_the_script():
    w = load_weights()
    assert WEIGHTS.stat().st_size < 250_000  # float16 tables (90k weights, most 0): committed, never downloaded
    assert len(w["dense"]) == len(DENSE) and all(len(w[k]) == n for k, n in HASHED.items())
    meta = w["meta"]
    assert "train_compress_classifier.py" in meta["command"] and meta["prompts"]["held_out"] > 0
    # the objective and strength were chosen on validation prompts, and those prompts are in the final training set
    assert {(c["objective"], c["C"]) for c in meta["candidates"]} >= {(meta["objective"], meta["C"])}
    # the student agrees with the teacher on most held-out words (a constant scorer that keeps the leading words
    # agrees on about half at these budgets)
    assert meta["held_out"]["agreement"] > 0.72
    assert len(meta["trained_items"]) > 1000 and all(isinstance(k, int) for k in meta["trained_items"][:5])


def test_rank_targets_order_free_words_by_the_teachers_surprisal():
    units = [Unit("Q:", True, surprisal=9.0), Unit(" the", False, surprisal=0.5), Unit(" cat", False, surprisal=6.0),
             Unit(" sat", False, surprisal=float("inf")), Unit(" on", False, surprisal=1.0)]
    # free units ranked 0..3 (inf, the unscored first word, ranks highest), scaled by 3; protected units get 0
    assert rank_targets(units).tolist() == [0.0, 0.0, 2 / 3, 1.0, 1 / 3]


def test_context_tables_see_the_neighbouring_words():
    units = [Unit(t, False, [1]) for t in ("The", " cat", " ", " sat")]
    _, h = features(units)
    # the blank unit is skipped: "sat" follows "cat", and "cat" is followed by "sat"
    assert h["prev"][3] == h["prev"][2] != h["prev"][1] and h["next"][1] == h["next"][2]
    assert item_key(" a  b\n") == item_key("a b")


def test_word_segment_table_follows_the_teachers_segments():
    # the teacher scores SEGMENT_TOKENS-token segments in turn: the same word gets another row in a later segment
    # (segments 0-3, the rest share the last), so a long prompt can keep function words the first segment drops
    units = [Unit(" the", False, [1] * 128) for _ in range(12)]  # 128 tokens each: two units per segment
    _, h = features(units)
    seg = h["word_segment"].tolist()
    assert seg[0] == seg[1] != seg[2] == seg[3] != seg[4] and len(set(seg)) == 4 and seg[6:] == [seg[6]] * 6
    assert len(set(h["word"].tolist())) == 1


@pytest.mark.parametrize("rate", [0.5, 0.33])
def test_rate_is_met_and_protected_spans_survive_without_the_lm(gsm8k_prompt, minilm, no_lm, rate):
    c = compress(gsm8k_prompt, rate=rate, config=CLASSIFIER, embed=minilm, tokenizer=smollm2_tokenizer())
    assert c.original_tokens > 700
    assert abs(c.ratio - rate) <= 0.1 * rate, c.ratio
    assert c.text.endswith(gsm8k_prompt["question"])
    kept_items = [i for i in range(len(gsm8k_prompt["context"])) if i not in c.dropped_items]
    for i in kept_items:  # every number of every kept demonstration is still there
        assert all(n in c.text for n in re.findall(r"\d(?:[\d,.:/-]*\d)?", gsm8k_prompt["context"][i]))


def test_same_coarse_step_and_words_as_the_teacher(gsm8k_prompt, minilm):
    """Only the fine step differs: the same items are dropped, and the output holds only input characters, in order."""
    from core.models import load_smollm2

    model, tok = load_smollm2("cpu")
    prompt = {"context": gsm8k_prompt["context"][:3], "question": gsm8k_prompt["question"]}
    teacher = compress(prompt, rate=0.5, model=model, tokenizer=tok, embed=minilm)
    student = compress(prompt, rate=0.5, tokenizer=tok, embed=minilm, config=CLASSIFIER)
    assert student.dropped_items == teacher.dropped_items and len(student.kept_mask) == len(teacher.kept_mask)
    it = iter("".join("\n\n".join([*prompt["context"], prompt["question"]]).split()))
    assert all(ch in it for ch in "".join(student.text.split()))
    same = sum(a == b for a, b in zip(student.kept_mask, teacher.kept_mask)) / len(student.kept_mask)
    assert same > 0.7, same  # protected units count as agreeing here: both always keep them


def test_protected_case_through_the_file_function(tmp_path, minilm, no_lm, monkeypatch):
    """`compress_file` with the classifier loads only the tokenizer; the case's protected spans all come back."""
    import core.embed
    from prompts.compress.batch import compress_file

    monkeypatch.setattr(core.embed.Embedder, "embed", lambda self, texts: minilm(texts))
    out = tmp_path / "out.jsonl"
    r = compress_file(shared("..", "cases", "compress-protected", "prompts.jsonl"), out, rate=0.33, config=CLASSIFIER)
    (row,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert r["prompts"] == 1 and row["compressed"].endswith(row["question"])
    for span in ["-12 degrees", "45%", "node-7", "$1,234.56", "v2.10.3", "2026-03-04", "14:30", "3.5kg",
                 "ops-team@example.org", "https://wiki.example.org/ops/nightly?run=88"]:
        assert span in row["compressed"], span


def test_method_is_a_validated_config_field():
    with pytest.raises(ValueError, match="method"):
        CompressConfig(method="llmlingua")
