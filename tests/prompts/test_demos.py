"""Demonstration selection and templates: kNN is exact, MMR trades relevance for diversity, order is fixed."""

from __future__ import annotations

import numpy as np
import pytest

from prompts.demos import pick_demos
from prompts.templates import Template, render, render_chat


def _unit(rows) -> np.ndarray:
    a = np.asarray(rows, dtype=np.float32)
    return a / np.linalg.norm(a, axis=1, keepdims=True)


POOL = _unit([[1, 0, 0], [0.9, 0.1, 0], [0.9, 0.1, 0.0001], [0, 1, 0], [0.5, 0.5, 0], [0, 0, 1]])
QUERY = _unit([[1, 0.05, 0]])[0]


def test_knn_is_the_exact_top_k_with_the_most_similar_last():
    picks = pick_demos(QUERY, POOL, 3, "knn")
    sims = POOL @ QUERY
    assert {p.index for p in picks} == set(np.argsort(-sims)[:3])
    assert [p.similarity for p in picks] == sorted(p.similarity for p in picks)
    assert picks[-1].index == int(np.argmax(sims))


def test_mmr_skips_a_near_duplicate_that_knn_takes():
    knn = {p.index for p in pick_demos(QUERY, POOL, 2, "knn")}
    mmr = {p.index for p in pick_demos(QUERY, POOL, 2, "mmr", lam=0.5)}
    assert knn == {1, 2} or knn == {0, 1} or knn == {0, 2}  # two of the three near-identical rows
    assert len(mmr & {0, 1, 2}) == 1  # MMR keeps one of them and adds something different
    assert {p.index for p in pick_demos(QUERY, POOL, 3, "mmr", lam=1.0)} == {
        p.index for p in pick_demos(QUERY, POOL, 3, "knn")}


def test_balanced_shows_every_label():
    labels = ["a", "a", "a", "b", "b", "c"]
    picks = pick_demos(QUERY, POOL, 3, "balanced", labels=labels)
    assert sorted(labels[p.index] for p in picks) == ["a", "b", "c"]


def test_random_is_seeded_and_excludes_the_query_row():
    a = pick_demos(QUERY, POOL, 3, "random", seed=7, exclude=0)
    b = pick_demos(QUERY, POOL, 3, "random", seed=7, exclude=0)
    assert a == b and all(p.index != 0 for p in a)
    assert pick_demos(QUERY, POOL, 10, "knn", exclude=0).__len__() == 5
    assert pick_demos(QUERY, POOL, 0, "knn") == []
    with pytest.raises(ValueError, match="unknown demo strategy"):
        pick_demos(QUERY, POOL, 2, "best")


def test_real_sentences_pick_the_related_demo(tmp_path):
    from core.embed import Embedder

    embed = Embedder(cache=tmp_path).embed
    pool = embed(["How many legs does a spider have?", "What is the capital of Peru?",
                  "Convert 5 kilometres to miles.", "Who painted the Mona Lisa?"])
    query = embed(["Which city is the capital of Chile?"])[0]
    assert pick_demos(query, pool, 1, "knn")[0].index == 1


def test_templates_render_demos_then_query():
    t = Template(input="Q: {input}", output="\nA: {output}", instruction="Answer briefly.")
    text = render(t, [{"input": "2+2?", "output": "4"}], {"input": "3+3?", "output": ""})
    assert text == "Answer briefly.\n\nQ: 2+2?\nA: 4\n\nQ: 3+3?"


def test_chat_template_uses_the_models_own_format():
    from core.models import load_smollm2_tokenizer

    text = render_chat(Template(), [{"input": "2+2?", "output": "4"}], {"input": "3+3?"}, load_smollm2_tokenizer())
    assert text.count("<|im_start|>user\n") == 2 and "<|im_start|>assistant\n4<|im_end|>" in text
    assert text.endswith("<|im_start|>assistant\n")


# --- a query is never its own demonstration (issue 15, item 5; case demo-self-leak after lm-eval#4145) ---

