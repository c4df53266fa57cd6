"""Decontamination of short eval items (dolma#174) and of eval items in scripts without spaces, on real data."""

import json
import logging
import re

import polars as pl
import pytest

from curation.runner import run_frames
from curation.steps.decontaminate import DecontaminateConfig, EvalSource
from tests.conftest import SHARED, shared

CASE = SHARED.parent / "cases" / "decontam-short"


def frame(ids: list[str], texts: list[str]) -> pl.DataFrame:
    return pl.DataFrame({"id": ids, "text": texts, "metadata": ["{}"] * len(ids), "source": ids})


def write_evals(path, questions: list[str]) -> EvalSource:
    path.write_text("".join(json.dumps({"id": f"q{i}", "question": q}, ensure_ascii=False) + "\n"
                            for i, q in enumerate(questions)))
    return EvalSource(path=str(path), text_field="question", id_field="id")


def test_decontam_short_case(tmp_path):
    """cases/decontam-short: the 12-word eval question is found alone and inside a paragraph; GSM8K's first
    question is found verbatim and re-wrapped in capitals; the clean document stays."""
    if not CASE.is_dir():
        pytest.fail(f"{CASE} missing: these tests read the user cases in ../shared/cases")
    config = DecontaminateConfig(evals=(
        EvalSource(path=str(shared("math", "gsm8k_test.jsonl")), text_field="question"),
        EvalSource(path=str(CASE / "my_eval.jsonl"), text_field="question", id_field="id"),
    ))
    docs = [json.loads(x) for x in (CASE / "corpus.jsonl").read_text().splitlines()]
    kept, removed = run_frames(config, [frame([d["id"] for d in docs], [d["text"] for d in docs])], tmp_path)
    assert kept["id"].to_list() == ["clean"]
    assert removed["id"].to_list() == ["verbatim", "rewrapped-upper", "short-exact", "short-embedded"]
    assert [c.split(" (")[0] for c in removed["contamination"]] == [
        "gsm8k_test.jsonl:1", "gsm8k_test.jsonl:1", "my_eval.jsonl:short-1", "my_eval.jsonl:short-1"]
    assert removed["contamination"][2] == "my_eval.jsonl:short-1 (1 grams)"


QUESTION_7 = "which river flows through the old capital"  # 7 words
QUESTION_12 = "is the old lighthouse on the north pier still open to visitors"  # 12 words


@pytest.mark.parametrize(("min_eval_words", "removed_ids"), [
    (8, ["twelve-inside"]),  # the 7-word item is below min_eval_words: not checked
    (5, ["seven-inside", "twelve-inside"]),
    (13, []),  # both items shorter than the 13-gram and than min_eval_words: neither is checked
])
def test_min_eval_words_decides_which_short_items_count(tmp_path, caplog, min_eval_words, removed_ids):
    evals = write_evals(tmp_path / "evals.jsonl", [QUESTION_7, QUESTION_12])
    docs = {
        "seven-inside": f"Quiz night. {QUESTION_7.capitalize()}? Answers after the break.",
        "twelve-inside": f"Visitors ask us: {QUESTION_12.upper()}? Yes, daily.",
        "eleven-of-twelve": "is the old lighthouse on the north pier still open to",  # a part is not the item
        "words-reordered": "the old lighthouse is on the north pier, still open to visitors",
    }
    config = DecontaminateConfig(evals=(evals,), min_eval_words=min_eval_words)
    with caplog.at_level(logging.WARNING, logger="curation.steps.decontaminate"):
        kept, removed = run_frames(config, [frame(list(docs), list(docs.values()))], tmp_path / "run")
    assert removed["id"].to_list() == removed_ids
    assert kept.height == len(docs) - len(removed_ids)
    skipped = {8: 1, 5: 0, 13: 2}[min_eval_words]
    assert (f"{skipped} of 2 eval items have fewer than min_eval_words" in caplog.text) == bool(skipped)


def test_long_items_still_need_a_full_13_gram(tmp_path):
    question = "a farmer has twenty sheep and buys seven more every spring for four years"  # 14 words
    evals = write_evals(tmp_path / "evals.jsonl", [question])
    docs = {"twelve-words-of-it": "farmer has twenty sheep and buys seven more every spring for four",
            "thirteen-words-of-it": "so a farmer has twenty sheep and buys seven more every spring for four"}
    kept, removed = run_frames(DecontaminateConfig(evals=(evals,)), [frame(list(docs), list(docs.values()))],
                               tmp_path / "run")
    assert removed["id"].to_list() == ["thirteen-words-of-it"] and kept["id"].to_list() == ["twelve-words-of-it"]


# --- scripts without spaces: n-grams of characters ----------------------------------------------------------

def records(lang: str) -> list[dict]:
    return [json.loads(x) for x in shared("multilingual", f"{lang}.jsonl").read_text().splitlines()]


def first_sentence(text: str, min_chars: int) -> str:
    return next(s for s in re.split(r"(?<=[。！？])", text) if len(s) >= min_chars)


def test_chinese_eval_items_are_found_by_character_13_grams(tmp_path):
    """Three eval items cut from real paragraphs of zh.jsonl (3,088 records): a Simplified CMRC sentence, a
    Traditional DRCD sentence given in Simplified script (found: tokens fold Traditional to Simplified), and a
    10-character phrase (shorter than the 13-gram, matched whole)."""
    import opencc

    docs = records("zh")
    cmrc = next(d for d in docs if d["id"].startswith("cmrc2018") and len(d["text"]) > 300)
    drcd = next(d for d in docs if d["id"].startswith("drcd") and len(d["text"]) > 300)
    gsd = next(d for d in docs if d["id"].startswith("ud-zh_gsd") and len(d["text"]) > 40)
    items = [first_sentence(cmrc["text"], 20), opencc.OpenCC("t2s").convert(first_sentence(drcd["text"], 20)),
             gsd["text"][5:15]]
    evals = write_evals(tmp_path / "evals.jsonl", items)
    whole = frame([d["id"] for d in docs], [d["text"] for d in docs])
    kept, removed = run_frames(DecontaminateConfig(evals=(evals,)), [whole[:1500], whole[1500:]], tmp_path / "run")
    found = dict(zip(removed["id"], [c.split(" (")[0] for c in removed["contamination"]]))
    # exactly the three source paragraphs: no other record of the file shares 13 characters with the items
    assert found == {cmrc["id"]: "evals.jsonl:q0", drcd["id"]: "evals.jsonl:q1", gsd["id"]: "evals.jsonl:q2"}
    assert kept.height == len(docs) - 3


@pytest.mark.parametrize("lang", ["ja", "th"])
def test_japanese_and_thai_eval_sentences_are_found_with_or_without_spaces(tmp_path, lang):
    docs = records(lang)
    prefix = {"ja": "jsquad", "th": "xquad"}[lang]  # (iApp's Thai product pages share template sentences)
    source = next(d for d in docs if d["id"].startswith(prefix) and len(d["text"]) > 300)
    item = source["text"][40:100]
    evals = write_evals(tmp_path / "evals.jsonl", [item])
    spaced = " ".join(item[i : i + 4] for i in range(0, len(item), 4))  # the item with spaces between
    others = [d for d in docs if d["id"].startswith(prefix)]
    texts = [d["text"] for d in others] + [f"前置き。{spaced}。"]
    ids = [d["id"] for d in others] + ["planted-spaced"]
    kept, removed = run_frames(DecontaminateConfig(evals=(evals,)), [frame(ids, texts)], tmp_path / "run")
    assert removed["id"].to_list() == [source["id"], "planted-spaced"]
