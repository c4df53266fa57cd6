"""Prompt compression: budgets hit, protected spans byte-identical, deterministic, and honest about edge cases."""

from __future__ import annotations

import gzip
import json
import re

import pytest

from prompts.compress import compress
from prompts.compress.protect import split_protected
from tests.conftest import shared


@pytest.fixture(scope="module")
def lm():
    from curation.models import load_smollm2

    return load_smollm2("cpu")


@pytest.fixture(scope="module")
def gsm8k_prompt() -> dict:
    with gzip.open(shared("eval_mc", "gsm8k", "gold_bpb_5shot", "requests.jsonl.gz"), "rt") as f:
        context = json.loads(f.readline())["request"]["context"]
    demos, question = context.rsplit("\n\nQuestion: ", 1)
    return {"context": demos.split("\n\n"), "question": "Question: " + question}


def _run(prompt, lm, **kw):
    model, tok = lm
    return compress(prompt, model=model, tokenizer=tok, **kw)


def test_protected_pieces():
    text = "Order A-20931 shipped 2026-03-04 at 23:00, see https://x.org/a. Run `make test` <keep>now please</keep>."
    protected = [p.text for p in split_protected(text) if p.protected]
    assert protected == ["A-20931", "2026-03-04", "23:00", "https://x.org/a", "`make test`", "now please"]
    with pytest.raises(ValueError, match="unclosed <keep>"):
        split_protected("a <keep>b")


@pytest.mark.parametrize("rate", [0.5, 0.33, 0.2])
def test_rate_is_met_within_ten_percent_and_protected_spans_survive(gsm8k_prompt, lm, rate):
    c = _run(gsm8k_prompt, lm, rate=rate)
    assert c.original_tokens > 700
    assert abs(c.ratio - rate) <= 0.1 * rate, c.ratio
    assert c.text.endswith(gsm8k_prompt["question"])  # the question is untouched, byte for byte
    kept_items = [i for i in range(len(gsm8k_prompt["context"])) if i not in c.dropped_items]
    for i in kept_items:  # every number of every kept demonstration is still there, in order
        numbers = re.findall(r"\d(?:[\d,.:/-]*\d)?", gsm8k_prompt["context"][i])
        assert all(n in c.text for n in numbers)


def test_target_tokens_and_determinism(gsm8k_prompt, lm):
    a = _run(gsm8k_prompt, lm, target_tokens=300)
    b = _run(gsm8k_prompt, lm, target_tokens=300)
    assert a.text == b.text and a.kept_mask == b.kept_mask
    assert abs(a.compressed_tokens - 300) <= 30


def test_long_prompt_of_8000_tokens(lm):
    text = shared("lm", "wikitext-2_valid.txt").read_text(encoding="utf-8")[:40_000]
    c = _run(text, lm, rate=0.33)
    assert c.original_tokens > 8000 and abs(c.ratio - 0.33) <= 0.033


def test_empty_short_and_protected_only_prompts(lm):
    empty = _run("", lm, rate=0.5)
    assert empty.text == "" and empty.compressed_tokens == 0 and "empty" in empty.note
    short = _run("Hi.", lm, rate=0.5)
    assert short.compressed_tokens <= short.original_tokens
    only = _run({"instruction": "Add the numbers.", "context": ["12 + 30 = 42"], "question": "What is 7 + 5?"}, lm,
                rate=0.3)
    assert only.text == "Add the numbers.\n\n12 + 30 = 42\n\nWhat is 7 + 5?" and "unchanged" in only.note


def test_non_english_text_stays_valid_utf8(lm):
    text = ("Die Bibliothek verlängert ihre Öffnungszeiten während der Prüfungszeit bis 23:00 Uhr, und der Ausschuss "
            "wird die Entscheidung im September überprüfen. 图书馆在考试期间延长开放时间，委员会将在九月份重新审查这一决定。")
    c = _run(text, lm, rate=0.5)
    assert "\ufffd" not in c.text and "23:00" in c.text
    assert c.compressed_tokens < c.original_tokens
    assert all(word in text for word in c.text.split())  # only whole words from the input


def test_bad_arguments(lm):
    with pytest.raises(ValueError, match="exactly one"):
        _run("text", lm)
    with pytest.raises(ValueError, match="rate"):
        _run("text", lm, rate=1.5)