def _trigram_embed(texts: list[str]) -> np.ndarray:
    """A cheap deterministic embedder: hashed character trigrams, so a copy of a text is its nearest neighbour."""
    import zlib

    out = np.zeros((len(texts), 512), dtype=np.float32)
    for row, text in enumerate(texts):
        t = " ".join(text.lower().split())
        for j in range(len(t) - 2):
            out[row, zlib.crc32(t[j: j + 3].encode()) % 512] += 1
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def _case(name: str):
    from core.pool import load_pool
    from tests.conftest import shared

    return load_pool([shared("..", "cases", "demo-self-leak", name)])


@pytest.fixture(scope="module")
def minilm(tmp_path_factory):
    from core.embed import Embedder

    return Embedder(cache=tmp_path_factory.mktemp("embed")).embed


@pytest.mark.parametrize("strategy", ["random", "knn", "mmr", "balanced"])
def test_case_demo_self_leak_no_query_is_its_own_demo(strategy, minilm):
    from prompts.demo_selection import demos_for_queries, demos_summary

    pool, queries = _case("items.jsonl"), _case("queries.jsonl")
    rows = demos_for_queries(pool, queries, 2, strategy, embed=minilm)
    gold = dict(zip(pool.ids, pool.responses))
    for r in rows:
        # t1 and t2 are both queries and pool items: each is left out for itself only, and its gold answer
        # ("12 * 2 * 3 = 72. The answer is 72.") never sits in its own prompt
        assert r["excluded_self"] == [r["query_id"]]
        assert r["query_id"] not in [d["id"] for d in r["demos"]] and len(r["demos"]) == 2
        assert gold[r["query_id"]] not in r["prompt"]
    # 2 queries, each in the pool of 6 once: 2 pool items excluded in all, and every query still gets k = 2
    assert demos_summary(rows, len(pool)) == {"queries": 2, "pool": 6, "quarantined": 0, "excluded_self": 2,
                                              "queries_in_pool": 2, "short_of_k": 0}


QUESTION = "A farmer has 12 hens and each lays 2 eggs a day. How many eggs in 3 days?"
OTHER_COPIES = {  # the same text under another id, as a user's train file often holds a test question
    "case and spacing": "  a FARMER has 12 hens   and each lays 2 eggs a day.\nHow many eggs in 3 days? ",
    "decomposed accents": "Zoë has 3 cafés and each sells 40 crêpes. How many crêpes in all?",
    "Chinese": "农夫有12只母鸡，每只每天下2个蛋。3天一共多少个蛋？",
    "German sharp s": "Die STRASSE ist 3 km lang. Wie lang sind 2 Straßen?",
}


@pytest.mark.parametrize("strategy", ["random", "knn", "mmr", "balanced"])
@pytest.mark.parametrize("kind", list(OTHER_COPIES))
def test_a_duplicate_query_under_another_id_is_excluded_in_every_strategy(strategy, kind):
    import unicodedata

    from core.pool import Pool
    from prompts.demo_selection import demos_for_queries

    query = QUESTION if kind == "case and spacing" else OTHER_COPIES[kind]
    copy = {"case and spacing": OTHER_COPIES[kind], "decomposed accents": unicodedata.normalize("NFD", query),
            "Chinese": "\u3000" + query + "\n", "German sharp s": query.casefold()}[kind]
    assert copy != query  # a different string that normalizes (NFKC, case-folded, no spaces) to the query
    texts = ["Tom reads 15 pages a day. How many pages in a week?", copy,
             "A box holds 8 pencils. How many pencils are in 6 boxes?", "A bus carries 40 people. How many in 7 trips?"]
    pool = Pool(ids=["p0", "copy", "p2", "p3"], prompts=texts, responses=["105", "gold", "48", "280"],
                metadata=[{"label": "a"}, {"label": "b"}, {"label": "a"}, {"label": "b"}], sources=["x"] * 4)
    queries = Pool(ids=["q-test-7"], prompts=[query], responses=[""], metadata=[{}], sources=["y"])
    # without the guard, kNN would take the copy first: it is by far the nearest pool item
    sims = _trigram_embed(texts) @ _trigram_embed([query])[0]
    assert int(np.argmax(sims)) == 1
    for k in (1, 3, 4):
        (row,) = demos_for_queries(pool, queries, k, strategy, embed=_trigram_embed)
        assert row["excluded_self"] == ["copy"]
        assert "copy" not in [d["id"] for d in row["demos"]] and len(row["demos"]) == min(k, 3)


def test_self_matches_same_id_or_same_normalized_text():
    from prompts.demos import SelfMatches, normalize_text

    assert normalize_text("  Caf\u0065\u0301\tSTRASSE \n") == normalize_text("café straße") == "caféstrasse"
    m = SelfMatches(["a", "b", "c", "d", "e"], ["What is 2+2?", "what  IS 2+2? ", "Something else", "", " ?! "])
    assert m.matches("q", "WHAT is 2+2?") == [0, 1]  # the same text under two other ids
    assert m.matches("q", "What is 2 + 2 ?") == [0, 1]  # spacing aside, the same text
    assert m.matches("c", "unrelated") == [2]         # the same id, whatever its text
    # empty text, punctuation only (an empty key) and a different sum: no match (an exact key, not a similarity)
    assert m.matches("q", "") == [] and m.matches("q", "?!") == [] and m.matches(None, "What is 2 + 3?") == []


# case demo-self-leak, near copies (verifier's pool_copies.jsonl): t2's question with a space before "?" and with
# full-width digits; both leaked into t2's own prompt, with its gold answer, in all four strategies
T2 = "Tom reads 15 pages a day. How many pages does he read in a week?"
NEAR_COPIES = {"copy-punct": "Tom reads 15 pages a day. How many pages does he read in a week ?",
               "copy-fullwidth": "Tom reads １５ pages a day. How many pages does he read in a week?",
               "copy-punct-only": "Tom reads 15 pages, a day; how many pages does he read in a week!",
               "copy-ideographic-space": "Tom\u3000reads 15 pages a day.\u3000How many pages does he read in a week？"}


@pytest.mark.parametrize("strategy", ["random", "knn", "mmr", "balanced"])
def test_near_copies_differing_in_width_spacing_or_punctuation_are_excluded(strategy):
    from core.pool import Pool
    from prompts.demo_selection import demos_for_queries

    ids = ["t1", "t3", "t4", "t5", "t6", *NEAR_COPIES]
    texts = ["A farmer has 12 hens and each lays 2 eggs a day. How many eggs in 3 days?",
             "A box holds 8 pencils. How many pencils are in 6 boxes?",
             "A bus carries 40 people per trip. How many people in 7 trips?",
             "Ana buys 3 bags of 11 apples. How many apples does she have?",
             "A train travels 60 km each hour. How far does it go in 4 hours?", *NEAR_COPIES.values()]
    pool = Pool(ids=ids, prompts=texts, responses=["72", "48", "280", "33", "240"] + ["15 * 7 = 105."] * 4,
                metadata=[{"label": str(i % 2)} for i in range(len(ids))], sources=["x"] * len(ids))
    queries = Pool(ids=["t2"], prompts=[T2], responses=[""], metadata=[{}], sources=["y"])
    (row,) = demos_for_queries(pool, queries, 8, strategy, embed=_trigram_embed)
    assert row["excluded_self"] == list(NEAR_COPIES)  # all four near copies, and nothing else
    assert [d["id"] for d in row["demos"]] != [] and not set(NEAR_COPIES) & {d["id"] for d in row["demos"]}
    assert "105" not in row["prompt"]  # the gold answer is not in the query's own prompt


def test_exclude_takes_many_rows_and_checks_them():
    picks = pick_demos(QUERY, POOL, 10, "knn", exclude=[0, 1, 2])
    assert sorted(p.index for p in picks) == [3, 4, 5]
    assert pick_demos(QUERY, POOL, 3, "mmr", exclude=range(6)) == []
    # one per label among what is left: a -> row 2, b -> row 4 (nearer than row 3), c -> row 5
    assert {p.index for p in pick_demos(QUERY, POOL, 3, "balanced", labels=list("aaabbc"), exclude=[0, 1])} == {2, 4, 5}
    with pytest.raises(ValueError, match="outside the pool"):
        pick_demos(QUERY, POOL, 2, "knn", exclude=[6])
